"""Writes to LA frameworks: copying a template, new versions, and step and strategy edits.

Every write runs inside the caller's tenant scope; the scope must be able to write the
LA (`write_local_authority`), and the database refuses the rows otherwise. Copies use a
fixed number of INSERTs whatever the template's size.

Editing in place is for a framework no pupil is placed under yet; once placements exist
(the step-placement work), edits go to `framework_new_version` so placed pupils keep
the version they were placed under.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max

from graduated_response.models import Framework, Step, Strategy
from graduated_response.templates_data import TEMPLATES, TemplateFramework
from schools.models import LocalAuthority

# The fields of a step an LA may edit (not its framework, number or LA).
STEP_EDITABLE = (
    "tier_label",
    "summary",
    "support_level",
    "who_leads",
    "behaviour_descriptors",
    "assessment",
    "planning",
    "grouping",
    "staffing",
    "methods",
    "review",
    "next_step",
    "min_strategies_to_escalate",
    "escalation_note",
)
STEP_TEXT_LISTS = (
    "behaviour_descriptors",
    "assessment",
    "planning",
    "grouping",
    "staffing",
    "methods",
    "review",
)


def template_or_error(template_key: str) -> TemplateFramework:
    try:
        return TEMPLATES[template_key]
    except KeyError:
        known = ", ".join(sorted(TEMPLATES))
        raise ValidationError(
            f"There is no framework template {template_key!r}; choose one of {known}."
        ) from None


@transaction.atomic
def framework_copy_for_la(
    *, la: LocalAuthority, template_key: str, name: str = "", slug: str = ""
) -> Framework:
    """Copy a platform template into the LA as version 1 of a new framework.

    Refused when the LA already has a framework under that slug (by default the template
    key): a second copy would compete with the first, so the LA edits or versions it.
    """
    template = template_or_error(template_key)
    slug = slug or template.key
    if Framework.objects.filter(local_authority=la, slug=slug).exists():
        raise ValidationError(f"{la.name} already has the framework {slug!r}; edit it or make a new version.")
    framework = Framework.objects.create(
        local_authority=la,
        slug=slug,
        name=name or template.name,
        description=template.description,
        template_key=template.key,
    )
    steps = Step.objects.bulk_create(
        [
            Step(
                local_authority=la,
                framework=framework,
                number=t.number,
                tier_label=t.tier_label,
                summary=t.summary,
                support_level=t.support_level,
                who_leads=t.who_leads,
                next_step=t.next_step,
                min_strategies_to_escalate=t.min_strategies_to_escalate,
                escalation_note=t.escalation_note,
                **{field: "\n".join(getattr(t, field)) for field in STEP_TEXT_LISTS},
            )
            for t in template.steps
        ]
    )
    Strategy.objects.bulk_create(
        [
            Strategy(local_authority=la, step=step, name=s.name, description=s.description, order=i)
            for step, t in zip(steps, template.steps, strict=True)
            for i, s in enumerate(t.strategies, start=1)
        ]
    )
    return framework


@transaction.atomic
def frameworks_load_for_la(
    *, la: LocalAuthority, template_keys: list[str] | None = None
) -> tuple[list[str], list[str]]:
    """Copy the named templates (all when None) the LA does not have yet: (copied, skipped)."""
    keys = list(dict.fromkeys(template_keys or TEMPLATES))
    for key in keys:
        template_or_error(key)
    have = set(Framework.objects.filter(local_authority=la, slug__in=keys).values_list("slug", flat=True))
    copied = [key for key in keys if key not in have]
    for key in copied:
        framework_copy_for_la(la=la, template_key=key)
    return copied, [key for key in keys if key in have]


@transaction.atomic
def framework_new_version(framework: Framework) -> Framework:
    """Clone the current version as version + 1 and make the clone current.

    The old version, its steps and strategies stay exactly as they were, for the pupils
    placed under it.
    """
    # Lock the row so two editors cannot both branch from the same version.
    framework = Framework.objects.select_for_update().get(pk=framework.pk)
    if not framework.is_current:
        raise ValidationError("Only the current version of a framework can be taken forward.")
    latest = Framework.objects.filter(
        local_authority_id=framework.local_authority_id, slug=framework.slug
    ).aggregate(v=Max("version"))["v"]
    old_steps = list(framework.steps.prefetch_related("strategies").order_by("number"))
    Framework.objects.filter(pk=framework.pk).update(is_current=False)
    new = Framework.objects.create(
        local_authority_id=framework.local_authority_id,
        slug=framework.slug,
        name=framework.name,
        description=framework.description,
        template_key=framework.template_key,
        version=latest + 1,
        copied_from=framework,
    )
    new_steps = Step.objects.bulk_create(
        [
            Step(
                local_authority_id=step.local_authority_id,
                framework=new,
                number=step.number,
                **{field: getattr(step, field) for field in STEP_EDITABLE},
            )
            for step in old_steps
        ]
    )
    Strategy.objects.bulk_create(
        [
            Strategy(
                local_authority_id=s.local_authority_id,
                step=new_step,
                name=s.name,
                description=s.description,
                order=s.order,
            )
            for old, new_step in zip(old_steps, new_steps, strict=True)
            for s in old.strategies.all()
        ]
    )
    return new


def step_update(*, step: Step, data: dict[str, Any]) -> Step:
    """Change a step's descriptive fields and escalation rule."""
    unknown = set(data) - set(STEP_EDITABLE)
    if unknown:
        raise ValidationError(f"These step fields cannot be changed: {', '.join(sorted(unknown))}.")
    for field, value in data.items():
        setattr(step, field, value)
    step.full_clean()
    step.save(update_fields=list(data))
    return step


def strategy_add(*, step: Step, name: str, description: str = "") -> Strategy:
    """Add a strategy at the end of the step's catalogue."""
    last = step.strategies.aggregate(n=Max("order"))["n"] or 0
    strategy = Strategy(
        local_authority_id=step.local_authority_id,
        step=step,
        name=name.strip(),
        description=description,
        order=last + 1,
    )
    strategy.full_clean()
    strategy.save()
    return strategy


def strategy_update(
    *, strategy: Strategy, name: str | None = None, description: str | None = None
) -> Strategy:
    if name is not None:
        strategy.name = name.strip()
    if description is not None:
        strategy.description = description
    strategy.full_clean()
    strategy.save(update_fields=["name", "description"])
    return strategy


def strategy_remove(*, strategy: Strategy) -> None:
    strategy.delete()


@transaction.atomic
def strategies_reorder(*, step: Step, strategy_ids: list[int]) -> None:
    """Put the step's strategies in the given order; every one must be named once."""
    strategies = {s.pk: s for s in step.strategies.all()}
    if sorted(strategy_ids) != sorted(strategies):
        raise ValidationError("Name each of the step's strategies exactly once.")
    for position, pk in enumerate(strategy_ids, start=1):
        strategies[pk].order = position
    Strategy.objects.bulk_update(list(strategies.values()), ["order"])
