"""A school's interventions over the years of history: its catalogue (the demo's eight
provisions and four more suited to its pupils' ages, copied from the LA's library) and,
every term that has started, five to seven groups of pupils then on the register, with
their enrolments (entry scores, and exit scores once the group finished), the sessions
held up to yesterday and who came to each.

The figures follow the demo's (interventions/demo.py): its entry and exit scores, its
weekdays by sessions a week, its costed weeks per term and its attendance rate.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from functools import cache

from interventions.demo import (
    ATTENDANCE,
    CATALOGUE,
    DAY_NAMES,
    DAYS,
    Period,
    _entry,
    _exit,
    _session_days,
    _weeks,
)
from interventions.models import (
    Attendance,
    Enrolment,
    GroupStaff,
    InterventionGroup,
    Provision,
    Session,
    measure_direction,
)
from interventions.services import PROVISION_FIELDS, default_group_name
from provisionmap.scale_data.bulk import Rows, settable_columns
from provisionmap.scale_data.organisation import World
from provisionmap.scale_data.pupils import Story
from schools.models import School
from schools.terms import SchoolCalendar, academic_year_of, typical_terms

YOUNGER = [
    "Targeted numeracy group",
    "Multi-sensory spelling group",
    "Handwriting and fine motor programme",
    "Language enrichment group",
]
OLDER = ["Literacy booster class", "Peer mentoring", "1:1 counselling", "Social communication programme"]
MAX_GROUP = 6
GROUP_DELIVERY = ("staff_kind", "staff_count", "group_size", "session_minutes", "sessions_per_week")


def catalogue_names(phase: str) -> list[str]:
    older = phase in (School.Phase.SECONDARY, School.Phase.ALL_THROUGH, School.Phase.SPECIAL)
    return CATALOGUE + (OLDER if older else YOUNGER)


def terms_so_far(world: World) -> list[Period]:
    """Every term of the years of history that has started by today, oldest first."""
    today = world.options.today
    this_year = academic_year_of(today)
    return [
        Period(year, t["term"], t["starts_on"], t["ends_on"])
        for year in range(this_year - world.options.years + 1, this_year + 1)
        for t in typical_terms(year)
        if t["starts_on"] <= today
    ]


class InterventionRows:
    """The intervention tables of one school, written together."""

    def __init__(self) -> None:
        self.provisions = Rows(Provision, *settable_columns(Provision), ids=True)
        self.groups = Rows(InterventionGroup, "school_id", "provision_id", "name", "lead_id", "schedule",
                           "academic_year", "term", "starts_on", "ends_on", "weeks", *GROUP_DELIVERY,
                           ids=True)  # fmt: skip
        self.staff = Rows(GroupStaff, "school_id", "group_id", "user_id")
        self.enrolments = Rows(Enrolment, "school_id", "group_id", "pupil_id", "starts_on", "ends_on",
                               "entry_score", "entry_on", "exit_score", "exit_on", "outcome_rating",
                               ids=True)  # fmt: skip
        self.sessions = Rows(Session, "school_id", "group_id", "held_on", ids=True)
        self.attendance = Rows(Attendance, "school_id", "session_id", "enrolment_id", "present")

    def tables(self) -> list[Rows]:
        return [self.provisions, self.groups, self.staff, self.enrolments, self.sessions, self.attendance]


@cache
def _days(calendar: SchoolCalendar, starts_on: date, last: date, per_week: int) -> tuple[date, ...]:
    # Every group of a term that meets as often shares its days: work them out once.
    return tuple(_session_days(calendar, starts_on, last, per_week))


def write_interventions(
    world: World,
    school: School,
    stories: list[Story],
    rng: random.Random,
    rows: InterventionRows,
    *,
    lead_id: int | None = None,
    practitioner_id: int | None = None,
) -> None:
    """The school's catalogue and every term's groups. `lead_id` leads every group and
    `practitioner_id` helps run some (both only at the school the scale users work in)."""
    today = world.options.today
    catalogue = []
    for name in catalogue_names(school.phase):
        item = world.library[name]
        provision = Provision(
            school=school, library_item=item, **{f: getattr(item, f) for f in PROVISION_FIELDS}
        )
        provision.higher_is_better = measure_direction(provision.measure, provision.higher_is_better)
        rows.provisions.add_object(provision)
        catalogue.append(provision)
    for period in world.terms:
        settled = period.starts_on + timedelta(days=21)
        pupils = [
            s.pupil
            for s in stories
            if s.identified is not None
            and s.identified <= settled
            and s.joined <= period.starts_on
            and (s.left_register is None or s.left_register > settled)
        ]
        if not pupils:
            continue
        finished = period.ends_on < today
        last = min(period.ends_on, today - timedelta(days=1))
        weeks = _weeks(world.calendar, period, world.la.costing_weeks)
        for n, provision in enumerate(rng.sample(catalogue, rng.randint(5, 7))):
            per_week = min(5, max(1, int(provision.sessions_per_week)))
            group = rows.groups.add(
                school.pk, provision.pk, default_group_name(provision, period.academic_year, period.term),
                lead_id, f"{' and '.join(DAY_NAMES[d] for d in DAYS[per_week][:2])}, after lunch",
                period.academic_year, period.term, period.starts_on, period.ends_on, weeks,
                *(getattr(provision, f) for f in GROUP_DELIVERY),
            )  # fmt: skip
            helps = (not finished and n < 2) or rng.random() < 0.4
            for user in (lead_id, practitioner_id if helps else None):
                if user is not None:
                    rows.staff.add(school.pk, group, user)
            members = []
            for pupil in rng.sample(pupils, min(provision.group_size, MAX_GROUP, len(pupils))):
                entry = _entry(provision, rng)
                leaves = finished and rng.random() < 0.12  # a place given up part way through
                ends_on = period.starts_on + (period.ends_on - period.starts_on) * 2 // 3 if leaves else None
                exit_score, rating = _exit(provision, entry, rng) if finished else (None, None)
                enrolment = rows.enrolments.add(
                    school.pk, group, pupil.pk, period.starts_on, ends_on, entry,
                    period.starts_on if entry is not None else None, exit_score,
                    (ends_on or period.ends_on) if finished else None, rating,
                )  # fmt: skip
                members.append((enrolment, ends_on))
            for day in _days(world.calendar, period.starts_on, last, per_week):
                session = rows.sessions.add(school.pk, group, day)
                for enrolment, ends_on in members:
                    if ends_on is None or day <= ends_on:
                        rows.attendance.add(school.pk, session, enrolment, rng.random() < ATTENDANCE)
