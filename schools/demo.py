"""The demo local authority: its organisation tree and one user per role.

Passwords and TOTP secrets derive from SECRET_KEY, so re-running the seed prints the same
credentials on one deployment and nobody can guess them from this source.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django_otp.plugins.otp_totp.models import TOTPDevice

from schools.memberships import requires_two_factor
from schools.models import (
    BehaviourProvision,
    LocalAuthority,
    Membership,
    Partnership,
    Role,
    School,
    StaffRole,
    TermDates,
    User,
)
from schools.terms import academic_year_of, typical_terms

# 909 was Cumbria's number until 2023: a real LA number (so demo UPNs validate) that no live LA uses.
LA = {"code": "909", "name": "Brookshire Council"}
PARTNERSHIPS = ["Brookshire North Partnership", "Brookshire South Partnership"]
# (URN, name, phase, key stages, partnership index)
SCHOOLS = [
    ("190001", "Hollybank Nursery School", School.Phase.NURSERY, "EYFS", 0),
    ("190002", "Ashgrove Primary School", School.Phase.PRIMARY, "EYFS,KS1,KS2", 0),
    ("190003", "Riverside Primary Academy", School.Phase.PRIMARY, "EYFS,KS1,KS2", 1),
    ("190004", "Kingsmead High School", School.Phase.SECONDARY, "KS3,KS4", 0),
    ("190005", "Oakfield All-Through Academy", School.Phase.ALL_THROUGH, "EYFS,KS1,KS2,KS3,KS4", 1),
    ("190006", "Meadowview Special School", School.Phase.SPECIAL, "KS1,KS2,KS3,KS4", 1),
]
PROVISION = {"name": "The Bridge", "host_urn": "190004", "partnership": 0, "places": 12}
# Hourly costs the LA sets (schools may override); typical 2026 figures with on-costs.
STAFF_RATES = {
    StaffRole.Kind.TEACHER: "48.00",
    StaffRole.Kind.TA: "19.50",
    StaffRole.Kind.HLTA: "23.00",
    StaffRole.Kind.LSA: "18.50",
    StaffRole.Kind.MENTOR: "21.00",
    StaffRole.Kind.SENCO: "52.00",
    StaffRole.Kind.EXTERNAL: "65.00",
}


SCOPE_FIELD = {
    School: "school",
    BehaviourProvision: "provision",
    Partnership: "partnership",
    LocalAuthority: "local_authority",
}


@dataclass
class DemoUser:
    username: str
    first_name: str
    last_name: str
    memberships: list[tuple[str, object]]  # (role, scope object or None)
    staff: bool = False


@dataclass
class DemoWorld:
    la: LocalAuthority
    partnerships: list[Partnership]
    schools: list[School]
    provision: BehaviourProvision


def _derived(purpose: str, username: str) -> bytes:
    return hmac.new(
        settings.SECRET_KEY.encode(), f"demo:{purpose}:{username}".encode(), hashlib.sha256
    ).digest()


def demo_password(username: str) -> str:
    raw = base64.b32encode(_derived("password", username)).decode().lower()
    return f"{raw[:5]}-{raw[5:10]}-{raw[10:15]}-{raw[15:20]}"


def seed_organisations() -> DemoWorld:
    la, _ = LocalAuthority.objects.update_or_create(code=LA["code"], defaults={"name": LA["name"]})
    partnerships = [Partnership.objects.get_or_create(local_authority=la, name=n)[0] for n in PARTNERSHIPS]
    schools = []
    for urn, name, phase, stages, p in SCHOOLS:
        school, _ = School.objects.update_or_create(
            urn=urn,
            defaults={
                "name": name,
                "phase": phase,
                "key_stages": stages,
                "local_authority": la,
                "partnership": partnerships[p],
            },
        )
        schools.append(school)
    host = next(s for s in schools if s.urn == PROVISION["host_urn"])
    provision, _ = BehaviourProvision.objects.update_or_create(
        name=PROVISION["name"],
        host_school=host,
        defaults={"partnership": partnerships[PROVISION["partnership"]], "places": PROVISION["places"]},
    )
    for kind, cost in STAFF_RATES.items():
        StaffRole.objects.update_or_create(
            local_authority=la, school=None, kind=kind, defaults={"hourly_cost": cost}
        )
    return DemoWorld(la=la, partnerships=partnerships, schools=schools, provision=provision)


def demo_users(world: DemoWorld) -> list[DemoUser]:
    ashgrove, kingsmead = world.schools[1], world.schools[3]
    north, south = world.partnerships
    return [
        DemoUser("senco", "Sam", "Patel", [(Role.SENCO, ashgrove)]),
        DemoUser("practitioner", "Priya", "Jones", [(Role.PRACTITIONER, ashgrove)]),
        DemoUser("headteacher", "Helen", "Okafor", [(Role.HEADTEACHER, ashgrove)]),
        DemoUser("provision-lead", "Marcus", "Reid", [(Role.PROVISION_LEAD, world.provision)]),
        DemoUser("partnership-lead", "Nadia", "Hussain", [(Role.PARTNERSHIP_LEAD, north)]),
        DemoUser("la-officer", "Owen", "Price", [(Role.LA_OFFICER, world.la)]),
        DemoUser("la-admin", "Alys", "Morgan", [(Role.LA_ADMIN, world.la)]),
        DemoUser("platform-admin", "Pat", "Quinn", [(Role.PLATFORM_ADMIN, None)], staff=True),
        # One person, two hats: a secondary SENCO who also leads the south partnership.
        DemoUser(
            "senco-and-lead", "Gwen", "Davies", [(Role.SENCO, kingsmead), (Role.PARTNERSHIP_LEAD, south)]
        ),
    ]


def seed_users(world: DemoWorld) -> list[dict]:
    rows = []
    for spec in demo_users(world):
        rows += seed_user(spec)
    return rows


def seed_user(spec: DemoUser) -> list[dict]:
    """Create or refresh one user with their memberships (and, where their roles need it, an
    enrolled authenticator); returns their sign-in details, one row per membership."""
    rows = []
    user, _ = User.objects.update_or_create(
        username=spec.username,
        defaults={
            "first_name": spec.first_name,
            "last_name": spec.last_name,
            "email": f"{spec.username}@demo.provisionmap.invalid",
            "is_staff": spec.staff,
            "is_active": True,
        },
    )
    password = demo_password(spec.username)
    if not user.check_password(password):
        user.set_password(password)
        user.save(update_fields=["password"])
    for role, obj in spec.memberships:
        field_name = SCOPE_FIELD.get(type(obj))
        Membership.objects.get_or_create(user=user, role=role, **({field_name: obj} if field_name else {}))
    totp_secret = None
    if requires_two_factor(user):
        key = _derived("totp", spec.username)[:20]
        TOTPDevice.objects.update_or_create(
            user=user, name="Demo authenticator", defaults={"key": key.hex(), "confirmed": True}
        )
        totp_secret = base64.b32encode(key).decode()
    for role, obj in spec.memberships:
        rows.append(
            {
                "role": str(role),
                "scope_type": SCOPE_FIELD.get(type(obj), "deployment"),
                "scope_id": obj.pk if obj is not None else None,
                "scope_name": obj.name if obj is not None else "Provision Map",
                "username": spec.username,
                "password": password,
                "totp_secret": totp_secret,
            }
        )
    return rows


def seed_term_dates(la: LocalAuthority, *, today: date | None = None) -> int:
    """A usual pattern of term dates for last, this and next school year, where the LA has
    none for a year; returns how many terms were added."""
    today = today or date.today()
    this_year = academic_year_of(today)
    known = set(TermDates.objects.filter(local_authority=la).values_list("academic_year", flat=True))
    rows = [
        TermDates(local_authority=la, academic_year=year, **term)
        for year in (this_year - 1, this_year, this_year + 1)
        if year not in known
        for term in typical_terms(year)
    ]
    TermDates.objects.bulk_create(rows)
    return len(rows)
