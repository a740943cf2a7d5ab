"""Report builds on real Celery workers: none lost, none built twice (SECURITY.md 22, 25–27).

The workers are real processes (prefork, as in production) on the test database and the
test Redis, with the report clocks shortened (tests/report_worker_settings.py) and a
stand-in builder for school_termly whose behaviour each test sets per request
(tests/report_builders_for_tests.py). What the tests look at is what a user would notice:
the request's status, its attempts, its error, and how many PDFs exist.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.db import connection, transaction
from django.utils import timezone

from reports import tasks as report_tasks
from reports.models import ReportRequest
from reports.services import build_payload, queue_build, request_report
from reports.tasks import GAVE_UP, MAX_ATTEMPTS, build_report, run_build, sweep_reports
from schools.scopes import scope_for_membership
from schools.tenancy import TenantScope, tenant_scope
from tests import report_builders_for_tests as stand_in
from tests import report_worker_settings as worker_settings

ROOT = Path(__file__).resolve().parent.parent
Status = ReportRequest.Status
PERIOD = "2024-25-summer"


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def stand_in_builder():
    saved = stand_in.install()
    yield
    stand_in.restore(saved)


class Worker:
    """One Celery worker (its own process group, so a kill takes its pool children too)."""

    def __init__(self, media: Path, log: Path) -> None:
        self.media, self.log_path = media, log
        self.proc: subprocess.Popen | None = None

    def start(self) -> Worker:
        db = connection.settings_dict
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.report_worker_settings",
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "MEDIA_ROOT": str(self.media),
            "PMTEST_REPORT_BUILDERS": "1",
        }
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "provisionmap",
            "worker",
            "--pool=prefork",
            "--concurrency=2",
            f"--loglevel={os.environ.get('PMTEST_WORKER_LOGLEVEL', 'WARNING')}",
            "--include=tests.tasks_for_tests,tests.report_builders_for_tests",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            f"--hostname=pmtest-{uuid.uuid4().hex[:8]}@%h",
        ]
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(  # noqa: S603 (our interpreter, our arguments)
                command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        return self

    def kill(self) -> None:
        """SIGKILL to the worker and its pool: no warm shutdown, no acknowledgement."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=20)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""


@pytest.fixture
def workers(media, tmp_path, monkeypatch):
    """Start workers with `workers()`; every one is killed at the end of the test."""
    # A message carries its sender's time limits, and the worker enforces those: this
    # process sends with the workers' short ones.
    monkeypatch.setattr(build_report, "soft_time_limit", worker_settings.REPORT_SOFT_TIME_LIMIT)
    monkeypatch.setattr(build_report, "time_limit", worker_settings.REPORT_TIME_LIMIT)
    started: list[Worker] = []

    def start() -> Worker:
        worker = Worker(media, tmp_path / f"worker-{len(started)}.log").start()
        started.append(worker)
        return worker

    start.started = started
    yield start
    for worker in started:
        worker.kill()


@pytest.fixture
def alpha(transactional_db, stand_in_builder, media):
    """A tenant committed for real, for tests whose workers read it from other processes."""
    from tests.conftest import build_tenant

    return build_tenant("909", "Alpha")


@pytest.fixture
def alpha_here(tenant, stand_in_builder, media):
    """The same tenant inside the test's transaction, for tests that build in this process."""
    return tenant


def _asker(tenant):
    membership = tenant.memberships["senco"]
    return SimpleNamespace(membership=membership, user=membership.user), scope_for_membership(membership)


def ask(tenant, mode: str, *, queue: bool = True) -> int:
    """A SENCO's request for their school's termly report, built the way `mode` says."""
    asker, scope = _asker(tenant)
    with transaction.atomic(), tenant_scope(scope):
        row = request_report(
            asker,
            kind="school_termly",
            scope_type="school",
            scope_id=tenant.school.pk,
            period=PERIOD,
            queue=False,
        )
    stand_in.set_mode(row.pk, mode)
    if queue:
        with transaction.atomic(), tenant_scope(scope):
            queue_build(row, scope)
    return row.pk


def load(tenant, pk: int) -> ReportRequest:
    with transaction.atomic(), tenant_scope(TenantScope.for_school(tenant.school.pk)):
        return ReportRequest.objects.get(pk=pk)


