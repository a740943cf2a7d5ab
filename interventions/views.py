"""Interventions in the browser: the groups list, a group's page, recording a session, and
for SENCOs and headteachers the catalogue, groups and enrolments.

Groups are opened only through `selectors.groups_for`, so another school's group, or for a
practitioner a group they do not run, is a 404; pupils only through the register's selector.
Pages that show pupils audit what they show (ids only). No cost or hourly rate appears on
any page here: the costed provision map is a page of its own, closed to practitioners.
"""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from interventions import selectors, services
from interventions.forms import (
    EnrolForm,
    EnrolmentForm,
    GroupFilterForm,
    GroupForm,
    LibraryFilterForm,
    ProvisionForm,
    SessionForm,
    add_errors,
)
from interventions.models import Enrolment, InterventionGroup, Provision
from interventions.services import COUNTS, Mark
from pupils.selectors import RegisterFilters, pupil_register
from schools.access import get_in_scope_or_404, get_named_in_body_or_400, require_pupil_level
from schools.audit import Action, audit
from schools.formatting import plain_number
from schools.models import RECORD_KEEPERS, SCHOOL_ROLES
from schools.roles import roles_required
from schools.tenancy import require_scope

PAGE_SIZE = 50
writers_only = roles_required(RECORD_KEEPERS)
school_staff_only = roles_required(SCHOOL_ROLES)


def _today() -> date:
    return timezone.localdate()


def _group_or_404(request: HttpRequest, pk: int) -> InterventionGroup:
    qs = selectors.groups_for(require_scope()).select_related("provision", "lead")
    return get_in_scope_or_404(request, qs, pk)


def _enrolment_or_404(request: HttpRequest, pk: int) -> Enrolment:
    qs = selectors.enrolment_list(require_scope()).select_related("group__provision", "strategy_tried")
    return get_in_scope_or_404(request, qs, pk)


def _group_url(group_id: int) -> str:
    return reverse("interventions:group", kwargs={"pk": group_id})


def _is_writer(request: HttpRequest) -> bool:
    return request.membership is not None and request.membership.role in RECORD_KEEPERS


# --- the groups list and a group's page -----------------------------------------------------


@login_required
@school_staff_only
@require_http_methods(["GET"])
def groups(request: HttpRequest) -> HttpResponse:
    """Groups, current ones first; a practitioner's list holds only the groups they run."""
    scope = require_scope()
    form = GroupFilterForm(
        request.GET or None,
        periods=selectors.group_periods(scope),
        provisions=list(selectors.provision_catalogue(scope).only("pk", "name")),
    )
    year, term = form.chosen_period() if form.is_bound else (None, None)
    provision = form.cleaned_data.get("provision") if form.is_bound and form.is_valid() else None
    today = _today()
    qs = selectors.group_list(scope, today=today, academic_year=year, term=term, provision_id=provision)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    for group in rows:
        group.staff_list = selectors.staff_names(group)
    context = {
        "form": form,
        "page": page,
        "groups": rows,
        "can_write": _is_writer(request),
        "filtered": bool(year or provision),
    }
    return render(request, "interventions/groups.html", context, status=400 if form.errors else 200)


@login_required
@school_staff_only
@require_http_methods(["GET"])
def group_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_pupil_level(request)
    group = _group_or_404(request, pk)
    enrolments = list(selectors.group_enrolments(group))
    for e in enrolments:
        e.rate = selectors.attendance_rate(e.sessions_attended, e.sessions_recorded)
        e.entry_label, e.exit_label = plain_number(e.entry_score), plain_number(e.exit_score)
    sessions = list(selectors.group_sessions(group))
    for s in sessions:
        marks = list(s.attendance.all())
        s.present = sum(1 for a in marks if a.present)
        s.marked = len(marks)
        s.absent = [a.enrolment.pupil for a in marks if not a.present]
        s.noted = [a for a in marks if a.note]
    staff = list(group.staff_links.select_related("user").order_by("user__last_name", "user__first_name"))
    audit(
        request,
        Action.VIEW,
        group,
        detail={"page": "group", "pupils": sorted(e.pupil_id for e in enrolments)},
    )
    context = {
        "group": group,
        "enrolments": enrolments,
        "sessions": sessions,
        "staff": staff,
        "today": _today(),
        "per_week": plain_number(group.sessions_per_week),
        "weeks": plain_number(group.weeks),
        "can_write": _is_writer(request),
        "can_record": services.can_record(group),
    }
    return render(request, "interventions/group_detail.html", context)


