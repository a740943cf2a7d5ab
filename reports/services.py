"""Asking for a report: who may ask for which, what it is about, over what period.

`request_report` checks the request, writes the row (status `queued`) and queues the build
after the transaction commits. The row carries the tenant columns that decide who reads it
(reports/models.py); the build runs under the asker's own membership, or for a scheduled
report under a scope naming exactly what that report covers (`report_scope`).
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.http import HttpRequest
from django.utils import timezone

from pupils.selectors import pupil_list
from pupils.services import acting_user
from reports.builders import available_kinds
from reports.models import KIND_PERIOD, KIND_SCOPE, ReportKind, ReportRequest, ScopeType
from reports.periods import Period, parse_period
from schools.audit import Action, audit
from schools.models import (
    RECORD_KEEPERS,
    BehaviourProvision,
    LocalAuthority,
    Partnership,
    PupilGrant,
    Role,
    School,
)
from schools.scopes import current_grants
from schools.tenancy import TenantScope, require_scope
from schools.terms import academic_year_of


def _role(request: HttpRequest | None, scope: TenantScope) -> str:
    membership = getattr(request, "membership", None)
    return membership.role if membership is not None else scope.role


def term_spans(la_id: int, year: int) -> dict[str, tuple]:
    """The LA's term dates for a school year, as {term: (first, last)} (empty if none)."""
    from schools.models import TermDates

    rows = TermDates.objects.filter(local_authority_id=la_id, academic_year=year)
    return {r.term: (r.starts_on, r.ends_on) for r in rows}


def period_for(kind: str, text: str, la_id: int) -> Period | None:
    today = timezone.localdate()
    spans_year = academic_year_of(today)
    spans = term_spans(la_id, spans_year)
    period = parse_period(KIND_PERIOD[ReportKind(kind)], text, today=today, spans=spans)
    if period is not None and period.term and period.year != spans_year:
        period = parse_period(
            KIND_PERIOD[ReportKind(kind)], period.code, today=today, spans=term_spans(la_id, period.year)
        )
    return period


def _target(request: HttpRequest | None, kind: str, scope_id: int, scope: TenantScope) -> dict:
    """The tenant columns of a request for `kind` about `scope_id`, if the asker may ask.
    Anything out of reach is reported as not found, never as someone else's."""
    role = _role(request, scope)
    system = scope.role == "system"
    missing = ValidationError({"scope_id": "Nothing with this id is yours to report on."})
    scope_type = KIND_SCOPE[ReportKind(kind)]
    if scope_type == ScopeType.SCHOOL:
        if scope_id not in scope.write_school:
            raise missing
        if not (system or role in RECORD_KEEPERS):
            raise PermissionDenied("Only the school's SENCO or headteacher can ask for its reports.")
        school = School.objects.get(pk=scope_id)
        return {"school": school, "local_authority_id": school.local_authority_id}
    if scope_type == ScopeType.PUPIL:
        pupil = pupil_list(scope, include_leavers=True).filter(pk=scope_id).select_related("school").first()
        if pupil is None:
            raise missing
        if not (system or (role in RECORD_KEEPERS and pupil.school_id in scope.write_school)):
            raise PermissionDenied(
                "Only the pupil's school's SENCO or headteacher can ask for their reports."
            )
        return {"school": pupil.school, "pupil": pupil, "local_authority_id": pupil.school.local_authority_id}
    if scope_type == ScopeType.PROVISION:
        provision = BehaviourProvision.objects.select_related("partnership").filter(pk=scope_id).first()
        if provision is None or not (
            provision.pk in scope.write_provision or provision.partnership_id in scope.write_partnership
        ):
            raise missing
        if not (system or role in (Role.PROVISION_LEAD, Role.PARTNERSHIP_LEAD)):
            raise PermissionDenied(
                "Only the provision's lead or its partnership's lead can ask for this report."
            )
        return {
            "provision": provision,
            "partnership": provision.partnership,
            "local_authority_id": provision.partnership.local_authority_id,
        }
    if scope_type == ScopeType.PARTNERSHIP:
        partnership = Partnership.objects.filter(pk=scope_id).first()
        if partnership is None or partnership.pk not in scope.write_partnership:
            raise missing
        if not (system or role == Role.PARTNERSHIP_LEAD):
            raise PermissionDenied("Only the partnership's lead can ask for its reports.")
        return {"partnership": partnership, "local_authority_id": partnership.local_authority_id}
    la = LocalAuthority.objects.filter(pk=scope_id).first()
    if la is None or la.pk not in scope.write_la_figures:
        raise missing
    return {"for_local_authority": la, "local_authority_id": la.pk}


RATE_LOCK = 7301  # the advisory lock space of the report rate limit


