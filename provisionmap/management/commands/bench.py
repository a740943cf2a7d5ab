"""`manage.py bench`: the benchmark figures of every LA in the database (the demo LA and any
made by `generate_scale_data`), written to docs/benchmarks.json and docs/benchmarks.md.
See provisionmap/benchmarks.py for what is measured and how."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from provisionmap import benchmarks
from schools.models import LocalAuthority


class Command(BaseCommand):
    help = "Measure pages, API lists, report builds and an import for each LA; write docs/benchmarks.md."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--runs", type=int, default=20, help="Requests per page after one to warm up.")
        parser.add_argument("--la", action="append", default=[], help="Only these LA codes (repeatable).")
        parser.add_argument("--import-rows", type=int, default=5000, help="Rows of the import (0: skip).")
        parser.add_argument("--no-write", action="store_true", help="Print only; leave docs/ alone.")

    def handle(self, *args, runs: int, la: list[str], import_rows: int, no_write: bool, **options) -> None:
        las = LocalAuthority.objects.order_by("pk")
        if la:
            las = las.filter(code__in=la)
        results: dict = {"machine": benchmarks.machine()}
        for authority in las:
            subject = benchmarks.subject(authority, authority.name)
            if subject.school is None or subject.pupil_id is None:
                self.stdout.write(f"Skipped {authority}: no SENCO with an open plan to measure.")
                continue
            self.stdout.write(f"{authority} ({subject.pupils:,} pupils): pages and API lists")
            pages = benchmarks.measure_pages(subject, runs, self.stdout.write)
            self.stdout.write(f"{authority}: report builds")
            reports = benchmarks.measure_reports(subject, max(1, runs // 5), self.stdout.write)
            results[f"dataset:{authority.code}"] = {
                "label": authority.name,
                "pupils": subject.pupils,
                "runs": runs,
                "pages": pages,
                "reports": reports,
            }
        if len(results) == 1:
            raise CommandError("No LA to measure: run seed_demo (and generate_scale_data) first.")
        if import_rows:
            results["import"] = benchmarks.measure_import(import_rows)
            self.stdout.write(f"Import of {import_rows:,} rows: {results['import']['seconds']} s")
        if not no_write:
            path = benchmarks.save(results)
            self.stdout.write(self.style.SUCCESS(f"Wrote {path} and docs/benchmarks.md"))
