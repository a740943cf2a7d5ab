"""Reads of frameworks, always through the scope (the tenant manager filters by LA)."""

from __future__ import annotations

from django.db.models import OuterRef, Prefetch, QuerySet, Subquery

from graduated_response.models import Framework, Step, StepPlacement, Strategy, StrategyTried
from graduated_response.templates_data import TEMPLATES, TemplateFramework
from pupils.models import Pupil
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
        StepPlacement.objects.filter(status=StepPlacement.Status.PENDING)
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
