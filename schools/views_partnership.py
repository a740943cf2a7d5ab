"""Browser pages for a partnership's agreements with its provisions, their annual review,
and the written sections of its annual report.

Objects are opened through the selectors in schools/partnership.py, so another partnership's
ids are a 404; the services check again that the scope writes the partnership.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.forms import BaseForm
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from schools import partnership as records
from schools.access import get_in_scope_or_404
from schools.audit import Action, audit
from schools.forms_partnership import AgreementForm, NarrativeForm, SlaReviewForm
from schools.models import SLA_SECTIONS, NarrativeSection, Role
from schools.roles import roles_required
from schools.tenancy import require_scope
from schools.terms import academic_year_label, academic_year_of

agreement_readers = roles_required([Role.PARTNERSHIP_LEAD, Role.PROVISION_LEAD, Role.LA_OFFICER])
report_readers = roles_required([Role.PARTNERSHIP_LEAD, Role.LA_OFFICER])
lead_only = roles_required([Role.PARTNERSHIP_LEAD])
FIRST_YEAR, LAST_YEAR = 2000, 2100


def _agreements(request: HttpRequest):
    return records.agreements_for(require_scope(), provision_id=request.membership.provision_id)


def _can_write(request: HttpRequest) -> bool:
    return request.membership.role == Role.PARTNERSHIP_LEAD


def _errors_from(form: BaseForm, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


@login_required
@agreement_readers
def sla_list(request: HttpRequest) -> HttpResponse:
    agreements = list(_agreements(request))
    today = timezone.localdate()
    rows = [{"agreement": a, "state": records.review_state(a, today)} for a in agreements]
    provisions = list(records.provisions_to_agree(require_scope())) if _can_write(request) else []
    context = {"rows": rows, "provisions": provisions, "can_write": _can_write(request)}
    return render(request, "schools/sla_list.html", context)


@login_required
@agreement_readers
def sla_detail(request: HttpRequest, pk: int) -> HttpResponse:
    agreement = get_in_scope_or_404(request, _agreements(request), pk)
    sections = [(heading, getattr(agreement, name)) for name, heading, _ in SLA_SECTIONS]
    context = {
        "agreement": agreement,
        "sections": sections,
        "state": records.review_state(agreement),
        "reviews": agreement.reviews.select_related("recorded_by"),
        "can_write": _can_write(request),
    }
    return render(request, "schools/sla_detail.html", context)


@login_required
@lead_only
@require_http_methods(["GET", "POST"])
def sla_create(request: HttpRequest, provision_id: int) -> HttpResponse:
    provision = get_in_scope_or_404(request, records.provisions_to_agree(require_scope()), provision_id)
    today = timezone.localdate()
    initial = {"starts_on": today, "review_on": records.a_year_after(today)}
    form = AgreementForm(request.POST or None, initial=initial)
    if form.is_bound and form.is_valid():
        try:
            agreement = records.sla_create(
                request=request,
                provision=provision,
                starts_on=form.cleaned_data["starts_on"],
                review_on=form.cleaned_data["review_on"],
                sections=form.sections(),
            )
        except ValidationError as exc:
            _errors_from(form, exc)
        else:
            messages.success(request, "The draft agreement is saved.")
            return redirect("schools:sla-detail", pk=agreement.pk)
    context = {"form": form, "provision": provision, "agreement": None}
    return render(request, "schools/sla_form.html", context, status=400 if form.errors else 200)


@login_required
@lead_only
@require_http_methods(["GET", "POST"])
def sla_edit(request: HttpRequest, pk: int) -> HttpResponse:
    agreement = get_in_scope_or_404(request, _agreements(request), pk)
    form = AgreementForm(request.POST or None, instance=agreement)
    if form.is_bound and form.is_valid():
        try:
            records.sla_update(
                request=request,
                agreement=agreement,
                starts_on=form.cleaned_data["starts_on"],
                review_on=form.cleaned_data["review_on"],
                sections=form.sections(),
            )
        except ValidationError as exc:
            _errors_from(form, exc)
        else:
            messages.success(request, "The agreement is saved as a draft.")
            return redirect("schools:sla-detail", pk=agreement.pk)
    context = {"form": form, "provision": agreement.provision, "agreement": agreement}
    return render(request, "schools/sla_form.html", context, status=400 if form.errors else 200)


@login_required
@lead_only
@require_POST
def sla_agree(request: HttpRequest, pk: int) -> HttpResponse:
    agreement = get_in_scope_or_404(request, _agreements(request), pk)
    try:
        records.sla_agree(request=request, agreement=agreement)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, "The agreement is recorded as agreed.")
    return redirect("schools:sla-detail", pk=agreement.pk)


@login_required
@lead_only
@require_http_methods(["GET", "POST"])
def sla_review_create(request: HttpRequest, pk: int) -> HttpResponse:
    agreement = get_in_scope_or_404(request, _agreements(request), pk)
    today = timezone.localdate()
    form = SlaReviewForm(
        request.POST or None, initial={"reviewed_on": today, "academic_year": academic_year_of(today)}
    )
    if form.is_bound and form.is_valid():
        try:
            records.sla_review_record(request=request, agreement=agreement, answers=form.cleaned_data)
        except ValidationError as exc:
            _errors_from(form, exc)
        else:
            messages.success(request, "The review is recorded.")
            return redirect("schools:sla-detail", pk=agreement.pk)
    context = {"form": form, "agreement": agreement}
    return render(request, "schools/sla_review_form.html", context, status=400 if form.errors else 200)


def _year_from(request: HttpRequest) -> int:
    raw = request.GET.get("year") or request.POST.get("year") or ""
    if not raw:
        return academic_year_of(timezone.localdate())
    if not raw.isdigit() or not FIRST_YEAR <= int(raw) <= LAST_YEAR:
        raise Http404("No such school year.")
    return int(raw)


@login_required
@report_readers
def narrative_list(request: HttpRequest, pk: int) -> HttpResponse:
    """The annual report's written sections for one school year (`?year=2025`)."""
    partnership = _partnership_or_404(request, pk)
    year = _year_from(request)
    sections = [
        {
            "key": key,
            "label": label,
            "narrative": narrative,
            "form": NarrativeForm(initial={"text": narrative.text if narrative else ""}, prefix=key),
        }
        for key, label, narrative in records.narratives_of_year(partnership, year)
    ]
    context = {
        "partnership": partnership,
        "year": year,
        "year_label": academic_year_label(year),
        "sections": sections,
        "can_write": _can_write(request),
        "previous_url": _narratives_url(pk, year - 1),
        "next_url": _narratives_url(pk, year + 1),
    }
    return render(request, "schools/narrative_list.html", context)


