"""From a membership to the TenantScope it grants (DESIGN §2's table of roles)."""

from __future__ import annotations

from schools.models import BehaviourProvision, Membership, Role, School
from schools.tenancy import TenantScope


def scope_for_membership(membership: Membership) -> TenantScope:
    role = Role(membership.role)
    base = {"role": role.value, "membership_id": membership.pk, "user_id": membership.user_id}
    if role in (Role.SENCO, Role.HEADTEACHER):
        school = membership.school
        ids = frozenset({school.pk})
        hosted = frozenset()
        if role is Role.HEADTEACHER:
            # The headteacher of a school hosting a partnership's provision reads that
            # partnership's budget and signs for the host school (one query). Partnership
            # rows hold no pupil data; which changes a headteacher may make there is the
            # services' check (schools/budgets.py: approvals only).
            hosted = frozenset(
                BehaviourProvision.objects.filter(host_school_id=school.pk)
                .values_list("partnership_id", flat=True)
                .distinct()
            )
        return TenantScope(
            **base,
            read_school=ids,
            write_school=ids,
            home_school=ids,
            read_partnership=hosted,
            write_partnership=hosted,
            # The LA's own reference data (frameworks, rates) is read by its schools.
            read_local_authority=frozenset({school.local_authority_id}),
            pupil_level=True,
        )
    if role is Role.PRACTITIONER:
        school = membership.school
        ids = frozenset({school.pk})
        # The database lets a practitioner's transaction reach their school's rows (they
        # record sessions and attendance there); which pupils they see is narrowed to the
        # groups they run by the register's selector, which every pupil route goes through.
        return TenantScope(
            **base,
            read_school=ids,
            write_school=ids,
            home_school=ids,
            read_local_authority=frozenset({school.local_authority_id}),
            pupil_level=True,
        )
    if role is Role.PROVISION_LEAD:
        provision = membership.provision
        # Placed pupils (a later issue) widen this while a placement is current; the host
        # school's own pupils are not the provision's.
        return TenantScope(
            **base,
            home_school=frozenset({provision.host_school_id}),
            read_partnership=frozenset({provision.partnership_id}),
            read_local_authority=frozenset({provision.partnership.local_authority_id}),
            pupil_level=True,
        )
    if role is Role.PARTNERSHIP_LEAD:
        partnership = membership.partnership
        pid = frozenset({partnership.pk})
        return TenantScope(
            **base,
            count_school=frozenset(
                School.objects.filter(partnership=partnership).values_list("pk", flat=True)
            ),
            read_partnership=pid,
            write_partnership=pid,
            read_local_authority=frozenset({partnership.local_authority_id}),
        )
    if role is Role.LA_OFFICER:
        la_id = membership.local_authority_id
        return TenantScope(
            **base,
            count_school=frozenset(
                School.objects.filter(local_authority_id=la_id).values_list("pk", flat=True)
            ),
            read_partnership=frozenset(membership.local_authority.partnerships.values_list("pk", flat=True)),
            read_local_authority=frozenset({la_id}),
        )
    if role is Role.LA_ADMIN:
        la = frozenset({membership.local_authority_id})
        return TenantScope(**base, read_local_authority=la, write_local_authority=la)
    # The platform administrator sees no tenant data; break-glass grants come later.
    return TenantScope(**base)
