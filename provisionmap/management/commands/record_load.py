"""`manage.py record_load STATS.csv`: put a locust run's figures (scripts/load.sh) into
docs/benchmarks.json and docs/benchmarks.md: throughput, median and 95th percentile per
request, failures, and from gunicorn's access log the answers by status (429s counted
apart from errors: a throttled request is the app protecting itself, a 5xx is a fault)."""

from __future__ import annotations

import csv
import re
from collections import Counter
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from provisionmap import benchmarks

STATUS = re.compile(r'" (\d{3}) ')


class Command(BaseCommand):
    help = "Record a locust run's figures in docs/benchmarks.md."

    def add_arguments(self, parser) -> None:
        parser.add_argument("stats", help="locust's *_stats.csv")
        parser.add_argument("--users", type=int, required=True)
        parser.add_argument("--time", required=True)
        parser.add_argument("--web-log", help="gunicorn's access log, for the answers by status")

    def handle(self, *args, stats: str, users: int, time: str, web_log: str | None, **options) -> None:
        path = Path(stats)
        if not path.exists():
            raise CommandError(f"{stats} does not exist: did locust run?")
        with path.open(newline="") as f:
            rows = list(csv.DictReader(f))
        statuses: Counter = Counter()
        if web_log and Path(web_log).exists():
            for line in Path(web_log).read_text(errors="replace").splitlines():
                if m := STATUS.search(line):
                    statuses[m.group(1)] += 1
        table = [
            {
                "request": f"{r['Type']} {r['Name']}".strip(),
                "count": int(r["Request Count"]),
                "failures": int(r["Failure Count"]),
                "median_ms": float(r["50%"] or 0),
                "p95_ms": float(r["95%"] or 0),
                "per_second": round(float(r["Requests/s"]), 2),
            }
            for r in rows
        ]
        total = next((t for t in table if t["request"].endswith("Aggregated")), None)
        errors = sum(n for code, n in statuses.items() if code.startswith("5"))
        summary = (
            f"{users} simulated users for {time} against gunicorn (3 workers) with a Celery worker, "
            f"on the demo data: {total['count'] if total else 0:,} requests, "
            f"{total['per_second'] if total else 0} a second, p95 {total['p95_ms'] if total else 0:.0f} ms; "
            f"{errors} server errors, {statuses.get('429', 0)} throttled (429)."
        )
        markdown = "\n".join(
            [
                summary,
                "",
                "Reproduce: `make load` (LOAD_USERS, LOAD_TIME to change the run).",
                "",
                "Locust, gunicorn, the worker, PostgreSQL and Redis share the machine's cores, so "
                "these times include waiting for a core; the page figures above are the app's own. "
                "The simulated users of a role share one sign-in, so together they reach the limits "
                "one person would not: the API's per-user rate and the hourly report limit per "
                "membership. Those answers are the 429s, counted apart from errors.",
                "",
                benchmarks.table(
                    ["request", "count", "failures", "median ms", "p95 ms", "per second"],
                    [
                        [
                            f"`{t['request']}`",
                            t["count"],
                            t["failures"],
                            t["median_ms"],
                            t["p95_ms"],
                            t["per_second"],
                        ]
                        for t in table
                    ],
                ),
                "",
                "Answers by status (gunicorn's log): "
                + ", ".join(f"{code}: {n:,}" for code, n in sorted(statuses.items())),
            ]
        )
        benchmarks.save(
            {
                "load": {
                    "users": users,
                    "time": time,
                    "requests": table,
                    "statuses": dict(statuses),
                    "markdown": markdown,
                }
            }
        )
        self.stdout.write(summary)