# --- recording a session --------------------------------------------------------------------


def _marks_from(request: HttpRequest, enrolments: list[Enrolment]) -> dict[int, Mark]:
    return {
        e.pk: Mark(
            present=f"present_{e.pk}" in request.POST, note=request.POST.get(f"note_{e.pk}", "").strip()
        )
        for e in enrolments
    }


def _session_rows(enrolments: list[Enrolment], session, posted: dict[int, Mark] | None) -> list[dict]:
    """One row per pupil: what to show ticked and noted (posted, recorded, or all present)."""
    recorded = {a.enrolment_id: a for a in session.attendance.all()} if session else {}
    rows = []
    for e in enrolments:
        if posted is not None:
            present, note = posted[e.pk].present, posted[e.pk].note
        elif e.pk in recorded:
            present, note = recorded[e.pk].present, recorded[e.pk].note
        else:
            present, note = True, ""  # most pupils come: tick everyone, untick the absent
        rows.append({"enrolment": e, "pupil": e.pupil, "present": present, "note": note})
    return rows


@login_required
@school_staff_only
@require_http_methods(["GET", "POST"])
def session_record(request: HttpRequest, pk: int) -> HttpResponse:
    """One screen: the day, a tick per pupil in the group that day (all ticked to start),
    a note each if needed, and the session's note. A day already recorded is changed.

    Changing the day (htmx, or ?held_on= without script) shows that day's pupils and what
    was recorded for them, if anything."""
    require_pupil_level(request)
    group = _group_or_404(request, pk)
    if not services.can_record(group):
        # SENCOs and headteachers record any group, practitioners only their own (for whom
        # the selector has made every other group a 404 already).
        audit(request, Action.DENIED, group, detail={"reason": "role", "group": group.pk})
        raise PermissionDenied("Only the staff who run this group, a SENCO or a headteacher can record it.")
    today = _today()
    posted = request.method == "POST"
    reload_url = reverse("interventions:session-record", kwargs={"pk": group.pk})
    form = SessionForm(request.POST if posted else None, reload_url=reload_url)
    if posted:
        held_on = form.cleaned_data["held_on"] if form.is_valid() else today
    else:
        held_on = _day_param(request.GET.get("held_on")) or today
    enrolments = list(selectors.enrolments_current_on(group, held_on))
    session = selectors.group_sessions(group).filter(held_on=held_on).first()
    marks = None
    if posted and form.is_valid():
        marks = _marks_from(request, enrolments)
        shown = {int(x) for x in request.POST.getlist("shown") if x.isdigit()}
        if shown != {e.pk for e in enrolments}:
            # The day changed without the list of pupils following it: show that day's.
            form.add_error(
                "held_on",
                f"The pupils in the group on {held_on:%d/%m/%Y} are not the ones that were shown: "
                "check the ticks below and save again.",
            )
            marks = None
        else:
            try:
                saved, made = services.session_record(
                    request=request,
                    group=group,
                    held_on=held_on,
                    notes=form.cleaned_data["notes"],
                    marks=marks,
                )
            except ValidationError as exc:
                add_errors(form, exc)
            else:
                came = sum(1 for m in marks.values() if m.present)
                verb = "recorded" if made else "changed"
                messages.success(
                    request, f"Session on {saved.held_on:%d %B %Y} {verb}: {came} of {len(marks)} present."
                )
                return redirect(_group_url(group.pk) + "#sessions")
    if not posted:
        initial = {"held_on": held_on, "notes": session.notes if session else ""}
        form = SessionForm(initial=initial, reload_url=reload_url)
    audit(
        request,
        Action.VIEW,
        group,
        detail={"page": "session", "pupils": sorted(e.pupil_id for e in enrolments)},
    )
    context = {
        "group": group,
        "form": form,
        "held_on": held_on,
        "session": session,
        "rows": _session_rows(enrolments, session, marks),
        "today": today,
    }
    partial = request.htmx and not posted
    template = "interventions/_session_pupils.html" if partial else "interventions/session_form.html"
    return render(request, template, context, status=400 if form.errors else 200)


