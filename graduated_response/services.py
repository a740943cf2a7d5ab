"""Writes to LA frameworks: copying a template, new versions, and step and strategy edits.

Every write runs inside the caller's tenant scope; the scope must be able to write the
LA (`write_local_authority`), and the database refuses the rows otherwise. Copies use a
fixed number of INSERTs whatever the template's size.

Editing in place is for the current version while no pupil record points at it; once one
does (a placement, a strategy tried or a plan at one of its steps), the edit services refuse
and the LA makes a new version (`framework_new_version`), so placed pupils keep the version
they were placed under. Only a scope that writes the LA may edit, and every change is
audited (ids only).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, Max, OuterRef
from django.http import HttpRequest

from graduated_response.models import Framework, Step, StepPlacement, Strategy, StrategyTried, SupportPlan
from graduated_response.templates_data import TEMPLATES, TemplateFramework
from schools.audit import Action, audit
from schools.models import LocalAuthority, School
from schools.tenancy import require_scope, tenant_scope

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
    *,
    la: LocalAuthority,
    template_key: str,
    name: str = "",
    slug: str = "",
    request: HttpRequest | None = None,
) -> Framework:
    """Copy a platform template into the LA as version 1 of a new framework.

    Refused when the LA already has a framework under that slug (by default the template
    key): a second copy would compete with the first, so the LA edits or versions it.
    """
    _require_la_write(request, la)
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
    _audit(request, Action.CREATE, framework, event="copied", template=template.key)
    return framework


@transaction.atomic
def frameworks_load_for_la(
    *, la: LocalAuthority, template_keys: list[str] | None = None, request: HttpRequest | None = None
) -> tuple[list[str], list[str]]:
    """Copy the named templates (all when None) the LA does not have yet: (copied, skipped)."""
    keys = list(dict.fromkeys(template_keys or TEMPLATES))
    for key in keys:
        template_or_error(key)
    have = set(Framework.objects.filter(local_authority=la, slug__in=keys).values_list("slug", flat=True))
    copied = [key for key in keys if key not in have]
    for key in copied:
        framework_copy_for_la(la=la, template_key=key, request=request)
    return copied, [key for key in keys if key in have]


def framework_new_version(framework: Framework, *, request: HttpRequest | None = None) -> Framework:
    """Clone the current version as version + 1 and make the clone current.

    The old version, its steps and strategies stay exactly as they were, for the pupils
    placed under it.
    """
    _require_la_write(request, framework)
    with transaction.atomic():
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
        _audit(
            request, Action.CREATE, new, event="new version", copied_from=framework.pk, version=new.version
        )
    return new


# The edits below check who is asking before their transaction opens, so the audit row of a
# refused attempt is not rolled back with it.


def step_update(*, step: Step, data: dict[str, Any], request: HttpRequest | None = None) -> Step:
    """Change a step's descriptive fields and escalation rule."""
    unknown = set(data) - set(STEP_EDITABLE)
    if unknown:
        raise ValidationError(f"These step fields cannot be changed: {', '.join(sorted(unknown))}.")
    _require_la_write(request, step)
    with transaction.atomic():
        _lock_editable(step.framework_id)
        changed = [field for field, value in data.items() if getattr(step, field) != value]
        for field, value in data.items():
            setattr(step, field, value)
        step.full_clean()
        step.save(update_fields=list(data))
        _audit(
            request, Action.UPDATE, step, event="step changed", framework=step.framework_id, fields=changed
        )
    return step


def strategy_add(
    *, step: Step, name: str, description: str = "", request: HttpRequest | None = None
) -> Strategy:
    """Add a strategy at the end of the step's catalogue."""
    _require_la_write(request, step)
    with transaction.atomic():
        _lock_editable(step.framework_id)
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
        _audit(request, Action.CREATE, strategy, event="strategy added", step=step.pk)
    return strategy


def strategy_update(
    *,
    strategy: Strategy,
    name: str | None = None,
    description: str | None = None,
    request: HttpRequest | None = None,
) -> Strategy:
    _require_la_write(request, strategy)
    with transaction.atomic():
        _lock_editable(_framework_id_of(strategy))
        if name is not None:
            strategy.name = name.strip()
        if description is not None:
            strategy.description = description
        strategy.full_clean()
        strategy.save(update_fields=["name", "description"])
        _audit(request, Action.UPDATE, strategy, event="strategy changed", step=strategy.step_id)
    return strategy


