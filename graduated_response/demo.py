"""Demo step placements: pupils with SEN placed on the demo LA's NW six-step framework,
with the strategies tried and reviewed that their moves up needed. Idempotent."""

from __future__ import annotations

import dataclasses
import random
from datetime import date, timedelta

from django.db import transaction

from graduated_response.demo_observations import seed_observations
from graduated_response.models import (
    Framework,
    PlanReview,
    PlanStrategy,
    PlanTarget,
    StepPlacement,
    StrategyTried,
    SupportPlan,
    TargetOutcome,
)
from pupils.codes import Need, SenStatus
from pupils.models import Pupil
from schools.models import LocalAuthority, PupilGrant, School
from schools.scopes import current_grants
from schools.selectors import school_calendar
from schools.tenancy import TenantScope, tenant_scope

FRAMEWORK_SLUG = "nw-six-step"


def _with_received_pupils(school: School, la: LocalAuthority) -> TenantScope:
    """The school's scope, reading too the history of pupils it received by transfer (as its
    staff do): a re-run then sees the plans and observations their earlier school recorded,
    and does not make them again here."""
    received = current_grants(school=school).filter(kind=PupilGrant.Kind.RECORD)
    rows = list(received.values_list("pupil_id", "records_school_id"))
    return dataclasses.replace(
        TenantScope.for_school(school.pk, la_id=la.pk),
        read_pupil=frozenset(pupil for pupil, _ in rows),
        read_pairs=frozenset(rows),
        grant_school=frozenset(records for _, records in rows),
    )


def _target_step(pupil: Pupil, rng: random.Random) -> int:
    if pupil.sen_status == SenStatus.EHC_PLAN:
        return rng.choice([4, 4, 5])
    if pupil.primary_need == Need.SEMH:
        return rng.choice([2, 3, 3])
    return rng.choice([2, 2, 3])


def seed_placements(la: LocalAuthority, schools: list[School], *, today: date | None = None) -> int:
    """Place each school's pupils with SEN who have no placement yet; returns how many."""
    today = today or date.today()
    made = 0
    for school in schools:
        rng = random.Random(f"demo-steps-{school.urn}")  # noqa: S311 - repeatable demo data, not secrets
        scope = TenantScope.for_school(school.pk, la_id=la.pk)
        with transaction.atomic(), tenant_scope(scope):
            framework = Framework.objects.filter(
                local_authority=la, slug=FRAMEWORK_SLUG, is_current=True
            ).first()
            if framework is None:
                continue
            steps = {s.number: s for s in framework.steps.prefetch_related("strategies")}
            placed = set(StepPlacement.objects.values_list("pupil_id", flat=True))
            pupils = Pupil.objects.exclude(sen_status=SenStatus.NONE).exclude(pk__in=placed).order_by("pk")
            placements, tried = [], []
            for pupil in pupils:
                target = _target_step(pupil, rng)
                when = today - timedelta(days=rng.randint(150, 600))
                number, previous = 2, None
                while True:
                    step = steps[number]
                    final = number == target
                    placements.append(
                        StepPlacement(
                            school=school,
                            pupil=pupil,
                            framework=framework,
                            step=step,
                            from_step=previous,
                            kind=StepPlacement.Kind.START if previous is None else StepPlacement.Kind.UP,
                            reason="Demo history",
                            placed_on=when,
                            status=StepPlacement.Status.ACTIVE if final else StepPlacement.Status.SUPERSEDED,
                        )
                    )
                    needed = step.min_strategies_to_escalate or 0
                    catalogue = list(step.strategies.all())
                    count = needed if not final else rng.randint(0, max(1, needed - 1))
                    for strategy in rng.sample(catalogue, min(count, len(catalogue))):
                        started = when + timedelta(days=rng.randint(1, 20))
                        reviewed = started + timedelta(days=42) if not final or rng.random() < 0.5 else None
                        tried.append(
                            StrategyTried(
                                school=school,
                                pupil=pupil,
                                step=step,
                                strategy=strategy,
                                started_on=started,
                                reviewed_on=reviewed if reviewed and reviewed <= today else None,
                            )
                        )
                    if final:
                        break
                    previous, number = step, number + 1
                    when = min(today, when + timedelta(days=rng.randint(60, 120)))
            StepPlacement.objects.bulk_create(placements)
            StrategyTried.objects.bulk_create(tried)
            made += len({p.pupil_id for p in placements})
    return made


# --- demo support plans, with reviews -------------------------------------------------------

TARGET_BANK = [
    ("Stays in the classroom for the whole of a lesson", "4 lessons out of 5, for two weeks running"),
    ("Uses the break card instead of leaving the room", "Uses the card at least 3 times a week"),
    ("Joins a structured lunchtime club", "Attends 3 lunchtimes a week"),
    ("Names a feeling using the emotions chart", "Does so with the key adult at each check-in"),
    ("Starts a task within two minutes of the instruction", "In 4 out of 5 observed lessons"),
    ("Settles within five minutes after break", "Recorded on the daily chart for 3 weeks"),
    ("Follows the agreed plan for moving between lessons", "No incidents in corridors for two weeks"),
]
TITLES = [
    "Calmer lunchtimes",
    "Settling to learn",
    "Managing big feelings",
    "Staying in class",
    "Positive starts",
]


def _review_date(start: date, calendar, weeks: int) -> date:
    return calendar.add_school_weeks(start, weeks)


