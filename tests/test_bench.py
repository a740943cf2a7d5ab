"""`manage.py bench` on the demo data: every role's pages, every kind of report and the
import are measured, each beside its floor where it has one, and the Markdown shows them.
A benchmark asserts no speed; this checks that it measures what it says and leaves the
database as it was."""

from __future__ import annotations

import io
import json

from django.core.management import call_command

from pupils.models import Pupil
from reports.models import ReportKind, ReportRequest
from schools.models import School
from schools.tenancy import TenantScope, tenant_scope
from tests.test_seed_demo import seed


def counts() -> tuple[int, int, int]:
    schools = list(School.objects.values_list("pk", flat=True))
    with tenant_scope(TenantScope.system(schools=schools, count_schools=schools)):
        return School.objects.count(), Pupil.objects.count(), ReportRequest.objects.count()


def test_bench_measures_pages_reports_and_the_import_and_leaves_nothing(db, tmp_path, monkeypatch):
    from provisionmap import benchmarks

    seed()
    before = counts()
    monkeypatch.setattr(benchmarks, "DOCS", tmp_path)  # the docs/ of this checkout stay as they are
    out = io.StringIO()
    call_command("bench", "--runs", "1", "--import-rows", "50", stdout=out)
    assert counts() == before  # report requests and the import were rolled back
    data = json.loads((tmp_path / "benchmarks.json").read_text())
    (dataset,) = [v for k, v in data.items() if k.startswith("dataset:")]
    roles = {row["role"] for row in dataset["pages"]}
    assert roles == {"SENCO", "Headteacher", "Practitioner", "Provision lead", "Partnership lead"} | {
        "LA officer"
    }
    assert {row["status"] for row in dataset["pages"]} == {200}
    assert all(row["queries"] > 0 and row["median_ms"] > 0 for row in dataset["pages"])
    fresh = {(row["role"], row["page"]) for row in dataset["pages"] if row["page"].endswith("new counts")}
    assert fresh == {(role, "/ (dashboard), new counts") for role in ("Partnership lead", "LA officer")}
    floors = [row for row in dataset["pages"] if "floor_ms" in row]
    assert len(floors) == 4 and all(row["ratio"] > 0 for row in floors)
    assert {row["kind"] for row in dataset["reports"]} == {kind.label for kind in ReportKind}
    assert all(row["pages"] >= 1 and row["ratio"] >= 1 for row in dataset["reports"])
    assert data["import"]["rows"] == 50 and data["import"]["seconds"] > 0
    text = (tmp_path / "benchmarks.md").read_text()
    assert "| SENCO | `/ (dashboard)` | 200 |" in text
    assert "Partnership annual report to the LA" in text and "python manage.py bench" in text
