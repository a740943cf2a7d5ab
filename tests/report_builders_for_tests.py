"""A stand-in report builder for the tests of report builds, in the test process and in real
Celery workers (loaded with `--include` and PMTEST_REPORT_BUILDERS=1).

What a build does is set per request in Redis, so the test and the worker agree without
sharing memory: `quick` (the default) builds at once; `sleep` loops for a minute (to be
killed, or stopped by a time limit); `slow` takes a few seconds (longer than the test
worker's visibility timeout); `transient_once` fails as a database outage would on its first
build; `boom` fails as a bug would, with a pupil's name in the exception. Every build that
starts counts itself, and every delivery of a build message counts itself, so a test can
tell a build that ran twice from a message that came twice.
"""

from __future__ import annotations

import os
import time

import redis
from django.conf import settings
from django.db import OperationalError
from django.utils import timezone

SECRET = "Alpha Smith-Secret"


def client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


def key(pk: int, what: str) -> str:
    return f"pmtest:report:{pk}:{what}"


def set_mode(pk: int, mode: str) -> None:
    client().set(key(pk, "mode"), mode, ex=600)


def count(pk: int, what: str) -> int:
    return int(client().get(key(pk, what)) or 0)


def build_for_tests(row) -> tuple[dict, str, dict]:
    r = client()
    builds = r.incr(key(row.pk, "builds"))
    r.expire(key(row.pk, "builds"), 600)
    mode = (r.get(key(row.pk, "mode")) or b"quick").decode()
    if mode == "sleep":
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            time.sleep(0.05)
    elif mode == "slow":
        time.sleep(3)
    elif mode == "transient_once" and builds == 1:
        raise OperationalError("server closed the connection unexpectedly")
    elif mode == "boom":
        raise ValueError(f"could not lay out the page for {SECRET}")
    figures = {"school": row.school_id, "build": builds, "note": row.period}
    context = {"title": "Test report", "scope_name": "A school", "built_at": timezone.now()}
    return figures, "reports/base.html", context


def install(kinds=("school_termly",), *, only: bool = False) -> dict:
    """Register the stand-in for `kinds` (and, with `only`, no other builder); returns the
    registry as it was, for `restore`."""
    from reports import builders

    builders.available_kinds()  # the real builders first, so they cannot override these later
    saved = dict(builders._builders)
    if only:
        builders._builders.clear()
    for kind in kinds:
        builders.register(kind)(build_for_tests)
    return saved


def restore(saved: dict) -> None:
    from reports import builders

    builders._builders.clear()
    builders._builders.update(saved)


def _count_deliveries(sender=None, task_id=None, task=None, args=None, kwargs=None, **_) -> None:
    if task is not None and task.name == "reports.build_report" and args:
        r = client()
        r.incr(key(args[0], "deliveries"))
        r.expire(key(args[0], "deliveries"), 600)


if os.environ.get("PMTEST_REPORT_BUILDERS") == "1":
    from celery.signals import task_prerun

    install()
    task_prerun.connect(_count_deliveries, weak=False)
