"""Faults the app must ride out (issue 9; SECURITY.md 13, 25, 27).

Each test breaks something real on this machine: a Redis of the test's own is stopped with
report requests queued in it, a Celery pool process is SIGKILLed mid-build, the database
connection of a pupil import is terminated from another session, and a page and a task
fail with a pupil's name and UPN in the exception. What is checked is what a user or an
operator would see afterwards: each report built once, nothing half-imported, and logs that
name the fault without quoting the child.
"""

from __future__ import annotations

import io
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
import redis
import yaml
from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.test import Client
from django.utils import timezone

from provisionmap.celery import app
from provisionmap.logging import ExceptionTypeOnlyFilter
from pupils import views as pupil_views
from pupils.imports import commit_import, preview_file
from pupils.management.commands.bench_import import make_csv
from pupils.models import Pupil, SenStatusChange
from reports.models import ReportRequest
from reports.services import build_payload
from reports.tasks import build_report, sweep_reports
from schools.models import AuditEvent
from schools.tenancy import TenantScope, tenant_scope
from tests import fault_worker_settings as worker_settings
from tests import report_builders_for_tests as stand_in
from tests.conftest import build_tenant, sign_in
from tests.test_report_tasks import _asker, ask, load, pdfs

ROOT = Path(__file__).resolve().parent.parent
Status = ReportRequest.Status


# --- Real processes: a Redis and Celery workers of the test's own -------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateRedis:
    """A redis-server started like scripts/services.sh starts one, minus the daemonising:
    nothing saved to disk, so a stop loses everything it held (as a crash would)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> PrivateRedis:
        command = ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", ""]
        command += ["--appendonly", "no", "--maxmemory-policy", "noeviction", "--dir", str(self.directory)]
        self.proc = subprocess.Popen(  # noqa: S603 (the system's redis-server, our arguments)
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_for(self._answers, seconds=10, what="the private Redis to answer")
        return self

    def _answers(self) -> bool:
        try:
            return bool(self.client().ping())
        except redis.ConnectionError:
            return False

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=10)

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_timeout=2)


class Worker:
    """A real prefork Celery worker in its own process group, on the test database."""

    def __init__(self, log: Path, media: Path, *, broker: str | None, concurrency: int) -> None:
        self.log_path, self.media, self.broker, self.concurrency = log, media, broker, concurrency
        self.proc: subprocess.Popen | None = None

    def start(self) -> Worker:
        db = connection.settings_dict
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.fault_worker_settings",
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "MEDIA_ROOT": str(self.media),
            "PMTEST_REPORT_BUILDERS": "1",
            "PMTEST_BROKER_URL": self.broker or settings.CELERY_BROKER_URL,
        }
        command = [sys.executable, "-m", "celery", "-A", "provisionmap", "worker", "--pool=prefork"]
        command += [
            f"--concurrency={self.concurrency}",
            "--loglevel=INFO",  # everything Celery says, so the log checks see it all
            "--include=tests.report_builders_for_tests,tests.fault_tasks_for_tests",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            f"--hostname=pmfault-{uuid.uuid4().hex[:8]}@%h",
        ]
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(  # noqa: S603 (our interpreter, our arguments)
                command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        wait_for(lambda: " ready." in self.log(), seconds=60, what="the worker to be ready", logs=self.log)
        return self

    def pool_processes(self) -> list[int]:
        """The pool's child processes (the parent keeps the broker connection and the queue)."""
        assert self.proc is not None
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
        return [int(pid) for pid in children]

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=20)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def wait_for(check: Callable, *, seconds: float, what: str, logs: Callable[[], str] = lambda: ""):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}\n{logs()[-6000:]}")


def sweep_results(log: str) -> list[int]:
    """What each run of the sweep in this worker returned (how many requests it re-queued)."""
    return [int(n) for n in re.findall(r"reports\.sweep_reports\[[^\]]+\] succeeded in [\d.]+s: (\d+)", log)]


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def alpha(transactional_db, media):
    """A tenant committed for real (workers read it from other processes), with the stand-in
    report builder whose behaviour each test sets per request."""
    # The counters are keyed by request id, and a new test database numbers from 1 again.
    counters = stand_in.client()
    for key in counters.scan_iter("pmtest:report:*"):
        counters.delete(key)
    saved = stand_in.install()
    yield build_tenant("909", "Alpha")
    stand_in.restore(saved)


