"""Reads of pupils, always through the scope (the tenant manager filters by school)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import F, FilteredRelation, Q, QuerySet

from pupils.codes import in_area
from pupils.models import Pupil
from schools.access import get_named_in_body_or_400
from schools.models import Role
from schools.tenancy import TenantScope, require_scope

# Sort keys a user may choose, and the ordering each means.
SORTS = {
    "name": ("last_name", "first_name", "id"),
    "-name": ("-last_name", "-first_name", "-id"),
    "year": ("nc_year", "last_name", "first_name", "id"),
    "-year": ("-nc_year", "last_name", "first_name", "id"),
    "sen": ("sen_status", "last_name", "first_name", "id"),
    "need": ("primary_need", "last_name", "first_name", "id"),
    "upn": ("upn", "id"),
}


@dataclass(frozen=True)
class RegisterFilters:
    """What the register may be filtered by; every field optional."""

    search: str = ""
    year: int | None = None
    sen_status: str = ""
    need: str = ""
    area: str = ""
    fsm: bool | None = None
    pupil_premium: bool | None = None
    looked_after: bool | None = None
    include_leavers: bool = False
    step: int | None = None  # the number of the pupil's current step on the graduated response
    sort: str = "name"


def pupil_list(scope: TenantScope, *, search: str = "", include_leavers: bool = False) -> QuerySet[Pupil]:
    return pupil_register(scope, RegisterFilters(search=search, include_leavers=include_leavers))


# Set by the interventions app: given a practitioner's scope, a query of the pupil ids they
# may read. None (no app registered) means none.
practitioner_pupils: Callable[[TenantScope], QuerySet] | None = None


def register_practitioner_pupils(source: Callable[[TenantScope], QuerySet]) -> None:
    global practitioner_pupils
    practitioner_pupils = source


def pupil_register(scope: TenantScope, filters: RegisterFilters) -> QuerySet[Pupil]:
    """The SEN register as the scope may see it, filtered and sorted."""
    # The current step comes through the reverse relation of graduated_response's placements
    # (that app builds on this one, so no import): at most one active placement per pupil, a
    # database constraint, so the join never repeats a pupil and costs no extra query.
    qs = Pupil.objects.annotate(
        current_placement=FilteredRelation("step_placements", condition=Q(step_placements__status="active")),
        current_step_number=F("current_placement__step__number"),
    )
    # The register lists the pupils the scope holds: its school's own, and pupils whose whole
    # record a grant opens (a current placement in a behaviour provision). A pupil sent on to
    # another school is readable here by name alone, beside what this school recorded, and
    # is not on the register (pupils/transfers.py lists them).
    qs = qs.filter(Q(school_id__in=scope.read_school) | Q(pk__in=scope.read_pupil))
    if scope.role == Role.PRACTITIONER:
        # Practitioners read only the pupils of the groups they run now; which those are is
        # the interventions app's to say (it builds on this one), through the hook below.
        qs = qs.filter(pk__in=practitioner_pupils(scope)) if practitioner_pupils else qs.none()
    if not filters.include_leavers:
        qs = qs.filter(is_active=True)
    search = filters.search.strip()
    if search:
        qs = qs.filter(
            Q(upn__iexact=search)
            | Q(last_name__icontains=search)
            | Q(first_name__icontains=search)
            | Q(preferred_name__icontains=search)
        )
    if filters.year is not None:
        qs = qs.filter(nc_year=filters.year)
    if filters.sen_status:
        qs = qs.filter(sen_status=filters.sen_status)
    if filters.need:
        qs = qs.filter(Q(primary_need=filters.need) | Q(secondary_need=filters.need))
    if filters.area:
        qs = qs.filter(in_area(filters.area))
    if filters.step is not None:
        qs = qs.filter(current_placement__step__number=filters.step)
    for name in ("fsm", "pupil_premium", "looked_after"):
        value = getattr(filters, name)
        if value is not None:
            qs = qs.filter(**{name: value})
    return qs.order_by(*SORTS.get(filters.sort, SORTS["name"]))


def pupil_history(pupil: Pupil):
    return pupil.sen_history.select_related("recorded_by").order_by("-start_date", "-id")


def pupil_named_in_body(request, pk: object) -> Pupil:
    """A pupil a request body names by id: one the register shows the scope (leavers too),
    else a 400 that says nothing of whether the id exists elsewhere (schools.access)."""
    return get_named_in_body_or_400(
        request,
        pupil_list(require_scope(), include_leavers=True),
        pk,
        field="pupil",
        message="No pupil with this id is on your school's record.",
    )
