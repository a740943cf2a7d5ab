"""Which figures a role may ask for, over which period, and the call that makes them.

One entry point, `figures_for`, serves the dashboards and `GET /api/v1/figures/`: a scope
type and id, a period and filters in; the shared figures of dashboards/figures.py out.

Who may ask for what (DESIGN §2):
- a school's figures: its SENCO and headteacher (they read the school; nothing is
  suppressed inside it);
- a behaviour provision's: its provision lead, and the partnership lead and LA officers who
  count it (the figures are the suppressed ones of its termly report either way);
- a partnership's: its lead, and the officers of its LA;
- an LA's: its officers.
Any other id, real or not, is "not found", the same answer a made-up id gets.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone

from dashboards.figures import Filters, school_figures
from reports.build_partnership import la_year, partnership_year, provision_term, schools_as_the_la_reads_them
from reports.models import PeriodKind, ScopeType
from reports.periods import Period, parse_period, recent_periods
from reports.services import term_spans
from schools.models import BehaviourProvision, LocalAuthority, Partnership, Role, School
from schools.tenancy import TenantScope
from schools.terms import academic_year_of

# The scopes with figures, and the kind of period each is read over.
PERIOD_KIND = {
    ScopeType.SCHOOL: PeriodKind.TERM,
    ScopeType.PROVISION: PeriodKind.TERM,
    ScopeType.PARTNERSHIP: PeriodKind.YEAR,
    ScopeType.LOCAL_AUTHORITY: PeriodKind.YEAR,
}
# The role whose own dashboard is of each scope.
DASHBOARD_SCOPE = {
    Role.SENCO: ScopeType.SCHOOL,
    Role.HEADTEACHER: ScopeType.SCHOOL,
    Role.PROVISION_LEAD: ScopeType.PROVISION,
    Role.PARTNERSHIP_LEAD: ScopeType.PARTNERSHIP,
    Role.LA_OFFICER: ScopeType.LOCAL_AUTHORITY,
}
# Scopes whose figures the year group and area filters narrow: a school's own, which are not
# suppressed. Outside a school a filtered table, suppressed on its own beside the unfiltered
# one, would give small counts away by difference, so only the period is chosen there.
FILTERED = (ScopeType.SCHOOL,)


class NotFound(Exception):
    """The scope asked for does not exist or is not the asker's to see."""


@dataclass(frozen=True)
class Target:
    scope_type: str
    obj: School | BehaviourProvision | Partnership | LocalAuthority
    la_id: int

    @property
    def name(self) -> str:
        return self.obj.name


def may_see(scope: TenantScope, scope_type: str, scope_id: int) -> bool:
    role = scope.role
    if scope_type == ScopeType.SCHOOL:
        return role in (Role.SENCO, Role.HEADTEACHER) and scope_id in scope.read_school
    if scope_type == ScopeType.PROVISION:
        return scope_id in scope.read_provision or (
            role in (Role.PARTNERSHIP_LEAD, Role.LA_OFFICER) and scope_id in scope.count_provision
        )
    if scope_type == ScopeType.PARTNERSHIP:
        return role in (Role.PARTNERSHIP_LEAD, Role.LA_OFFICER) and scope_id in scope.read_partnership
    if scope_type == ScopeType.LOCAL_AUTHORITY:
        return role == Role.LA_OFFICER and scope_id in scope.read_la_figures
    return False


def target(scope: TenantScope, scope_type: str, scope_id: int) -> Target:
    """The object a request for figures is about, once the scope may see it."""
    if scope_type not in PERIOD_KIND or not may_see(scope, scope_type, scope_id):
        raise NotFound
    if scope_type == ScopeType.SCHOOL:
        obj = School.objects.select_related("local_authority").filter(pk=scope_id).first()
        la_id = obj.local_authority_id if obj else 0
    elif scope_type == ScopeType.PROVISION:
        obj = (
            BehaviourProvision.objects.select_related("partnership", "host_school")
            .filter(pk=scope_id)
            .first()
        )
        la_id = obj.partnership.local_authority_id if obj else 0
    elif scope_type == ScopeType.PARTNERSHIP:
        obj = Partnership.objects.select_related("local_authority").filter(pk=scope_id).first()
        la_id = obj.local_authority_id if obj else 0
    else:
        obj = LocalAuthority.objects.filter(pk=scope_id).first()
        la_id = scope_id
    if obj is None:
        raise NotFound
    return Target(scope_type, obj, la_id)


def own_target(scope: TenantScope) -> Target | None:
    """The scope of the role's own dashboard (None for roles without one)."""
    scope_type = DASHBOARD_SCOPE.get(scope.role)
    ids = {
        ScopeType.SCHOOL: scope.read_school,
        ScopeType.PROVISION: scope.read_provision,
        ScopeType.PARTNERSHIP: scope.write_partnership,
        ScopeType.LOCAL_AUTHORITY: scope.read_la_figures,
    }.get(scope_type, frozenset())
    if not ids:
        return None
    try:
        return target(scope, scope_type, min(ids))
    except NotFound:
        return None


def period_for(target: Target, text: str) -> Period:
    """The period asked for (`2025-26-autumn` for a term, `2025-26` for a school year), or
    the latest begun when none is given. A bad one raises ValidationError on "period"."""
    kind = PERIOD_KIND[target.scope_type]
    today = timezone.localdate()
    if not (text or "").strip():
        return period_choices(target)[0]  # the newest begun: the first the select offers
    period = parse_period(kind, text, today=today)
    if period.term:
        period = parse_period(kind, text, today=today, spans=term_spans(target.la_id, period.year))
    if period.first > today:
        raise ValidationError({"period": f"{period.label} has not begun yet."})
    return period


def period_choices(target: Target) -> list[Period]:
    kind = PERIOD_KIND[target.scope_type]
    today = timezone.localdate()
    year = academic_year_of(today)
    spans = {y: term_spans(target.la_id, y) for y in (year - 1, year)} if kind == PeriodKind.TERM else None
    return recent_periods(kind, today=today, spans_by_year=spans)


def figures_for(scope: TenantScope, target: Target, period: Period, filters: Filters) -> dict:
    """The shared figures of one scope for a period; the same dict the scope's report keeps."""
    if target.scope_type not in FILTERED:
        filters = Filters()
    if target.scope_type == ScopeType.SCHOOL:
        figures = school_figures(target.obj, period, filters)
    elif target.scope_type == ScopeType.PROVISION:
        figures, _ = provision_term(target.obj, period)
    elif target.scope_type == ScopeType.PARTNERSHIP:
        linked = None
        if scope.role == Role.LA_OFFICER:
            # The officer also reads this partnership's schools on the LA page: show the
            # table as suppressed there, together with every other partnership's.
            linked = schools_as_the_la_reads_them(target.obj)
        figures, _, _ = partnership_year(scope, target.obj, period, linked)
    else:
        figures = la_year(scope, target.obj, period)
    return {
        "scope_type": target.scope_type,
        "scope_id": target.obj.pk,
        "scope_name": target.name,
        "filters": filters.as_dict(),
        "suppressed": target.scope_type != ScopeType.SCHOOL,
        **figures,
    }