@pytest.fixture
def workers(media, tmp_path, monkeypatch):
    """`workers(broker=…, concurrency=…)` starts one; all are killed when the test ends."""
    # A message carries its sender's time limits: send with the workers' own.
    monkeypatch.setattr(build_report, "soft_time_limit", worker_settings.REPORT_SOFT_TIME_LIMIT)
    monkeypatch.setattr(build_report, "time_limit", worker_settings.REPORT_TIME_LIMIT)
    # Messages left on the shared broker by an earlier run would name requests this run has
    # not made yet (a new test database numbers from 1 again).
    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete("celery", "unacked", "unacked_index")
    started: list[Worker] = []

    def start(*, broker: str | None = None, concurrency: int = 2) -> Worker:
        log = tmp_path / f"worker-{len(started)}.log"
        worker = Worker(log, media, broker=broker, concurrency=concurrency)
        started.append(worker)
        return worker.start()

    yield start
    for worker in started:
        worker.kill()


@pytest.fixture
def private_redis(tmp_path):
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = PrivateRedis(tmp_path)
    yield server
    server.stop()


def send_builds(tenant, pks: list[int], broker_url: str) -> list[str]:
    """Queue the builds on the given broker, the messages queue_build() would send; returns
    their task ids."""
    _, scope = _asker(tenant)
    payloads = {}
    for pk in pks:
        with transaction.atomic(), tenant_scope(scope):
            payloads[pk] = build_payload(load(tenant, pk), scope)
    with app.connection_for_write(broker_url) as conn:
        return [
            build_report.apply_async(args=[pk], kwargs={"tenant": payloads[pk]}, connection=conn).id
            for pk in pks
        ]


def send_sweep(broker_url: str) -> None:
    """What beat does every five minutes: put the sweep's message on the queue."""
    with app.connection_for_write(broker_url) as conn:
        sweep_reports.apply_async(connection=conn)


# --- SECURITY.md 27: Redis restarted with reports queued -----------------------------------


def test_a_redis_restart_with_reports_queued_ends_with_each_report_built_once(
    alpha, workers, private_redis, media
):
    broker = private_redis.start()
    worker = workers(broker=broker.url, concurrency=1)
    # A report built before the outage (which also warms the pool process's PDF engine, so
    # the slow build below keeps inside its short time limit).
    before = ask(alpha, "quick", queue=False)
    send_builds(alpha, [before], broker.url)
    wait_for(lambda: load(alpha, before).finished, seconds=30, what="the first report", logs=worker.log)
    # One build in flight (it outlasts the restart) and three waiting behind it: the worker
    # takes one message at a time, so the three are still in Redis when it goes down.
    in_flight = ask(alpha, "slow", queue=False)
    waiting = [ask(alpha, "quick", queue=False) for _ in range(3)]
    pks = [before, in_flight, *waiting]
    versions = {pk: load(alpha, pk).version for pk in pks}
    send_builds(alpha, [in_flight, *waiting], broker.url)
    wait_for(
        lambda: stand_in.count(in_flight, "builds") == 1, seconds=20, what="the slow build", logs=worker.log
    )
    assert broker.client().llen("celery") == 3

    broker.stop()  # SIGTERM: no snapshot, no append-only file; the queue is gone
    broker.start()
    assert broker.client().dbsize() == 0
    # The worker finds the new Redis by itself, and the build it was running finishes.
    wait_for(
        lambda: worker.log().count("Connected to redis://") >= 2,
        seconds=30,
        what="the worker to reconnect",
        logs=worker.log,
    )
    wait_for(lambda: load(alpha, in_flight).finished, seconds=20, what="the build in flight", logs=worker.log)
    time.sleep(1.5)  # anything still coming for the others would have come by now
    assert [load(alpha, pk).status for pk in waiting] == [Status.QUEUED] * 3
    assert [stand_in.count(pk, "builds") for pk in waiting] == [0, 0, 0]

    send_sweep(broker.url)
    for pk in pks:
        wait_for(lambda pk=pk: load(alpha, pk).finished, seconds=30, what=f"report {pk}", logs=worker.log)
    assert sweep_results(worker.log()) == [3]  # the three lost ones, not the finished one
    finished = {}
    for pk in pks:
        row = load(alpha, pk)
        assert row.status == Status.DONE, row.error
        assert (row.version, row.attempts, stand_in.count(pk, "builds")) == (versions[pk], 1, 1)
        assert [p.name for p in pdfs(media, pk)] == [f"school_termly-{pk}-v{versions[pk]}.pdf"]
        finished[pk] = row.finished_at
    # Beat's next run finds nothing to do, and nothing is built again.
    send_sweep(broker.url)
    wait_for(
        lambda: len(sweep_results(worker.log())) == 2, seconds=20, what="the second sweep", logs=worker.log
    )
    assert sweep_results(worker.log()) == [3, 0]
    assert {pk: load(alpha, pk).finished_at for pk in pks} == finished
    assert [stand_in.count(pk, "builds") for pk in pks] == [1] * len(pks)
    # No request was added or renumbered along the way.
    with transaction.atomic(), tenant_scope(TenantScope.for_school(alpha.school.pk)):
        rows = ReportRequest.objects.filter(kind="school_termly").values_list("pk", "version")
        assert sorted(rows) == sorted(versions.items())


