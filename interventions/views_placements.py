"""Placements in behaviour provisions in the browser: the list, referring a pupil, and a
placement's page with the forms that start it, record its progress, end it or withdraw it.

Who opens these pages: the home school's SENCO and headteacher (their pupils' placements)
and the provision's lead (the provision's placements). A placement is opened only through
the scoped selector, so anyone else's is a 404; a pupil only through the register's
selector. The provision reads a pupil's name only while the placement runs: rows are never
joined to the pupil, and a row it may not name shows the home school instead. Every page
that shows placements audits what it showed (ids only); the services audit each change.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from interventions import placements as services
from interventions.forms import add_errors
from interventions.forms_placements import (
    EndForm,
    PlacementFilterForm,
    ProgressForm,
    ReferForm,
    StartForm,
    WithdrawForm,
)
from interventions.models import ProvisionPlacement
from interventions.placements import is_outside_key_stage, may_withdraw, provision_key_stages
from interventions.selectors_placements import (
    PLACEMENT_ROLES,
    audit_list,
    may_change,
    placement_list,
    provisions_taking,
    weeks_and_days,
    with_pupils,
)
from pupils.codes import SenStatus, key_stage_of
from pupils.selectors import pupil_list
from schools.access import get_in_scope_or_404, get_named_in_body_or_400
from schools.audit import Action, audit
from schools.models import RECORD_KEEPERS
from schools.roles import roles_required
from schools.tenancy import require_scope

PAGE_SIZE = 50
placement_roles_only = roles_required(PLACEMENT_ROLES)
record_keepers_only = roles_required(RECORD_KEEPERS)
Status = ProvisionPlacement.Status


def _placement_or_404(request: HttpRequest, pk: int) -> ProvisionPlacement:
    return get_in_scope_or_404(request, placement_list(require_scope()), pk)


def _detail_url(placement: ProvisionPlacement) -> str:
    return reverse("placements:detail", kwargs={"pk": placement.pk})


# --- the list ------------------------------------------------------------------------------


@login_required
@placement_roles_only
@require_http_methods(["GET"])
def placements(request: HttpRequest) -> HttpResponse:
    scope = require_scope()
    form = PlacementFilterForm(request.GET or None)
    status = form.chosen() if form.is_bound else "all"
    page = Paginator(placement_list(scope, status=status), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = with_pupils(list(page.object_list))
    for p in rows:
        p.stay = weeks_and_days(p.length_of_stay_days)
    audit_list(request, rows, {"page": page.number, "status": status})
    context = {
        "form": form,
        "page": page,
        "placements": rows,
        "status": status,
        "is_provision": scope.role not in RECORD_KEEPERS,
    }
    return render(request, "interventions/placements/list.html", context, status=400 if form.errors else 200)


# --- referring a pupil -----------------------------------------------------------------------


@login_required
@record_keepers_only
@require_http_methods(["GET", "POST"])
def refer(request: HttpRequest, pupil_pk: int) -> HttpResponse:
    pupil = get_in_scope_or_404(request, pupil_list(require_scope(), include_leavers=True), pupil_pk)
    taking = provisions_taking(pupil)
    provisions = list(taking)
    posted = request.method == "POST"
    if posted and request.POST.get("provision"):
        # An id in the body: one the pupil's school may not refer to is a 400 (and audited).
        get_named_in_body_or_400(
            request,
            taking,
            request.POST["provision"],
            field="provision",
            message="That behaviour provision does not take pupils from this school's partnership.",
        )
    form = ReferForm(request.POST if posted else None, pupil=pupil, provisions=provisions)
    if posted and form.is_valid():
        provision = next(p for p in provisions if p.pk == form.cleaned_data["provision"])
        try:
            placement = services.placement_refer(
                request, pupil, provision=provision, **form.data_for_service()
            )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(
                request,
                f"Referral to {provision.name} recorded. Start the placement on the pupil's first day there.",
            )
            return redirect(_detail_url(placement))
    audit(request, Action.VIEW, pupil, detail={"page": "placement-referral"})
    current = services.current_placement(pupil)
    context = {
        "form": form,
        "pupil": pupil,
        "provisions": provisions,
        "current": current,
        "stage": key_stage_of(pupil.nc_year),
        "outside": [
            {"name": p.name, "stages": ", ".join(sorted(provision_key_stages(p)))}
            for p in provisions
            if is_outside_key_stage(pupil, p)
        ],
        "has_ehc_plan": pupil.sen_status == SenStatus.EHC_PLAN,
    }
    return render(request, "interventions/placements/refer.html", context, status=400 if form.errors else 200)


# --- a placement's page ----------------------------------------------------------------------


def _forms_for(request: HttpRequest, placement: ProvisionPlacement) -> dict[str, Form | None]:
    """The forms the viewer may use on this placement now (None where not)."""
    changing = may_change(request, placement)
    return {
        "start_form": StartForm(prefix="start") if changing and placement.status == Status.REFERRED else None,
        "progress_form": ProgressForm(prefix="progress", placement=placement) if changing else None,
        "end_form": EndForm(prefix="end", placement=placement)
        if changing and placement.status == Status.ACTIVE
        else None,
        "withdraw_form": WithdrawForm(prefix="withdraw") if may_withdraw(request, placement) else None,
    }


def _render_detail(
    request: HttpRequest, placement: ProvisionPlacement, *, bound: dict[str, Form] | None = None
) -> HttpResponse:
    [placement] = with_pupils([placement])
    forms = _forms_for(request, placement)
    forms.update(bound or {})
    audit(
        request,
        Action.VIEW,
        placement,
        detail={"page": "placement", "pupil": placement.pupil_id, "named": placement.shown.pupil is not None},
    )
    context = {
        "placement": placement,
        "stay": weeks_and_days(placement.length_of_stay_days),
        "is_home_school": placement.school_id in require_scope().write_school,
        **forms,
    }
    failed = any(f is not None and f.errors for f in (bound or {}).values())
    return render(request, "interventions/placements/detail.html", context, status=400 if failed else 200)


@login_required
@placement_roles_only
@require_http_methods(["GET"])
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_detail(request, _placement_or_404(request, pk))


def _act(request: HttpRequest, pk: int, name: str, form: Form, change, done: str) -> HttpResponse:
    """One change from the placement's page: the service, then back to the page (PRG), or the
    page again with the form's errors and nothing saved."""
    placement = _placement_or_404(request, pk)
    if form.is_valid():
        try:
            change(placement, form.cleaned_data)
        except PermissionDenied:
            audit(request, Action.DENIED, placement, detail={"reason": "role", "change": name})
            raise
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, done)
            return redirect(_detail_url(placement))
    # The service may have set fields on the object before refusing: show what is saved.
    return _render_detail(request, _placement_or_404(request, pk), bound={f"{name}_form": form})


