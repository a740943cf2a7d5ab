"""Demo behaviour observations: ten to twelve school weeks per pupil with a pattern a SENCO
would recognise, so the observation charts have something to say.

- More incidents at unstructured times (break and lunch) and at transitions than in lessons.
- A support plan started about six weeks ago (the pupil's open plan when there is one):
  before it, three or four incidents a week, mostly of intensity 3–5; after it, fewer and
  milder, tailing off week by week.

Called by seed_demo inside a system tenant scope, for pupils who have no observations yet
(pupils who already have some are skipped, so a second run adds nothing). Repeatable: the
caller's `random.Random` decides everything.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from graduated_response.models import BehaviourObservation, SupportPlan
from graduated_response.observations import local_zone, monday_of
from pupils.models import Pupil

Setting = BehaviourObservation.Setting

# Parts of a school day: setting, first and last minute of the day, how likely an incident
# falls there (weights, not probabilities).
SLOTS: tuple[tuple[str, int, int, int], ...] = (
    (Setting.OTHER, 8 * 60 + 20, 8 * 60 + 44, 1),  # before school, in the playground
    (Setting.TRANSITION, 8 * 60 + 45, 8 * 60 + 59, 2),  # registration
    (Setting.LESSON, 9 * 60, 10 * 60 + 29, 3),
    (Setting.UNSTRUCTURED, 10 * 60 + 30, 10 * 60 + 49, 4),  # morning break
    (Setting.LESSON, 10 * 60 + 50, 11 * 60 + 59, 2),
    (Setting.UNSTRUCTURED, 12 * 60, 13 * 60 + 9, 6),  # lunch
    (Setting.TRANSITION, 13 * 60 + 10, 13 * 60 + 19, 2),
    (Setting.LESSON, 13 * 60 + 20, 15 * 60 + 14, 3),
    (Setting.OTHER, 15 * 60 + 30, 15 * 60 + 59, 1),  # at the gate, after school
)

# (what came before, what the pupil did, what followed), in plain words.
ACCOUNTS: tuple[tuple[str, str, str], ...] = (
    (
        "Asked to stop a game and line up.",
        "Refused and ran to the far side of the field.",
        "Adult waited nearby; came in after 5 minutes.",
    ),
    (
        "Another pupil took the ball.",
        "Pushed the pupil and shouted.",
        "Separated; talked it through with the key adult.",
    ),
    (
        "Given a written task without a model.",
        "Tore the worksheet and put head on the desk.",
        "Offered the task in smaller steps; completed part.",
    ),
    (
        "Noisy corridor at change of lesson.",
        "Covered ears and hid behind a door.",
        "Walked to the quiet room with a TA.",
    ),
    ("Lost a board game.", "Threw the pieces across the room.", "Helped tidy up; calm within 10 minutes."),
    (
        "Lunch queue was long and loud.",
        "Left the hall without asking.",
        "Found in the library; ate lunch there.",
    ),
    (
        "Supply teacher in class.",
        "Called out repeatedly and left seat.",
        "Given a movement break; returned settled.",
    ),
    (
        "Told a friend could not sit with them.",
        "Cried and kicked the chair.",
        "Time with the learning mentor; rejoined the lesson.",
    ),
)


def _minute(rng: random.Random) -> tuple[str, int]:
    setting, first, last, _weight = rng.choices(SLOTS, weights=[s[3] for s in SLOTS])[0]
    return setting, rng.randint(first, last)


def _incidents(rng: random.Random, before_plan: bool, weeks_in: int) -> int:
    """How many incidents on one school day: about 3.5 a week before the plan, falling from
    about 2 a week to under 1 once it has been running a few weeks."""
    chance = 0.35 if before_plan else max(0.08, 0.22 - 0.03 * weeks_in)
    return sum(rng.random() < chance for _ in range(2))


def _intensity(rng: random.Random, setting: str, before_plan: bool, weeks_in: int) -> int:
    if before_plan:
        level = rng.choice([2, 3, 3, 4, 4, 5])
    elif weeks_in < 2:
        level = rng.choice([2, 2, 3, 3, 4])
    else:
        level = rng.choice([1, 1, 2, 2, 3])
    if setting == Setting.UNSTRUCTURED and rng.random() < 0.3:
        level += 1  # the least supervised times are the hardest
    return min(level, 5)


def seed_observations(pupils: list[Pupil], *, rng: random.Random, today: date, recorded_by=None) -> int:
    """Add 10–12 school weeks of observations, up to yesterday, for each pupil without any.
    Returns how many observations were made. Run inside a tenant scope that may write the
    pupils' schools."""
    if not pupils:
        return 0
    ids = [p.pk for p in pupils]
    observed = set(
        BehaviourObservation.objects.filter(pupil_id__in=ids).values_list("pupil_id", flat=True).distinct()
    )
    plans: dict[int, SupportPlan] = {}
    for plan in SupportPlan.objects.filter(pupil_id__in=ids, status=SupportPlan.Status.OPEN).order_by(
        "starts_on", "id"
    ):
        plans[plan.pupil_id] = plan  # the latest open plan wins
    unobserved = [p for p in pupils if p.pk not in observed]
    made = observations_for(unobserved, plans, rng=rng, today=today, recorded_by=recorded_by)
    BehaviourObservation.objects.bulk_create(made, batch_size=1000)
    return len(made)


def observations_for(
    pupils: list[Pupil], plans: dict[int, SupportPlan], *, rng: random.Random, today: date, recorded_by=None
) -> list[BehaviourObservation]:
    """10–12 school weeks of observations up to yesterday for each pupil, unsaved, shaped
    around the pupil's open plan in `plans` (by pupil id) when it started in those weeks.
    The scale generator writes them its own way (provisionmap/scale_data)."""
    zone = local_zone()
    made: list[BehaviourObservation] = []
    for pupil in pupils:
        weeks = rng.randint(10, 12)
        first_day = monday_of(today) - timedelta(weeks=weeks)
        plan = plans.get(pupil.pk)
        if plan is not None and first_day < plan.starts_on < today:
            plan_start = plan.starts_on
        else:
            plan, plan_start = None, today - timedelta(days=rng.randint(38, 46))
        day = first_day
        while day < today:
            if day.weekday() < 5:
                before = day < plan_start
                weeks_in = max(0, (day - plan_start).days // 7)
                for _ in range(_incidents(rng, before, weeks_in)):
                    setting, minute = _minute(rng)
                    antecedent, behaviour, consequence = rng.choice(ACCOUNTS)
                    made.append(
                        BehaviourObservation(
                            school_id=pupil.school_id,
                            pupil=pupil,
                            plan=None if before else plan,
                            observed_at=datetime.combine(day, time(minute // 60, minute % 60), tzinfo=zone),
                            setting=setting,
                            antecedent=antecedent,
                            behaviour=behaviour,
                            consequence=consequence,
                            intensity=_intensity(rng, setting, before, weeks_in),
                            duration_minutes=rng.choice([None, 2, 5, 5, 10, 15, 20]),
                            recorded_by=recorded_by,
                        )
                    )
            day += timedelta(days=1)
    return made
