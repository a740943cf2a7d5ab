"""Building reports on Celery workers, so that none is lost and none is built twice.

- The message carries only the request's id and the tenant to run as; the row says what
  to build and where it stands.
- Acknowledged late, and rejected back to the queue if the worker dies, so a killed worker's
  build is delivered again.
- A build first *claims* its row in a short transaction of its own: it takes the row only if
  it is queued, or running with a lease that ran out (its worker died). A second delivery of
  the same message while the first build still runs finds the lease held and stops there:
  the lease lasts longer than the hard time limit, and the broker's visibility timeout longer
  still, so no build runs twice.
- The build reads the figures in one transaction and stores the PDF and the JSON snapshot
  through Django's storage, then *finishes* the row only if it still holds the claim.
- A transient failure (the database or the broker dropping out) puts the row back in the
  queue and retries with back-off; anything else (a bug, a time limit) marks it failed with a
  plain message, never retried: the same input would fail the same way.
- `sweep_reports`, run by beat, re-queues requests that sat queued too long (a lost message)
  or whose lease ran out (a worker that died before redelivery).
- A request is claimed at most `MAX_ATTEMPTS` times: a build that kills its worker every time
  (the hard time limit on pathological content, memory) ends failed, not in an endless loop.
"""

from __future__ import annotations

import json
import logging
import time
import traceback
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.serializers.json import DjangoJSONEncoder
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import Q
from django.utils import timezone
from redis.exceptions import ConnectionError as RedisConnectionError

from provisionmap.celery import app
from reports.models import ReportRequest
from schools.models import BehaviourProvision, LocalAuthority, Partnership, School
from schools.tasks import OperatorTask, ScopedTask
from schools.tenancy import TenantScope, app_role, tenant_scope

logger = logging.getLogger(__name__)
Status = ReportRequest.Status

SOFT_LIMIT = getattr(settings, "REPORT_SOFT_TIME_LIMIT", 240)
HARD_LIMIT = getattr(settings, "REPORT_TIME_LIMIT", 300)
# The lease must outlast the hard limit: a live build's row is never taken from it.
_LEASE_SECONDS = getattr(settings, "REPORT_LEASE_SECONDS", None) or HARD_LIMIT + 60
LEASE = timedelta(seconds=max(_LEASE_SECONDS, HARD_LIMIT + 1))
TRANSIENT = (OperationalError, InterfaceError, RedisConnectionError)
# A request queued this long without being claimed lost its message.
STALE_QUEUED = timedelta(seconds=getattr(settings, "REPORT_STALE_QUEUED_SECONDS", 600))
MAX_ATTEMPTS = getattr(settings, "REPORT_MAX_ATTEMPTS", 6)
RETRY_SECONDS = getattr(settings, "REPORT_RETRY_SECONDS", 5)
GAVE_UP = "The report stopped before it was finished several times and was given up; ask for it again later."


def lease_for(hard_limit: float | None) -> timedelta:
    """How long a claim holds its row: past the hard time limit this build runs under. The
    limit travels in the message (the sender's settings), so it is read from there when it
    is known, keeping the configured margin past it."""
    if not hard_limit:
        return LEASE
    return max(LEASE, timedelta(seconds=hard_limit) + (LEASE - timedelta(seconds=HARD_LIMIT)))


def claim(request_id: int, scope: TenantScope, *, lease: timedelta = LEASE) -> ReportRequest | None:
    """Take the row for this build, or None if it is done, failed or held by another."""
    now = timezone.now()
    with transaction.atomic(), tenant_scope(scope):
        row = ReportRequest.objects.select_for_update(skip_locked=True).filter(pk=request_id).first()
        if row is None or row.finished:
            return None
        if row.status == Status.RUNNING and row.lease_until and row.lease_until > now:
            return None
        if row.attempts >= MAX_ATTEMPTS:
            row.status = Status.FAILED
            row.error = GAVE_UP
            row.finished_at = now
            row.lease_until = None
            row.save(update_fields=["status", "error", "finished_at", "lease_until"])
            return None
        row.status = Status.RUNNING
        row.started_at = now
        row.lease_until = now + lease
        row.attempts += 1
        row.error = ""
        row.save(update_fields=["status", "started_at", "lease_until", "attempts", "error"])
        return row


def _still_mine(row: ReportRequest) -> ReportRequest | None:
    current = ReportRequest.objects.select_for_update().filter(pk=row.pk).first()
    if current is None or current.status != Status.RUNNING or current.attempts != row.attempts:
        return None
    return current


def _fail(row: ReportRequest, scope: TenantScope, message: str, *, requeue: bool = False) -> None:
    with transaction.atomic(), tenant_scope(scope):
        current = _still_mine(row)
        if current is None:
            return
        current.lease_until = None
        if requeue:
            current.status = Status.QUEUED
            current.queued_at = timezone.now()
            current.save(update_fields=["status", "queued_at", "lease_until"])
        else:
            current.status = Status.FAILED
            current.error = message
            current.finished_at = timezone.now()
            current.save(update_fields=["status", "error", "finished_at", "lease_until"])