def test_redis_is_run_with_noeviction_wherever_the_project_starts_it():
    # Evicting keys under memory pressure would drop queued jobs without a word.
    services = (ROOT / "scripts" / "services.sh").read_text()
    started = re.search(r"^\s*redis-server\s(?:.*\\\n)*.*$", services, flags=re.M)
    assert started, "scripts/services.sh no longer starts redis-server"
    assert "--maxmemory-policy noeviction" in " ".join(started.group(0).replace("\\\n", " ").split())
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    command = compose["services"]["redis"]["command"]
    assert command[0] == "redis-server"
    assert command[command.index("--maxmemory-policy") + 1] == "noeviction"
    # And the Redis these tests (and `make run`) use right now.
    try:
        policy = redis.Redis.from_url(settings.REDIS_URL).config_get("maxmemory-policy")
    except redis.ResponseError:
        pytest.skip("this Redis does not allow CONFIG GET")
    assert policy == {"maxmemory-policy": "noeviction"}


# --- SECURITY.md 25: a worker killed mid-report -----------------------------------------------


def test_report_builds_are_acknowledged_late_and_handed_back_when_a_worker_dies():
    # The message leaves the queue only once the build is over; a pool process that dies
    # mid-build hands it back rather than acknowledging it.
    assert build_report.acks_late is True
    assert build_report.reject_on_worker_lost is True
    assert app.conf.task_acks_late is True and app.conf.task_reject_on_worker_lost is True
    # One message per pool process at a time, so a dead worker strands at most one.
    assert app.conf.worker_prefetch_multiplier == 1
    # A build outlives neither its hard limit nor, with the broker's margin, the visibility
    # timeout: a slow build is never handed to a second worker.
    assert build_report.soft_time_limit < build_report.time_limit
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] > build_report.time_limit
    assert sweep_reports.acks_late and sweep_reports.reject_on_worker_lost


def test_a_pool_process_killed_mid_build_hands_its_message_back_and_nothing_runs_twice(alpha, workers, media):
    """What holds today when only the pool process dies: the parent rejects the message back
    onto the queue at once (reject_on_worker_lost), the redelivery finds the dead build's
    lease still held and leaves the row alone (never two builds at once), and the first
    sweep after the lease runs out finishes it, once."""
    worker = workers(concurrency=1)
    pk = ask(alpha, "sleep", queue=False)
    (task_id,) = send_builds(alpha, [pk], settings.CELERY_BROKER_URL)
    wait_for(
        lambda: stand_in.count(pk, "builds") == 1 and load(alpha, pk).status == Status.RUNNING,
        seconds=20,
        what="the build to start",
        logs=worker.log,
    )
    stand_in.set_mode(pk, "quick")
    (child,) = worker.pool_processes()
    os.kill(child, signal.SIGKILL)  # the pool process only: the worker itself lives on
    # The same message, handed back by the worker and run by its new pool process, which
    # finds the row leased to the dead build and leaves it.
    wait_for(
        lambda: f"{task_id}] succeeded in" in worker.log(), seconds=20, what="the redelivery", logs=worker.log
    )
    assert worker.proc.poll() is None and child not in worker.pool_processes()
    assert "WorkerLostError" in worker.log()
    assert stand_in.count(pk, "deliveries") == 2
    assert (stand_in.count(pk, "builds"), load(alpha, pk).status) == (1, Status.RUNNING)
    lease_until = load(alpha, pk).lease_until
    time.sleep(max(0.0, (lease_until - timezone.now()).total_seconds()) + 0.3)
    send_sweep(settings.CELERY_BROKER_URL)
    row = wait_for(
        lambda: (r := load(alpha, pk)).finished and r, seconds=20, what="the build to finish", logs=worker.log
    )
    assert row.status == Status.DONE, row.error
    assert (row.attempts, stand_in.count(pk, "builds"), len(pdfs(media, pk))) == (2, 2, 1)


