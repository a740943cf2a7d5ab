"""Demo pupils: a few hundred per school, with SEN shares and needs in the proportions
England's census shows (about 13–14% on SEN support and 4–5% with an EHC plan in
mainstream schools; most pupils of a special school have a plan), plus register history,
one-page profiles, a term's outcomes and some assessment scores. Names are made up."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from stdnum.gb import upn as upn_check

from pupils.codes import Ethnicity, Measure, Need, SenStatus, Term
from pupils.models import AssessmentScore, OnePageProfile, OutcomeRecord, Pupil, SenStatusChange
from schools.models import School
from schools.tenancy import TenantScope, tenant_scope

FIRST = {
    "F": [
        "Amara",
        "Chloe",
        "Ella",
        "Grace",
        "Isla",
        "Layla",
        "Nia",
        "Poppy",
        "Sofia",
        "Zara",
        "Maya",
        "Ruby",
        "Aisha",
        "Freya",
        "Hana",
        "Ivy",
        "Lily",
        "Mia",
        "Olivia",
        "Zuzanna",
    ],
    "M": [
        "Ben",
        "Dylan",
        "Finn",
        "Harvey",
        "Jayden",
        "Kacper",
        "Mason",
        "Oscar",
        "Rhys",
        "Tyler",
        "Aiden",
        "Leo",
        "Arlo",
        "Ibrahim",
        "Jack",
        "Noah",
        "Reuben",
        "Theo",
        "Yusuf",
        "Elijah",
    ],
}
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
    "Begum",
    "Campbell",
    "Davies",
    "Edwards",
    "Hussain",
    "Khan",
    "Morris",
    "Okoro",
    "Patel",
    "Roberts",
]
# Weights of primary need among pupils on SEN support and with EHC plans (census shape).
NEEDS_SUPPORT = {
    Need.SLCN: 25,
    Need.SEMH: 21,
    Need.MLD: 15,
    Need.SPLD: 13,
    Need.ASD: 10,
    Need.OTH: 4,
    Need.NSA: 4,
    Need.PD: 3,
    Need.HI: 2,
    Need.VI: 1,
    Need.SLD: 1,
    Need.MSI: 1,
}
NEEDS_PLAN = {
    Need.ASD: 33,
    Need.SLCN: 21,
    Need.SEMH: 14,
    Need.SLD: 8,
    Need.MLD: 7,
    Need.PD: 4,
    Need.SPLD: 3,
    Need.PMLD: 2,
    Need.HI: 2,
    Need.OTH: 2,
    Need.VI: 1,
    Need.MSI: 1,
}
ETHNICITY = {
    Ethnicity.WBRI: 64,
    Ethnicity.WOTH: 7,
    Ethnicity.APKN: 5,
    Ethnicity.AIND: 3,
    Ethnicity.BAFR: 4,
    Ethnicity.ABAN: 2,
    Ethnicity.MWBC: 2,
    Ethnicity.MWAS: 2,
    Ethnicity.MOTH: 3,
    Ethnicity.AOTH: 2,
    Ethnicity.BCRB: 1,
    Ethnicity.CHNE: 1,
    Ethnicity.WIRI: 1,
    Ethnicity.WROM: 1,
    Ethnicity.OOTH: 1,
    Ethnicity.NOBT: 1,
}
# Pupils on roll and NC years by phase.
ROLL = {
    School.Phase.NURSERY: (80, [-2, -1]),
    School.Phase.PRIMARY: (315, [0, 1, 2, 3, 4, 5, 6]),
    School.Phase.SECONDARY: (450, [7, 8, 9, 10, 11]),
    School.Phase.ALL_THROUGH: (420, list(range(0, 12))),
    School.Phase.SPECIAL: (120, list(range(1, 12))),
}
PROFILE_LINES = {
    "strengths": [
        "Kind to younger pupils",
        "Loves building things",
        "Great sense of humour",
        "Works hard in PE",
    ],
    "what_helps": [
        "A quiet space to calm down",
        "Instructions broken into steps",
        "A visual timetable",
        "Knowing about changes in advance",
    ],
    "what_does_not_help": ["Being rushed", "Loud, crowded corridors", "Being told off in front of others"],
    "pupil_voice": ["I like it when my teacher checks in with me", "I want to get better at reading"],
    "parent_voice": ["Mornings are hard at home", "He is proud when his work goes on the wall"],
}


DEMO_UPN_YEAR = 2024


def make_upn(la_code: str, establishment: str, year: int, serial: int) -> str:
    body = f"{la_code}{establishment}{year % 100:02d}{serial:03d}"
    return upn_check.calc_check_digit(body) + body


def birth_date_for(nc_year: int, rng: random.Random, today: date) -> date:
    # A pupil in NC year Y turns Y+5 during the academic year starting each September.
    start = today.year if today.month >= 9 else today.year - 1
    born_year = start - (nc_year + 5)
    month = rng.randint(1, 12)
    return date(born_year if month >= 9 else born_year + 1, month, rng.randint(1, 28))


def _pick(rng: random.Random, weights: dict) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _pupil(school: School, serial: int, years: list[int], rng: random.Random, today: date) -> Pupil:
    gender = rng.choice("FM")
    nc_year = rng.choice(years)
    special = school.phase == School.Phase.SPECIAL
    roll = rng.random()
    if special:
        status = SenStatus.EHC_PLAN if roll < 0.97 else SenStatus.SEN_SUPPORT
    else:
        status = (
            SenStatus.EHC_PLAN if roll < 0.047 else SenStatus.SEN_SUPPORT if roll < 0.182 else SenStatus.NONE
        )
    primary = secondary = ""
    if status != SenStatus.NONE:
        primary = _pick(rng, NEEDS_PLAN if status == SenStatus.EHC_PLAN else NEEDS_SUPPORT)
        if rng.random() < 0.3:
            secondary = _pick(rng, NEEDS_SUPPORT)
            secondary = "" if secondary in (primary, Need.NSA) else secondary
    fsm = rng.random() < (0.38 if status != SenStatus.NONE else 0.23)
    # Serials run 001–999 per issue year; UPNs stay unique within the school.
    # A fixed issue year keeps the UPNs, and so re-runs of the seed, the same every year.
    upn = make_upn(
        school.local_authority.code, school.urn[-4:], DEMO_UPN_YEAR - serial // 1000, serial % 1000
    )
    return Pupil(
        school=school,
        upn=upn,
        first_name=rng.choice(FIRST[gender]),
        last_name=rng.choice(LAST),
        date_of_birth=birth_date_for(nc_year, rng, today),
        gender=gender,
        nc_year=nc_year,
        ethnicity=_pick(rng, ETHNICITY),
        fsm=fsm,
        pupil_premium=fsm or rng.random() < 0.04,
        eal=rng.random() < 0.2,
        looked_after=rng.random() < 0.012,
        sen_status=status,
        primary_need=primary,
        secondary_need=secondary,
    )


def seed_pupils(schools: list[School], *, today: date | None = None) -> int:
    """Create each school's demo pupils once; re-running adds nothing."""
    today = today or date.today()
    made = 0
    # UPNs on any demo school's roll: a pupil the demo transferred (seed_transfers) keeps
    # their UPN at their new school, and is not made again at the old one.
    with transaction.atomic(), tenant_scope(TenantScope.system(schools=[s.pk for s in schools])):
        existing = set(Pupil.objects.values_list("upn", flat=True))
    for school in schools:
        size, years = ROLL.get(school.phase, (300, [7, 8, 9]))
        rng = random.Random(f"demo-pupils-{school.urn}")  # noqa: S311 - repeatable demo data, not secrets
        wanted = [_pupil(school, serial, years, rng, today) for serial in range(1, size + 1)]
        with transaction.atomic(), tenant_scope(TenantScope.for_school(school.pk)):
            new = Pupil.objects.bulk_create([p for p in wanted if p.upn not in existing])
            _history(school, new, rng, today)
            made += len(new)
    return made


