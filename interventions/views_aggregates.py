"""Browser pages of figures for the roles over many schools: behaviour provisions' KPIs with
the partnership's targets, and the partnership and LA overviews (suppressed counts only).

Thin: the figures come from interventions/aggregates.py, the targets are written by
interventions/placements.py's service, and objects are opened through selectors that hold
only what the scope may see, so another tenant's ids are a 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from interventions import aggregates
from interventions.forms_kpis import KpiTargetsForm
from interventions.placements import FIRST_KPI_YEAR, LAST_KPI_YEAR, kpi_target_set
from schools.access import get_in_scope_or_404
from schools.audit import Action, audit
from schools.models import Partnership, Role
from schools.partnership import partnerships_for
from schools.roles import roles_required
from schools.tenancy import require_scope
from schools.terms import academic_year_label, academic_year_of

kpi_readers = roles_required([Role.PARTNERSHIP_LEAD, Role.LA_OFFICER, Role.PROVISION_LEAD])
overview_readers = roles_required([Role.PARTNERSHIP_LEAD, Role.LA_OFFICER])
lead_only = roles_required([Role.PARTNERSHIP_LEAD])
# The years the selector offers around this one: history, and next year to plan for.
YEARS_BACK, YEARS_AHEAD = 4, 1


def _year_from(data) -> int:
    raw = data.get("year") or ""
    if not raw:
        return academic_year_of(timezone.localdate())
    if not raw.isdigit() or not FIRST_KPI_YEAR <= int(raw) <= LAST_KPI_YEAR:
        raise Http404("No such school year.")
    return int(raw)


def _year_choices(chosen: int) -> list[tuple[int, str]]:
    this_year = academic_year_of(timezone.localdate())
    years = set(range(this_year - YEARS_BACK, this_year + YEARS_AHEAD + 1)) | {chosen}
    return [(y, academic_year_label(y)) for y in sorted(years, reverse=True)]


def _kpis_url(year: int, provision_id: int | None = None) -> str:
    url = f"{reverse('partnership:kpis')}?year={year}"
    return f"{url}#provision-{provision_id}" if provision_id else url


def _render_kpis(
    request: HttpRequest, year: int, bound: KpiTargetsForm | None = None, bound_for: int | None = None
) -> HttpResponse:
    scope = require_scope()
    groups = aggregates.kpis_by_partnership(scope, year)
    can_set = request.membership.role == Role.PARTNERSHIP_LEAD
    sections = []
    for group in groups:
        items = []
        for item in group.provisions:
            form = None
            if can_set and item.provision.partnership_id in scope.write_partnership:
                form = bound if item.provision.pk == bound_for else None
                form = form or KpiTargetsForm(
                    targets={row.kpi: row.target for row in item.rows}, prefix=f"p{item.provision.pk}"
                )
            items.append({"kpis": item, "form": form})
        sections.append({"partnership": group.partnership, "provisions": items})
    context = {
        "year": year,
        "year_label": academic_year_label(year),
        "years": _year_choices(year),
        "sections": sections,
        "many_partnerships": request.membership.role == Role.LA_OFFICER,
        "suppressed": any(i["kpis"].suppressed for s in sections for i in s["provisions"]),
    }
    return render(request, "interventions/kpis.html", context, status=400 if bound is not None else 200)


@login_required
@kpi_readers
@require_GET
def kpis(request: HttpRequest) -> HttpResponse:
    """Each provision's KPIs for a school year (`?year=2025`): targets against actuals."""
    return _render_kpis(request, _year_from(request.GET))


@login_required
@lead_only
@require_POST
def kpi_targets(request: HttpRequest, provision_id: int) -> HttpResponse:
    """The partnership lead saves one provision's targets for a year; a blank clears one."""
    scope = require_scope()
    provisions = aggregates.kpi_provisions(scope).filter(partnership_id__in=scope.write_partnership)
    provision = get_in_scope_or_404(request, provisions, provision_id)
    year = _year_from(request.POST)
    form = KpiTargetsForm(request.POST, prefix=f"p{provision.pk}")
    if form.is_valid():
        try:
            with transaction.atomic():
                for kpi, target in form.targets().items():
                    kpi_target_set(request, provision, year, kpi, target)
        except ValidationError as exc:
            form.add_error(None, exc.messages)
        else:
            messages.success(
                request, f"Targets for {provision.name}, {academic_year_label(year)}, are saved."
            )
            return redirect(_kpis_url(year, provision.pk))
    return _render_kpis(request, year, bound=form, bound_for=provision.pk)


# --- overviews ------------------------------------------------------------------------------


def _partnership_or_404(request: HttpRequest, pk: int) -> Partnership:
    partnership = partnerships_for(require_scope()).filter(pk=pk).first()
    if partnership is None:
        audit(request, Action.DENIED, object_type="schools.partnership", object_id=pk)
        raise Http404("Not found.")
    return partnership


@login_required
@overview_readers
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    """The navigation's way in: the lead's partnership by school; the LA by partnership."""
    partnership_id = request.membership.partnership_id
    if partnership_id:
        return partnership_overview(request, partnership_id)
    scope = require_scope()
    la = aggregates.la_overview(scope, list(partnerships_for(scope)))
    context = {"title": "Overview: the local authority by partnership", "overview": la.la, "la": True}
    return render(request, "interventions/overview.html", context)


@login_required
@overview_readers
@require_GET
def partnership_overview(request: HttpRequest, pk: int) -> HttpResponse:
    """One partnership by school. The LA officer's is worked out with the LA table, so the
    two never give each other's hidden figures away."""
    partnership = _partnership_or_404(request, pk)
    scope = require_scope()
    if request.membership.role == Role.LA_OFFICER:
        shown = aggregates.la_overview(scope, list(partnerships_for(scope))).partnerships[partnership.pk]
    else:
        shown = aggregates.partnership_overview(scope, partnership)
    context = {
        "title": f"Overview: {partnership.name} by school",
        "overview": shown,
        "partnership": partnership,
        "la": False,
        "back": request.membership.role == Role.LA_OFFICER,
    }
    return render(request, "interventions/overview.html", context)
