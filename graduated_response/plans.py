"""Writes to support plans: making a plan (Assess and Plan), changing it, and reviewing it.

A plan is made at the pupil's current step. Its strategies are strategies tried at that
step (the plan's Do), so when a review of the plan records how they went they count
towards the step's escalation rule, the same as strategies recorded one by one.

A review falls due after the LA's number of *school* weeks (six unless the LA says
otherwise), counted on the LA's term dates so holidays do not make a plan overdue.
Every change writes an audit row naming ids and kinds, never the plan's text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from graduated_response.models import (
    PlanReview,
    PlanStrategy,
    PlanTarget,
    Step,
    Strategy,
    StrategyTried,
    SupportPlan,
    TargetOutcome,
)
from graduated_response.placements import current_placement
from pupils.models import Pupil
from pupils.services import acting_user
from schools.audit import Action, audit
from schools.models import LocalAuthority, School
from schools.selectors import school_calendar

# The parts of a plan a person writes (Assess and Plan, and the Do notes).
PLAN_FIELDS = (
    "kind",
    "title",
    "concerns",
    "triggers",
    "frequency_intensity",
    "assessments",
    "key_adult",
    "pupil_involvement",
    "parent_involvement",
    "delivery_notes",
)
MAX_TARGETS = 8


@dataclass(frozen=True)
class TargetInput:
    description: str
    success_criteria: str
    id: int | None = None  # an existing target being changed


@dataclass(frozen=True)
class StrategyInput:
    strategy: Strategy | None = None  # from the step's catalogue
    name: str = ""  # or one outside it
    how: str = ""


def review_due_after(school: School, start: date) -> date:
    """When a plan started (or last reviewed) on `start` is next due for review."""
    weeks = (
        LocalAuthority.objects.filter(pk=school.local_authority_id)
        .values_list("review_interval_weeks", flat=True)
        .first()
    )
    return school_calendar(school.local_authority_id).add_school_weeks(start, weeks or 6)


def _audit(request: HttpRequest | None, plan: SupportPlan, event: str, **extra) -> None:
    audit(
        request,
        Action.UPDATE if event != "plan made" else Action.CREATE,
        plan.pupil,
        detail={"fields": ["support_plan"], "event": event, "plan": plan.pk, **extra},
    )


def _check_targets(targets: list[TargetInput]) -> list[TargetInput]:
    targets = [t for t in targets if t.description.strip() or t.success_criteria.strip()]
    if not targets:
        raise ValidationError(
            {"targets": "Give the plan at least one target, with how success will be seen."}
        )
    if len(targets) > MAX_TARGETS:
        raise ValidationError(
            {"targets": f"A plan has at most {MAX_TARGETS} targets: keep it to the few that matter."}
        )
    for n, target in enumerate(targets, start=1):
        if not target.description.strip():
            raise ValidationError({"targets": f"Target {n} has success criteria but no target."})
        if not target.success_criteria.strip():
            raise ValidationError(
                {"targets": f"Target {n} needs success criteria: what will show it has been met?"}
            )
    return targets


def _add_strategies(
    plan: SupportPlan, strategies: list[StrategyInput], started_on: date
) -> list[PlanStrategy]:
    """Each new strategy is tried from `started_on` (the plan's start, or the day it is
    added to a running plan) at the plan's step."""
    made, seen = [], set()
    existing = {
        (ps.tried.strategy_id or ps.tried.name.casefold())
        for ps in PlanStrategy.objects.filter(plan=plan).select_related("tried")
    }
    for item in strategies:
        if item.strategy is not None and item.strategy.step_id != plan.step_id:
            raise ValidationError({"strategies": f"{item.strategy.name} is not in this step's catalogue."})
        key = item.strategy.pk if item.strategy else item.name.strip().casefold()
        if not key or key in seen or key in existing:
            continue
        seen.add(key)
        tried = StrategyTried(
            school_id=plan.school_id,
            pupil_id=plan.pupil_id,
            step_id=plan.step_id,
            strategy=item.strategy,
            name="" if item.strategy else item.name.strip()[:200],
            started_on=started_on,
        )
        tried.full_clean()
        tried.save()
        made.append(
            PlanStrategy.objects.create(school_id=plan.school_id, plan=plan, tried=tried, how=item.how[:300])
        )
    return made