def _history(school: School, pupils: list[Pupil], rng: random.Random, today: date) -> None:
    """Register entries, profiles, last term's outcomes and scores for the pupils with SEN."""
    sen = [p for p in pupils if p.sen_status != SenStatus.NONE]
    entries, profiles, outcomes, scores = [], [], [], []
    year = today.year if today.month >= 9 else today.year - 1
    for p in sen:
        identified = today - timedelta(days=rng.randint(60, 900))
        entries.append(
            SenStatusChange(
                school=school,
                pupil=p,
                status=SenStatus.SEN_SUPPORT,
                primary_need=p.primary_need if p.sen_status == SenStatus.SEN_SUPPORT else Need.NSA,
                start_date=identified,
                source="import",
            )
        )
        if p.sen_status == SenStatus.EHC_PLAN:
            entries.append(
                SenStatusChange(
                    school=school,
                    pupil=p,
                    status=p.sen_status,
                    primary_need=p.primary_need,
                    secondary_need=p.secondary_need,
                    source="import",
                    start_date=identified + timedelta(days=rng.randint(20, 50)),
                )
            )
        if rng.random() < 0.6:
            profiles.append(
                OnePageProfile(
                    school=school,
                    pupil=p,
                    **{field: rng.choice(lines) for field, lines in PROFILE_LINES.items()},
                )
            )
        attendance = Decimal(str(round(min(100, rng.gauss(89 if p.primary_need == Need.SEMH else 93, 5)), 1)))
        suspensions = (
            rng.choices([0, 1, 2, 3], weights=[80, 12, 5, 3])[0] if p.primary_need == Need.SEMH else 0
        )
        outcomes.append(
            OutcomeRecord(
                school=school,
                pupil=p,
                academic_year=year - 1,
                term=Term.SUMMER,
                attendance_pct=max(Decimal(40), attendance),
                suspensions=suspensions,
                suspension_days=Decimal(suspensions * rng.choice([1, 1, 2, 3])),
            )
        )
        if p.primary_need == Need.SEMH:
            scores.append(
                AssessmentScore(
                    school=school,
                    pupil=p,
                    measure=Measure.SDQ_TOTAL,
                    assessed_on=identified,
                    score=rng.randint(14, 30),
                )
            )
        if p.primary_need in (Need.SPLD, Need.MLD) and p.nc_year >= 2:
            lag = rng.randint(6, 30)
            scores.append(
                AssessmentScore(
                    school=school,
                    pupil=p,
                    measure=Measure.READING_AGE,
                    assessed_on=identified,
                    score=(p.nc_year + 5) * 12 - lag,
                )
            )
    SenStatusChange.objects.bulk_create(entries)
    OnePageProfile.objects.bulk_create(profiles)
    OutcomeRecord.objects.bulk_create(outcomes)
    AssessmentScore.objects.bulk_create(scores)
