"""Browser pages for the organisation tree, the membership switcher and the audit log."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from schools.audit import Action, audit
from schools.memberships import SESSION_KEY
from schools.models import AuditEvent, Role
from schools.roles import roles_required
from schools.selectors import audit_events_for, provisions_for, schools_for
from schools.tenancy import require_scope


@login_required
@require_POST
def switch_membership(request: HttpRequest) -> HttpResponse:
    """Make another of the user's own memberships active; anyone else's id is a 404."""
    wanted = request.POST.get("membership", "")
    for m in request.memberships:
        if str(m.pk) == wanted:
            request.session[SESSION_KEY] = m.pk
            return redirect("home")
    audit(request, Action.DENIED, object_type="schools.membership", object_id=wanted[:40])
    raise Http404("Not found.")


@login_required
@roles_required([r for r in Role if r not in (Role.PRACTITIONER, Role.PROVISION_LEAD, Role.PLATFORM_ADMIN)])
def school_list(request: HttpRequest) -> HttpResponse:
    schools = schools_for(require_scope())
    return render(request, "schools/school_list.html", {"schools": schools})


@login_required
@roles_required([r for r in Role if r not in (Role.PRACTITIONER, Role.PROVISION_LEAD, Role.PLATFORM_ADMIN)])
def school_detail(request: HttpRequest, pk: int) -> HttpResponse:
    school = schools_for(require_scope()).filter(pk=pk).first()
    if school is None:
        audit(request, Action.DENIED, object_type="schools.school", object_id=pk)
        raise Http404("Not found.")
    provisions = provisions_for(require_scope()).filter(host_school=school)
    return render(request, "schools/school_detail.html", {"school": school, "provisions": provisions})


@login_required
@roles_required([Role.PROVISION_LEAD, Role.PARTNERSHIP_LEAD, Role.LA_OFFICER, Role.LA_ADMIN])
def provision_list(request: HttpRequest) -> HttpResponse:
    provisions = provisions_for(require_scope())
    return render(request, "schools/provision_list.html", {"provisions": provisions})


@login_required
@roles_required([Role.HEADTEACHER])
def audit_log(request: HttpRequest) -> HttpResponse:
    action = request.GET.get("action", "")
    if action not in AuditEvent.Action.values:
        action = ""
    page = Paginator(audit_events_for(require_scope(), action=action), 50).get_page(request.GET.get("page"))
    context = {"page": page, "action": action, "actions": AuditEvent.Action.choices}
    template = "schools/_audit_rows.html" if request.htmx else "schools/audit_log.html"
    return render(request, template, context)
