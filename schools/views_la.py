"""An LA administrator's settings: the support-plan review interval, how long pupils'
records are kept, and term dates.

LocalAuthority is no tenant model, so the LA is never taken from the request: it is the one
the active membership administers (`request.membership.local_authority`), and the services
check again that the scope writes it. A school year is chosen by `?year=`, which names no
object; there is no LA id in any URL here to point at another LA.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from schools import rates, services_la
from schools.audit import Action, audit
from schools.forms_la import CostingForm, RetentionForm, ReviewIntervalForm, SchoolRatesForm, TermYearForms
from schools.models import LocalAuthority, Role, TermDates
from schools.roles import roles_required
from schools.terms import academic_year_label, academic_year_of, typical_terms

la_admin_only = roles_required([Role.LA_ADMIN])
# School years an administrator may enter: wide enough for history and planning ahead.
FIRST_YEAR, LAST_YEAR = 2000, 2100


def _own_la(request: HttpRequest) -> LocalAuthority:
    return request.membership.local_authority


def _year_from(request: HttpRequest) -> int:
    raw = request.GET.get("year", "")
    if not raw:
        return academic_year_of(timezone.localdate())
    if not raw.isdigit() or not FIRST_YEAR <= int(raw) <= LAST_YEAR:
        raise Http404("No such school year.")
    return int(raw)


def _terms_url(year: int) -> str:
    return f"{reverse('schools:la-terms')}?year={year}"


@login_required
@la_admin_only
@require_http_methods(["GET", "POST"])
def la_settings(request: HttpRequest) -> HttpResponse:
    la = _own_la(request)
    # Two forms, each with its own button: a POST carries the fields of one of them.
    retention_posted = "retention_years_after_birth" in request.POST
    form = ReviewIntervalForm(None if retention_posted else request.POST or None, la=la)
    retention_form = RetentionForm(request.POST if retention_posted else None, la=la)
    for bound, field, keyword, save, said in (
        (
            retention_form,
            "retention_years_after_birth",
            "years",
            services_la.retention_years_set,
            "retention period",
        ),
        (form, "review_interval_weeks", "weeks", services_la.review_interval_set, "review interval"),
    ):
        if not (bound.is_bound and bound.is_valid()):
            continue
        try:
            save(request=request, la=la, **{keyword: bound.cleaned_data[field]})
        except ValidationError as exc:
            bound.add_error(field, exc.messages)
        else:
            messages.success(request, f"The {said} is saved.")
            return redirect("schools:la-settings")
    this_year = academic_year_of(timezone.localdate())
    entered = dict(
        TermDates.objects.filter(local_authority=la)
        .values_list("academic_year")
        .annotate(n=Count("id"))
        .order_by()
    )
    years = sorted(set(entered) | {this_year, this_year + 1}, reverse=True)
    context = {
        "la": la,
        "form": form,
        "retention_form": retention_form,
        "years": [
            {"year": y, "label": academic_year_label(y), "terms": entered.get(y, 0), "url": _terms_url(y)}
            for y in years
        ],
    }
    failed = form.errors or retention_form.errors
    return render(request, "schools/la_settings.html", context, status=400 if failed else 200)


@login_required
@la_admin_only
@require_http_methods(["GET", "POST"])
def la_terms(request: HttpRequest) -> HttpResponse:
    """One school year's three terms, saved together. For a year with nothing saved yet,
    `?typical=1` fills the forms (unsaved) with a usual English year to adjust."""
    la = _own_la(request)
    year = _year_from(request)
    saved = services_la.term_dates_of_year(la, year)
    initial = None
    if request.method == "GET" and request.GET.get("typical"):
        if saved:
            messages.error(
                request, "This year already has term dates: a typical year only fills an empty one."
            )
        else:
            initial = {row["term"]: row for row in typical_terms(year)}
            messages.success(
                request, "Filled with a typical year's dates. Check them against your calendar, then save."
            )
    terms = TermYearForms(
        request.POST if request.method == "POST" else None,
        la=la,
        academic_year=year,
        saved=saved,
        initial=initial,
    )
    if terms.is_bound and terms.is_valid():
        try:
            services_la.term_dates_save(request=request, la=la, academic_year=year, rows=terms.rows())
        except ValidationError as exc:
            for message in exc.messages:
                terms.add_error(message)
        else:
            messages.success(request, f"Term dates for {academic_year_label(year)} are saved.")
            return redirect("schools:la-settings")
    context = {
        "la": la,
        "year": year,
        "year_label": academic_year_label(year),
        "terms": terms,
        "saved": bool(saved),
        "filled": initial is not None,
        "action": _terms_url(year),
        "previous_url": _terms_url(year - 1) if year > FIRST_YEAR else "",
        "next_url": _terms_url(year + 1) if year < LAST_YEAR else "",
    }
    status = 400 if terms.has_errors() else 200
    return render(request, "schools/la_terms.html", context, status=status)


@login_required
@la_admin_only
@require_http_methods(["GET", "POST"])
def la_costs(request: HttpRequest) -> HttpResponse:
    """The LA's costing year and hourly staff rates, from which schools' provision maps cost."""
    la = _own_la(request)
    table = rates.rate_table(la)
    form = CostingForm(request.POST or None, la=la, table=table)
    if form.is_bound and form.is_valid():
        try:
            rates.la_costing_set(
                request=request,
                la=la,
                costing_weeks=form.cleaned_data["costing_weeks"],
                costing_year=form.cleaned_data["costing_year"],
                rates=form.rates(),
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, "Costing year and rates saved.")
            return redirect("schools:la-costs")
    context = {"la": la, "form": form}
    return render(request, "schools/la_costs.html", context, status=400 if form.errors else 200)


@login_required
@roles_required([Role.HEADTEACHER, Role.SENCO])
@require_http_methods(["GET", "POST"])
def school_rates(request: HttpRequest) -> HttpResponse:
    """The school's own hourly rates beside the LA's. The headteacher changes them; the SENCO
    reads them (they cost the school's provision map)."""
    school = request.membership.school
    la = LocalAuthority.objects.get(pk=school.local_authority_id)
    table = rates.rate_table(la, school)
    can_change = request.membership.role == Role.HEADTEACHER
    form = SchoolRatesForm(request.POST if can_change and request.method == "POST" else None, table=table)
    if request.method == "POST" and not can_change:
        audit(request, Action.DENIED, school, detail={"reason": "role", "part": "rates"})
        raise PermissionDenied("Only the headteacher can change the school's rates.")
    if form.is_bound and form.is_valid():
        try:
            rates.school_rates_set(request=request, school=school, rates=form.rates())
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, "The school's rates are saved.")
            return redirect("schools:rates")
    context = {"school": school, "la": la, "form": form, "table": table, "can_change": can_change}
    return render(request, "schools/school_rates.html", context, status=400 if form.errors else 200)


def _form_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            name = field if field in form.fields else f"rate_{field}"
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)