# --- The database connection dropped in the middle of a pupil import ---------------------


class Terminator(threading.Thread):
    """Another session that ends the import's connection half-way through its transaction.

    It takes the audit table in EXCLUSIVE mode first (reads go on; writes wait), so the
    import stops at its first audit row, after the pupils and register entries are written
    but before they are committed. Then it checks that this is where the import waits, and
    terminates that backend, as an operator's pg_terminate_backend or a failover would.
    """

    def __init__(self, importer_pid: int) -> None:
        super().__init__(daemon=True)
        self.importer_pid = importer_pid
        self.locked = threading.Event()
        self.seen: dict = {}
        self.terminated = False
        self.error: BaseException | None = None

    def run(self) -> None:
        db = connection.settings_dict
        try:
            with psycopg.connect(
                host=db["HOST"], port=db["PORT"], dbname=db["NAME"], user=db["USER"], password=db["PASSWORD"]
            ) as conn:
                conn.execute(f'LOCK TABLE "{AuditEvent._meta.db_table}" IN EXCLUSIVE MODE')
                self.locked.set()
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline and not self.seen:
                    # pg_stat_activity is read once per transaction unless told to read again.
                    conn.execute("SELECT pg_stat_clear_snapshot()")
                    self.seen = self._waiting_on_the_audit_table(conn)
                    time.sleep(0.02)
                if self.seen:
                    self.terminated = conn.execute(
                        "SELECT pg_terminate_backend(%s)", [self.importer_pid]
                    ).fetchone()[0]
                conn.rollback()  # lets go of the audit table
        except BaseException as error:
            self.error = error
            self.locked.set()

    def _waiting_on_the_audit_table(self, conn) -> dict:
        row = conn.execute(
            "SELECT a.backend_xid IS NOT NULL, a.query FROM pg_stat_activity a JOIN pg_locks l"
            " ON l.pid = a.pid AND NOT l.granted AND l.relation = %s::regclass WHERE a.pid = %s",
            [AuditEvent._meta.db_table, self.importer_pid],
        ).fetchone()
        if row is None:
            return {}
        # The tables the import has written to in this transaction (a row-exclusive lock is
        # what INSERT and UPDATE take; reading takes a weaker one).
        written = conn.execute(
            "SELECT relation::regclass::text FROM pg_locks WHERE pid = %s AND granted"
            " AND mode = 'RowExclusiveLock' AND relation IS NOT NULL",
            [self.importer_pid],
        ).fetchall()
        return {"has_xid": row[0], "query": row[1], "written": {name for (name,) in written}}


def _register(school) -> tuple[int, int, int, int]:
    """Pupils, distinct UPNs, SEN register entries and audit rows of additions, in the school."""
    with transaction.atomic(), tenant_scope(TenantScope.for_school(school.pk)):
        pupils = Pupil.objects.filter(school=school)
        return (
            pupils.count(),
            pupils.values("upn").distinct().count(),
            SenStatusChange.objects.filter(pupil__school=school).count(),
            AuditEvent.objects.filter(school_id=school.pk, action="create").count(),
        )


