"""Reading report requests, and which reports a membership may ask for.

Who reads a request is the tenant columns' business (reports/models.py): the scoped manager
and row-level security decide it, so nothing here filters by school by hand. Which reports
a membership may *ask* for follows its role (DESIGN.md §4); `request_report` checks the
same again, so a form or an API body naming anything else is refused there too.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from reports.builders import available_kinds
from reports.models import KIND_PERIOD, KIND_SCOPE, PeriodKind, ReportKind, ReportRequest, ScopeType
from reports.periods import EXAMPLES
from schools.models import RECORD_KEEPERS, BehaviourProvision, Membership, Role
from schools.tenancy import TenantScope

# Roles that read reports. Practitioners are not among them: their scope reaches their
# school's rows, but they may read only the pupils of the groups they run, and a list of
# pupil reports would name others.
READERS = frozenset(
    {Role.SENCO, Role.HEADTEACHER, Role.PROVISION_LEAD, Role.PARTNERSHIP_LEAD, Role.LA_OFFICER}
)
PUPIL_KINDS = (ReportKind.PUPIL_PROVISION_MAP, ReportKind.PUPIL_PROFILE, ReportKind.TRANSITION_RECORD)


def reports_for(scope: TenantScope) -> QuerySet[ReportRequest]:
    """Every request the scope may read, newest first, with what the list shows of each.
    Which rows those are is the scoped manager's and row-level security's to say; roles
    that read no reports get none, whatever their scope reaches."""
    rows = ReportRequest.objects.select_related(
        "school", "provision", "partnership", "for_local_authority", "requested_by"
    ).order_by("-requested_at", "-id")
    return rows if scope.role in READERS or scope.role == "system" else rows.none()


@dataclass(frozen=True)
class Askable:
    """A report a membership may ask for: its kind and the one object it is about."""

    kind: str
    scope_type: str
    scope_id: int
    label: str

    @property
    def value(self) -> str:
        return f"{self.kind}:{self.scope_id}"

    @property
    def period_hint(self) -> str:
        period = KIND_PERIOD[ReportKind(self.kind)]
        if period == PeriodKind.NONE:
            return "no period (the record as it stands)"
        return f"a period like {EXAMPLES[period]}"


def _askable(kind: str, scope_id: int, name: str) -> Askable:
    return Askable(kind, KIND_SCOPE[ReportKind(kind)], scope_id, f"{ReportKind(kind).label} — {name}")


def askable_reports(membership: Membership | None) -> list[Askable]:
    """The reports about the membership's school, provision, partnership or LA it may ask
    for (pupil reports are asked for from the pupil's page: `askable_pupil_reports`)."""
    if membership is None:
        return []
    kinds = set(available_kinds())
    role = membership.role
    found: list[Askable] = []
    if role in RECORD_KEEPERS:
        found.append(_askable(ReportKind.SCHOOL_TERMLY, membership.school_id, membership.school.name))
    elif role == Role.PROVISION_LEAD:
        provision = membership.provision
        found.append(_askable(ReportKind.PROVISION_TERMLY, provision.pk, provision.name))
    elif role == Role.PARTNERSHIP_LEAD:
        partnership = membership.partnership
        for provision in BehaviourProvision.objects.filter(partnership=partnership).order_by("name"):
            found.append(_askable(ReportKind.PROVISION_TERMLY, provision.pk, provision.name))
        found.append(_askable(ReportKind.PARTNERSHIP_ANNUAL, partnership.pk, partnership.name))
        found.append(_askable(ReportKind.FINANCIAL_QUARTERLY, partnership.pk, partnership.name))
    elif role == Role.LA_OFFICER:
        la = membership.local_authority
        found.append(_askable(ReportKind.LA_OVERVIEW, la.pk, la.name))
    return [a for a in found if a.kind in kinds]


def askable_pupil_reports(membership: Membership | None, pupil_id: int) -> list[Askable]:
    """A pupil's reports, for their school's SENCO and headteacher (the pupil is already
    one the caller's register holds: pupils.selectors.pupil_list)."""
    if membership is None or membership.role not in RECORD_KEEPERS:
        return []
    kinds = set(available_kinds())
    return [
        Askable(kind, ScopeType.PUPIL, pupil_id, ReportKind(kind).label)
        for kind in PUPIL_KINDS
        if kind in kinds
    ]


def can_ask_again(membership: Membership | None, row: ReportRequest) -> bool:
    """Whether "Build again" is offered: the report is one the membership may ask for."""
    if row.scope_type == ScopeType.PUPIL:
        return any(a.kind == row.kind for a in askable_pupil_reports(membership, row.pupil_id))
    return any((a.kind, a.scope_id) == (row.kind, row.scope_id) for a in askable_reports(membership))


def scope_name(row: ReportRequest) -> str:
    """What the report is about, in the list's words. A pupil's report says so, without the
    pupil's name: lists of reports are not pupil pages."""
    if row.scope_type == ScopeType.PUPIL:
        return "A pupil"
    target = {
        ScopeType.SCHOOL: row.school,
        ScopeType.PROVISION: row.provision,
        ScopeType.PARTNERSHIP: row.partnership,
        ScopeType.LOCAL_AUTHORITY: row.for_local_authority,
    }[ScopeType(row.scope_type)]
    return str(target) if target is not None else ""