@login_required
@lead_only
@require_POST
def narrative_save(request: HttpRequest, pk: int, section: str) -> HttpResponse:
    partnership = _partnership_or_404(request, pk)
    if section not in NarrativeSection.values:
        raise Http404("No such section.")
    year = _year_from(request)
    form = NarrativeForm(request.POST, prefix=section)
    final = request.POST.get("action") == "final"
    if form.is_valid():
        try:
            records.narrative_save(
                request=request,
                partnership=partnership,
                academic_year=year,
                section=section,
                text=form.cleaned_data["text"],
                final=final,
            )
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
            return redirect(f"{_narratives_url(pk, year)}#{section}")
        label = NarrativeSection(section).label
        messages.success(request, f"{label} is {'marked final' if final else 'saved as a draft'}.")
        return redirect(f"{_narratives_url(pk, year)}#{section}")
    for errors in form.errors.values():
        for message in errors:
            messages.error(request, message)
    return redirect(f"{_narratives_url(pk, year)}#{section}")


def _partnership_or_404(request: HttpRequest, pk: int):
    partnership = records.partnerships_for(require_scope()).filter(pk=pk).first()
    if partnership is None:
        audit(request, Action.DENIED, object_type="schools.partnership", object_id=pk)
        raise Http404("Not found.")
    return partnership


def _narratives_url(pk: int, year: int) -> str:
    return f"{reverse('schools:narratives', kwargs={'pk': pk})}?year={year}"


@login_required
@report_readers
def my_report(request: HttpRequest) -> HttpResponse:
    """The navigation's way in: the lead's own partnership, or the LA officer's list."""
    partnership_id = request.membership.partnership_id
    if partnership_id:
        # Shown here rather than redirected, so the navigation marks where the lead is.
        return narrative_list(request, partnership_id)
    partnerships = records.partnerships_for(require_scope())
    return render(request, "schools/narrative_partnerships.html", {"partnerships": partnerships})