def test_a_connection_dropped_mid_import_saves_nothing_and_the_same_file_then_imports_once(
    transactional_db,
):
    tenant = build_tenant("909", "Alpha")
    school = tenant.school
    rows = 2000
    data = make_csv(rows, la_code=tenant.la.code, establishment="4321")
    before = _register(school)
    with transaction.atomic(), tenant_scope(TenantScope.for_school(school.pk)):
        preview = preview_file(school=school, data=data, filename="mis-export.csv")
    assert preview.is_valid, preview.problems[:3]
    assert preview.counts["create"] == rows

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (importer_pid,) = cursor.fetchone()
    terminator = Terminator(importer_pid)
    terminator.start()
    assert terminator.locked.wait(20) and terminator.error is None, terminator.error
    scope = TenantScope.for_school(school.pk)
    with pytest.raises(OperationalError), transaction.atomic(), tenant_scope(scope):
        commit_import(request=None, school=school, preview=preview)
    terminator.join(20)
    assert terminator.error is None, terminator.error
    assert terminator.terminated
    # It was cut off mid-commit: pupils and register entries written, the audit row next.
    assert terminator.seen["has_xid"], terminator.seen
    assert terminator.seen["query"].startswith(f'INSERT INTO "{AuditEvent._meta.db_table}"')
    assert {Pupil._meta.db_table, SenStatusChange._meta.db_table} <= terminator.seen["written"]

    # Nothing of it was kept (the test's connection comes back by itself).
    assert _register(school) == before
    with transaction.atomic(), tenant_scope(TenantScope.for_school(school.pk)):
        assert not AuditEvent.objects.filter(object_type="pupils.import").exists()

    # The SENCO uploads the same file again: every pupil arrives, once.
    with transaction.atomic(), tenant_scope(TenantScope.for_school(school.pk)):
        again = preview_file(school=school, data=data, filename="mis-export.csv")
        summary = commit_import(request=None, school=school, preview=again)
    assert (summary.created, summary.updated) == (rows, 0)
    pupils, upns, entries, created = _register(school)
    assert (pupils, upns) == (before[0] + rows, before[1] + rows)
    assert entries == before[2] + rows  # one register entry per new pupil
    assert created == before[3] + rows + 1  # one per pupil, and one for the import
    with transaction.atomic(), tenant_scope(TenantScope.for_school(school.pk)):
        assert AuditEvent.objects.filter(object_type="pupils.import").count() == 1


# --- SECURITY.md 13: no special-category text in logs ------------------------------------


def _quote(pupil) -> str:
    return f"{pupil.upn} {pupil.first_name} {pupil.last_name}"


def test_a_server_error_logs_the_exception_type_and_place_but_not_the_pupil(tenant, monkeypatch):
    pupil = tenant.pupils[0]

    def detail_that_breaks(request, shown):
        try:
            raise KeyError(_quote(shown))
        except KeyError as error:
            raise ValueError(f"cannot lay out the page of {_quote(shown)}") from error

    monkeypatch.setattr(pupil_views, "_detail_context", detail_that_breaks)
    # The handler the settings give django.request, writing somewhere this test can read.
    (handler,) = [
        h
        for h in logging.getLogger("django.request").handlers
        if any(isinstance(f, ExceptionTypeOnlyFilter) for f in h.filters)
    ]
    out = io.StringIO()
    previous = handler.setStream(out)
    try:
        client = sign_in(Client(raise_request_exception=False), tenant.users["senco"])
        response = client.get(f"/pupils/{pupil.pk}/")
    finally:
        handler.setStream(previous)
    assert response.status_code == 500
    written = out.getvalue()
    assert "Internal Server Error" in written
    assert "ValueError from KeyError at test_faults.py:" in written and "(detail_that_breaks)" in written
    for words in (pupil.upn, pupil.first_name, pupil.last_name, "Traceback"):
        assert words not in written, written


def test_a_failing_task_logs_the_exception_type_but_not_the_pupil(alpha, workers):
    from tests.fault_tasks_for_tests import fail_quoting_pupil

    pupil = alpha.pupils[0]
    worker = workers(concurrency=1)
    senco = alpha.memberships["senco"]
    fail_quoting_pupil.apply_async(args=[pupil.pk], kwargs={"tenant": {"membership_id": senco.pk}})
    wait_for(
        lambda: "raised unexpected" in worker.log(), seconds=30, what="the task to fail", logs=worker.log
    )
    log = worker.log()
    assert "tests.fail_quoting_pupil" in log
    # The retry says why by type, and the failure says what and where.
    assert re.search(r"retry: Retry in 0s: OperationalError\n", log), log[-3000:]
    assert "raised unexpected: ValueError from KeyError at fault_tasks_for_tests.py:" in log
    for words in (pupil.upn, pupil.first_name, pupil.last_name, "Traceback"):
        assert words not in log, log[-3000:]