def strategy_remove(*, strategy: Strategy, request: HttpRequest | None = None) -> None:
    _require_la_write(request, strategy)
    with transaction.atomic():
        _lock_editable(_framework_id_of(strategy))
        pk, step_id = strategy.pk, strategy.step_id
        strategy.delete()
        _audit(request, Action.DELETE, None, object_id=pk, event="strategy removed", step=step_id)


def strategies_reorder(*, step: Step, strategy_ids: list[int], request: HttpRequest | None = None) -> None:
    """Put the step's strategies in the given order; every one must be named once."""
    _require_la_write(request, step)
    with transaction.atomic():
        _lock_editable(step.framework_id)
        strategies = {s.pk: s for s in step.strategies.all()}
        if sorted(strategy_ids) != sorted(strategies):
            raise ValidationError("Name each of the step's strategies exactly once.")
        for position, pk in enumerate(strategy_ids, start=1):
            strategies[pk].order = position
        Strategy.objects.bulk_update(list(strategies.values()), ["order"])
        _audit(request, Action.UPDATE, step, event="strategies reordered", strategies=list(strategy_ids))


# --- guards ---------------------------------------------------------------------------------


def framework_in_use(framework: Framework) -> bool:
    """Whether any pupil record points at this version: a placement under it, or a strategy
    tried or a support plan made at one of its steps.

    Those records belong to the LA's schools, which an LA administrator's scope cannot read:
    the role sees no pupil data. The question is only a yes or no about the LA's own
    framework, so it is asked in one EXISTS query, in a scope widened to the LA's schools
    for that query alone; no row of a school leaves this function.
    """
    scope = require_scope()
    la_id = framework.local_authority_id
    if la_id not in scope.read_local_authority:
        raise PermissionDenied("This framework is not your local authority's.")
    schools = School.objects.filter(local_authority_id=la_id).order_by().values_list("pk", flat=True)
    widened = dataclasses.replace(scope, read_school=scope.read_school | frozenset(schools))
    with tenant_scope(widened):
        steps = Step.objects.filter(framework_id=framework.pk).values("pk")
        return (
            Framework.objects.filter(pk=framework.pk)
            .filter(
                Exists(StepPlacement.objects.filter(framework_id=OuterRef("pk")))
                | Exists(StrategyTried.objects.filter(step_id__in=steps))
                | Exists(SupportPlan.objects.filter(step_id__in=steps))
            )
            .exists()
        )


def framework_edit_refusal(framework: Framework) -> str:
    """Why this version cannot be changed in place, or "" when it can."""
    if not framework.is_current:
        return (
            f"Version {framework.version} is no longer current: it stays as it was for the pupils "
            "placed under it. Change the current version instead."
        )
    if framework_in_use(framework):
        return (
            f"Pupils are placed under version {framework.version} of {framework.name}, so it stays "
            "as it is for them. Make a new version to change it: they keep this one, and new "
            "placements use the new one."
        )
    return ""


def _require_la_write(request: HttpRequest | None, obj: LocalAuthority | Framework | Step | Strategy) -> None:
    """Refused unless the scope writes the LA that owns `obj` (the database would refuse the
    write too; this says why, and logs the attempt)."""
    la_id = obj.pk if isinstance(obj, LocalAuthority) else obj.local_authority_id
    if la_id not in require_scope().write_local_authority:
        _audit(request, Action.DENIED, obj, reason="role")
        raise PermissionDenied("Only the local authority's administrator can change its frameworks.")


def _lock_editable(framework_id: int) -> Framework:
    """Lock the version and refuse the edit if it may no longer be changed in place."""
    # The lock orders this edit with a pupil's first placement under the version: inserting
    # a placement takes a key-share lock on the framework row, which waits for this one (and
    # the other way round), so an edit never lands on a version someone was just placed under.
    framework = Framework.objects.select_for_update().get(pk=framework_id)
    refusal = framework_edit_refusal(framework)
    if refusal:
        raise ValidationError(refusal)
    return framework


def _framework_id_of(strategy: Strategy) -> int:
    return Step.objects.filter(pk=strategy.step_id).values_list("framework_id", flat=True).get()


def _audit(
    request: HttpRequest | None, action: str, obj: Framework | Step | Strategy | None, **detail: Any
) -> None:
    object_id = detail.pop("object_id", "")
    audit(
        request,
        action,
        obj,
        object_type="" if obj is not None else "graduated_response.strategy",
        object_id=object_id,
        detail=detail,
    )
