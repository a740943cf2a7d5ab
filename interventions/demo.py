"""Demo interventions: the LA's library, a catalogue per school, last term's groups with their
exit results (so impact figures exist) and this term's groups with sessions so far.

Idempotent: the library and catalogues only gain what they lack, and a school that already
has groups gets no more. Pupils come from those on step 2 or above; staff from the school's
memberships, the demo practitioner running at least two of this term's groups. Everything
is written with a few bulk INSERTs per school.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction

from interventions.library import library_load_for_la
from interventions.models import (
    Attendance,
    Enrolment,
    GroupStaff,
    InterventionGroup,
    LibraryProvision,
    Provision,
    Session,
)
from interventions.services import PROVISION_FIELDS, default_group_name
from pupils.codes import Measure
from pupils.models import Pupil
from schools.models import SCHOOL_ROLES, LocalAuthority, Membership, Role, School, TermDates
from schools.selectors import school_calendar
from schools.tenancy import TenantScope, tenant_scope
from schools.terms import SchoolCalendar, Term, academic_year_of, typical_terms

# The demo catalogue: SEMH-heavy, as the demo pupils' needs are; first those run this term.
CATALOGUE = [
    "Social skills group",
    "Key adult mentoring",
    "Emotional literacy group",
    "Structured break and lunchtime club",
    "1:1 behaviour programme (anger management)",
    "Nurture group",
    "Targeted reading group",
    "Speech and language group",
]
CURRENT = CATALOGUE[:5]
PREVIOUS = [
    "Social skills group",
    "Emotional literacy group",
    "Targeted reading group",
    "Key adult mentoring",
]
ATTENDANCE = 0.85
# Weekdays sessions fall on, by sessions a week (Monday is 0).
DAYS = {1: [1], 2: [1, 3], 3: [0, 2, 4], 4: [0, 1, 2, 3], 5: [0, 1, 2, 3, 4]}
DAY_NAMES = ["Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays"]


@dataclass(frozen=True)
class Period:
    academic_year: int
    term: str
    starts_on: date
    ends_on: date


def _terms(la: LocalAuthority, today: date) -> tuple[Period, Period]:
    """This term (the one running, or the last to have started) and the one before it."""
    rows = [
        Period(t.academic_year, t.term, t.starts_on, t.ends_on)
        for t in TermDates.objects.filter(local_authority=la).order_by("starts_on")
    ]
    if not rows:
        year = academic_year_of(today)
        rows = [
            Period(y, t["term"], t["starts_on"], t["ends_on"])
            for y in (year - 1, year)
            for t in typical_terms(y)
        ]
    started = [p for p in rows if p.starts_on <= today] or rows[:1]
    current = started[-1]
    before = [p for p in rows if p.ends_on < current.starts_on]
    previous = (
        before[-1]
        if before
        else Period(current.academic_year, Term.SUMMER, current.starts_on, current.starts_on)
    )
    return current, previous


def _weeks(calendar: SchoolCalendar, period: Period, cap: Decimal) -> Decimal:
    days = calendar.school_days_between(period.starts_on - timedelta(days=1), period.ends_on)
    return max(Decimal("0.5"), min(cap, (Decimal(days) / 5).quantize(Decimal("0.1"))))


def _session_days(calendar: SchoolCalendar, starts_on: date, last: date, per_week: Decimal) -> list[date]:
    weekdays = DAYS.get(min(5, max(1, int(per_week))), [1])
    days, day = [], starts_on
    while day <= last:
        if day.weekday() in weekdays and calendar.is_school_day(day):
            days.append(day)
        day += timedelta(days=1)
    return days


def _entry(provision: Provision, rng: random.Random) -> Decimal | None:
    if provision.measure == Measure.SDQ_TOTAL:
        return Decimal(rng.randint(14, 28))
    if provision.measure == Measure.BOXALL_DEV:
        return Decimal(rng.randint(20, 60))
    if provision.measure == Measure.READING_AGE:
        return Decimal(rng.randint(78, 118))
    if provision.measure:
        return Decimal(rng.randint(10, 40))
    return None


def _exit(
    provision: Provision, entry: Decimal | None, rng: random.Random
) -> tuple[Decimal | None, int | None]:
    """Most pupils improve a little, a few stand still or slip: (exit score, outcome rating)."""
    if entry is None:
        return None, rng.choices([-1, 0, 1, 2], weights=[1, 2, 4, 2])[0]
    change = Decimal(rng.choices([-2, 0, 2, 4, 6, 9], weights=[1, 2, 3, 3, 2, 1])[0])
    return (entry - change if not provision.higher_is_better else entry + change), None


def _catalogue(school: School, library: dict[str, LibraryProvision]) -> dict[str, Provision]:
    have = {p.name: p for p in Provision.objects.all()}
    new = [
        Provision(
            school=school,
            library_item=library[name],
            **{f: getattr(library[name], f) for f in PROVISION_FIELDS},
        )
        for name in CATALOGUE
        if name not in have and name in library
    ]
    Provision.objects.bulk_create(new)
    have.update({p.name: p for p in new})
    return have


def _school_staff(school: School) -> tuple[list[int], list[int]]:
    """(ids of the demo practitioners, ids of the other staff) holding a role at the school."""
    rows = Membership.objects.filter(school=school, role__in=[str(r) for r in SCHOOL_ROLES]).values_list(
        "user_id", "role"
    )
    practitioners = sorted({u for u, r in rows if r == Role.PRACTITIONER})
    others = sorted({u for u, r in rows if r != Role.PRACTITIONER} - set(practitioners))
    return practitioners, others


def seed_interventions(
    la: LocalAuthority, schools: list[School], *, today: date | None = None
) -> dict[str, int]:
    """Seed the demo LA's interventions; returns how many groups, enrolments and sessions."""
    today = today or date.today()
    with transaction.atomic(), tenant_scope(TenantScope.system(local_authorities=[la.pk])):
        library_load_for_la(la)
    current, previous = _terms(la, today)
    calendar = school_calendar(la.pk)
    made = {"groups": 0, "enrolments": 0, "sessions": 0}
    for school in schools:
        rng = random.Random(f"demo-interventions-{school.urn}")  # noqa: S311 - repeatable demo data
        practitioners, others = _school_staff(school)
        with transaction.atomic(), tenant_scope(TenantScope.for_school(school.pk, la_id=la.pk)):
            library = {item.name: item for item in LibraryProvision.objects.filter(name__in=CATALOGUE)}
            catalogue = _catalogue(school, library)
            if InterventionGroup.objects.exists():
                continue
            pupils = list(
                Pupil.objects.filter(
                    is_active=True, step_placements__status="active", step_placements__step__number__gte=2
                )
                .distinct()
                .order_by("pk")
            )
            if not pupils:
                continue
            plan = [(previous, name, True) for name in PREVIOUS] + [
                (current, name, False) for name in CURRENT
            ]
            groups, members = [], []
            for period, name, finished in plan:
                provision = catalogue.get(name)
                if provision is None:
                    continue
                size = min(provision.group_size, 6)
                per_week = provision.sessions_per_week
                days = DAYS.get(min(5, max(1, int(per_week))), [1])
                group = InterventionGroup(
                    school=school,
                    provision=provision,
                    name=default_group_name(provision, period.academic_year, period.term),
                    schedule=" and ".join(DAY_NAMES[d] for d in days[:2]) + ", 13:15",
                    academic_year=period.academic_year,
                    term=period.term,
                    starts_on=period.starts_on,
                    ends_on=period.ends_on,
                    weeks=_weeks(calendar, period, la.costing_weeks),
                    lead_id=(others or practitioners or [None])[0],
                    **{f: getattr(provision, f) for f in ("staff_kind", "staff_count", "group_size")},
                    session_minutes=provision.session_minutes,
                    sessions_per_week=per_week,
                )
                groups.append(group)
                members.append((group, provision, finished, rng.sample(pupils, min(size, len(pupils)))))
            InterventionGroup.objects.bulk_create(groups)
            staff, enrolments, sessions, parts = [], [], [], []
            current_groups = [g for g, _, finished, _ in members if not finished]
            for group, provision, finished, chosen in members:
                people = set(others[:1])
                if practitioners and (group in current_groups[:2] or (finished and rng.random() < 0.5)):
                    people.add(practitioners[0])
                if group.lead_id:
                    people.add(group.lead_id)
                staff += [GroupStaff(school=school, group=group, user_id=u) for u in sorted(people)]
                rows = []
                for pupil in chosen:
                    entry = _entry(provision, rng)
                    leaves = finished and rng.random() < 0.12  # a part-term place now and then
                    ends_on = group.starts_on + (group.ends_on - group.starts_on) * 2 // 3 if leaves else None
                    exit_score, rating = _exit(provision, entry, rng) if finished else (None, None)
                    rows.append(
                        Enrolment(
                            school=school,
                            group=group,
                            pupil=pupil,
                            starts_on=group.starts_on,
                            ends_on=ends_on,
                            entry_score=entry,
                            entry_on=group.starts_on if entry is not None else None,
                            exit_score=exit_score,
                            exit_on=(ends_on or group.ends_on) if finished else None,
                            outcome_rating=rating,
                        )
                    )
                enrolments += rows
                last = min(group.ends_on, today - timedelta(days=1))
                for day in _session_days(calendar, group.starts_on, last, group.sessions_per_week):
                    sessions.append(Session(school=school, group=group, held_on=day))
                    parts.append(rows)
            GroupStaff.objects.bulk_create(staff)
            Enrolment.objects.bulk_create(enrolments)
            Session.objects.bulk_create(sessions)
            Attendance.objects.bulk_create(
                Attendance(school=school, session=session, enrolment=e, present=rng.random() < ATTENDANCE)
                for session, rows in zip(sessions, parts, strict=True)
                for e in rows
                if e.starts_on <= session.held_on and (e.ends_on is None or session.held_on <= e.ends_on)
            )
            made["groups"] += len(groups)
            made["enrolments"] += len(enrolments)
            made["sessions"] += len(sessions)
    return made
