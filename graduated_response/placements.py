"""Writes to a pupil's place on the graduated response: first placement, moves, exit,
strategies tried, and the headteacher's approval of an override.

Moving up is guarded by the current step's escalation rule (`Step.min_strategies_to_escalate`):
enough distinct strategies tried *and reviewed* at that step. Below the rule a move up is
refused with the counts, unless a written justification is given; then it waits, as an
override, for a headteacher's approval before it becomes the pupil's step. Every change
writes one audit row naming ids and kinds only, never the reason or evidence text.
"""

from __future__ import annotations

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from graduated_response.models import Step, StepPlacement, Strategy, StrategyTried
from pupils.models import Pupil
from pupils.services import acting_user, save_or_refuse
from schools.audit import Action, audit
from schools.models import Role

Kind = StepPlacement.Kind
Status = StepPlacement.Status


def _audit(request: HttpRequest | None, pupil: Pupil, placement: StepPlacement, event: str) -> None:
    audit(
        request,
        Action.UPDATE,
        pupil,
        detail={
            "fields": ["step"],
            "event": event,
            "placement": placement.pk,
            "kind": placement.kind,
            "step": placement.step_id,
            "from_step": placement.from_step_id,
            "status": placement.status,
            "override": placement.override,
        },
    )


def _check_date(placed_on: date, after: date | None = None) -> None:
    if placed_on > timezone.localdate():
        raise ValidationError({"placed_on": "The date cannot be in the future: record a move on the day."})
    if after is not None and placed_on < after:
        raise ValidationError(
            {"placed_on": f"The date cannot come before the current step began ({after:%d/%m/%Y})."}
        )


def _save(placement: StepPlacement) -> StepPlacement:
    placement.full_clean(validate_constraints=False)
    # Two moves of one pupil at the same moment: the other one won.
    save_or_refuse(placement, "The pupil's step was just changed by someone else; reload and check.")
    return placement


def current_placement(pupil: Pupil, *, lock: bool = False) -> StepPlacement | None:
    qs = StepPlacement.objects.filter(pupil=pupil, status=Status.ACTIVE).select_related("step", "framework")
    if lock:
        qs = qs.select_for_update(of=("self",))
    return qs.first()


def strategies_counted(pupil: Pupil, step: Step) -> int:
    """Distinct strategies tried and reviewed with the pupil at `step` (a catalogue strategy
    counts once however often it was tried; a free-text one by its name)."""
    rows = StrategyTried.objects.filter(pupil=pupil, step=step, reviewed_on__isnull=False).values_list(
        "strategy_id", "name"
    )
    return len({("c", sid) if sid else ("n", name.strip().casefold()) for sid, name in rows})


def escalation_shortfall(pupil: Pupil, step: Step) -> str:
    """Why the pupil cannot yet move up from `step`, or "" when the rule is met."""
    needed = step.min_strategies_to_escalate
    if not needed:
        return ""
    counted = strategies_counted(pupil, step)
    if counted >= needed:
        return ""
    tried = "strategy has" if counted == 1 else "strategies have"
    return (
        f"The pupil cannot move up from step {step.number} yet: {counted} distinct {tried} been tried "
        f"and reviewed at step {step.number}, and the rule for this step needs at least {needed}. "
        "Record and review more strategies, or give a justification for an override, which a "
        "headteacher must approve."
    )


@transaction.atomic
def step_place(
    *, request: HttpRequest | None, pupil: Pupil, step: Step, reason: str, evidence: str = "", placed_on: date
) -> StepPlacement:
    """Place a pupil on a step for the first time (or again after leaving the framework)."""
    if current_placement(pupil, lock=True) is not None:
        raise ValidationError("The pupil already has a step: move them instead.")
    if not step.framework.is_current:
        raise ValidationError("New placements use the framework's current version.")
    _check_date(placed_on)
    placement = _save(
        StepPlacement(
            school_id=pupil.school_id,
            pupil=pupil,
            framework_id=step.framework_id,
            step=step,
            kind=Kind.START,
            reason=reason,
            evidence=evidence,
            placed_on=placed_on,
            recorded_by=acting_user(request),
            status=Status.ACTIVE,
        )
    )
    _audit(request, pupil, placement, "placed")
    return placement