def seed_plans(la: LocalAuthority, schools: list[School], *, today: date | None = None) -> int:
    """Support plans for demo pupils on steps 2 and above who have none: most open (some with
    a review overdue, some due soon), some reviewed and continued, some closed. Idempotent."""
    today = today or date.today()
    calendar = school_calendar(la.pk)
    weeks = la.review_interval_weeks or 6
    made = 0
    for school in schools:
        rng = random.Random(f"demo-plans-{school.urn}")  # noqa: S311 - repeatable demo data
        with transaction.atomic(), tenant_scope(_with_received_pupils(school, la)):
            planned = set(SupportPlan.objects.values_list("pupil_id", flat=True))
            current = (
                StepPlacement.objects.filter(status=StepPlacement.Status.ACTIVE, step__number__gte=2)
                .exclude(pupil_id__in=planned)
                .select_related("step")
                .prefetch_related("step__strategies")
                .order_by("pupil_id")
            )
            plans, parts = [], []
            for placement in current:
                if rng.random() < 0.2:
                    continue  # not every pupil has a plan: the SENCO's dashboard shows who lacks one
                started = max(placement.placed_on, today - timedelta(days=rng.randint(10, 140)))
                due = _review_date(started, calendar, weeks)
                reviews = []
                while due < today - timedelta(days=7) and rng.random() < 0.8:
                    reviews.append(due)
                    due = _review_date(due, calendar, weeks)
                closed = bool(reviews) and rng.random() < 0.15
                if closed:
                    due = reviews[-1]
                targets = rng.sample(TARGET_BANK, rng.randint(2, 3))
                catalogue = list(placement.step.strategies.all())
                strategies = rng.sample(catalogue, min(len(catalogue), 2))
                plans.append(
                    SupportPlan(
                        school=school,
                        pupil_id=placement.pupil_id,
                        step=placement.step,
                        kind=rng.choice(["support", "ibp", "iep"]),
                        title=rng.choice(TITLES),
                        concerns="Leaves lessons when work feels hard; conflict with peers at lunchtime.",
                        triggers="Unstructured times; changes of routine; being asked to read aloud.",
                        frequency_intensity="Three to five incidents a week, mostly at moderate intensity.",
                        assessments="SDQ; staff observations over two weeks.",
                        key_adult="Class teaching assistant",
                        pupil_involvement="Talked the plan through with the key adult; chose the break card.",
                        parent_involvement="Met the SENCO; agreed to a weekly phone call.",
                        starts_on=started,
                        review_due=due,
                        status=SupportPlan.Status.CLOSED if closed else SupportPlan.Status.OPEN,
                        closed_on=reviews[-1] if closed else None,
                    )
                )
                parts.append((placement, targets, strategies, reviews, closed))
            SupportPlan.objects.bulk_create(plans)
            tried = []
            for plan, (_placement, _targets, strategies, reviews, _closed) in zip(plans, parts, strict=True):
                for strategy in strategies:
                    tried.append(
                        StrategyTried(
                            school=school,
                            pupil_id=plan.pupil_id,
                            step=plan.step,
                            strategy=strategy,
                            started_on=plan.starts_on,
                            reviewed_on=reviews[0] if reviews else None,
                            outcome="Reviewed with the support plan." if reviews else "",
                        )
                    )
            StrategyTried.objects.bulk_create(tried)
            tried_iter = iter(tried)
            targets, plan_strategies, review_rows = [], [], []
            for plan, (_placement, bank, strategies, reviews, closed) in zip(plans, parts, strict=True):
                for order, (description, criteria) in enumerate(bank):
                    targets.append(
                        PlanTarget(
                            school=school,
                            plan=plan,
                            order=order,
                            description=description,
                            success_criteria=criteria,
                        )
                    )
                for _ in strategies:
                    plan_strategies.append(
                        PlanStrategy(
                            school=school, plan=plan, tried=next(tried_iter), how="Daily, by the key adult"
                        )
                    )
                for n, day in enumerate(reviews):
                    last = n == len(reviews) - 1
                    decision = PlanReview.Decision.CLOSE if closed and last else PlanReview.Decision.CONTINUE
                    review_rows.append(
                        PlanReview(
                            school=school,
                            plan=plan,
                            reviewed_on=day,
                            summary="Fewer incidents at lunchtime; lessons still hard after PE.",
                            pupil_views="Says the break card helps.",
                            parent_views="Calmer at home on school days.",
                            decision=decision,
                            next_review_due=None
                            if decision == PlanReview.Decision.CLOSE
                            else (plan.review_due if last else reviews[n + 1]),
                        )
                    )
            PlanTarget.objects.bulk_create(targets)
            PlanStrategy.objects.bulk_create(plan_strategies)
            PlanReview.objects.bulk_create(review_rows)
            targets_by_plan: dict[int, list[PlanTarget]] = {}
            for target in targets:
                targets_by_plan.setdefault(target.plan_id, []).append(target)
            ratings = TargetOutcome.Rating.values
            TargetOutcome.objects.bulk_create(
                TargetOutcome(
                    school=school,
                    review=review,
                    target=target,
                    rating=rng.choices(ratings, weights=[5, 4, 2])[0],
                )
                for review in review_rows
                for target in targets_by_plan[review.plan_id]
            )
            made += len(plans)
    return made


def seed_observations_for(la: LocalAuthority, schools: list[School], *, today: date | None = None) -> int:
    """Behaviour observations for demo pupils on steps 2 and above (see demo_observations)."""
    today = today or date.today()
    made = 0
    for school in schools:
        rng = random.Random(f"demo-observations-{school.urn}")  # noqa: S311 - repeatable demo data
        with transaction.atomic(), tenant_scope(_with_received_pupils(school, la)):
            pupils = list(
                Pupil.objects.filter(
                    school=school, step_placements__status="active", step_placements__step__number__gte=2
                )
                .distinct()
                .order_by("pk")
            )
            made += seed_observations(pupils, rng=rng, today=today)
    return made
