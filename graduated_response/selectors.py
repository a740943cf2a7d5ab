"""Reads of frameworks, always through the scope (the tenant manager filters by LA)."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from graduated_response.models import Framework, Step, Strategy
from graduated_response.templates_data import TEMPLATES, TemplateFramework
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