class TooManyReports(Exception):
    """The membership has asked for as many reports as an hour allows."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(
            f"You have asked for {settings.REPORT_REQUESTS_PER_HOUR} reports in the last hour, as many as "
            f"an hour allows. Try again in {max(1, round(retry_after / 60))} minutes; the reports already "
            "asked for are still being built."
        )


def within_rate(membership) -> None:
    """Refuse a request past REPORT_REQUESTS_PER_HOUR for one membership (each build is
    seconds of a worker's time; a script or a held-down button must not queue hundreds).
    Counted from the requests themselves, so it holds across web processes and needs no
    Redis; the schedule's own requests are not counted."""
    limit = settings.REPORT_REQUESTS_PER_HOUR
    # One membership's requests are counted and added one at a time (the lock lasts until the
    # request's transaction ends, after the new row): parallel posts cannot all see room.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [RATE_LOCK, membership.pk])
    now = timezone.now()
    recent = list(
        ReportRequest.objects.filter(
            membership=membership, scheduled=False, requested_at__gt=now - timedelta(hours=1)
        )
        .order_by("-requested_at")
        .values_list("requested_at", flat=True)[:limit]
    )
    if len(recent) >= limit:
        # Room again once the oldest of the last `limit` requests is an hour old.
        raise TooManyReports(max(1, int((recent[-1] + timedelta(hours=1) - now).total_seconds()) + 1))


def request_report(
    request: HttpRequest | None,
    *,
    kind: str,
    scope_type: str,
    scope_id: int,
    period: str = "",
    scheduled: bool = False,
    queue: bool = True,
) -> ReportRequest:
    """Write a queued request and queue its build. Asking again for a report already asked
    for makes its next version (a finished report never changes)."""
    scope = require_scope()
    if kind not in ReportKind.values:
        raise ValidationError({"kind": f"Unknown kind. Choose one of: {', '.join(ReportKind.values)}."})
    if kind not in available_kinds():
        raise ValidationError({"kind": "This kind of report cannot be built yet."})
    if scope_type != KIND_SCOPE[ReportKind(kind)]:
        raise ValidationError(
            {"scope_type": f"A {kind} report is about a {KIND_SCOPE[ReportKind(kind)]}, not a {scope_type}."}
        )
    target = _target(request, kind, scope_id, scope)
    membership = getattr(request, "membership", None)
    if membership is not None and not scheduled:
        within_rate(membership)
    resolved = period_for(kind, period, target["local_authority_id"])
    code = resolved.code if resolved is not None else ""
    same = ReportRequest.objects.filter(
        kind=kind,
        period=code,
        school=target.get("school"),
        pupil=target.get("pupil"),
        provision=target.get("provision"),
        partnership=target.get("partnership"),
        for_local_authority=target.get("for_local_authority"),
    )
    for _ in range(3):  # two asking at once: the loser takes the next version
        version = (same.aggregate(v=Max("version"))["v"] or 0) + 1
        row = ReportRequest(
            kind=kind,
            scope_type=scope_type,
            period=code,
            version=version,
            requested_by=acting_user(request),
            membership=membership,
            scheduled=scheduled,
            queued_at=timezone.now(),
            **target,
        )
        try:
            with transaction.atomic():
                row.save()
                break
        except IntegrityError:
            continue
    else:
        raise ValidationError("Many requests for this report arrived at once; try again.")
    if row.pupil_id:
        audit(request, Action.CREATE, row.pupil, detail={"report": row.pk, "kind": kind})
    if queue:
        queue_build(row, scope)
    return row


def report_scope(row: ReportRequest) -> TenantScope:
    """What a build needs and nothing more, for builds queued by the schedule or the sweep."""
    if row.school_id:
        scope = TenantScope.system(schools=[row.school_id], local_authorities=[row.local_authority_id])
        if row.pupil_id:
            # A pupil received by transfer: the history their school reads, wherever recorded.
            pairs = frozenset(
                current_grants(
                    school_id=row.school_id, pupil_id=row.pupil_id, kind=PupilGrant.Kind.RECORD
                ).values_list("pupil_id", "records_school_id")
            )
            scope = dataclasses.replace(
                scope,
                read_pupil=frozenset(p for p, _ in pairs),
                read_pairs=pairs,
                grant_school=frozenset(s for _, s in pairs),
            )
        return scope
    if row.provision_id or row.partnership_id:
        partnership_id = row.partnership_id
        schools = School.objects.filter(partnership_id=partnership_id).values_list("pk", flat=True)
        provisions = BehaviourProvision.objects.filter(partnership_id=partnership_id).values_list(
            "pk", flat=True
        )
        return TenantScope.system(
            partnerships=[partnership_id],
            local_authorities=[row.local_authority_id],
            provisions=[row.provision_id] if row.provision_id else [],
            count_schools=schools,
            count_provisions=provisions,
        )
    la = row.for_local_authority_id
    return TenantScope.system(
        partnerships=Partnership.objects.filter(local_authority_id=la).values_list("pk", flat=True),
        local_authorities=[la],
        la_figures=[la],
        count_schools=School.objects.filter(local_authority_id=la).values_list("pk", flat=True),
        count_provisions=BehaviourProvision.objects.filter(partnership__local_authority_id=la).values_list(
            "pk", flat=True
        ),
    )


def build_payload(row: ReportRequest, scope: TenantScope | None = None) -> dict:
    """The tenant a build runs as: the asker's membership if it still stands, else the
    report's own scope (scheduled requests, and the sweep's re-queues)."""
    from schools.tasks import tenant_payload

    if scope is not None and scope.membership_id is not None:
        return tenant_payload(scope)
    if row.membership_id is not None and not row.scheduled:
        return {"membership_id": row.membership_id}
    return tenant_payload(report_scope(row))


def queue_build(row: ReportRequest, scope: TenantScope | None = None) -> None:
    from reports.tasks import build_report

    payload = build_payload(row, scope)
    transaction.on_commit(lambda: build_report.apply_async(args=[row.pk], kwargs={"tenant": payload}))
