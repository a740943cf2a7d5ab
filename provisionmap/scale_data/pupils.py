"""A school's pupils and their SEN register history over the years of history.

Each pupil is made by the demo's own maker (pupils/demo.py: names, UPN, birth date, census
shares of SEN support and EHC plans, special schools mostly plans), so the scale LA looks
like the demo LA, only bigger. What this module adds is time: when each pupil joined the
school (pupils in higher years joined earlier), when those with SEN were first put on the
register, when those with a plan got it, and a few pupils who were on the register and have
come off it. `Story` carries those dates to the graduated response and the interventions.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from provisionmap.scale_data.bulk import Rows, settable_columns
from provisionmap.scale_data.organisation import World
from pupils.codes import Need, SenStatus
from pupils.demo import ROLL, _pupil
from pupils.models import Pupil, SenStatusChange
from schools.models import School
from schools.terms import academic_year_of

# Of the pupils with no SEN now, the share who were on SEN support for a while and came off.
FORMER_SHARE = 0.03
# Pupils are identified at least this long before today, so a few weeks of history follow.
RECENT_DAYS = 20


@dataclass
class Story:
    """One pupil's dates, decided before any of their rows is written."""

    pupil: Pupil
    joined: date
    identified: date | None = None  # first day on the register
    left_register: date | None = None  # for pupils no longer on it
    steps: list[tuple[int, date]] = field(default_factory=list)  # (step, placed on), oldest first
    open_plan: object | None = None  # their open support plan (id and start), if any

    @property
    def on_register(self) -> bool:
        return self.pupil.sen_status != SenStatus.NONE

    @property
    def step(self) -> int | None:
        """The current step (None off the register or off the framework)."""
        return self.steps[-1][0] if self.steps and self.left_register is None else None

    @property
    def semh(self) -> bool:
        return Need.SEMH in (self.pupil.primary_need, self.pupil.secondary_need)


def history_start(world: World) -> date:
    return date(academic_year_of(world.options.today) - world.options.years + 1, 9, 1)


def _random_day(rng: random.Random, first: date, last: date) -> date:
    if last <= first:
        return first
    return first + timedelta(days=rng.randint(0, (last - first).days))


def make_pupils(world: World, school: School, rng: random.Random, rows: Rows) -> list[Story]:
    """The school's pupils (added to `rows`, which gives them their ids) and their dates."""
    today = world.options.today
    this_year = academic_year_of(today)
    start = history_start(world)
    years = ROLL[school.phase][1]
    first_year = min(years)
    special = school.phase == School.Phase.SPECIAL
    stories = []
    for serial in range(1, world.options.pupils_per_school + 1):
        pupil = _pupil(school, serial, years, rng, today)
        rows.add_object(pupil)
        joined = max(start, date(this_year - (pupil.nc_year - first_year), 9, 1))
        story = Story(pupil, joined)
        latest = today - timedelta(days=RECENT_DAYS)
        if story.on_register:
            # A special school's pupils arrive with their plan; elsewhere needs are found later.
            arrived_known = special or rng.random() < 0.15
            story.identified = min(today, joined if arrived_known else _random_day(rng, joined, latest))
        elif (
            (today - joined).days > 240
            and school.phase != School.Phase.NURSERY
            and rng.random() < FORMER_SHARE
        ):
            story.identified = _random_day(rng, joined, today - timedelta(days=200))
            story.left_register = _random_day(rng, story.identified + timedelta(days=120), latest)
        stories.append(story)
    return stories


def pupil_rows() -> Rows:
    return Rows(Pupil, *settable_columns(Pupil), ids=True)


def register_entries(stories: list[Story], rng: random.Random, today: date, rows: Rows) -> None:
    """The SEN register's history: SEN support from the day a need was identified (its type
    not yet assessed for pupils who go on to a plan), an EHC plan from the day it was issued,
    and "no SEN" for pupils who came off."""
    for story in stories:
        if story.identified is None:
            continue
        pupil = story.pupil

        def add(status: str, need: str, second: str, day: date, pupil: Pupil = pupil) -> None:
            rows.add(pupil.school_id, pupil.pk, status, need, second, day, "import")

        if pupil.sen_status == SenStatus.EHC_PLAN and story.identified == story.joined:
            add(SenStatus.EHC_PLAN, pupil.primary_need, pupil.secondary_need, story.joined)
            continue
        first_need = pupil.primary_need if pupil.sen_status == SenStatus.SEN_SUPPORT else Need.NSA
        if pupil.sen_status == SenStatus.NONE:
            first_need = rng.choice([Need.SLCN, Need.MLD, Need.SEMH, Need.SPLD])
        add(SenStatus.SEN_SUPPORT, first_need, "", story.identified)
        if pupil.sen_status == SenStatus.EHC_PLAN:
            room = (today - story.identified).days
            issued = story.identified + timedelta(days=min(rng.randint(60, 300), max(0, room - 1)))
            add(SenStatus.EHC_PLAN, pupil.primary_need, pupil.secondary_need, issued)
        if story.left_register is not None:
            add(SenStatus.NONE, "", "", story.left_register)


def register_rows() -> Rows:
    return Rows(
        SenStatusChange,
        "school_id",
        "pupil_id",
        "status",
        "primary_need",
        "secondary_need",
        "start_date",
        "source",
    )