@transaction.atomic
def step_move(
    *,
    request: HttpRequest | None,
    pupil: Pupil,
    to_step: Step,
    reason: str,
    evidence: str = "",
    placed_on: date,
    override_justification: str = "",
) -> StepPlacement:
    """Move a pupil up or down within the framework version they were placed under."""
    current = current_placement(pupil, lock=True)
    if current is None:
        raise ValidationError("The pupil has no step yet: place them on one first.")
    if to_step.framework_id != current.framework_id:
        raise ValidationError("Choose a step of the framework the pupil was placed under.")
    if to_step.number == current.step.number:
        raise ValidationError(f"The pupil is already on step {to_step.number}.")
    if not reason.strip():
        raise ValidationError({"reason": "Give the reason for the move."})
    _check_date(placed_on, current.placed_on)
    justification = override_justification.strip()
    up = to_step.number > current.step.number
    override = False
    if up:
        if to_step.number > current.step.number + 1:
            raise ValidationError("Move up one step at a time, so each step's rule is checked.")
        shortfall = escalation_shortfall(pupil, current.step)
        if shortfall and not justification:
            raise ValidationError(shortfall)
        override = bool(shortfall)
        if StepPlacement.objects.filter(pupil=pupil, status=Status.PENDING).exists():
            raise ValidationError("A move is already awaiting a headteacher's approval.")
    placement = StepPlacement(
        school_id=pupil.school_id,
        pupil=pupil,
        framework_id=current.framework_id,
        step=to_step,
        from_step=current.step,
        kind=Kind.UP if up else Kind.DOWN,
        reason=reason,
        evidence=evidence,
        placed_on=placed_on,
        recorded_by=acting_user(request),
        override=override,
        override_justification=justification if override else "",
        status=Status.PENDING if override else Status.ACTIVE,
    )
    if not override:
        current.status = Status.SUPERSEDED
        current.save(update_fields=["status"])
        # A pending override from the old step no longer applies.
        StepPlacement.objects.filter(pupil=pupil, status=Status.PENDING).update(status=Status.SUPERSEDED)
    _save(placement)
    _audit(request, pupil, placement, "override requested" if override else "moved")
    return placement


@transaction.atomic
def step_exit(
    *, request: HttpRequest | None, pupil: Pupil, reason: str, evidence: str = "", placed_on: date
) -> StepPlacement:
    """The pupil leaves the framework: no current step afterwards, the history stays."""
    current = current_placement(pupil, lock=True)
    if current is None:
        raise ValidationError("The pupil has no step to leave.")
    if not reason.strip():
        raise ValidationError({"reason": "Give the reason for leaving the framework."})
    _check_date(placed_on, current.placed_on)
    current.status = Status.SUPERSEDED
    current.save(update_fields=["status"])
    StepPlacement.objects.filter(pupil=pupil, status=Status.PENDING).update(status=Status.SUPERSEDED)
    placement = _save(
        StepPlacement(
            school_id=pupil.school_id,
            pupil=pupil,
            framework_id=current.framework_id,
            step=current.step,
            from_step=current.step,
            kind=Kind.EXIT,
            reason=reason,
            evidence=evidence,
            placed_on=placed_on,
            recorded_by=acting_user(request),
            status=Status.EXITED,
        )
    )
    _audit(request, pupil, placement, "exited")
    return placement


@transaction.atomic
def step_approve_override(*, request: HttpRequest, placement: StepPlacement) -> StepPlacement:
    """A headteacher approves a move up made before the rule was met; it becomes the step."""
    membership = getattr(request, "membership", None)
    if membership is None or membership.role != Role.HEADTEACHER:
        audit(request, Action.DENIED, placement, detail={"reason": "role", "placement": placement.pk})
        raise PermissionDenied("Only a headteacher can approve an override.")
    placement = StepPlacement.objects.select_for_update(of=("self",)).get(pk=placement.pk)
    if placement.status != Status.PENDING:
        raise ValidationError("This move is not awaiting approval.")
    current = current_placement(placement.pupil, lock=True)
    if current is None or current.step_id != placement.from_step_id:
        raise ValidationError("The pupil's step has changed since this move was asked for; ask again.")
    current.status = Status.SUPERSEDED
    current.save(update_fields=["status"])
    placement.status = Status.ACTIVE
    placement.approved_by = acting_user(request)
    placement.approved_at = timezone.now()
    placement.save(update_fields=["status", "approved_by", "approved_at"])
    _audit(request, placement.pupil, placement, "override approved")
    return placement


