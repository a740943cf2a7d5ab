"""Reads of the library, catalogues, groups, enrolments and sessions, always through the scope.

The tenant manager keeps every query to the schools the scope reads. On top of that a
practitioner reaches only the groups they run (a GroupStaff row), and through them only
those groups' enrolments and sessions: `groups_for` is where that narrowing lives, and every
other read of groups, enrolments and sessions starts from it.

Each list costs a fixed number of queries: counts come as subqueries of the same query,
people and attendance as one prefetch each.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import (
    Case,
    Count,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from interventions.models import (
    Attendance,
    Enrolment,
    GroupStaff,
    InterventionGroup,
    LibraryProvision,
    Provision,
    Session,
    attendance_fraction,
)
from schools.models import SCHOOL_ROLES, Role, User
from schools.tenancy import TenantScope


def runs_groups_only(scope: TenantScope) -> bool:
    """A practitioner sees and records only the groups they run."""
    return scope.role == Role.PRACTITIONER


# --- the library and a school's catalogue ---------------------------------------------------


def library_for(scope: TenantScope, *, area: str = "") -> QuerySet[LibraryProvision]:
    """The library of the LA the scope reads (the manager keeps it to that LA)."""
    qs = LibraryProvision.objects.order_by("area_of_need", "step_number", "name")
    return qs.filter(area_of_need=area) if area else qs


def provision_catalogue(scope: TenantScope, *, active_only: bool = False) -> QuerySet[Provision]:
    """The school's catalogue, with how many groups each provision has run."""
    groups = (
        InterventionGroup.objects.filter(provision=OuterRef("pk"))
        .order_by()
        .values("provision")
        .annotate(n=Count("pk"))
        .values("n")
    )
    # The school's own: a pupil received by transfer opens the sending school's provisions
    # on their history, never in this school's catalogue.
    qs = (
        Provision.objects.filter(school_id__in=scope.read_school)
        .annotate(n_groups=Coalesce(Subquery(groups), 0))
        .order_by("area_of_need", "step_number", "name")
    )
    return qs.filter(is_active=True) if active_only else qs


def school_staff(school_id: int) -> QuerySet[User]:
    """People who may lead or run a group: holders of a school role at the school."""
    holders = User.objects.filter(
        memberships__school_id=school_id, memberships__role__in=[str(r) for r in SCHOOL_ROLES]
    ).values("pk")
    return User.objects.filter(pk__in=holders, is_active=True).order_by("last_name", "first_name", "pk")


# --- groups ---------------------------------------------------------------------------------


def _count(model, **match) -> Coalesce:
    """A per-group count as a subquery, so a list never multiplies rows or queries."""
    key = next(iter(match))
    sub = model.objects.filter(**match).order_by().values(key).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(sub, output_field=IntegerField()), 0)


def groups_for(scope: TenantScope) -> QuerySet[InterventionGroup]:
    """The groups the scope may open: the school's, or for a practitioner the ones they run
    (never the groups a transferred pupil was in at their last school: those show on the
    pupil's history only)."""
    qs = InterventionGroup.objects.filter(school_id__in=scope.read_school)
    if runs_groups_only(scope):
        qs = qs.filter(pk__in=GroupStaff.objects.filter(user_id=scope.user_id).values("group_id"))
    return qs


