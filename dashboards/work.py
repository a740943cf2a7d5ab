"""The lists on a dashboard that name pupils: today's work for a SENCO, and the placements
and referrals a provision lead acts on. They sit beside the shared figures and never go
into a report or the figures API; each list shows a few rows and says how many there are,
with a link to the full page. Every list is one query (its count a window over the same
rows), whatever the data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count, Exists, F, Max, OuterRef, Q, Window
from django.http import HttpRequest

from graduated_response.models import SupportPlan
from graduated_response.selectors import reviews_due
from interventions.models import ProvisionPlacement
from interventions.selectors import groups_for
from interventions.selectors_placements import audit_list, placement_list, with_pupils
from pupils.selectors import RegisterFilters, pupil_register
from schools.audit import Action, audit
from schools.models import School
from schools.selectors import audit_events_for
from schools.tenancy import TenantScope

SHOWN = 8  # rows of each list on the dashboard
# A group running now with no session recorded for this many days has sessions to record.
SESSION_GAP_DAYS = 7
STEP_NEEDING_PLAN = 2


@dataclass
class Listing:
    rows: list
    total: int

    @property
    def more(self) -> int:
        return self.total - len(self.rows)


def _listing(qs, **windows) -> Listing:
    """The first rows of `qs`, with its full count (and any `windows`, counts over the same
    rows, set on the Listing as attributes) in the same query."""
    rows = list(qs.annotate(listed=Window(Count("pk")), **windows)[:SHOWN])
    listing = Listing(rows, rows[0].listed if rows else 0)
    for name in windows:
        setattr(listing, name, getattr(rows[0], name) if rows else 0)
    return listing


def senco_work(request: HttpRequest, scope: TenantScope, school: School, today: date) -> dict:
    """Reviews due and overdue, groups with sessions to record, pupils at step 2 or above
    without an open plan, and the last imports (five queries and one audit row)."""
    register = pupil_register(scope, RegisterFilters()).filter(school_id=school.pk)
    reviews = _listing(
        reviews_due(scope, today=today, within_days=14).filter(school_id=school.pk),
        overdue=Window(Count("pk", filter=Q(review_due__lt=today))),
    )
    for plan in reviews.rows:
        plan.days_overdue = (today - plan.review_due).days

    groups = groups_to_record(scope, today, school_id=school.pk)

    open_plan = SupportPlan.objects.filter(pupil=OuterRef("pk"), status=SupportPlan.Status.OPEN)
    without_plan = _listing(
        register.filter(current_step_number__gte=STEP_NEEDING_PLAN)
        .exclude(Exists(open_plan))
        .order_by("-current_step_number", "last_name", "first_name", "pk")
    )
    imports = list(
        audit_events_for(scope)
        .filter(school_id=school.pk, object_type="pupils.import", action=Action.CREATE)
        .order_by("-at", "-id")[:3]
    )
    named = sorted({p.pupil_id for p in reviews.rows} | {p.pk for p in without_plan.rows})
    audit(
        request,
        Action.LIST,
        object_type="pupils.pupil",
        school_id=school.pk,
        detail={"page": "dashboard", "shown": len(named), "pupils": named},
    )
    return {
        "reviews": reviews,
        "groups": groups,
        "gap_days": SESSION_GAP_DAYS,
        "without_plan": without_plan,
        "from_step": STEP_NEEDING_PLAN,
        "imports": imports,
    }


def provision_work(request: HttpRequest, scope: TenantScope, provision_id: int) -> dict:
    """The provision's placements now and the referrals waiting for a start (two lists of
    the placements page's own selector; names where the provision may read them)."""
    Status = ProvisionPlacement.Status
    placements = placement_list(scope, provision_id=provision_id)
    now = _listing(placements.filter(status=Status.ACTIVE).order_by("starts_on", "pk"))
    waiting = _listing(placements.filter(status=Status.REFERRED).order_by("referred_on", "pk"))
    with_pupils([*now.rows, *waiting.rows])
    audit_list(request, [*now.rows, *waiting.rows], {"page": "dashboard"})
    return {"placements": now, "referrals": waiting}


def groups_to_record(scope: TenantScope, today: date, school_id: int | None = None) -> Listing:
    """Groups running now with no session recorded lately (one query): the school's, or a
    practitioner's own."""
    gap_from = today - timedelta(days=SESSION_GAP_DAYS)
    groups = groups_for(scope)
    if school_id is not None:
        groups = groups.filter(school_id=school_id)
    return _listing(
        groups.filter(starts_on__lte=today, ends_on__gte=today)
        .annotate(last_session=Max("sessions__held_on"))
        .filter(Q(last_session__isnull=True) | Q(last_session__lt=gap_from))
        .order_by(F("last_session").asc(nulls_first=True), "name", "pk")
    )
