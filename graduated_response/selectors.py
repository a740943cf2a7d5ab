"""Reads of frameworks, always through the scope (the tenant manager filters by LA)."""

from __future__ import annotations

from datetime import date, timedelta

from django.db.models import OuterRef, Prefetch, QuerySet, Subquery

from graduated_response.models import (
    Framework,
    PlanReview,
    PlanStrategy,
    PlanTarget,
    Step,
    StepPlacement,
    Strategy,
    StrategyTried,
    SupportPlan,
    TargetOutcome,
)
from graduated_response.templates_data import TEMPLATES, TemplateFramework
from pupils.models import Pupil
from pupils.selectors import RegisterFilters, pupil_register
from schools.tenancy import TenantScope


def framework_templates() -> list[TemplateFramework]:
    """The platform's templates: code, readable by anyone, with no scope needed."""
    return list(TEMPLATES.values())


def framework_list(scope: TenantScope, *, include_old_versions: bool = False) -> QuerySet[Framework]:
    """The frameworks of the LAs the scope may read; current versions unless asked."""
    qs = Framework.objects.all()
    if not include_old_versions:
        qs = qs.filter(is_current=True)
    return qs.order_by("name", "-version")


def framework_steps(framework: Framework) -> QuerySet[Step]:
    """A framework's steps in order, strategies prefetched: two queries whatever the size."""
    return (
        Step.objects.filter(framework=framework)
        .order_by("number")
        .prefetch_related(Prefetch("strategies", queryset=Strategy.objects.order_by("order", "id")))
    )


def frameworks_with_steps(scope: TenantScope) -> QuerySet[Framework]:
    """Current frameworks with steps and strategies: three queries whatever the count."""
    return framework_list(scope).prefetch_related(
        Prefetch("steps", queryset=Step.objects.order_by("number")),
        Prefetch("steps__strategies", queryset=Strategy.objects.order_by("order", "id")),
    )


# --- placements ---------------------------------------------------------------------------


def _current(field: str) -> Subquery:
    return Subquery(
        StepPlacement.objects.filter(pupil=OuterRef("pk"), status=StepPlacement.Status.ACTIVE)
        .order_by("-placed_on", "-id")
        .values(field)[:1]
    )


def with_current_step(qs: QuerySet[Pupil]) -> QuerySet[Pupil]:
    """Pupils annotated with their current step (id, number, label): in the same query, so a
    list costs no more queries however long it is."""
    return qs.annotate(
        current_step_id=_current("step_id"),
        current_step_number=_current("step__number"),
        current_step_label=_current("step__tier_label"),
    )


def step_history(pupil: Pupil) -> QuerySet[StepPlacement]:
    """Every placement of the pupil, newest first, with the steps and people named."""
    return (
        StepPlacement.objects.filter(pupil=pupil)
        .select_related("step", "from_step", "framework", "recorded_by", "approved_by")
        .order_by("-placed_on", "-id")
    )


def current_step_placement(pupil: Pupil) -> StepPlacement | None:
    return step_history(pupil).filter(status=StepPlacement.Status.ACTIVE).first()


def pending_overrides(scope: TenantScope) -> QuerySet[StepPlacement]:
    """Moves up awaiting a headteacher's approval, across the schools the scope reads."""
    return (
        StepPlacement.objects.filter(
            status=StepPlacement.Status.PENDING,
            pupil__in=pupil_register(scope, RegisterFilters(include_leavers=True)).values("pk"),
        )
        .select_related("pupil", "step", "from_step")
        .order_by("placed_on", "id")
    )


def strategies_tried(pupil: Pupil) -> QuerySet[StrategyTried]:
    return (
        StrategyTried.objects.filter(pupil=pupil)
        .select_related("step", "strategy")
        .order_by("-started_on", "-id")
    )


def current_framework_steps(scope: TenantScope) -> QuerySet[Step]:
    """Steps of the current framework versions the scope reads, for choosing a first step."""
    return (
        Step.objects.filter(framework__is_current=True)
        .select_related("framework")
        .order_by("framework__name", "number")
    )


# --- support plans ------------------------------------------------------------------------


def _plan_parts(qs: QuerySet[SupportPlan]) -> QuerySet[SupportPlan]:
    return qs.select_related("step", "recorded_by").prefetch_related(
        Prefetch("targets", queryset=PlanTarget.objects.order_by("order", "id")),
        Prefetch(
            "plan_strategies",
            queryset=PlanStrategy.objects.select_related("tried__strategy").order_by("id"),
        ),
        Prefetch(
            "reviews",
            queryset=PlanReview.objects.select_related("recorded_by")
            .prefetch_related(Prefetch("outcomes", queryset=TargetOutcome.objects.select_related("target")))
            .order_by("-reviewed_on", "-id"),
        ),
    )


def plans_for_pupil(pupil: Pupil) -> QuerySet[SupportPlan]:
    """The pupil's plans, newest first, with targets, strategies and reviews: five queries."""
    return _plan_parts(SupportPlan.objects.filter(pupil=pupil)).order_by("-starts_on", "-id")


def plan_list(scope: TenantScope) -> QuerySet[SupportPlan]:
    """Every plan the scope reads, with its parts, for the API."""
    return _plan_parts(SupportPlan.objects.select_related("pupil")).order_by("-starts_on", "-id")


def reviews_due(scope: TenantScope, *, today: date, within_days: int = 14) -> QuerySet[SupportPlan]:
    """Open plans whose review is overdue or falls due within `within_days`, soonest first:
    one query however many there are."""
    return (
        SupportPlan.objects.filter(
            status=SupportPlan.Status.OPEN,
            review_due__lte=today + timedelta(days=within_days),
            # Pupils on roll that the role may see (a practitioner's narrower set included).
            pupil__in=pupil_register(scope, RegisterFilters()).values("pk"),
        )
        .select_related("pupil", "step")
        .order_by("review_due", "pupil__last_name", "id")
    )