def group_list(
    scope: TenantScope,
    *,
    today: date,
    academic_year: int | None = None,
    term: str | None = None,
    provision_id: int | None = None,
    pupil_id: int | None = None,
) -> QuerySet[InterventionGroup]:
    """Groups for a list: current ones first, then those about to start, then past ones
    (latest first); with provision, lead, staff, pupil and session counts."""
    qs = groups_for(scope)
    if academic_year is not None:
        qs = qs.filter(academic_year=academic_year)
    if term is not None:
        qs = qs.filter(term=term)
    if provision_id is not None:
        qs = qs.filter(provision_id=provision_id)
    if pupil_id is not None:
        qs = qs.filter(pk__in=Enrolment.objects.filter(pupil_id=pupil_id).values("group_id"))
    return (
        qs.select_related("provision", "lead")
        .prefetch_related(Prefetch("staff_links", queryset=GroupStaff.objects.select_related("user")))
        .annotate(
            n_pupils=_count(Enrolment, group=OuterRef("pk")),
            n_sessions=_count(Session, group=OuterRef("pk")),
            state=Case(
                When(starts_on__lte=today, ends_on__gte=today, then=Value(0)),
                When(starts_on__gt=today, then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            ),
        )
        .order_by("state", "-starts_on", "name", "pk")
    )


def group_periods(scope: TenantScope) -> list[tuple[int, str]]:
    """The (academic year, term) pairs the scope's groups run in, newest first."""
    rows = groups_for(scope).order_by().values_list("academic_year", "term").distinct()
    order = {"autumn": 0, "spring": 1, "summer": 2, "": 3}
    return sorted(set(rows), key=lambda r: (-r[0], order.get(r[1], 9)))


def staff_names(group: InterventionGroup) -> list[str]:
    """Names of the group's staff, from the prefetch (no query)."""
    return [str(link.user) for link in group.staff_links.all()]


# --- enrolments and attendance --------------------------------------------------------------


def with_attendance(qs: QuerySet[Enrolment]) -> QuerySet[Enrolment]:
    """Enrolments with the sessions recorded for them and those they came to."""
    recorded = Attendance.objects.filter(enrolment=OuterRef("pk"))
    return qs.annotate(
        sessions_recorded=_count(Attendance, enrolment=OuterRef("pk")),
        sessions_attended=Coalesce(
            Subquery(
                recorded.filter(present=True)
                .order_by()
                .values("enrolment")
                .annotate(n=Count("pk"))
                .values("n"),
                output_field=IntegerField(),
            ),
            0,
        ),
    )


def attendance_rate(attended: int, recorded: int) -> Decimal | None:
    """Sessions attended as a percentage of the sessions recorded, to one decimal place;
    None before any session is recorded. The one formula every page and the API use."""
    fraction = attendance_fraction(attended, recorded)
    if fraction is None:
        return None
    return (fraction * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def enrolment_list(scope: TenantScope) -> QuerySet[Enrolment]:
    """Enrolments in the groups the scope may open, with attendance counts."""
    qs = Enrolment.objects.filter(group__in=groups_for(scope)).select_related("pupil", "group")
    return with_attendance(qs).order_by(
        "-group__starts_on", "group_id", "pupil__last_name", "pupil__first_name", "pk"
    )


def group_enrolments(group: InterventionGroup) -> QuerySet[Enrolment]:
    """The group's enrolments, pupils by name, with attendance counts: one query."""
    qs = Enrolment.objects.filter(group=group).select_related("pupil")
    return with_attendance(qs).order_by("pupil__last_name", "pupil__first_name", "pk")


def current_on(qs: QuerySet[Enrolment], day: date) -> QuerySet[Enrolment]:
    """Enrolments that had started by `day` and not yet ended."""
    return qs.filter(starts_on__lte=day).filter(Q(ends_on__isnull=True) | Q(ends_on__gte=day))


def enrolments_current_on(group: InterventionGroup, day: date) -> QuerySet[Enrolment]:
    return (
        current_on(Enrolment.objects.filter(group=group), day)
        .select_related("pupil")
        .order_by("pupil__last_name", "pupil__first_name", "pk")
    )


# --- sessions -------------------------------------------------------------------------------


def _with_attendance_rows(qs: QuerySet[Session]) -> QuerySet[Session]:
    return qs.select_related("recorded_by").prefetch_related(
        Prefetch(
            "attendance",
            queryset=Attendance.objects.select_related("enrolment__pupil").order_by(
                "enrolment__pupil__last_name", "enrolment__pupil__first_name", "pk"
            ),
        )
    )


def group_sessions(group: InterventionGroup) -> QuerySet[Session]:
    """The group's sessions, latest first, each with its attendance: two queries."""
    return _with_attendance_rows(Session.objects.filter(group=group)).order_by("-held_on", "-pk")


def session_list(scope: TenantScope) -> QuerySet[Session]:
    """Sessions of the groups the scope may open, with attendance, for the API."""
    return _with_attendance_rows(Session.objects.filter(group__in=groups_for(scope))).order_by(
        "-held_on", "-pk"
    )


# A practitioner keeps reading a group's pupils for a few weeks after it ends (to record the
# last sessions and results), then no longer.
PRACTITIONER_GRACE_DAYS = 28


def practitioner_pupil_ids(scope: TenantScope) -> QuerySet:
    """The pupils a practitioner may read: those currently enrolled (or enrolled until a few
    weeks ago) in groups they run that have not ended more than a few weeks ago."""
    since = timezone.localdate() - timedelta(days=PRACTITIONER_GRACE_DAYS)
    return (
        Enrolment.objects.filter(
            group__staff_links__user_id=scope.user_id,
            group__ends_on__gte=since,
        )
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=since))
        .values("pupil_id")
    )