def wait_for(check, *, seconds: float, what: str, workers=None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    logs = "\n".join(w.log() for w in (workers.started if workers else []))
    pytest.fail(f"timed out waiting for {what}\n{logs}")


def wait_finished(tenant, pk: int, workers, seconds: float = 25) -> ReportRequest:
    return wait_for(
        lambda: (row := load(tenant, pk)).finished and row,
        seconds=seconds,
        what=f"report {pk} to finish",
        workers=workers,
    )


def pdfs(media: Path, pk: int) -> list[Path]:
    return sorted((media / "reports" / "pdf").glob(f"school_termly-{pk}-v*.pdf"))


# --- with real workers ------------------------------------------------------------------------


def test_worker_killed_mid_build_ends_with_exactly_one_report(alpha, workers, media):
    first = workers()
    pk = ask(alpha, "sleep")
    wait_for(
        lambda: stand_in.count(pk, "builds") == 1 and load(alpha, pk).status == Status.RUNNING,
        seconds=25,
        what="the build to start",
        workers=workers,
    )
    first.kill()  # SIGKILL mid-build: the message is neither acknowledged nor rejected
    stand_in.set_mode(pk, "quick")
    workers()
    # The dead build's lease runs out (the fresh worker may meanwhile get the message back
    # from the broker: while the lease holds, it leaves the row alone).
    lease_until = load(alpha, pk).lease_until
    time.sleep(max(0.0, (lease_until - timezone.now()).total_seconds()) + 0.2)
    sweep_reports()
    row = wait_finished(alpha, pk, workers)
    assert row.status == Status.DONE, row.error
    assert stand_in.count(pk, "builds") == 2  # the killed one and the one that finished
    assert row.attempts == 2
    assert len(pdfs(media, pk)) == 1
    # Anything still in flight for it later changes nothing.
    assert sweep_reports() == 0
    assert load(alpha, pk).finished_at == row.finished_at


def test_lost_messages_are_requeued_by_the_sweep_and_built_once(alpha, workers, media, monkeypatch):
    monkeypatch.setattr(report_tasks, "STALE_QUEUED", timedelta(seconds=1))
    never_sent = ask(alpha, "quick", queue=False)
    # Queued while no worker runs, then lost with the broker's memory (a Redis restart).
    dropped = ask(alpha, "quick")
    assert stand_in.client().delete("celery") == 1  # the queue held its message; now it is gone
    workers()
    time.sleep(1.5)
    assert load(alpha, dropped).status == Status.QUEUED  # nothing came for it
    assert sweep_reports() == 2
    for pk in (never_sent, dropped):
        row = wait_finished(alpha, pk, workers)
        assert row.status == Status.DONE, row.error
        assert (row.attempts, stand_in.count(pk, "builds"), len(pdfs(media, pk))) == (1, 1, 1)
    assert sweep_reports() == 0


def test_the_same_message_delivered_twice_at_once_builds_once(alpha, workers, media):
    workers()
    pk = ask(alpha, "slow", queue=False)
    _, scope = _asker(alpha)
    with transaction.atomic(), tenant_scope(scope):
        payload = build_payload(load(alpha, pk), scope)
    for _ in range(2):
        build_report.apply_async(args=[pk], kwargs={"tenant": payload})
    row = wait_finished(alpha, pk, workers)
    wait_for(
        lambda: stand_in.count(pk, "deliveries") >= 2, seconds=10, what="both deliveries", workers=workers
    )
    assert row.status == Status.DONE, row.error
    assert (row.attempts, stand_in.count(pk, "builds"), len(pdfs(media, pk))) == (1, 1, 1)


def test_a_build_longer_than_the_visibility_timeout_runs_once(alpha, workers, media):
    # The test workers' broker hands an unacknowledged message out again after one second;
    # this build takes three, so the broker delivers it again while it runs.
    workers()
    pk = ask(alpha, "slow")
    row = wait_finished(alpha, pk, workers)
    assert row.status == Status.DONE, row.error
    assert stand_in.count(pk, "deliveries") >= 2
    assert (row.attempts, stand_in.count(pk, "builds"), len(pdfs(media, pk))) == (1, 1, 1)


def test_a_transient_failure_is_retried_and_finishes(alpha, workers, media):
    workers()
    pk = ask(alpha, "transient_once")
    row = wait_for(
        lambda: (r := load(alpha, pk)).status == Status.DONE and r,
        seconds=25,
        what="the retry to finish",
        workers=workers,
    )
    assert (row.attempts, stand_in.count(pk, "builds"), len(pdfs(media, pk))) == (2, 2, 1)
    assert row.error == ""


def test_a_bug_fails_the_report_with_a_plain_message_and_no_retry(alpha, workers, media):
    workers()
    pk = ask(alpha, "boom")
    row = wait_finished(alpha, pk, workers)
    assert row.status == Status.FAILED
    assert row.error.startswith("The report could not be built.")
    assert stand_in.SECRET not in row.error  # the exception's text stays in the worker's log
    time.sleep(1.5)  # a retry, had there been one, would have come by now
    assert (load(alpha, pk).attempts, stand_in.count(pk, "builds"), pdfs(media, pk)) == (1, 1, [])


def test_a_build_past_its_soft_time_limit_is_stopped_and_failed(alpha, workers, media):
    workers()
    pk = ask(alpha, "sleep")
    row = wait_finished(alpha, pk, workers, seconds=25)
    assert row.status == Status.FAILED
    assert "took too long" in row.error
    assert (row.attempts, stand_in.count(pk, "builds"), pdfs(media, pk)) == (1, 1, [])


# --- in this process -------------------------------------------------------------------------


def test_a_build_stores_the_pdf_and_the_figures_it_was_built_from(alpha_here, media):
    import json

    pk = ask(alpha_here, "quick", queue=False)
    _, scope = _asker(alpha_here)
    assert run_build(pk, scope) == "done"
    row = load(alpha_here, pk)
    assert row.status == Status.DONE and row.pages == 1 and row.finished_at and row.build_seconds is not None
    assert row.pdf.open("rb").read(5) == b"%PDF-"
    assert json.loads(row.snapshot.open("rb").read()) == {
        "build": 1,
        "note": PERIOD,
        "school": alpha_here.school.pk,
    }
    # A finished request is never built again, however often its message comes.
    assert run_build(pk, scope) == "skipped"
    assert stand_in.count(pk, "builds") == 1


def test_a_request_that_keeps_dying_is_given_up_not_retried_for_ever(alpha_here, media):
    # Each attempt killed its worker (a hard time limit on pathological content, say): the
    # sweep hands it out again until it has had its attempts, then it is failed.
    pk = ask(alpha_here, "quick", queue=False)
    _, scope = _asker(alpha_here)
    with transaction.atomic(), tenant_scope(scope):
        ReportRequest.objects.filter(pk=pk).update(
            status=Status.RUNNING, attempts=MAX_ATTEMPTS, lease_until=timezone.now() - timedelta(seconds=1)
        )
    assert run_build(pk, scope) == "skipped"
    row = load(alpha_here, pk)
    assert (row.status, row.error, stand_in.count(pk, "builds")) == (Status.FAILED, GAVE_UP, 0)


def test_the_sweep_leaves_fresh_requests_and_live_builds_alone(alpha_here, media):
    fresh = ask(alpha_here, "quick", queue=False)
    live = ask(alpha_here, "quick", queue=False)
    _, scope = _asker(alpha_here)
    with transaction.atomic(), tenant_scope(scope):
        ReportRequest.objects.filter(pk=live).update(
            status=Status.RUNNING, attempts=1, lease_until=timezone.now() + timedelta(minutes=5)
        )
    assert sweep_reports() == 0
    assert [load(alpha_here, pk).status for pk in (fresh, live)] == [Status.QUEUED, Status.RUNNING]


def test_a_build_without_a_tenant_fails_before_touching_anything(alpha_here):
    from schools.tasks import MissingTenantScopeError

    pk = ask(alpha_here, "quick", queue=False)
    result = build_report.apply(args=[pk])
    assert result.failed() and isinstance(result.result, MissingTenantScopeError)
    assert load(alpha_here, pk).status == Status.QUEUED and stand_in.count(pk, "builds") == 0
