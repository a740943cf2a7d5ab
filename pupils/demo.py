"""Demo pupils for each demo school: fictional names, valid UPNs, ages that fit the phase."""

from __future__ import annotations

import random
from datetime import date

from django.db import transaction
from stdnum.gb import upn as upn_check

from pupils.models import Pupil
from schools.models import School
from schools.tenancy import TenantScope, tenant_scope

FIRST = [
    "Amara",
    "Ben",
    "Chloe",
    "Dylan",
    "Ella",
    "Finn",
    "Grace",
    "Harvey",
    "Isla",
    "Jayden",
    "Kacper",
    "Layla",
    "Mason",
    "Nia",
    "Oscar",
    "Poppy",
    "Rhys",
    "Sofia",
    "Tyler",
    "Zara",
    "Aiden",
    "Maya",
    "Leo",
    "Ruby",
]
LAST = [
    "Ahmed",
    "Brown",
    "Clarke",
    "Dobson",
    "Evans",
    "Fletcher",
    "Green",
    "Hughes",
    "Iqbal",
    "Johnson",
    "Kowalski",
    "Lewis",
    "Mensah",
    "Nowak",
    "O'Brien",
    "Parker",
    "Rahman",
    "Smith",
    "Taylor",
    "Walker",
    "Williams",
    "Young",
]
YEARS_BY_PHASE = {
    School.Phase.NURSERY: [-1, -1, 0],
    School.Phase.PRIMARY: [0, 1, 2, 3, 4, 5, 6],
    School.Phase.SECONDARY: [7, 8, 9, 10, 11],
    School.Phase.ALL_THROUGH: [1, 3, 5, 7, 9, 11],
    School.Phase.SPECIAL: [2, 4, 6, 8, 10],
}
PUPILS_PER_SCHOOL = 12


def make_upn(la_code: str, establishment: str, year: int, serial: int) -> str:
    body = f"{la_code}{establishment}{year % 100:02d}{serial:03d}"
    return upn_check.calc_check_digit(body) + body


def birth_date_for(nc_year: int, rng: random.Random, today: date) -> date:
    # A pupil in NC year Y turns Y+5 during the academic year starting each September.
    start = today.year if today.month >= 9 else today.year - 1
    born_year = start - (nc_year + 5)
    month = rng.randint(1, 12)
    return date(born_year if month >= 9 else born_year + 1, month, rng.randint(1, 28))


def seed_pupils(schools: list[School], *, today: date | None = None) -> int:
    today = today or date.today()
    made = 0
    for school in schools:
        rng = random.Random(f"demo-pupils-{school.urn}")  # noqa: S311 - repeatable demo data, not secrets
        years = YEARS_BY_PHASE.get(school.phase, [7, 8, 9])
        with (
            transaction.atomic(),
            tenant_scope(TenantScope.for_school(school.pk, la_id=school.local_authority_id)),
        ):
            for serial in range(1, PUPILS_PER_SCHOOL + 1):
                nc_year = years[(serial - 1) % len(years)]
                upn = make_upn(school.local_authority.code, school.urn[-4:], today.year, serial)
                _, created = Pupil.objects.update_or_create(
                    upn=upn,
                    defaults={
                        "first_name": rng.choice(FIRST),
                        "last_name": rng.choice(LAST),
                        "date_of_birth": birth_date_for(nc_year, rng, today),
                        "nc_year": nc_year,
                        "school": school,
                    },
                )
                made += created
    return made