def produce(row: ReportRequest, scope: TenantScope) -> tuple[bytes, bytes, int]:
    """The snapshot and PDF of a claimed request (reports/builders.py does the work)."""
    from reports.builders import build

    with transaction.atomic(), tenant_scope(scope):
        figures, template, context = build(row)
    snapshot = json.dumps(figures, cls=DjangoJSONEncoder, indent=1, sort_keys=True).encode()
    from reports.pdf import render_pdf

    pdf, pages = render_pdf(template, {**context, "figures": figures, "report": row})
    return snapshot, pdf, pages


def _where(error: BaseException) -> str:
    """The innermost frames an exception passed through, as file:line (function)."""
    frames = traceback.extract_tb(error.__traceback__)[-4:]
    return " < ".join(f"{Path(f.filename).name}:{f.lineno} ({f.name})" for f in reversed(frames))


def run_build(request_id: int, scope: TenantScope, *, lease: timedelta = LEASE) -> str:
    """Claim, build and finish one request; the task and `build_report --sync` both use it."""
    row = claim(request_id, scope, lease=lease)
    if row is None:
        return "skipped"
    started = time.monotonic()
    try:
        snapshot, pdf, pages = produce(row, scope)
    except TRANSIENT:
        _fail(row, scope, "", requeue=True)
        raise
    except SoftTimeLimitExceeded:
        _fail(row, scope, "The report took too long to build and was stopped; ask for it again later.")
        return "failed"
    except Exception as error:
        # The exception's words may quote a child's record (SECURITY.md 13): the log says
        # what failed and where, not what it said.
        logger.error("report %s failed: %s at %s", request_id, type(error).__name__, _where(error))
        _fail(row, scope, "The report could not be built. The team has been told; ask for it again later.")
        return "failed"
    seconds = Decimal(f"{time.monotonic() - started:.2f}")
    with transaction.atomic(), tenant_scope(scope):
        current = _still_mine(row)
        if current is None:
            return "skipped"  # another delivery finished it while this one ran
        name = f"{current.kind}-{current.pk}-v{current.version}"
        current.snapshot.save(f"{name}.json", ContentFile(snapshot), save=False)
        current.pdf.save(f"{name}.pdf", ContentFile(pdf), save=False)
        current.status = Status.DONE
        current.finished_at = timezone.now()
        current.lease_until = None
        current.pages = pages
        current.build_seconds = seconds
        current.save()
    return "done"


@app.task(
    bind=True,
    base=ScopedTask,
    scope_per_transaction=True,
    name="reports.build_report",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=SOFT_LIMIT,
    time_limit=HARD_LIMIT,
    max_retries=MAX_ATTEMPTS - 1,
)
def build_report(self, request_id: int, scope: TenantScope) -> str:
    """Build one request as the tenant in the message (ScopedTask resolves it)."""
    try:
        hard_limit = (self.request.timelimit or (None, None))[0]
        return run_build(request_id, scope, lease=lease_for(hard_limit))
    except TRANSIENT as error:
        delay = min(2**self.request.retries * RETRY_SECONDS, 300)
        raise self.retry(exc=error, countdown=delay) from error


@app.task(base=OperatorTask, name="reports.sweep_reports")
def sweep_reports() -> int:
    """Re-queue requests whose message was lost (queued too long) or whose worker died (a
    lease that ran out). Operator work: it runs LA by LA, under a scope naming every school,
    partnership and provision of that LA, and touches nothing but the stuck rows."""
    from reports.services import build_payload

    now = timezone.now()
    stuck = Q(status=Status.QUEUED, queued_at__lt=now - STALE_QUEUED) | Q(
        status=Status.RUNNING, lease_until__lt=now
    )
    requeued = 0
    with transaction.atomic(), app_role():
        authorities = list(LocalAuthority.objects.values_list("pk", flat=True))
    for la in authorities:
        with transaction.atomic(), app_role():
            scope = la_sweep_scope(la)
        with transaction.atomic(), tenant_scope(scope):
            for row in ReportRequest.objects.select_for_update(skip_locked=True).filter(stuck):
                row.status = Status.QUEUED
                row.queued_at = now
                row.lease_until = None
                row.save(update_fields=["status", "queued_at", "lease_until"])
                payload = build_payload(row)
                transaction.on_commit(
                    lambda pk=row.pk, p=payload: build_report.apply_async(args=[pk], kwargs={"tenant": p})
                )
                requeued += 1
    return requeued


def la_sweep_scope(la_id: int) -> TenantScope:
    schools = School.objects.filter(local_authority_id=la_id).values_list("pk", flat=True)
    partnerships = Partnership.objects.filter(local_authority_id=la_id).values_list("pk", flat=True)
    provisions = BehaviourProvision.objects.filter(partnership__local_authority_id=la_id).values_list(
        "pk", flat=True
    )
    return TenantScope.system(
        schools=schools,
        partnerships=partnerships,
        local_authorities=[la_id],
        provisions=provisions,
        la_figures=[la_id],
    )


@app.task(base=OperatorTask, name="reports.schedule_reports")
def schedule_reports(today: str | None = None) -> int:
    """Beat's daily run: ask for the termly, annual and quarterly reports that fell due
    (reports/schedule.py). `today` (ISO date) is for operators re-running a missed day."""
    from datetime import date

    from reports.schedule import schedule_due

    day = date.fromisoformat(today) if today else timezone.localdate()
    return len(schedule_due(day))
