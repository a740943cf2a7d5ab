"""`manage.py record_checks JUNIT.xml OUTPUT.txt`: put a run of the API fuzzing and fault
tests (scripts/checks.sh; the report task tests count with the faults) into
docs/benchmarks.json and docs/benchmarks.md: each test with its outcome and time, and for the
fuzzing the per-role summary the test prints (operations, cases, answers by class)."""

from __future__ import annotations

import re
from pathlib import Path
from xml.etree import ElementTree

from django.core.management.base import BaseCommand, CommandError

from provisionmap import benchmarks

# What tests/test_api_fuzz.py prints per role.
FUZZ_LINE = re.compile(
    r"^(\w+): (\d+) operations, (\d+) cases in (\d+) s; answers by class (\{[^}]*\}); (\d+) "
)
SECTIONS = {
    "fuzz": (
        ("test_api_fuzz",),
        "Reproduce: `make checks` (API_FUZZ_EXAMPLES and API_FUZZ_SEED for a longer or another run).",
    ),
    "faults": (
        ("test_faults", "test_report_tasks"),
        "Reproduce: `make checks`. The tests run real Redis, PostgreSQL and Celery "
        "worker processes, and kill or restart them.",
    ),
}


def _outcome(case: ElementTree.Element) -> str:
    for tag, word in (("failure", "failed"), ("error", "error"), ("skipped", "skipped")):
        if case.find(tag) is not None:
            return word
    return "passed"


class Command(BaseCommand):
    help = "Record a run of the API fuzzing and fault tests in docs/benchmarks.md."

    def add_arguments(self, parser) -> None:
        parser.add_argument("junit", help="pytest's --junitxml file")
        parser.add_argument("output", help="pytest's printed output (run with -s)")

    def handle(self, *args, junit: str, output: str, **options) -> None:
        if not Path(junit).exists():
            raise CommandError(f"{junit} does not exist: did the tests run?")
        # pytest's own file, written by scripts/checks.sh on this machine.
        cases = ElementTree.parse(junit).getroot().iter("testcase")  # noqa: S314
        by_module: dict[str, list[list]] = {key: [] for key in SECTIONS}
        for case in cases:
            module = case.get("classname", "").rsplit(".", 1)[-1]
            for key, (modules, _) in SECTIONS.items():
                if module in modules:
                    by_module[key].append(
                        [f"`{case.get('name')}`", _outcome(case), f"{float(case.get('time', 0)):.1f}"]
                    )
        printed = Path(output).read_text(errors="replace") if Path(output).exists() else ""
        roles = [m.groups() for line in printed.splitlines() if (m := FUZZ_LINE.match(line.strip()))]
        results = {}
        for key, (_, reproduce) in SECTIONS.items():
            rows = by_module[key]
            if not rows:
                continue
            failed = sum(r[1] != "passed" for r in rows)
            lines = [f"{len(rows)} tests, {failed} not passed.", "", reproduce, ""]
            if key == "fuzz" and roles:
                lines += [
                    "Every operation of the schema, with valid and then invalid input, as each role; checked "
                    "for no 5xx, answers the schema describes, and nothing outside the caller's scope.",
                    "",
                    benchmarks.table(
                        [
                            "role",
                            "operations",
                            "cases",
                            "seconds",
                            "answers by class",
                            "reads of own rows answered 2xx",
                        ],
                        [
                            [
                                r[0],
                                r[1],
                                r[2],
                                r[3],
                                r[4].replace("2:", "2xx:").replace("4:", "4xx:").replace("5:", "5xx:"),
                                r[5],
                            ]
                            for r in roles
                        ],
                    ),
                    "",
                ]
            lines.append(benchmarks.table(["test", "outcome", "seconds"], rows))
            results[key] = {"markdown": "\n".join(lines), "tests": len(rows), "failed": failed}
        if not results:
            raise CommandError("No fuzzing or fault test is in that file.")
        benchmarks.save(results)
        for key, value in results.items():
            self.stdout.write(f"{key}: {value['tests']} tests, {value['failed']} not passed")
