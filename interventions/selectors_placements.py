"""Reads behind the placement pages and API: the filtered list, who a row may name, and who
may act on it. Built on the core reads in interventions/placements.py.

A provision's lead always reads its placement rows but reads the pupil's own record only
while the placement runs (a PupilGrant). So the list is never joined to the pupil (a join
would silently drop the ended rows); names come from `pupil_names`, one query for a page,
and a row whose pupil the scope may not read shows the home school instead of a name.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.http import HttpRequest

from interventions.models import ProvisionPlacement
from interventions.placements import CURRENT, may_record, placements_in_scope, pupil_names
from pupils.models import Pupil
from schools.audit import Action, audit, audit_each
from schools.models import RECORD_KEEPERS, BehaviourProvision, Role
from schools.tenancy import TenantScope

# Who opens the placement pages: the home school's record keepers and the provision's lead.
# Practitioners work with the groups they run; partnership and LA roles see figures only.
PLACEMENT_ROLES = frozenset({*RECORD_KEEPERS, Role.PROVISION_LEAD})

# The list's status filter: current (referred or running), ended (ended, or withdrawn
# before it started), or all.
STATUS_FILTERS = {
    "current": "Current (referred or placed)",
    "ended": "Ended or withdrawn",
    "all": "All",
}

Status = ProvisionPlacement.Status


def placement_list(
    scope: TenantScope,
    *,
    status: str = "all",
    provision_id: int | None = None,
    pupil_id: int | None = None,
) -> QuerySet[ProvisionPlacement]:
    """The placements the scope may read, current ones first, then newest referral first.

    `scope` must be the active one: the tenant manager applies it (so the call says whose
    list it is, as every selector does). Filters only ever narrow it.
    """
    qs = placements_in_scope().alias(
        closed=Case(When(status__in=CURRENT, then=Value(0)), default=Value(1), output_field=IntegerField())
    )
    if status == "current":
        qs = qs.filter(status__in=CURRENT)
    elif status == "ended":
        qs = qs.exclude(status__in=CURRENT)
    if provision_id is not None:
        qs = qs.filter(provision_id=provision_id)
    if pupil_id is not None:
        qs = qs.filter(pupil_id=pupil_id)
    return qs.order_by("closed", "-referred_on", "-id")


@dataclass(frozen=True)
class PupilShown:
    """What a placement row may say about its pupil: the pupil when the scope reads them,
    else why not (the home school is always shown beside it)."""

    pupil: Pupil | None
    why_hidden: str = ""


def why_hidden(placement: ProvisionPlacement) -> str:
    if placement.status == Status.REFERRED:
        return "Name shown from the first day of the placement"
    return "Record closed (placement ended)"


def with_pupils(placements: list[ProvisionPlacement], *, hide: bool = False) -> list[ProvisionPlacement]:
    """Each placement gains `shown` (a PupilShown), with one query for all of them.
    `hide` drops every name (a provision's view of a placement it has just ended)."""
    names = {} if hide else pupil_names(placements)
    for p in placements:
        pupil = names.get(p.pupil_id)
        p.shown = PupilShown(pupil=pupil, why_hidden="" if pupil else why_hidden(p))
    return placements


def names_after_change(scope: TenantScope, placement: ProvisionPlacement) -> bool:
    """Whether a placement just changed in this request may still name its pupil.

    The scope was built when the request began; once a provision ends a placement (or a
    referral is withdrawn) the provision's access to the pupil has ended too, even though
    this request's scope still lists them."""
    return not (scope.role == Role.PROVISION_LEAD and placement.status not in CURRENT)


def provisions_taking(pupil: Pupil) -> QuerySet[BehaviourProvision]:
    """The behaviour provisions a pupil's school may refer to: those serving its partnership."""
    partnership_id = pupil.school.partnership_id
    if partnership_id is None:
        return BehaviourProvision.objects.none()
    return BehaviourProvision.objects.filter(partnership_id=partnership_id).select_related("host_school")


def may_change(request: HttpRequest | None, placement: ProvisionPlacement) -> bool:
    return placement.status in CURRENT and may_record(request, placement)


def weeks_and_days(days: int | None) -> str:
    """A length of stay as people say it: "45 days (6.4 weeks)"."""
    if days is None:
        return ""
    weeks = f"{days / 7:.1f}".rstrip("0").rstrip(".")
    return f"{days} day{'s' if days != 1 else ''} ({weeks} week{'s' if weeks != '1' else ''})"


def audit_list(request: HttpRequest, rows: list[ProvisionPlacement], detail: dict) -> None:
    """Audit a page of placements (after `with_pupils`), in one INSERT.

    A school's own staff get one row, as the register does. A provision's lead reads across
    schools, so each placement shown gets its own row, kept with its home school: that
    school's log then shows which of its pupils' placements the provision read."""
    named = sorted({p.pupil_id for p in rows if p.shown.pupil is not None})
    if getattr(request, "membership", None) is None or request.membership.role != Role.PROVISION_LEAD:
        audit(
            request,
            Action.LIST,
            object_type="interventions.provisionplacement",
            detail={**detail, "shown": len(rows), "pupils": named},
        )
        return
    audit_each(
        request,
        Action.LIST,
        rows,
        details=[{**detail, "pupil": p.pupil_id, "named": p.shown.pupil is not None} for p in rows],
    )