def _save_targets(plan: SupportPlan, targets: list[TargetInput]) -> None:
    current = {t.pk: t for t in PlanTarget.objects.filter(plan=plan)}
    keep = set()
    for order, item in enumerate(targets):
        if item.id is not None:
            target = current.get(item.id)
            if target is None:
                raise ValidationError({"targets": "A target is not part of this plan; reload and try again."})
            target.description, target.success_criteria, target.order = (
                item.description,
                item.success_criteria,
                order,
            )
            target.save(update_fields=["description", "success_criteria", "order"])
            keep.add(target.pk)
        else:
            PlanTarget.objects.create(
                school_id=plan.school_id,
                plan=plan,
                order=order,
                description=item.description.strip(),
                success_criteria=item.success_criteria.strip(),
            )
    dropped = [pk for pk in current if pk not in keep]
    if dropped:
        if TargetOutcome.objects.filter(target_id__in=dropped).exists():
            raise ValidationError(
                {"targets": "A target that has been reviewed cannot be removed from the plan."}
            )
        PlanTarget.objects.filter(pk__in=dropped).delete()


@transaction.atomic
def plan_create(
    *,
    request: HttpRequest | None,
    pupil: Pupil,
    data: dict,
    starts_on: date,
    targets: list[TargetInput],
    strategies: list[StrategyInput] = (),
    review_due: date | None = None,
) -> SupportPlan:
    """A new plan at the pupil's current step, its first review due after the LA's interval."""
    placement = current_placement(pupil)
    if placement is None:
        raise ValidationError(
            "Place the pupil on a step before making a support plan: its strategies come from the step."
        )
    if starts_on > timezone.localdate():
        raise ValidationError(
            {"starts_on": "A plan cannot start in the future: make it on the day it starts."}
        )
    if starts_on < placement.placed_on:
        began = f"{placement.placed_on:%d/%m/%Y}"
        raise ValidationError(
            {"starts_on": f"A plan at this step cannot start before the step began ({began})."}
        )
    targets = _check_targets(list(targets))
    due = review_due or review_due_after(pupil.school, starts_on)
    plan = SupportPlan(
        school_id=pupil.school_id,
        pupil=pupil,
        step=placement.step,
        starts_on=starts_on,
        review_due=due,
        recorded_by=acting_user(request),
        **{k: v for k, v in data.items() if k in PLAN_FIELDS},
    )
    plan.full_clean(exclude=["recorded_by"])
    plan.save()
    _save_targets(plan, targets)
    _add_strategies(plan, list(strategies), started_on=starts_on)
    _audit(request, plan, "plan made", step=plan.step_id)
    return plan


@transaction.atomic
def plan_update(
    *,
    request: HttpRequest | None,
    plan: SupportPlan,
    data: dict,
    targets: list[TargetInput] | None = None,
    strategies: list[StrategyInput] = (),
    review_due: date | None = None,
) -> SupportPlan:
    """Change an open plan: its text, targets and review date; strategies can be added."""
    # Before the lock: row security hides a row this school may not change from FOR UPDATE,
    # so another school's row (read under a pupil grant) would vanish rather than be refused.
    plan.check_writable()
    plan = SupportPlan.objects.select_for_update(of=("self",)).select_related("pupil").get(pk=plan.pk)
    if plan.status != SupportPlan.Status.OPEN:
        raise ValidationError("This plan is closed: make a new plan instead.")
    changed = []
    for field, value in data.items():
        if field in PLAN_FIELDS and getattr(plan, field) != value:
            setattr(plan, field, value)
            changed.append(field)
    if review_due is not None and review_due != plan.review_due:
        plan.review_due = review_due
        changed.append("review_due")
    plan.full_clean(exclude=["recorded_by"])
    plan.save()
    if targets is not None:
        _save_targets(plan, _check_targets(list(targets)))
        changed.append("targets")
    # A strategy added now starts now: the escalation rule must not count time it never ran.
    if _add_strategies(plan, list(strategies), started_on=max(plan.starts_on, timezone.localdate())):
        changed.append("strategies")
    _audit(request, plan, "plan changed", changed=changed)
    return plan


