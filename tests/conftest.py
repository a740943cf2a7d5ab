"""Fixtures: two local authorities, each a small world, so every test has an outsider."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY

from pupils.models import Pupil
from schools.memberships import requires_two_factor
from schools.models import BehaviourProvision, LocalAuthority, Membership, Partnership, Role, School, User
from schools.tenancy import TenantScope, tenant_scope
from tests.factories import (
    LocalAuthorityFactory,
    MembershipFactory,
    PartnershipFactory,
    ProvisionFactory,
    PupilFactory,
    SchoolFactory,
    UserFactory,
    give_totp,
)


@dataclass
class Tenant:
    """One LA: a partnership of two schools (A and its sibling) with a provision, a neighbouring
    partnership with one school, pupils in each school, and one member of staff per role."""

    la: LocalAuthority
    partnership: Partnership
    school: School
    sibling: School
    provision: BehaviourProvision
    pupils: list[Pupil]
    sibling_pupils: list[Pupil]
    neighbour: School | None = None
    neighbour_pupils: list[Pupil] = field(default_factory=list)
    users: dict[str, User] = field(default_factory=dict)
    memberships: dict[str, Membership] = field(default_factory=dict)
    marker: str = ""

    def pupil_names(self) -> list[str]:
        return [p.last_name for p in self.pupils + self.sibling_pupils + self.neighbour_pupils]


def build_tenant(code: str, marker: str) -> Tenant:
    la = LocalAuthorityFactory(code=code, name=f"{marker} Council")
    partnership = PartnershipFactory(local_authority=la, name=f"{marker} Partnership")
    school = SchoolFactory(local_authority=la, partnership=partnership, name=f"{marker} Primary")
    sibling = SchoolFactory(
        local_authority=la, partnership=partnership, name=f"{marker} High", phase=School.Phase.SECONDARY
    )
    provision = ProvisionFactory(host_school=sibling, partnership=partnership, name=f"{marker} Bridge")
    pupils = [PupilFactory(school=school, last_name=f"{marker}Pupil{i}") for i in range(3)]
    sibling_pupils = [PupilFactory(school=sibling, last_name=f"{marker}Sibling{i}") for i in range(2)]
    t = Tenant(la, partnership, school, sibling, provision, pupils, sibling_pupils, marker=marker)
    other_partnership = PartnershipFactory(local_authority=la, name=f"{marker} East Partnership")
    t.neighbour = SchoolFactory(
        local_authority=la, partnership=other_partnership, name=f"{marker} Neighbour Academy"
    )
    t.neighbour_pupils = [
        PupilFactory(school=t.neighbour, last_name=f"{marker}Neighbour{i}") for i in range(2)
    ]
    scope_objects = {
        Role.SENCO: {"school": school},
        Role.PRACTITIONER: {"school": school},
        Role.HEADTEACHER: {"school": school},
        Role.PROVISION_LEAD: {"provision": provision},
        Role.PARTNERSHIP_LEAD: {"partnership": partnership},
        Role.LA_OFFICER: {"local_authority": la},
        Role.LA_ADMIN: {"local_authority": la},
        Role.PLATFORM_ADMIN: {},
    }
    for role, scope in scope_objects.items():
        user = UserFactory(username=f"{marker.lower()}-{role.value}", is_staff=role is Role.PLATFORM_ADMIN)
        t.memberships[role.value] = MembershipFactory(user=user, role=role, **scope)
        t.users[role.value] = user
        if requires_two_factor(user):
            give_totp(user)
    return t


@pytest.fixture
def tenant(db) -> Tenant:
    return build_tenant("909", "Alpha")


@pytest.fixture
def other(db) -> Tenant:
    return build_tenant("938", "Zulu")


@pytest.fixture(autouse=True)
def _clear_cache():
    """Lockout counters live in Redis: each test starts without them."""
    cache.clear()
    yield


def sign_in(client: Client, user: User, membership: Membership | None = None) -> Client:
    """Signed in as the app would leave them: past two-factor where their role needs it."""
    client.force_login(user)
    session = client.session
    device = user.totpdevice_set.filter(confirmed=True).first()
    if device is not None:
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    if membership is not None:
        session["active_membership_id"] = membership.pk
    session.save()
    return client


@pytest.fixture
def as_school():
    """Read or write one school's rows in a test, through the same scope the app uses."""

    def enter(school: School):
        return _scoped(TenantScope.for_school(school.pk))

    return enter


class _scoped:
    def __init__(self, scope: TenantScope) -> None:
        self.scope = scope

    def __enter__(self):
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        self.ctx = tenant_scope(self.scope)
        return self.ctx.__enter__()

    def __exit__(self, *exc):
        self.ctx.__exit__(*exc)
        return self.atomic.__exit__(*exc)
