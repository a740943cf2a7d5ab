"""The graduated response over the years of history, for one school's pupils.

- Steps: pupils with SEN start at step 2 on the LA's NW six-step framework when their need
  is identified and climb one step at a time to the step the demo would give them now
  (graduated_response/demo.py `_target_step`); a quarter went one step higher first and came
  back down. Each stay before a move lasts at least eight weeks, long enough to try and
  review the strategies the step's rule asks for, which are recorded: every move up meets
  its rule. Pupils who came off the register left the framework on that day. A few pupils
  have a move up waiting for the headteacher, asked for before the rule was met.
- Plans: most stays at step 2 or above have a support plan, reviewed every few school
  weeks (the LA's interval); a stay that ended closed its plan at a review deciding the
  move. Current plans are open, most reviewed on time and some overdue; a few were closed.
  Each plan has two or three targets rated at every review and two strategies of its step.
- Observations: ten weeks or so for pupils at step 3 or above or with SEMH needs, made by
  the demo's own generator (graduated_response/demo_observations.py).
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from graduated_response.demo import TARGET_BANK, TITLES, _target_step
from graduated_response.demo_observations import observations_for
from graduated_response.models import (
    BehaviourObservation,
    PlanReview,
    PlanStrategy,
    PlanTarget,
    StepPlacement,
    StrategyTried,
    SupportPlan,
    TargetOutcome,
)
from provisionmap.scale_data.bulk import Rows, settable_columns
from provisionmap.scale_data.organisation import World
from provisionmap.scale_data.pupils import Story

Kind = StepPlacement.Kind
Status = StepPlacement.Status
Decision = PlanReview.Decision

FIRST_STEP = 2
# Days at a step before a move: six weeks of strategies and their review, and a little more.
MIN_STAY = 56
TRIAL_DAYS = 42  # a strategy is reviewed six weeks after it starts
PLAN_SHARE = 0.8  # of stays at step 2 or above that have a plan
REVIEW_MISSED = 0.2  # of current plans, the share whose last review was missed
OVERRIDE_SHARE = 0.03

REASONS = {
    Kind.START: "Needs identified: placed on the framework.",
    Kind.UP: "Strategies at this step were tried and reviewed without enough progress.",
    Kind.DOWN: "Good progress: support stepped down.",
    Kind.EXIT: "Needs met: off the SEN register.",
}
OVERRIDE_JUSTIFICATION = "Incidents escalated sharply this half-term; the family and staff agree to move now."
TRIED_OUTCOMES = [
    "Helped at first; less effect after a few weeks.",
    "Little change in the incidents recorded.",
    "Worked well in lessons, less so at break.",
]
PLAN_TEXT = {
    "concerns": "Struggles to stay in lessons when work gets hard; friendships break down at break.",
    "triggers": "Unstructured times, changes at short notice, tasks with a lot of writing.",
    "frequency_intensity": "Several incidents a week, most short and of moderate intensity.",
    "assessments": "SDQ, and two weeks of observations by staff.",
    "key_adult": "Class teaching assistant",
    "pupil_involvement": "Chose the targets with the key adult and picked a place to calm down.",
    "parent_involvement": "Agreed the plan with the SENCO; a call home each week.",
}
REVIEW_TEXT = [
    ("Fewer incidents at break; mornings still hard.", "Likes the check-ins.", "Happier about school."),
    ("Targets partly met; the break card is used most days.", "Wants to keep the card.", "Calmer at home."),
    ("Little change yet; strategies adjusted.", "Finds lessons after lunch hard.", "Worried, but hopeful."),
]
PLAN_KINDS = [SupportPlan.Kind.SUPPORT, SupportPlan.Kind.IBP, SupportPlan.Kind.IEP]
RATINGS = TargetOutcome.Rating.values
RATING_WEIGHTS = [5, 4, 2]


class GraduatedRows:
    """The graduated-response tables of one school, written together."""

    def __init__(self) -> None:
        self.placements = Rows(
            StepPlacement,
            "school_id", "pupil_id", "framework_id", "step_id", "from_step_id", "kind", "reason",
            "placed_on", "status", "override", "override_justification",
        )  # fmt: skip
        self.tried = Rows(
            StrategyTried, "school_id", "pupil_id", "step_id", "strategy_id", "started_on", "reviewed_on",
            "outcome", ids=True,
        )  # fmt: skip
        self.plans = Rows(
            SupportPlan, "school_id", "pupil_id", "step_id", "kind", "title", *PLAN_TEXT, "starts_on",
            "review_due", "status", "closed_on", ids=True,
        )  # fmt: skip
        self.targets = Rows(
            PlanTarget, "school_id", "plan_id", "order", "description", "success_criteria", ids=True
        )
        self.plan_strategies = Rows(PlanStrategy, "school_id", "plan_id", "tried_id", "how")
        self.reviews = Rows(
            PlanReview, "school_id", "plan_id", "reviewed_on", "summary", "pupil_views", "parent_views",
            "decision", "next_review_due", ids=True,
        )  # fmt: skip
        self.outcomes = Rows(TargetOutcome, "school_id", "review_id", "target_id", "rating")

    def tables(self) -> list[Rows]:
        return [
            self.placements, self.tried, self.plans, self.targets, self.plan_strategies, self.reviews,
            self.outcomes,
        ]  # fmt: skip


def decide_steps(story: Story, rng: random.Random, today: date) -> None:
    """The pupil's steps and the days they moved (story.steps), from identification to now."""
    if story.identified is None:
        return
    if story.on_register:
        final = _target_step(story.pupil, rng)
        peak = min(6, final + 1) if rng.random() < 0.25 else final
    else:
        final = peak = FIRST_STEP
    path = list(range(FIRST_STEP, peak + 1)) + ([final] if peak > final else [])
    end = (story.left_register or today) - timedelta(days=14)
    room = (end - story.identified).days
    moves = min(len(path) - 1, max(0, room // MIN_STAY))
    path = path[len(path) - 1 - moves :]  # too little time: the pupil started higher up
    free = max(0, room - MIN_STAY * moves)
    weights = [rng.random() + 0.25 for _ in range(moves + 1)]
    day = story.identified
    story.steps = [(path[0], day)]
    # One weight per stay; the last stay (on the current step) runs to today.
    for weight, number in zip(weights[:moves], path[1:], strict=True):
        day += timedelta(days=MIN_STAY + int(free * weight / sum(weights)))
        story.steps.append((number, day))


def write_history(world: World, story: Story, rng: random.Random, rows: GraduatedRows) -> None:
    """The pupil's step placements, strategies tried and support plans."""
    if not story.steps:
        return
    fw = world.steps
    today = world.options.today
    pupil = story.pupil
    counted: dict[int, set[int]] = {}  # step → strategies tried and reviewed there
    for i, (number, placed_on) in enumerate(story.steps):
        previous = story.steps[i - 1][0] if i else None
        following = story.steps[i + 1] if i + 1 < len(story.steps) else None
        ends = following[1] if following else story.left_register
        kind = Kind.START if previous is None else Kind.UP if number > previous else Kind.DOWN
        rows.placements.add(
            pupil.school_id, pupil.pk, fw.framework_id, fw.step_ids[number],
            fw.step_ids[previous] if previous else None, kind, REASONS[kind], placed_on,
            Status.SUPERSEDED if ends else Status.ACTIVE, False, "",
        )  # fmt: skip
        reviewed = counted.setdefault(number, set())
        going_up = following is not None and following[0] > number
        if going_up:
            count = fw.rules[number] or rng.randint(1, 2)
        elif ends:
            count = rng.randint(1, 2)
        else:
            count = rng.randint(0, max(1, fw.rules[number] - 1))
        for strategy in rng.sample(fw.strategies[number], min(count, len(fw.strategies[number]))):
            last_start = (ends - timedelta(days=TRIAL_DAYS)) if ends else today
            started = placed_on + timedelta(days=rng.randint(0, max(0, (last_start - placed_on).days)))
            review = started + timedelta(days=TRIAL_DAYS)
            done = review <= (ends or today) and (going_up or rng.random() < 0.6)
            rows.tried.add(
                pupil.school_id, pupil.pk, fw.step_ids[number], strategy, started,
                review if done else None, rng.choice(TRIED_OUTCOMES) if done else "",
            )  # fmt: skip
            if done:
                reviewed.add(strategy)
        if number >= FIRST_STEP and rng.random() < PLAN_SHARE:
            _plan(world, story, number, placed_on, following, ends, rng, rows, reviewed)
    if story.left_register is not None:
        last = story.steps[-1][0]
        rows.placements.add(
            pupil.school_id, pupil.pk, fw.framework_id, fw.step_ids[last], fw.step_ids[last], Kind.EXIT,
            REASONS[Kind.EXIT], story.left_register, Status.EXITED, False, "",
        )  # fmt: skip
        return
    number, placed_on = story.steps[-1]
    rule = fw.rules[number]
    if (
        number + 1 in fw.step_ids
        and rule
        and len(counted[number]) < rule
        and (today - placed_on).days > 30
        and rng.random() < OVERRIDE_SHARE
    ):
        rows.placements.add(
            pupil.school_id, pupil.pk, fw.framework_id, fw.step_ids[number + 1], fw.step_ids[number], Kind.UP,
            REASONS[Kind.UP], today - timedelta(days=rng.randint(1, 14)), Status.PENDING, True,
            OVERRIDE_JUSTIFICATION,
        )  # fmt: skip


def _plan(
    world: World,
    story: Story,
    number: int,
    placed_on: date,
    following: tuple[int, date] | None,
    ends: date | None,
    rng: random.Random,
    rows: GraduatedRows,
    reviewed: set[int],
) -> None:
    """One support plan for a stay at a step, with its targets, strategies and reviews."""
    today = world.options.today
    fw = world.steps
    pupil = story.pupil
    starts = min(placed_on + timedelta(days=rng.randint(0, 14)), today)
    if ends and starts >= ends:
        starts = placed_on
    reviews: list[tuple[date, str]] = []
    due = world.review_due_after(starts)
    if ends:
        while due < ends:
            reviews.append((due, Decision.CONTINUE))
            due = world.review_due_after(due)
        if following is None:
            decision = Decision.CLOSE  # off the register
        else:
            decision = Decision.STEP_UP if following[0] > number else Decision.STEP_DOWN
        reviews.append((ends, decision))
        status, review_due = SupportPlan.Status.CLOSED, ends
    else:
        while due < today - timedelta(days=7):
            reviews.append((due, Decision.CONTINUE))
            due = world.review_due_after(due)
        if reviews and rng.random() < REVIEW_MISSED:
            due = reviews.pop()[0]  # the last review was never held: the plan is overdue
        status, review_due = SupportPlan.Status.OPEN, due
        if reviews and rng.random() < 0.1:
            reviews[-1] = (reviews[-1][0], Decision.CLOSE)
            status, review_due = SupportPlan.Status.CLOSED, reviews[-1][0]
    plan = rows.plans.add(
        pupil.school_id, pupil.pk, world.steps.step_ids[number], rng.choice(PLAN_KINDS), rng.choice(TITLES),
        *PLAN_TEXT.values(), starts, review_due, status,
        review_due if status == SupportPlan.Status.CLOSED else None,
    )  # fmt: skip
    if status == SupportPlan.Status.OPEN:
        story.open_plan = SupportPlan(pk=plan, pupil_id=pupil.pk, starts_on=starts)
    targets = [
        rows.targets.add(pupil.school_id, plan, order, description, criteria)
        for order, (description, criteria) in enumerate(rng.sample(TARGET_BANK, rng.randint(2, 3)))
    ]
    first_review = reviews[0][0] if reviews else None
    for strategy in rng.sample(fw.strategies[number], min(2, len(fw.strategies[number]))):
        tried = rows.tried.add(
            pupil.school_id, pupil.pk, fw.step_ids[number], strategy, starts, first_review,
            "Reviewed with the support plan." if first_review else "",
        )  # fmt: skip
        rows.plan_strategies.add(pupil.school_id, plan, tried, "Every day, led by the key adult")
        if first_review:
            reviewed.add(strategy)
    for k, (day, decision) in enumerate(reviews):
        following_review = reviews[k + 1][0] if k + 1 < len(reviews) else review_due
        summary, pupil_views, parent_views = rng.choice(REVIEW_TEXT)
        review = rows.reviews.add(
            pupil.school_id, plan, day, summary, pupil_views, parent_views, decision,
            following_review if decision == Decision.CONTINUE else None,
        )  # fmt: skip
        for target in targets:
            rows.outcomes.add(
                pupil.school_id, review, target, rng.choices(RATINGS, weights=RATING_WEIGHTS)[0]
            )


def observe(world: World, stories: list[Story], rng: random.Random) -> Rows:
    """Behaviour observations for pupils at step 3 or above, or with SEMH needs at step 2,
    made by the demo's generator around each pupil's open plan."""
    pupils, plans = [], {}
    for story in stories:
        step = story.step or 0
        if step >= 3 or (step >= FIRST_STEP and story.semh):
            pupils.append(story.pupil)
            if story.open_plan is not None:
                plans[story.pupil.pk] = story.open_plan
    rows = Rows(BehaviourObservation, *settable_columns(BehaviourObservation))
    for observation in observations_for(pupils, plans, rng=rng, today=world.options.today):
        rows.add_object(observation)
    return rows