def _day_param(value: str | None) -> date | None:
    """A day from the address, or None when it is missing or not a date."""
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


# --- groups: make and change ----------------------------------------------------------------


def _provision_or_404(request: HttpRequest, pk: int) -> Provision:
    return get_in_scope_or_404(request, selectors.provision_catalogue(require_scope()), pk)


@login_required
@writers_only
@require_http_methods(["GET", "POST"])
def group_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Start a group of a provision from the school's catalogue."""
    provision = _provision_or_404(request, pk)
    school = request.membership.school
    staff = selectors.school_staff(school.pk)
    form = GroupForm(request.POST or None, staff=staff, today=_today())
    if form.is_bound and form.is_valid():
        try:
            group = services.group_create(
                request=request,
                school=school,
                provision=provision,
                data=form.data_for_service(),
                lead_id=form.lead_id(),
                staff_ids=form.staff_ids(),
            )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(
                request, f"Group made: {plain_number(group.weeks)} weeks of delivery. Now enrol its pupils."
            )
            return redirect(_group_url(group.pk))
    context = {"form": form, "provision": provision, "group": None}
    return render(request, "interventions/group_form.html", context, status=400 if form.errors else 200)


@login_required
@writers_only
@require_http_methods(["GET", "POST"])
def group_edit(request: HttpRequest, pk: int) -> HttpResponse:
    group = _group_or_404(request, pk)
    staff = selectors.school_staff(group.school_id)
    form = GroupForm(request.POST or None, staff=staff, today=_today(), group=group)
    if form.is_bound and form.is_valid():
        try:
            changed = services.group_update(
                request=request,
                group=group,
                data=form.data_for_service(),
                lead_id=form.lead_id(),
                staff_ids=form.staff_ids(),
            )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "Group saved." if changed else "Nothing was changed.")
            return redirect(_group_url(group.pk))
    context = {"form": form, "provision": group.provision, "group": group}
    return render(request, "interventions/group_form.html", context, status=400 if form.errors else 200)


# --- enrolments -----------------------------------------------------------------------------


@login_required
@writers_only
@require_http_methods(["GET", "POST"])
def group_enrol(request: HttpRequest, pk: int) -> HttpResponse:
    group = _group_or_404(request, pk)
    register = pupil_register(require_scope(), RegisterFilters()).exclude(enrolments__group=group)
    pupils = list(register)
    form = EnrolForm(request.POST or None, pupils=pupils)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        pupil = get_in_scope_or_404(
            request, pupil_register(require_scope(), RegisterFilters(include_leavers=True)), data["pupil"]
        )
        try:
            services.enrolment_create(
                request=request,
                group=group,
                pupil=pupil,
                starts_on=data["starts_on"],
                ends_on=data["ends_on"],
                entry_score=data["entry_score"],
                entry_on=data["entry_on"],
                note=data["note"],
                counts_as_strategy=data[COUNTS],
            )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, f"{pupil.first_name} {pupil.last_name} is in the group.")
            if "another" in request.POST:
                return redirect("interventions:group-enrol", pk=group.pk)
            return redirect(_group_url(group.pk) + "#pupils")
    audit(request, Action.LIST, object_type="pupils.pupil", detail={"page": "enrol", "shown": len(pupils)})
    context = {"form": form, "group": group}
    return render(request, "interventions/enrol_form.html", context, status=400 if form.errors else 200)


