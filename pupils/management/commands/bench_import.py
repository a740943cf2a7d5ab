"""`manage.py bench_import`: time a 5,000-row import (a benchmark, not a test).

Makes a valid CSV in memory, then reads, previews and commits it into a throwaway school,
and does it again with half the pupils changed (the termly re-import). Everything happens
in one transaction that is rolled back at the end, so the database is left as it was.
"""

from __future__ import annotations

import csv
import io
import random
import time
from collections.abc import Callable
from datetime import date

import openpyxl
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from pupils.demo import birth_date_for, make_upn
from pupils.imports import commit_import, preview_import, read_table
from schools.models import LocalAuthority, School
from schools.tenancy import TenantScope, tenant_scope

HEADINGS = [
    "UPN",
    "Legal Surname",
    "Legal Forename",
    "Preferred Forename",
    "DOB",
    "Gender",
    "NC Year",
    "Ethnicity",
    "FSM",
    "Pupil Premium",
    "EAL",
    "Looked After",
    "SEN Status",
    "Primary Need",
    "Secondary Need",
]
FIRST = ["Amara", "Ben", "Chloe", "Dylan", "Ella", "Finn", "Grace", "Isla", "Kacper", "Zoë"]
LAST = ["Ahmed", "Brown", "Clarke", "Evans", "Kowalski", "Mensah", "Nowak", "O’Brien", "Smith"]
NEEDS = ["SPLD", "MLD", "SEMH", "SLCN", "ASD", "HI", "VI", "PD", "OTH", "NSA"]
ETHNICITIES = ["WBRI", "WOTH", "AIND", "APKN", "BAFR", "MWBC", "CHNE", "OOTH"]


def make_csv(rows: int, *, la_code: str, establishment: str, changed: bool = False, seed: int = 1) -> bytes:
    rng = random.Random(seed)  # noqa: S311 - repeatable benchmark data, not secrets
    today = date.today()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADINGS)
    for i in range(rows):
        nc_year = i % 12 + 1
        roll = rng.random()
        status = "E" if roll < 0.045 else "K" if roll < 0.18 else "N"
        primary = rng.choice(NEEDS) if status != "N" else ""
        secondary = rng.choice([n for n in NEEDS if n != primary]) if status != "N" and roll < 0.08 else ""
        fsm = rng.random() < 0.25
        if changed and i % 2 == 0:
            fsm = not fsm  # half the pupils change FSM, a tenth of those their SEN status too
            if i % 20 == 0:
                status, primary, secondary = ("K", "SEMH", "") if status == "N" else ("N", "", "")
        writer.writerow(
            [
                make_upn(la_code, establishment, 2010 + i // 1000, i % 1000),
                rng.choice(LAST),
                rng.choice(FIRST),
                "",
                f"{birth_date_for(nc_year, rng, today):%d/%m/%Y}",
                rng.choice("FM"),
                str(nc_year),
                rng.choice(ETHNICITIES),
                "Y" if fsm else "N",
                "Y" if fsm else "N",
                rng.choice("NNNY"),
                "N",
                status,
                primary,
                secondary,
            ]
        )
    return out.getvalue().encode("utf-8-sig")


def make_xlsx(table: list[dict]) -> bytes:
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(HEADINGS)
    for row in table:
        sheet.append([row[h] for h in HEADINGS])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


class _Rollback(Exception):
    pass


class Command(BaseCommand):
    help = "Time reading, previewing and committing a 5,000-row pupil import; leaves nothing behind."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--rows", type=int, default=5000)

    def handle(self, *args, **options) -> None:
        rows = options["rows"]
        try:
            with transaction.atomic():
                la, _ = LocalAuthority.objects.get_or_create(code="909", defaults={"name": "Benchmark LA"})
                urn = next(
                    str(n) for n in range(999999, 900000, -1) if not School.objects.filter(urn=n).exists()
                )
                school = School.objects.create(
                    urn=urn, name="Benchmark School", local_authority=la, phase=School.Phase.ALL_THROUGH
                )
                with tenant_scope(TenantScope.for_school(school.pk, la_id=la.pk)):
                    first = make_csv(rows, la_code=la.code, establishment="9876")
                    self._run(f"First import ({rows:,} new pupils)", school, first)
                    again = make_csv(rows, la_code=la.code, establishment="9876", changed=True)
                    self._run(f"Re-import ({rows:,} rows, half of them changed)", school, again)
                    workbook = make_xlsx(read_table(again, "bench.csv"))
                    _, xlsx_s, _ = _timed(lambda: read_table(workbook, "bench.xlsx"))
                    self.stdout.write(
                        f"Reading the same rows from XLSX ({len(workbook) / 1024:.0f} KB): {xlsx_s:.2f} s"
                    )
                raise _Rollback
        except _Rollback:
            self.stdout.write("Rolled back: the benchmark school and its pupils are gone.")

    def _run(self, title: str, school: School, data: bytes) -> None:
        self.stdout.write(f"{title}: {len(data) / 1024:.0f} KB CSV")
        table, read_s, read_q = _timed(lambda: read_table(data, "bench.csv"))
        preview, preview_s, preview_q = _timed(lambda: preview_import(school=school, rows=table))
        assert preview.is_valid, preview.problems[:5]
        summary, commit_s, commit_q = _timed(
            lambda: commit_import(request=None, school=school, preview=preview, source="import")
        )
        self.stdout.write(f"  read     {read_s:6.2f} s  {read_q:4d} queries")
        self.stdout.write(f"  preview  {preview_s:6.2f} s  {preview_q:4d} queries  {preview.counts}")
        self.stdout.write(f"  commit   {commit_s:6.2f} s  {commit_q:4d} queries  {summary}")
        self.stdout.write(f"  preview + commit {preview_s + commit_s:.2f} s (target under 10 s)")


def _timed(work: Callable):
    with CaptureQueriesContext(connection) as queries:
        start = time.perf_counter()
        result = work()
        seconds = time.perf_counter() - start
    return result, seconds, len(queries.captured_queries)
