"""The reports the schedule asks for, from each LA's term dates and the calendar.

Beat runs `reports.schedule_reports` once a day. For each LA it looks at what ended in the
last `CATCH_UP_DAYS` days (so a day beat was down is made up the next), and asks for:
- a term that ended (the LA's term dates): `school_termly` for each school of the LA and
  `provision_termly` for each behaviour provision of its partnerships;
- the school year (ended 31 August): `partnership_annual` for each partnership and
  `la_overview` for the LA;
- a quarter of the financial year (ended 30 June, 30 September, 31 December, 31 March):
  `financial_quarterly` for each partnership.
Only kinds that can be built are asked for, and each at most once per period: a scheduled
request for the same report and period is left alone. Every request is written in its own
transaction under a scope naming exactly what that report covers (`report_scope`), so one
that fails stops none of the others.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from reports.builders import available_kinds
from reports.models import KIND_SCOPE, ReportKind, ReportRequest, ScopeType
from reports.periods import quarter_period, school_year
from reports.services import report_scope, request_report
from schools.models import BehaviourProvision, LocalAuthority, Partnership, School, TermDates
from schools.tenancy import app_role, tenant_scope
from schools.terms import academic_year_label

logger = logging.getLogger(__name__)

CATCH_UP_DAYS = 7
# The last day of each financial quarter, as (month, day) → (quarter, years after the April
# the financial year starts in).
QUARTER_ENDS = {(6, 30): (1, 0), (9, 30): (2, 0), (12, 31): (3, 0), (3, 31): (4, -1)}


@dataclass(frozen=True)
class Due:
    """One report the schedule should ask for."""

    kind: str
    scope_type: str
    scope_id: int
    period: str
    local_authority_id: int


def _days(today: date) -> list[date]:
    """The days whose ends the schedule acts on today: yesterday and the few before it."""
    return [today - timedelta(days=n) for n in range(CATCH_UP_DAYS, 0, -1)]


def due_reports(la_id: int, today: date) -> list[Due]:
    """Everything that ended lately in this LA, as the reports it calls for (read as the app
    role: term dates, schools, partnerships and provisions hold no pupil data)."""
    days = _days(today)
    schools = list(School.objects.filter(local_authority_id=la_id).values_list("pk", flat=True))
    partnerships = list(Partnership.objects.filter(local_authority_id=la_id).values_list("pk", flat=True))
    provisions = list(
        BehaviourProvision.objects.filter(partnership__local_authority_id=la_id).values_list("pk", flat=True)
    )
    due: list[Due] = []

    def add(kind: str, ids: list[int], period: str) -> None:
        due.extend(Due(kind, KIND_SCOPE[ReportKind(kind)], pk, period, la_id) for pk in ids)

    terms = TermDates.objects.filter(local_authority_id=la_id, ends_on__gte=days[0], ends_on__lte=days[-1])
    for term in terms.order_by("ends_on"):
        code = f"{academic_year_label(term.academic_year)}-{term.term}"
        add(ReportKind.SCHOOL_TERMLY, schools, code)
        add(ReportKind.PROVISION_TERMLY, provisions, code)
    for day in days:
        if (day.month, day.day) == (8, 31):
            code = school_year(day.year - 1).code
            add(ReportKind.PARTNERSHIP_ANNUAL, partnerships, code)
            add(ReportKind.LA_OVERVIEW, [la_id], code)
        if (day.month, day.day) in QUARTER_ENDS:
            quarter, shift = QUARTER_ENDS[(day.month, day.day)]
            add(ReportKind.FINANCIAL_QUARTERLY, partnerships, quarter_period(day.year + shift, quarter).code)
    return due


def _probe(due: Due) -> ReportRequest:
    """An unsaved request naming the target, enough for `report_scope` to scope it."""
    if due.scope_type == ScopeType.SCHOOL:
        return ReportRequest(school_id=due.scope_id, local_authority_id=due.local_authority_id)
    if due.scope_type == ScopeType.PROVISION:
        provision = BehaviourProvision.objects.get(pk=due.scope_id)
        return ReportRequest(
            provision=provision,
            partnership_id=provision.partnership_id,
            local_authority_id=due.local_authority_id,
        )
    if due.scope_type == ScopeType.PARTNERSHIP:
        return ReportRequest(partnership_id=due.scope_id, local_authority_id=due.local_authority_id)
    return ReportRequest(for_local_authority_id=due.scope_id, local_authority_id=due.local_authority_id)


_COLUMN = {
    ScopeType.SCHOOL: "school_id",
    ScopeType.PROVISION: "provision_id",
    ScopeType.PARTNERSHIP: "partnership_id",
    ScopeType.LOCAL_AUTHORITY: "for_local_authority_id",
}


def _ask(due: Due) -> ReportRequest | None:
    """Ask for one scheduled report, unless the schedule already has."""
    with transaction.atomic(), app_role():
        scope = report_scope(_probe(due))
    with transaction.atomic(), tenant_scope(scope):
        asked = ReportRequest.objects.filter(
            kind=due.kind,
            period=due.period,
            scheduled=True,
            **{_COLUMN[ScopeType(due.scope_type)]: due.scope_id},
        )
        if asked.exists():
            return None
        return request_report(
            None,
            kind=due.kind,
            scope_type=due.scope_type,
            scope_id=due.scope_id,
            period=due.period,
            scheduled=True,
        )


def schedule_due(today: date) -> list[ReportRequest]:
    """Ask for every report due as of `today`; returns the requests made."""
    kinds = set(available_kinds())
    made: list[ReportRequest] = []
    with transaction.atomic(), app_role():
        authorities = list(LocalAuthority.objects.order_by("pk").values_list("pk", flat=True))
        due = [d for la in authorities for d in due_reports(la, today) if d.kind in kinds]
    for item in due:
        try:
            row = _ask(item)
        except (ValidationError, PermissionDenied) as error:
            # Logged by ids only; the next day's run tries again while it is in the window.
            logger.warning(
                "scheduled %s for %s %s not asked: %s", item.kind, item.scope_type, item.scope_id, error
            )
            continue
        if row is not None:
            made.append(row)
    return made
