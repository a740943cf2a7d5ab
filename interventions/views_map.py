"""The costed provision map, the "what works" table and a pupil's provision, in the browser.

Costs and rates are for SENCOs and headteachers only: every view here admits those two roles
(a practitioner, or any other role, gets 403 and an audit row). The figures come from
`interventions.costing`; views only read the filters, call it, audit and render. Filters are
plain GET parameters, so every view works without JavaScript and a filtered map can be
bookmarked; htmx swaps in just the results when it is there.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from interventions import costing, export_map
from provisionmap import charts
from pupils.export import CSV_TYPE, XLSX_TYPE, safe_filename, write_csv, write_xlsx
from pupils.models import NC_YEAR_MAX, NC_YEAR_MIN, Pupil, nc_year_label
from pupils.selectors import RegisterFilters, pupil_register
from schools.access import get_in_scope_or_404
from schools.audit import Action, audit
from schools.models import RECORD_KEEPERS, School
from schools.roles import roles_required
from schools.selectors import schools_for
from schools.tenancy import require_scope
from schools.terms import Term, academic_year_label, academic_year_of

# Who sees what provision costs: never a practitioner (DESIGN §3, issue 5).
SEES_COSTS = RECORD_KEEPERS
costs_only = roles_required(SEES_COSTS)
# How many years back (and ahead) the year filters offer.
YEARS_BACK, YEARS_AHEAD = 5, 1
YEAR_GROUP_CHOICES = [("", "All year groups")] + [
    (str(y), nc_year_label(y)) for y in range(NC_YEAR_MIN, NC_YEAR_MAX + 1)
]


def school_in_scope(request: HttpRequest) -> School:
    """The school of the active membership, read through the scope (with its LA)."""
    return schools_for(require_scope()).get(pk=request.membership.school_id)


def year_choices(current: int, label) -> list[tuple[str, str]]:
    years = range(current + YEARS_AHEAD, current - YEARS_BACK - 1, -1)
    return [(str(y), label(y)) for y in years]


class MapFilters(forms.Form):
    year = forms.TypedChoiceField(label="Year", coerce=int, required=False, empty_value=None)
    term = forms.ChoiceField(label="Term", choices=[("", "Whole year"), *Term.choices], required=False)
    year_group = forms.TypedChoiceField(
        label="Year group", choices=YEAR_GROUP_CHOICES, coerce=int, required=False, empty_value=None
    )

    def __init__(self, data: Any, *, school: School) -> None:
        super().__init__(data)
        la = school.local_authority
        self.current_year = costing.current_costing_year(la)

        def label(year: int) -> str:
            return costing.CostingPeriod(year, la.costing_year).label

        self.fields["year"].choices = year_choices(self.current_year, label)
        self.fields["year"].initial = str(self.current_year)

    def period_args(self) -> dict[str, Any]:
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        year = data.get("year")
        return {
            "year": self.current_year if year is None else year,
            "term": data.get("term") or None,
            "year_group": data.get("year_group"),
        }

    def query(self) -> str:
        """The chosen filters as a query string, for export links and the pager."""
        args = self.period_args()
        parts = [f"year={args['year']}"]
        if args["term"]:
            parts.append(f"term={args['term']}")
        if args["year_group"] is not None:
            parts.append(f"year_group={args['year_group']}")
        return "&".join(parts)


def _money_cells(total: costing.MapTotal) -> dict[str, Any]:
    return {
        "total": total,
        "cost": costing.format_money(total.cost),
        "per_pupil": costing.format_money(total.per_pupil_cost, unknown="—"),
        "weekly_hours": costing.plain(total.weekly_hours),
        "missing": [costing.STAFF_LABELS.get(k, k) for k in total.missing_rates],
    }


def map_context(pmap: costing.ProvisionMap) -> dict[str, Any]:
    """The map ready to show: figures formatted once, here, for the page and its fragment."""
    rows = [
        {
            "row": row,
            "step": row.step if row.step is not None else "—",
            "cost": costing.format_money(row.cost),
            "per_pupil": costing.format_money(row.per_pupil_cost, unknown="—"),
            "staff": [
                {
                    "line": line,
                    "cost": costing.format_money(line.cost),
                    "rate": costing.format_money(line.rate, unknown="no rate set"),
                }
                for line in row.staff
            ],
            "missing": [costing.STAFF_LABELS.get(k, k) for k in row.missing_rates],
        }
        for row in pmap.rows
    ]
    # Bars show the known costs; the "by area of need" table beside it is the text alternative.
    chart = charts.horizontal_bar_chart(
        [t.label for t in pmap.by_area],
        [costing.money(t.cost) for t in pmap.by_area],
        title="Cost by area of need",
        value_label="Cost in pounds",
        chart_id="chart-cost-by-area",
    )
    return {
        "pmap": pmap,
        "rows": rows,
        "by_step": [_money_cells(t) for t in pmap.by_step],
        "by_area": [_money_cells(t) for t in pmap.by_area],
        "total": _money_cells(pmap.total),
        "chart": chart,
        "year_group_label": nc_year_label(pmap.year_group) if pmap.year_group is not None else "",
    }


def _map_audit_detail(pmap: costing.ProvisionMap) -> dict[str, Any]:
    # Counts and filters only: the school-level map names no child.
    return {
        "year": pmap.period.year,
        "term": pmap.period.term,
        "year_group": pmap.year_group,
        "rows": len(pmap.rows),
        "pupils": pmap.total.pupils,
    }


@login_required
@costs_only
@require_GET
def school_map(request: HttpRequest) -> HttpResponse:
    school = school_in_scope(request)
    form = MapFilters(request.GET or None, school=school)
    bad = form.is_bound and not form.is_valid()
    pmap = costing.provision_map(school, **form.period_args())
    audit(request, Action.LIST, object_type="interventions.provision", detail=_map_audit_detail(pmap))
    context = {"form": form, "school": school, "query": form.query(), **map_context(pmap)}
    # Back or Forward after the history cache is gone asks again with htmx: that wants the page.
    fragment = request.htmx and not request.htmx.history_restore_request
    template = "interventions/map_results.html" if fragment else "interventions/map_school.html"
    return render(request, template, context, status=400 if bad else 200)


def _download(content: bytes, fmt: str, *parts: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX_TYPE if fmt == "xlsx" else CSV_TYPE)
    filename = safe_filename(*parts, extension=fmt)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _map_export(request: HttpRequest, fmt: str) -> HttpResponse:
    school = school_in_scope(request)
    form = MapFilters(request.GET or None, school=school)
    if form.is_bound and not form.is_valid():
        context = {
            "title": "The download could not be made",
            "message": "The filters sent were not valid. Go back to the provision map and choose them again.",
        }
        return render(request, "error.html", context, status=400)
    pmap = costing.provision_map(school, **form.period_args())
    rows = list(export_map.map_rows(pmap))
    if fmt == "xlsx":
        content = write_xlsx(export_map.MAP_HEADERS, rows, title="Provision map")
    else:
        content = write_csv(export_map.MAP_HEADERS, rows)
    audit(
        request,
        Action.EXPORT,
        object_type="interventions.provision",
        detail={**_map_audit_detail(pmap), "format": fmt},
    )
    period = pmap.period
    year_group = f"year-{pmap.year_group}" if pmap.year_group is not None else ""
    return _download(
        content, fmt, "provision-map", school.urn, academic_year_label(period.year), period.term, year_group
    )


@login_required
@costs_only
@require_GET
def map_export_csv(request: HttpRequest) -> HttpResponse:
    return _map_export(request, "csv")


@login_required
@costs_only
@require_GET
def map_export_xlsx(request: HttpRequest) -> HttpResponse:
    return _map_export(request, "xlsx")


# --- what works -----------------------------------------------------------------------------


class ImpactFilters(forms.Form):
    year = forms.TypedChoiceField(label="School year", coerce=int, required=False, empty_value=None)
    sort = forms.ChoiceField(
        required=False,
        choices=[(k, k) for key in costing.IMPACT_SORTS for k in (key, f"-{key}")],
    )

    def __init__(self, data: Any) -> None:
        super().__init__(data)
        current = academic_year_of(timezone.localdate())
        self.fields["year"].choices = [("", "All years"), *year_choices(current, academic_year_label)]

    def chosen(self) -> tuple[int | None, str]:
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return data.get("year"), data.get("sort") or "name"


def impact_context(rows: list[costing.ImpactRow]) -> list[dict[str, Any]]:
    return [
        {
            "row": r,
            "step": r.step if r.step is not None else "—",
            "average_improvement": costing.plain(r.average_improvement) or "—",
            "improved_share": costing.format_share(r.improved_share),
            "mean_rating": costing.plain(r.mean_rating) or "—",
            "attendance_rate": costing.format_share(r.attendance_rate),
            "cost": costing.format_money(r.cost),
            "cost_per_pupil": costing.format_money(r.cost_per_pupil, unknown="—"),
            "cost_per_improvement": costing.format_money(r.cost_per_improvement, unknown="—"),
            "missing": [costing.STAFF_LABELS.get(k, k) for k in r.missing_rates],
        }
        for r in rows
    ]


def sort_links(sort: str, extra: str) -> list[dict[str, Any]]:
    """Each column's header link: sorts by it, or the other way when it is the current sort
    (numbers start highest first, names A to Z)."""
    current = sort.lstrip("-")
    descending = sort.startswith("-")
    links = []
    for key, label in costing.IMPACT_SORTS.items():
        text_column = key in ("name", "area")
        if key == current:
            target = key if descending else f"-{key}"
            state = "descending" if descending else "ascending"
        else:
            target = key if text_column else f"-{key}"
            state = ""
        links.append({"key": key, "label": label, "href": f"?sort={target}{extra}", "state": state})
    return links


@login_required
@costs_only
@require_GET
def what_works(request: HttpRequest) -> HttpResponse:
    school = school_in_scope(request)
    form = ImpactFilters(request.GET or None)
    year, sort = form.chosen()
    rows = costing.sort_impact(costing.what_works(school, academic_year=year), sort)
    audit(
        request,
        Action.LIST,
        object_type="interventions.provision",
        detail={"page": "what-works", "year": year, "rows": len(rows)},
    )
    year_query = f"&year={year}" if year is not None else ""
    context = {
        "form": form,
        "school": school,
        "rows": impact_context(rows),
        "columns": sort_links(sort, year_query),
        "sort": sort,
        "year_label": academic_year_label(year) if year is not None else "all years",
        "query": f"sort={sort}{year_query}",
    }
    bad = form.is_bound and not form.is_valid()
    return render(request, "interventions/what_works.html", context, status=400 if bad else 200)


def _impact_export(request: HttpRequest, fmt: str) -> HttpResponse:
    school = school_in_scope(request)
    form = ImpactFilters(request.GET or None)
    year, sort = form.chosen()
    rows = costing.sort_impact(costing.what_works(school, academic_year=year), sort)
    cells = list(export_map.impact_rows(rows))
    if fmt == "xlsx":
        content = write_xlsx(export_map.IMPACT_HEADERS, cells, title="What works")
    else:
        content = write_csv(export_map.IMPACT_HEADERS, cells)
    audit(
        request,
        Action.EXPORT,
        object_type="interventions.provision",
        detail={"page": "what-works", "year": year, "rows": len(rows), "format": fmt},
    )
    return _download(
        content, fmt, "what-works", school.urn, academic_year_label(year) if year is not None else "all-years"
    )


@login_required
@costs_only
@require_GET
def what_works_csv(request: HttpRequest) -> HttpResponse:
    return _impact_export(request, "csv")


@login_required
@costs_only
@require_GET
def what_works_xlsx(request: HttpRequest) -> HttpResponse:
    return _impact_export(request, "xlsx")


# --- one pupil's provision ------------------------------------------------------------------------


class PupilYear(forms.Form):
    year = forms.TypedChoiceField(label="School year", coerce=int, required=False, empty_value=None)
    view = forms.ChoiceField(choices=[("", "Staff"), ("parent", "Parents and carers")], required=False)

    def __init__(self, data: Any) -> None:
        super().__init__(data)
        self.current_year = academic_year_of(timezone.localdate())
        self.fields["year"].choices = year_choices(self.current_year, academic_year_label)

    def chosen(self) -> tuple[int, bool]:
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        year = data.get("year")
        return (self.current_year if year is None else year), data.get("view") == "parent"


def _pupil_or_404(request: HttpRequest, pk: int) -> Pupil:
    qs = pupil_register(require_scope(), RegisterFilters(include_leavers=True))
    return get_in_scope_or_404(request, qs, pk)


@login_required
@costs_only
@require_GET
def pupil_map(request: HttpRequest, pk: int) -> HttpResponse:
    """The pupil's provision for staff (with their share of the costs), or with ?view=parent the
    version for parents and carers: plain words, no costs, nothing about other children."""
    pupil = _pupil_or_404(request, pk)
    form = PupilYear(request.GET or None)
    year, for_parents = form.chosen()
    pmap = costing.pupil_provision_map(pupil, academic_year=year)
    audit(
        request,
        Action.VIEW,
        pupil,
        detail={"page": "provision", "view": "parent" if for_parents else "staff", "year": year},
    )
    context: dict[str, Any] = {
        "pupil": pupil,
        "form": form,
        "year": year,
        "year_label": academic_year_label(year),
        "printed_at": timezone.localtime(),
        "name": pupil.preferred_name or pupil.first_name,
        "school_name": request.membership.school.name,
    }
    if for_parents:
        today = timezone.localdate()
        context["entries"] = [costing.parent_entry(e, today=today) for e in pmap.entries]
        return render(request, "interventions/pupil_map_parent.html", context)
    context.update(
        pmap=pmap,
        entries=[
            {
                "entry": e,
                "cost": costing.format_money(e.cost_share),
                "attendance": costing.format_share(e.attendance_rate),
                "improvement": costing.plain(e.improvement),
                "entry_score": costing.plain(e.entry_score) or "—",
                "exit_score": costing.plain(e.exit_score) or "—",
            }
            for e in pmap.entries
        ],
        total_cost=costing.format_money(pmap.total_cost),
    )
    return render(request, "interventions/pupil_map.html", context)
