"""A pupil's step in the browser: place or move them, record strategies tried, and a
headteacher's approval of an override. The pupil is opened through the register's selector
and `get_in_scope_or_404`, so another school's pupil or placement is a 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from graduated_response import placements, selectors
from graduated_response.forms import StepForm, StrategyTriedForm
from graduated_response.models import Step, StepPlacement
from pupils.models import Pupil
from pupils.selectors import RegisterFilters, pupil_register
from schools.access import get_in_scope_or_404, require_pupil_level
from schools.audit import Action, audit
from schools.models import RECORD_KEEPERS, Role
from schools.roles import roles_required
from schools.tenancy import require_scope

writers_only = roles_required(RECORD_KEEPERS)


def _pupil_or_404(request: HttpRequest, pk: int) -> Pupil:
    require_pupil_level(request)
    qs = pupil_register(require_scope(), RegisterFilters(include_leavers=True))
    return get_in_scope_or_404(request, qs, pk)


def _back(pupil: Pupil) -> str:
    return reverse("pupils:detail", kwargs={"pk": pupil.pk}) + "#graduated-response"


def _errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


@login_required
@writers_only
@require_http_methods(["GET", "POST"])
def step(request: HttpRequest, pk: int) -> HttpResponse:
    pupil = _pupil_or_404(request, pk)
    current = placements.current_placement(pupil)
    if current is None:
        steps = list(selectors.current_framework_steps(require_scope()))
    else:
        steps = list(Step.objects.filter(framework_id=current.framework_id).select_related("framework"))
        steps = [s for s in steps if s.pk != current.step_id]
    form = StepForm(request.POST or None, steps=steps, can_exit=current is not None)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        common = {
            "request": request,
            "pupil": pupil,
            "reason": data["reason"],
            "evidence": data["evidence"],
            "placed_on": data["placed_on"],
        }
        try:
            if data["to_step"] == StepForm.EXIT:
                placements.step_exit(**common)
                done = "The pupil has left the framework."
            elif current is None:
                placements.step_place(step=form.chosen_step(), **common)
                done = "The pupil is placed on the step."
            else:
                placed = placements.step_move(
                    to_step=form.chosen_step(),
                    override_justification=data["override_justification"],
                    **common,
                )
                done = (
                    "The move awaits a headteacher's approval."
                    if placed.status == StepPlacement.Status.PENDING
                    else "The pupil's step is changed."
                )
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, done)
            return redirect(_back(pupil))
    audit(request, Action.VIEW, pupil, detail={"page": "step"})
    shortfall = placements.escalation_shortfall(pupil, current.step) if current else ""
    context = {"form": form, "pupil": pupil, "current": current, "shortfall": shortfall}
    return render(request, "graduated_response/step_form.html", context, status=400 if form.errors else 200)


@login_required
@writers_only
@require_http_methods(["GET", "POST"])
def strategies(request: HttpRequest, pk: int) -> HttpResponse:
    pupil = _pupil_or_404(request, pk)
    current = placements.current_placement(pupil)
    if current is None:
        messages.error(request, "Place the pupil on a step before recording strategies tried.")
        return redirect(_back(pupil))
    form = StrategyTriedForm(request.POST or None, step=current.step)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            placements.strategy_tried_record(
                request=request,
                pupil=pupil,
                step=current.step,
                strategy=data["strategy"],
                name=data["name"],
                started_on=data["started_on"],
                reviewed_on=data["reviewed_on"],
                outcome=data["outcome"],
            )
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, "Strategy recorded.")
            return redirect(_back(pupil))
    audit(request, Action.VIEW, pupil, detail={"page": "strategies"})
    context = {"form": form, "pupil": pupil, "current": current}
    return render(
        request, "graduated_response/strategy_form.html", context, status=400 if form.errors else 200
    )


@login_required
@writers_only
@require_http_methods(["POST"])
def approve(request: HttpRequest, pk: int, placement_id: int) -> HttpResponse:
    pupil = _pupil_or_404(request, pk)
    placement = get_in_scope_or_404(request, selectors.step_history(pupil), placement_id)
    if request.membership.role != Role.HEADTEACHER:
        audit(request, Action.DENIED, placement, detail={"reason": "role", "placement": placement.pk})
        raise PermissionDenied("Only a headteacher can approve an override.")
    try:
        placements.step_approve_override(request=request, placement=placement)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Override approved: the pupil is on the new step.")
    return redirect(_back(pupil))
