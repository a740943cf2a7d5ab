"""Which membership is active for a request, and who needs two-factor."""

from __future__ import annotations

from django.http import HttpRequest

from schools.models import MULTI_SCHOOL_ROLES, Membership, Role, User
from schools.scopes import with_grants

SESSION_KEY = "active_membership_id"
HEADER = "HTTP_X_MEMBERSHIP_ID"


def memberships_of(user: User) -> list[Membership]:
    # The pupil grants each membership holds today come in the same query.
    return list(
        with_grants(Membership.objects.filter(user=user))
        .select_related(
            "school__local_authority",
            "provision__partnership__local_authority",
            "partnership__local_authority",
            "local_authority",
        )
        .order_by("id")
    )


def requires_two_factor(user: User, memberships: list[Membership] | None = None) -> bool:
    """Two-factor for staff, every multi-school role, and everyone in an LA that asks for it."""
    if user.is_staff or user.is_superuser:
        return True
    for m in memberships if memberships is not None else memberships_of(user):
        if Role(m.role) in MULTI_SCHOOL_ROLES:
            return True
        school = m.school
        if school is not None and school.local_authority.require_two_factor_for_all:
            return True
    return False


def choose_membership(request: HttpRequest, memberships: list[Membership]) -> Membership | None:
    """The header (API) wins, then the session's choice, then the first membership."""
    wanted = request.META.get(HEADER)
    if wanted is None and hasattr(request, "session"):
        wanted = request.session.get(SESSION_KEY)
    if wanted is not None:
        for m in memberships:
            if str(m.pk) == str(wanted):
                return m
        if request.META.get(HEADER) is not None:
            return None  # an explicit choice the user does not hold is refused
    return memberships[0] if memberships else None
