"""Reads for the organisation tree, always taking the scope."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from schools.models import AuditEvent, BehaviourProvision, School, TermDates
from schools.tenancy import TenantScope
from schools.terms import SchoolCalendar


def schools_for(scope: TenantScope) -> QuerySet[School]:
    """Schools the scope may see as organisations (not their pupils)."""
    return (
        School.objects.filter(
            # A school's own staff see it, roles over many schools see those they count,
            # and the LA administrator manages the LA's schools.
            Q(pk__in=scope.read_school | scope.count_school | scope.home_school)
            | Q(local_authority_id__in=scope.write_local_authority)
        )
        .select_related("local_authority", "partnership")
        .order_by("name")
    )


def provisions_for(scope: TenantScope) -> QuerySet[BehaviourProvision]:
    return BehaviourProvision.objects.filter(
        Q(host_school_id__in=scope.read_school | scope.home_school)
        | Q(partnership_id__in=scope.read_partnership)
        | Q(partnership__local_authority_id__in=scope.write_local_authority)
    ).select_related("host_school", "partnership")


def audit_events_for(scope: TenantScope, *, action: str = "") -> QuerySet[AuditEvent]:
    """The school's audit log (the manager already limits it to the scope's schools)."""
    qs = AuditEvent.objects.select_related("user").order_by("-at", "-id")
    if action:
        qs = qs.filter(action=action)
    return qs


def school_calendar(local_authority_id: int) -> SchoolCalendar:
    """The LA's school days, from the term dates it has entered (one query)."""
    spans = [t.span() for t in TermDates.objects.filter(local_authority_id=local_authority_id)]
    return SchoolCalendar(spans)
