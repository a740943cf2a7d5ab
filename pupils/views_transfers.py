"""Transfers between schools in the browser: the form on a pupil's page, the school's lists
of pupils sent and received, and a transfer's page.

The service (pupils/transfers.py) does the work and the audit of the change. A transfer is
opened through `transfers_in_scope()`, so only the two schools (and a school the pupil
reached later, which reads their whole history) can open it. For the school that sent the
pupil, the transfer's page also shows what it recorded about them, read-only: the pupil's
own pages answer 404 there, because the pupil is no longer on its register.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from pupils.forms import add_model_errors
from pupils.forms_transfers import TransferForm
from pupils.models import Pupil, Transfer
from pupils.selectors import RegisterFilters, pupil_register
from pupils.transfers import transfer_pupil, transfers_in_scope, transfers_received, transfers_sent
from pupils.views import _detail_context, _pupil_or_404, writers_only
from schools.access import get_in_scope_or_404, require_pupil_level
from schools.audit import Action, audit
from schools.tenancy import require_scope


def pupil_page(request: HttpRequest, pupil: Pupil, can_write: bool) -> dict[str, Any]:
    """The pupil page's part (pupils.sections): where the pupil came from, and whether the
    viewer may transfer them on. One query."""
    scope = require_scope()
    return {
        "transfers_in": list(transfers_in_scope().filter(pupil=pupil)),
        "can_transfer": can_write and pupil.is_active and pupil.school_id in scope.write_school,
    }


def _pupils_by_id(transfers: list[Transfer]) -> dict[int, Pupil]:
    """The pupils of the rows, in one query. Not a join: a sending school reads a pupil's
    row by its name grant, and a row it cannot read must not hide the transfer itself."""
    ids = {t.pupil_id for t in transfers}
    return {p.pk: p for p in Pupil.objects.filter(pk__in=ids)} if ids else {}


@login_required
@writers_only
@require_http_methods(["GET", "POST"])
def transfer_create(request: HttpRequest, pk: int) -> HttpResponse:
    require_pupil_level(request)
    pupil = _pupil_or_404(request, pk)
    form = TransferForm(request.POST if request.method == "POST" else None, school=request.membership.school)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            record = transfer_pupil(
                request,
                pupil,
                to_school=data["to_school"],
                reason=data["reason"],
                transferred_on=data["transferred_on"],
                note=data["note"],
            )
        except ValidationError as exc:
            add_model_errors(form, exc)
        else:
            messages.success(
                request,
                f"{pupil.first_name} {pupil.last_name} is transferred to {record.to_school.name}, "
                "with their history. What your school recorded stays readable here.",
            )
            return redirect("transfers:detail", pk=record.pk)
    audit(request, Action.VIEW, pupil, detail={"page": "transfer"})
    context = {"form": form, "pupil": pupil}
    return render(request, "pupils/transfer_form.html", context, status=400 if form.errors else 200)


@login_required
@writers_only
@require_GET
def transfer_list(request: HttpRequest) -> HttpResponse:
    """Pupils this school sent on, and pupils it received: two short lists, newest first."""
    require_pupil_level(request)
    scope = require_scope()
    sent = list(transfers_sent(scope))
    received = list(transfers_received(scope))
    pupils = _pupils_by_id(sent + received)
    for transfer in sent + received:
        transfer.pupil_shown = pupils.get(transfer.pupil_id)
    audit(
        request,
        Action.LIST,
        object_type="pupils.transfer",
        detail={"sent": len(sent), "received": len(received), "pupils": sorted(pupils)},
    )
    return render(request, "pupils/transfer_list.html", {"sent": sent, "received": received})


@login_required
@writers_only
@require_GET
def transfer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_pupil_level(request)
    scope = require_scope()
    transfer = get_in_scope_or_404(request, transfers_in_scope(), pk)
    # Readable to the sending school by name, to the receiving school in full.
    pupil = get_in_scope_or_404(request, Pupil.objects.all(), transfer.pupil_id)
    # The pupil's row is the receiving school's now: the read is logged in the viewer's own
    # school, whichever side it is on.
    audit(
        request,
        Action.VIEW,
        object_type="pupils.pupil",
        object_id=pupil.pk,
        school_id=request.membership.school_id,
        detail={"page": "transfer", "transfer": transfer.pk},
    )
    context = {"transfer": transfer, "pupil": pupil}
    if transfer.school_id in scope.write_school:
        # What this school recorded: the pupil's page, read-only. The scope already limits
        # every part of it to this school's own rows.
        context = {**_detail_context(request, pupil, read_only=True), **context}
        return render(request, "pupils/transfer_record.html", context)
    on_register = pupil_register(scope, RegisterFilters(include_leavers=True)).filter(pk=pupil.pk).exists()
    context["on_register"] = on_register
    return render(request, "pupils/transfer_detail.html", context)