@transaction.atomic
def plan_review_record(
    *,
    request: HttpRequest | None,
    plan: SupportPlan,
    reviewed_on: date,
    decision: str,
    outcomes: dict[int, tuple[str, str]],
    summary: str = "",
    pupil_views: str = "",
    parent_views: str = "",
    next_review_due: date | None = None,
) -> PlanReview:
    """Review a plan: an outcome for every target, the pupil's and parents' views, and a
    decision. Continuing sets the next review; any other decision closes the plan (a step
    change is then made on the pupil's step, and a new plan follows). The plan's
    strategies not yet reviewed are reviewed with it, so they count towards moving up."""
    plan.check_writable()  # before the lock (see plan_update)
    plan = (
        SupportPlan.objects.select_for_update(of=("self",)).select_related("pupil", "school").get(pk=plan.pk)
    )
    if plan.status != SupportPlan.Status.OPEN:
        raise ValidationError("This plan is closed: it cannot be reviewed again.")
    if decision not in PlanReview.Decision.values:
        raise ValidationError(
            {"decision": "Choose what happens next: continue, step up, step down or close."}
        )
    if reviewed_on > timezone.localdate():
        raise ValidationError({"reviewed_on": "A review cannot be dated in the future."})
    if reviewed_on < plan.starts_on:
        raise ValidationError(
            {"reviewed_on": f"The review cannot come before the plan started ({plan.starts_on:%d/%m/%Y})."}
        )
    last = (
        PlanReview.objects.filter(plan=plan)
        .order_by("-reviewed_on")
        .values_list("reviewed_on", flat=True)
        .first()
    )
    if last and reviewed_on < last:
        raise ValidationError(
            {
                "reviewed_on": f"The plan was last reviewed on {last:%d/%m/%Y}: "
                "this review cannot come before it."
            }
        )
    targets = {t.pk: t for t in PlanTarget.objects.filter(plan=plan)}
    missing = [t for pk, t in targets.items() if pk not in outcomes]
    if missing:
        raise ValidationError({"outcomes": "Record an outcome for every target of the plan."})
    unknown = [pk for pk in outcomes if pk not in targets]
    if unknown:
        raise ValidationError({"outcomes": "An outcome names a target that is not part of this plan."})
    for rating, _note in outcomes.values():
        if rating not in TargetOutcome.Rating.values:
            raise ValidationError(
                {"outcomes": "Rate each target as achieved, partly achieved or not achieved."}
            )
    if decision == PlanReview.Decision.CONTINUE:
        next_review_due = next_review_due or review_due_after(plan.school, reviewed_on)
        if next_review_due <= reviewed_on:
            raise ValidationError({"next_review_due": "The next review must come after this one."})
    else:
        next_review_due = None
    review = PlanReview(
        school_id=plan.school_id,
        plan=plan,
        reviewed_on=reviewed_on,
        summary=summary,
        pupil_views=pupil_views,
        parent_views=parent_views,
        decision=decision,
        next_review_due=next_review_due,
        recorded_by=acting_user(request),
    )
    review.full_clean(exclude=["recorded_by"])
    review.save()
    TargetOutcome.objects.bulk_create(
        TargetOutcome(school_id=plan.school_id, review=review, target_id=pk, rating=rating, note=note)
        for pk, (rating, note) in outcomes.items()
    )
    StrategyTried.objects.filter(
        plan_strategy__plan=plan, reviewed_on__isnull=True, started_on__lte=reviewed_on
    ).update(reviewed_on=reviewed_on, outcome="Reviewed with the support plan.")
    if next_review_due:
        plan.review_due = next_review_due
        plan.save(update_fields=["review_due", "updated_at"])
    else:
        plan.status, plan.closed_on = SupportPlan.Status.CLOSED, reviewed_on
        plan.save(update_fields=["status", "closed_on", "updated_at"])
    _audit(request, plan, "plan reviewed", review=review.pk, decision=decision)
    return review


def catalogue_for(plan_or_step: SupportPlan | Step | None):
    """The strategies a plan may choose from: its step's catalogue."""
    step_id = (
        plan_or_step.step_id if isinstance(plan_or_step, SupportPlan) else getattr(plan_or_step, "pk", None)
    )
    return Strategy.objects.filter(step_id=step_id).order_by("order", "id")
