"""The SEN register in the browser: the list, a pupil's page, the forms that change a record,
and the register's downloads.

Views stay thin: a selector reads (always through the tenant scope), a service writes (and
audits the change), and the view audits what it shows. A pupil is opened only through
`get_in_scope_or_404`, so another school's pupil is a 404 whatever the role.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from pupils import export, services
from pupils.codes import AreaOfNeed, Term
from pupils.forms import (
    SORT_LABELS,
    LegalHoldForm,
    OutcomeForm,
    ProfileForm,
    PupilEditForm,
    PupilForm,
    RegisterForm,
    ScoreForm,
    academic_year_label,
    add_model_errors,
)
from pupils.models import PLACEMENT_WITHHELD, OnePageProfile, Pupil
from pupils.retention import legal_hold_set
from pupils.sections import detail_sections
from pupils.selectors import pupil_history, pupil_list, pupil_register
from schools.access import get_in_scope_or_404, require_pupil_level
from schools.audit import Action, audit
from schools.formatting import plain_number
from schools.models import RECORD_KEEPERS, Role
from schools.roles import roles_required
from schools.tenancy import require_scope

PAGE_SIZE = 50
# Who may change a pupil's record and download the register.
WRITERS = RECORD_KEEPERS
AREA_LABELS = dict(AreaOfNeed.choices)
TERM_ORDER = {term: i for i, term in enumerate(Term.values)}


writers_only = roles_required(WRITERS)


def can_write(request: HttpRequest) -> bool:
    membership = getattr(request, "membership", None)
    return membership is not None and membership.role in WRITERS


def _pupil_or_404(request: HttpRequest, pk: int) -> Pupil:
    # Leavers stay on record, so their pages still open.
    return get_in_scope_or_404(request, pupil_list(require_scope(), include_leavers=True), pk)


# --- the register ----------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def pupil_index(request: HttpRequest) -> HttpResponse:
    """The register. Filters, search, sort and page are POSTed (a search holds a child's name
    or UPN, which must never sit in a URL or an access log); htmx swaps in the results.
    A link may open it filtered (a dashboard's row: `?step=3&year=7`): GET carries the
    filters only, never a search."""
    require_pupil_level(request)
    placement_view = require_scope().role == Role.PROVISION_LEAD
    withheld = PLACEMENT_WITHHELD if placement_view else ()
    if request.method == "POST":
        data = request.POST
    else:
        data = {k: v for k, v in request.GET.items() if k in RegisterForm.FILTER_FIELDS} or None
    form = RegisterForm(data, withheld=withheld)
    template = "pupils/_register_results.html" if request.htmx else "pupils/pupil_list.html"
    context: dict[str, Any] = {"form": form, "can_write": can_write(request)}
    context["placement_view"] = placement_view
    if form.is_bound and not form.is_valid():
        return render(request, template, {**context, "page": None}, status=400)
    filters = form.filters()
    page = Paginator(pupil_register(require_scope(), filters), PAGE_SIZE).get_page(form.page_number())
    pupils = list(page.object_list)
    for pupil in pupils:
        pupil.area_label = AREA_LABELS.get(pupil.area_of_need, "")
    audit(
        request,
        Action.SEARCH if filters.search.strip() else Action.LIST,
        object_type="pupils.pupil",
        detail={"page": page.number, "shown": len(pupils), "filters": form.audit_filters()},
    )
    sorted_by, direction = form.sorted_column()
    context.update(
        page=page,
        pupils=pupils,
        searched=bool(filters.search.strip()),
        filtered=bool(form.audit_filters()) or bool(filters.search.strip()),
        sorted_by=sorted_by,
        sort_direction=direction,
        sort_label=SORT_LABELS.get(filters.sort, ""),
        export_fields=form.export_fields(),
    )
    return render(request, template, context)


# --- a pupil's page ----------------------------------------------------------------------


def _detail_context(request: HttpRequest, pupil: Pupil, *, read_only: bool = False) -> dict[str, Any]:
    """The pupil's page. `read_only`: what a school recorded about a pupil it has sent on
    (pupils/views_transfers.py), shown without a form or a link that changes anything."""
    outcomes = sorted(
        pupil.outcomes.all(), key=lambda o: (o.academic_year, TERM_ORDER.get(o.term, 0)), reverse=True
    )
    for outcome in outcomes:
        outcome.year_label = academic_year_label(outcome.academic_year)
        outcome.attendance_label = plain_number(outcome.attendance_pct)
        outcome.days_label = plain_number(outcome.suspension_days)
    scores = list(pupil.scores.all())
    for score in scores:
        score.score_label = plain_number(score.score)
    writer = can_write(request) and not read_only
    # A legal hold (pupils/retention.py) is the headteacher's to set; the SENCO sees it.
    holder = writer and request.membership.role == Role.HEADTEACHER
    hold_initial = {"legal_hold": pupil.legal_hold, "legal_hold_reason": pupil.legal_hold_reason}
    return {
        **detail_sections(request, pupil, can_write=writer),
        "pupil": pupil,
        "read_only": read_only,
        # A behaviour provision's staff see what the placement needs, not the census extras.
        "placement_view": require_scope().role == Role.PROVISION_LEAD,
        "area_label": AREA_LABELS.get(pupil.area_of_need, ""),
        "history": list(pupil_history(pupil)),
        "profile": OnePageProfile.objects.select_related("updated_by").filter(pupil=pupil).first(),
        "profile_labels": ProfileForm.LABELS,
        "outcomes": outcomes,
        "scores": scores,
        "can_write": writer,
        "outcome_form": OutcomeForm() if writer else None,
        "score_form": ScoreForm() if writer else None,
        "legal_hold_form": LegalHoldForm(initial=hold_initial) if holder else None,
    }


@login_required
@require_http_methods(["GET"])
def pupil_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_pupil_level(request)
    pupil = _pupil_or_404(request, pk)
    audit(request, Action.VIEW, pupil)
    return render(request, "pupils/pupil_detail.html", _detail_context(request, pupil))


@login_required
@require_http_methods(["GET"])
def pupil_print(request: HttpRequest, pk: int) -> HttpResponse:
    """The pupil's page laid out for paper, without forms; opening it is audited as a print."""
    require_pupil_level(request)
    pupil = _pupil_or_404(request, pk)
    audit(request, Action.PRINT, pupil)
    context = {**_detail_context(request, pupil), "printing": True, "can_write": False}
    context.update(outcome_form=None, score_form=None, legal_hold_form=None, printed_at=timezone.localtime())
    return render(request, "pupils/pupil_detail.html", context)


@login_required
@roles_required([Role.HEADTEACHER])
@require_http_methods(["POST"])
def pupil_legal_hold(request: HttpRequest, pk: int) -> HttpResponse:
    """Set or lift the legal hold that keeps a record past its retention date. The pupil's
    page posts here; a mistake comes back on that page with the form and its errors."""
    require_pupil_level(request)
    pupil = _pupil_or_404(request, pk)
    form = LegalHoldForm(request.POST)
    if form.is_valid():
        hold = form.cleaned_data["legal_hold"]
        try:
            legal_hold_set(
                request=request, pupil=pupil, hold=hold, reason=form.cleaned_data["legal_hold_reason"]
            )
        except ValidationError as exc:
            add_model_errors(form, exc)
        else:
            messages.success(
                request,
                "Legal hold set: this record is kept past its retention date until the hold is lifted."
                if hold
                else "Legal hold lifted: this record now goes at its retention date once the pupil has left.",
            )
            return redirect(reverse("pupils:detail", kwargs={"pk": pupil.pk}) + "#retention")
    audit(request, Action.VIEW, pupil, detail={"page": "retention"})
    context = {**_detail_context(request, pupil), "legal_hold_form": form}
    return render(request, "pupils/pupil_detail.html", context, status=400)


# --- adding and changing a record --------------------------------------------------------


@login_required
@writers_only
@require_http_methods(["GET", "POST"])
def pupil_create(request: HttpRequest) -> HttpResponse:
    require_pupil_level(request)
    school = request.membership.school
    form = PupilForm(request.POST if request.method == "POST" else None, school=school)
    if form.is_bound and form.is_valid():
        try:
            pupil = services.pupil_create(
                request=request,
                school=school,
                data=form.model_data(),
                sen_start=form.cleaned_data.get("sen_change_date"),
            )
        except ValidationError as exc:
            add_model_errors(form, exc)
        else:
            messages.success(request, "Pupil added to the register.")
            return redirect("pupils:detail", pk=pupil.pk)
    return render(request, "pupils/pupil_form.html", {"form": form, "pupil": None})


@login_required
@writers_only
@require_http_methods(["GET", "POST"])
def pupil_edit(request: HttpRequest, pk: int) -> HttpResponse:
    require_pupil_level(request)
    pupil = _pupil_or_404(request, pk)
    latest = pupil_history(pupil).first()
    # The form works on a copy: validating writes the new values onto its instance, and the
    # service must compare them with the record as it stands to see what changed.
    form = PupilEditForm(
        request.POST if request.method == "POST" else None,
        instance=copy.copy(pupil),
        school=request.membership.school,
        last_sen_start=latest.start_date if latest else None,
    )
    if form.is_bound and form.is_valid():
        try:
            changed = services.pupil_update(
                request=request,
                pupil=pupil,
                data=form.model_data(),
                sen_change_date=form.cleaned_data.get("sen_change_date"),
            )
        except ValidationError as exc:
            add_model_errors(form, exc)
        else:
            messages.success(request, "Changes saved." if changed else "Nothing was changed.")
            return redirect("pupils:detail", pk=pupil.pk)
    audit(request, Action.VIEW, pupil, detail={"page": "edit"})
    return render(request, "pupils/pupil_form.html", {"form": form, "pupil": pupil})


@login_required
@writers_only
@require_http_methods(["GET", "POST"])
def pupil_profile(request: HttpRequest, pk: int) -> HttpResponse:
    require_pupil_level(request)
    pupil = _pupil_or_404(request, pk)
    profile = OnePageProfile.objects.filter(pupil=pupil).first()
    form = ProfileForm(request.POST if request.method == "POST" else None, instance=profile)
    if form.is_bound and form.is_valid():
        services.profile_update(request=request, pupil=pupil, data=form.model_data())
        messages.success(request, "One-page profile saved.")
        return redirect(reverse("pupils:detail", kwargs={"pk": pupil.pk}) + "#profile")
    audit(request, Action.VIEW, pupil, detail={"page": "profile"})
    return render(request, "pupils/profile_form.html", {"form": form, "pupil": pupil})


def _record_view(
    request: HttpRequest, pk: int, *, form_class: type, service: Callable[..., Any], anchor: str, done: str
) -> HttpResponse:
    """Record a term's outcomes or a score: the pupil page's forms post here; a mistake comes
    back on a page of its own with the form and its errors."""
    require_pupil_level(request)
    pupil = _pupil_or_404(request, pk)
    form = form_class(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            service(request=request, pupil=pupil, data=form.model_data())
        except ValidationError as exc:
            add_model_errors(form, exc)
        else:
            messages.success(request, done)
            return redirect(reverse("pupils:detail", kwargs={"pk": pupil.pk}) + f"#{anchor}")
    audit(request, Action.VIEW, pupil, detail={"page": anchor})
    return render(request, "pupils/record_form.html", {"form": form, "pupil": pupil, "anchor": anchor})


@login_required
@writers_only
@require_http_methods(["GET", "POST"])
def pupil_outcomes(request: HttpRequest, pk: int) -> HttpResponse:
    return _record_view(
        request,
        pk,
        form_class=OutcomeForm,
        service=services.outcome_record,
        anchor="outcomes",
        done="Outcomes for the term saved.",
    )


@login_required
@writers_only
@require_http_methods(["GET", "POST"])
def pupil_scores(request: HttpRequest, pk: int) -> HttpResponse:
    return _record_view(
        request,
        pk,
        form_class=ScoreForm,
        service=services.score_record,
        anchor="scores",
        done="Assessment score saved.",
    )


# --- downloads ---------------------------------------------------------------------------


def _export(request: HttpRequest, fmt: str) -> HttpResponse:
    """The register as the list's filters show it (all pages), or the whole active register
    when nothing is posted. `Cache-Control: no-store` comes from the security middleware."""
    require_pupil_level(request)
    form = RegisterForm(request.POST if request.method == "POST" else None)
    if form.is_bound and not form.is_valid():
        context = {
            "title": "The download could not be made",
            "message": "The filters sent were not valid. "
            "Go back to the register, check the filters and try again.",
        }
        return render(request, "error.html", context, status=400)
    pupils = list(pupil_register(require_scope(), form.filters()))
    rows = export.register_rows(pupils)
    if fmt == "xlsx":
        content = export.write_xlsx(export.REGISTER_HEADERS, rows, title="SEN register")
        content_type = export.XLSX_TYPE
    else:
        content = export.write_csv(export.REGISTER_HEADERS, rows)
        content_type = export.CSV_TYPE
    audit(
        request,
        Action.EXPORT,
        object_type="pupils.pupil",
        detail={"format": fmt, "rows": len(pupils), "filters": form.audit_filters()},
    )
    school = request.membership.school
    filename = export.safe_filename(
        "sen-register", school.urn, timezone.localdate().isoformat(), extension=fmt
    )
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@writers_only
@require_http_methods(["GET", "POST"])
def export_csv(request: HttpRequest) -> HttpResponse:
    return _export(request, "csv")


@login_required
@writers_only
@require_http_methods(["GET", "POST"])
def export_xlsx(request: HttpRequest) -> HttpResponse:
    return _export(request, "xlsx")
