"""Reports in the browser: the list of past reports with the form to ask for one, a
report's page whose progress updates in place (htmx), "Build again", a pupil's reports,
and the downloads.

Thin on purpose: a report is opened only through `reports_for` (the scope's own, else 404),
what may be asked for comes from `askable_reports` (the membership's own school, provision,
partnership or LA, never the request), and `request_report` checks it all again.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from pupils.selectors import pupil_list
from reports.downloads import download_response
from reports.forms import ReportRequestForm
from reports.models import ReportRequest
from reports.selectors import (
    READERS,
    askable_pupil_reports,
    askable_reports,
    can_ask_again,
    reports_for,
    scope_name,
)
from reports.services import TooManyReports, request_report
from schools.access import get_in_scope_or_404
from schools.audit import Action, audit
from schools.models import RECORD_KEEPERS
from schools.roles import roles_required
from schools.tenancy import require_scope

PAGE_SIZE = 50
readers_only = roles_required(READERS)


def progress_key(row: ReportRequest) -> str:
    """What the progress fragment shows, in short: it asks again with this."""
    return f"{row.status}-{row.attempts}"


def _report(request: HttpRequest, pk: int) -> ReportRequest:
    return get_in_scope_or_404(request, reports_for(require_scope()), pk)


def _ask(request: HttpRequest, form: ReportRequestForm) -> ReportRequest | None:
    """The request the form asks for, or None with the reasons on the form."""
    if not form.is_valid():
        return None
    chosen = form.chosen()
    try:
        row = request_report(
            request,
            kind=chosen.kind,
            scope_type=chosen.scope_type,
            scope_id=chosen.scope_id,
            period=form.cleaned_data["period"],
        )
    except TooManyReports as exc:
        form.add_error(None, str(exc))
        request.report_retry_after = exc.retry_after
        return None
    except ValidationError as exc:
        errors = exc.message_dict if hasattr(exc, "error_dict") else {None: exc.messages}
        for field, messages_ in errors.items():
            form.add_error(field if field in form.fields else None, messages_)
        return None
    messages.success(request, "Report asked for. This page shows how it is getting on.")
    return row


def _form_page(request: HttpRequest, template: str, context: dict, form: ReportRequestForm) -> HttpResponse:
    """The page with its form: 429 with Retry-After past the hourly limit, 400 with other
    reasons on the form, else 200."""
    retry_after = getattr(request, "report_retry_after", None)
    status = 429 if retry_after else 400 if form.errors else 200
    response = render(request, template, context, status=status)
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


def _rows(rows) -> list[dict]:
    return [{"report": r, "about": scope_name(r)} for r in rows]


@login_required
@readers_only
@require_http_methods(["GET", "POST"])
def report_list(request: HttpRequest) -> HttpResponse:
    """Past reports about the membership's school, provision, partnership or LA (pupils'
    reports are on each pupil's page), and the form to ask for another."""
    choices = askable_reports(request.membership)
    form = ReportRequestForm(request.POST if request.method == "POST" else None, choices=choices)
    if form.is_bound and (row := _ask(request, form)) is not None:
        return redirect("reports:detail", pk=row.pk)
    rows = reports_for(require_scope()).filter(pupil__isnull=True)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"form": form, "choices": choices, "page": page, "rows": _rows(page.object_list)}
    return _form_page(request, "reports/report_list.html", context, form)


@login_required
@roles_required(RECORD_KEEPERS)
@require_http_methods(["GET", "POST"])
def pupil_reports(request: HttpRequest, pk: int) -> HttpResponse:
    """One pupil's reports, and the form to ask for another (their school's SENCO and
    headteacher). The page names the pupil, so opening it is audited as a view."""
    pupil = get_in_scope_or_404(request, pupil_list(require_scope(), include_leavers=True), pk)
    choices = askable_pupil_reports(request.membership, pupil.pk)
    form = ReportRequestForm(request.POST if request.method == "POST" else None, choices=choices)
    if form.is_bound and (row := _ask(request, form)) is not None:
        return redirect("reports:detail", pk=row.pk)
    audit(request, Action.VIEW, pupil, detail={"page": "reports"})
    rows = reports_for(require_scope()).filter(pupil=pupil)
    context = {"form": form, "choices": choices, "pupil": pupil, "rows": _rows(rows)}
    return _form_page(request, "reports/pupil_reports.html", context, form)


@login_required
@readers_only
@require_GET
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A report's page. While it is queued or being built, htmx asks again every two seconds
    for the progress fragment alone; the finished fragment stops asking."""
    row = _report(request, pk)
    if request.htmx and request.GET.get("seen") == progress_key(row):
        # Nothing changed since the last answer: no swap, so the live region stays quiet.
        return HttpResponse(status=204)
    context = {
        "report": row,
        "about": scope_name(row),
        "can_ask_again": can_ask_again(request.membership, row),
    }
    context["seen"] = progress_key(row)
    template = "reports/_report_progress.html" if request.htmx else "reports/report_detail.html"
    response = render(request, template, context)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@readers_only
@require_POST
def report_again(request: HttpRequest, pk: int) -> HttpResponse:
    """Build the same report again, as its next version (a finished one never changes)."""
    row = _report(request, pk)
    if not can_ask_again(request.membership, row):
        audit(request, Action.DENIED, row, detail={"reason": "role"})
        raise PermissionDenied("Your role cannot ask for this report.")
    try:
        again = request_report(
            request, kind=row.kind, scope_type=row.scope_type, scope_id=row.scope_id, period=row.period
        )
    except TooManyReports as exc:
        context = {"title": "Too many reports asked for", "message": str(exc)}
        response = render(request, "error.html", context, status=429)
        response["Retry-After"] = str(exc.retry_after)
        return response
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("reports:detail", pk=row.pk)
    messages.success(request, f"Version {again.version} asked for. This page shows how it is getting on.")
    return redirect("reports:detail", pk=again.pk)


@login_required
@readers_only
@require_GET
def report_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    return download_response(request, _report(request, pk), "pdf")


@login_required
@readers_only
@require_GET
def report_snapshot(request: HttpRequest, pk: int) -> HttpResponse:
    return download_response(request, _report(request, pk), "snapshot")