@transaction.atomic
def strategy_tried_record(
    *,
    request: HttpRequest | None,
    pupil: Pupil,
    step: Step,
    strategy: Strategy | None = None,
    name: str = "",
    started_on: date,
    reviewed_on: date | None = None,
    outcome: str = "",
) -> StrategyTried:
    today = timezone.localdate()
    if started_on > today or (reviewed_on and reviewed_on > today):
        raise ValidationError("Dates cannot be in the future.")
    tried = StrategyTried(
        school_id=pupil.school_id,
        pupil=pupil,
        step=step,
        strategy=strategy,
        name="" if strategy else name.strip(),
        started_on=started_on,
        reviewed_on=reviewed_on,
        outcome=outcome,
    )
    tried.full_clean()
    tried.save()
    audit(
        request,
        Action.UPDATE,
        pupil,
        detail={
            "fields": ["strategies_tried"],
            "strategy_tried": tried.pk,
            "step": step.pk,
            "strategy": strategy.pk if strategy else None,
            "reviewed": reviewed_on is not None,
        },
    )
    return tried


@transaction.atomic
def strategy_tried_review(
    *, request: HttpRequest | None, tried: StrategyTried, reviewed_on: date, outcome: str
) -> StrategyTried:
    """Record the review of a strategy tried earlier; from then on it counts towards the
    step's escalation rule. A review is recorded once: it is evidence for a later move up,
    so it is not rewritten afterwards."""
    # Before the lock: row security hides a row this school may not change from FOR UPDATE,
    # so another school's row (read under a pupil grant) would vanish rather than be refused.
    tried.check_writable()
    tried = StrategyTried.objects.select_for_update(of=("self",)).select_related("pupil").get(pk=tried.pk)
    if tried.reviewed_on is not None:
        raise ValidationError(f"This strategy was already reviewed on {tried.reviewed_on:%d/%m/%Y}.")
    if reviewed_on > timezone.localdate():
        raise ValidationError({"reviewed_on": "The review date cannot be in the future."})
    if reviewed_on < tried.started_on:
        started = f"{tried.started_on:%d/%m/%Y}"
        raise ValidationError(
            {"reviewed_on": f"The review cannot come before the strategy started ({started})."}
        )
    if not outcome.strip():
        raise ValidationError({"outcome": "Say what the review found."})
    tried.reviewed_on = reviewed_on
    tried.outcome = outcome.strip()
    tried.full_clean()
    tried.save(update_fields=["reviewed_on", "outcome"])
    audit(
        request,
        Action.UPDATE,
        tried.pupil,
        detail={
            "fields": ["strategies_tried"],
            "event": "strategy reviewed",
            "strategy_tried": tried.pk,
            "step": tried.step_id,
        },
    )
    return tried


def _not_yet_reviewed(tried: StrategyTried) -> StrategyTried:
    tried.check_writable()  # before the lock (see strategy_tried_review)
    tried = StrategyTried.objects.select_for_update(of=("self",)).select_related("pupil").get(pk=tried.pk)
    if tried.reviewed_on is not None:
        raise ValidationError(
            "It was reviewed as a strategy tried and counts towards the step's rule: it stays."
        )
    return tried


def _step_began(tried: StrategyTried) -> date | None:
    """When the pupil's current placement on the strategy's step began, if they are on it."""
    placement = current_placement(tried.pupil)
    return placement.placed_on if placement is not None and placement.step_id == tried.step_id else None


@transaction.atomic
def strategy_tried_restart(
    *, request: HttpRequest | None, tried: StrategyTried, started_on: date
) -> StrategyTried:
    """Move the start of a strategy not yet reviewed (its source's dates changed). It never
    starts before the pupil's current step began: time before it is not evidence there."""
    tried = _not_yet_reviewed(tried)
    if started_on > timezone.localdate():
        raise ValidationError({"started_on": "A strategy tried cannot start in the future."})
    began = _step_began(tried)
    tried.started_on = max(started_on, began) if began else started_on
    tried.save(update_fields=["started_on"])
    audit(
        request,
        Action.UPDATE,
        tried.pupil,
        detail={"fields": ["strategies_tried"], "event": "strategy restarted", "strategy_tried": tried.pk},
    )
    return tried


@transaction.atomic
def strategy_tried_withdraw(*, request: HttpRequest | None, tried: StrategyTried) -> None:
    """Take back a strategy tried that was recorded by mistake, before it was reviewed."""
    tried = _not_yet_reviewed(tried)
    pupil = tried.pupil
    pk = tried.pk
    tried.delete()
    audit(
        request,
        Action.UPDATE,
        pupil,
        detail={"fields": ["strategies_tried"], "event": "strategy withdrawn", "strategy_tried": pk},
    )
