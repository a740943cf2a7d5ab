"""The dashboards: the home page of every role that reads figures, and the pages one level
down that an LA officer or partnership lead opens from theirs.

`/` shows the active membership's own dashboard: a SENCO's today's work and the school's
figures, a headteacher's figures and approvals, a provision lead's placements and KPIs, a
partnership lead's schools side by side, an LA officer's partnerships side by side.
`/dashboard/<scope_type>/<id>/` opens another scope the role may see (a provision or a
partnership from the LA's page); any other is a 404, audited.

Filters (period, year group, area of need) are a plain GET form: htmx swaps in the figures
without a reload and pushes the address, and without script the form submits as usual. The
figures come from `dashboards.services.figures_for`, the same call as the API and reports.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from dashboards import display, work
from dashboards.forms import FilterForm
from dashboards.services import (
    FILTERED,
    NotFound,
    Target,
    figures_for,
    own_target,
    period_choices,
    period_for,
    target,
)
from reports.models import ScopeType
from schools.audit import Action, audit
from schools.models import Role
from schools.tenancy import current_scope


def _render(request: HttpRequest, goal: Target, *, own: bool) -> HttpResponse:
    scope = current_scope()
    periods = period_choices(goal)
    form = FilterForm(request.GET or None, periods=periods, filtered=goal.scope_type in FILTERED)
    code, filters = form.chosen()
    status = 400 if form.is_bound and form.errors else 200
    try:
        period = period_for(goal, code)
    except ValidationError:
        period, status = period_for(goal, ""), 400
    if not code:
        form.initial["period"] = period.code
    figures = figures_for(scope, goal, period, filters)
    context = {
        "goal": goal,
        "own": own,
        "form": form,
        "figures": figures,
        "period": period,
        "role": scope.role,
        "show": display.for_scope(goal.scope_type, figures),
        "filter_text": display.filter_text(filters),
    }
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, f"dashboards/_{goal.scope_type}.html", context, status=status)
    if own and scope.role == Role.SENCO:
        context["work"] = work.senco_work(request, scope, goal.obj, timezone.localdate())
    elif goal.scope_type == ScopeType.PROVISION and goal.obj.pk in scope.read_provision:
        context["work"] = work.provision_work(request, scope, goal.obj.pk)
    return render(request, "dashboards/dashboard.html", context, status=status)


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The role's own dashboard; a welcome with the role's pages for roles without one."""
    scope = current_scope()
    goal = own_target(scope) if scope is not None else None
    if goal is not None:
        return _render(request, goal, own=True)
    context = {}
    if scope is not None and scope.role == Role.PRACTITIONER:
        context["groups"] = work.groups_to_record(scope, timezone.localdate())
        context["gap_days"] = work.SESSION_GAP_DAYS
    return render(request, "schools/home.html", context)


@login_required
@require_GET
def scope_dashboard(request: HttpRequest, scope_type: str, pk: int) -> HttpResponse:
    scope = current_scope()
    try:
        if scope is None:
            raise NotFound
        goal = target(scope, scope_type, pk)
    except NotFound:
        audit(request, Action.DENIED, object_type=f"dashboard.{scope_type}", object_id=pk)
        raise Http404("Not found.") from None
    own = own_target(scope)
    return _render(request, goal, own=own is not None and own.obj == goal.obj)