@login_required
@placement_roles_only
@require_http_methods(["POST"])
def start(request: HttpRequest, pk: int) -> HttpResponse:
    def change(placement: ProvisionPlacement, data: dict) -> None:
        services.placement_start(request, placement, data["starts_on"])

    form = StartForm(request.POST, prefix="start")
    return _act(
        request, pk, "start", form, change, "Placement started: the provision can now open the record."
    )


@login_required
@placement_roles_only
@require_http_methods(["POST"])
def progress(request: HttpRequest, pk: int) -> HttpResponse:
    def change(placement: ProvisionPlacement, data: dict) -> None:
        services.placement_progress(
            request,
            placement,
            attendance_percent=data["attendance_percent"],
            suspensions=data["suspensions"] or 0,
            planned_end_on=data["planned_end_on"],
        )

    form = ProgressForm(request.POST, prefix="progress")
    return _act(request, pk, "progress", form, change, "Progress saved.")


@login_required
@placement_roles_only
@require_http_methods(["POST"])
def end(request: HttpRequest, pk: int) -> HttpResponse:
    def change(placement: ProvisionPlacement, data: dict) -> None:
        services.placement_end(
            request,
            placement,
            ends_on=data["ends_on"],
            exit_outcome=data["exit_outcome"],
            exit_note=data["exit_note"],
            attendance_percent=data["attendance_percent"],
            suspensions=data["suspensions"],
        )

    form = EndForm(request.POST, prefix="end")
    return _act(
        request,
        pk,
        "end",
        form,
        change,
        "Placement ended. The provision keeps the placement's record; the pupil's own record "
        "is closed to it.",
    )


@login_required
@placement_roles_only
@require_http_methods(["POST"])
def withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    def change(placement: ProvisionPlacement, data: dict) -> None:
        services.placement_withdraw(request, placement, data["note"])

    form = WithdrawForm(request.POST, prefix="withdraw")
    return _act(request, pk, "withdraw", form, change, "Referral withdrawn.")
