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
    assert "## Against the targets" in text and "Target: 250 ms" in text
    assert "Partnership annual report to the LA" in text and "python manage.py bench" in text


def test_record_checks_writes_the_fuzzing_and_fault_results(tmp_path, monkeypatch):
    """scripts/checks.sh hands record_checks pytest's JUnit file and printed output; what it
    writes names each test with its outcome, and the fuzzing's per-role figures."""
    from provisionmap import benchmarks

    monkeypatch.setattr(benchmarks, "DOCS", tmp_path)
    junit = tmp_path / "checks.xml"
    junit.write_text(
        '<testsuites><testsuite name="pytest">'
        '<testcase classname="tests.test_api_fuzz" name="test_api_fuzz[senco]" time="12.5"/>'
        '<testcase classname="tests.test_faults" name="test_redis_restart" time="6.9"/>'
        '<testcase classname="tests.test_report_tasks" name="test_killed" time="3.0">'
        '<failure message="boom"/></testcase>'
        '<testcase classname="tests.test_other" name="test_unrelated" time="1.0"/>'
        "</testsuite></testsuites>"
    )
    printed = tmp_path / "checks.txt"
    printed.write_text(
        "\nsenco: 75 operations, 459 cases in 10 s; answers by class {2: 55, 4: 404};"
        " 17 operations answered 2xx about a row in their path\n"
    )
    call_command("record_checks", str(junit), str(printed), stdout=io.StringIO())
    data = json.loads((tmp_path / "benchmarks.json").read_text())
    assert (data["fuzz"]["tests"], data["fuzz"]["failed"]) == (1, 0)
    assert (data["faults"]["tests"], data["faults"]["failed"]) == (2, 1)
    text = (tmp_path / "benchmarks.md").read_text()
    assert "| senco | 75 | 459 | 10 | {2xx: 55, 4xx: 404} | 17 |" in text
    assert "| `test_killed` | failed | 3.0 |" in text and "test_unrelated" not in text