@login_required
@writers_only
@require_http_methods(["GET", "POST"])
def enrolment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    enrolment = _enrolment_or_404(request, pk)
    form = EnrolmentForm(request.POST or None, enrolment=enrolment)
    if form.is_bound and form.is_valid():
        try:
            changed = services.enrolment_update(
                request=request,
                enrolment=enrolment,
                data=form.data_for_service(),
                counts_as_strategy=form.cleaned_data[COUNTS],
            )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "Saved." if changed else "Nothing was changed.")
            return redirect(_group_url(enrolment.group_id) + "#pupils")
    audit(request, Action.VIEW, enrolment.pupil, detail={"page": "enrolment", "enrolment": enrolment.pk})
    context = {"form": form, "enrolment": enrolment, "group": enrolment.group, "pupil": enrolment.pupil}
    return render(request, "interventions/enrolment_form.html", context, status=400 if form.errors else 200)


@login_required
@writers_only
@require_http_methods(["POST"])
def enrolment_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    """The pupil leaves the group today; their results and attendance stay."""
    enrolment = _enrolment_or_404(request, pk)
    try:
        services.enrolment_withdraw(request=request, enrolment=enrolment)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, f"{enrolment.pupil.first_name} {enrolment.pupil.last_name} has left the group."
        )
    return redirect(_group_url(enrolment.group_id) + "#pupils")


# --- the catalogue --------------------------------------------------------------------------


@login_required
@writers_only
@require_http_methods(["GET"])
def provisions(request: HttpRequest) -> HttpResponse:
    """The school's catalogue, and the LA's library to add from."""
    scope = require_scope()
    catalogue = list(selectors.provision_catalogue(scope))
    taken = {p.name.casefold() for p in catalogue}
    library_form = LibraryFilterForm(request.GET or None)
    area = library_form.cleaned_data["area"] if library_form.is_valid() else ""
    library = [item for item in selectors.library_for(scope, area=area) if item.name.casefold() not in taken]
    for entry in catalogue + library:
        entry.per_week = plain_number(entry.sessions_per_week)
    context = {"catalogue": catalogue, "library": library, "library_form": library_form}
    return render(request, "interventions/provisions.html", context)


@login_required
@writers_only
@require_http_methods(["POST"])
def provision_add(request: HttpRequest) -> HttpResponse:
    """Copy a library entry into the catalogue (its id in the body, so a 400 if not ours)."""
    item = get_named_in_body_or_400(
        request,
        selectors.library_for(require_scope()),
        request.POST.get("library_item"),
        field="library_item",
        message="There is no such entry in your local authority's library.",
    )
    try:
        provision = services.provision_add_from_library(
            request=request, school=request.membership.school, item=item
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("interventions:provisions")
    messages.success(request, f"{provision.name} is in your catalogue: check its figures.")
    return redirect("interventions:provision-edit", pk=provision.pk)


@login_required
@writers_only
@require_http_methods(["GET", "POST"])
def provision_create(request: HttpRequest) -> HttpResponse:
    form = ProvisionForm(request.POST or None)
    if form.is_bound and form.is_valid():
        try:
            services.provision_create(
                request=request, school=request.membership.school, data=form.data_for_service()
            )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "Provision added to the catalogue.")
            return redirect("interventions:provisions")
    context = {"form": form, "provision": None}
    return render(request, "interventions/provision_form.html", context, status=400 if form.errors else 200)


@login_required
@writers_only
@require_http_methods(["GET", "POST"])
def provision_edit(request: HttpRequest, pk: int) -> HttpResponse:
    provision = _provision_or_404(request, pk)
    form = ProvisionForm(request.POST or None, instance=Provision.objects.get(pk=provision.pk))
    if form.is_bound and form.is_valid():
        try:
            changed = services.provision_update(
                request=request, provision=provision, data=form.data_for_service()
            )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "Provision saved." if changed else "Nothing was changed.")
            return redirect("interventions:provisions")
    context = {"form": form, "provision": provision}
    return render(request, "interventions/provision_form.html", context, status=400 if form.errors else 200)
