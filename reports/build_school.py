"""Builder of the school's termly provision report (registered in reports/builders.py).

For the governors and the partnership: the costed provision map of the term, pupils by step
and by need, step changes in the term, what the school year's interventions achieved, and
support plans whose review is overdue. It counts pupils and names none: governors need the
picture, not the children, and the SENCO's own lists name them.

Every figure comes from the selector that works it out for the pages (costing and what
works, the register, reviews due); this module gathers and lays them out, and counts the
step changes of the term, which no page shows yet. Figures are plain JSON values: the
snapshot kept beside the PDF. Display strings the template needs go in the context, made
from the same figures.

Importing this module also registers the pupils' reports (reports/build_pupil.py).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from django.db.models import Count
from django.utils import timezone

from graduated_response.models import StepPlacement, SupportPlan
from graduated_response.selectors import reviews_due
from interventions import costing
from provisionmap import charts
from pupils.codes import AREA_OF_NEED, AreaOfNeed, Need, SenStatus
from pupils.selectors import RegisterFilters, pupil_register
from reports.build_pupil import Built, context_base, period_figures, rounded
from reports.builders import period_of, register
from reports.models import ReportKind, ReportRequest
from schools.models import School
from schools.tenancy import require_scope

NEED_LABELS = dict(Need.choices)
AREA_LABELS = dict(AreaOfNeed.choices)
# How long past its date an overdue review is, in the bands a governor reads.
OVERDUE_BANDS = ((14, "Up to 2 weeks"), (42, "2 to 6 weeks"), (None, "More than 6 weeks"))


def _step_word(number: int | None) -> str:
    return f"Step {number}" if number is not None else "No step recorded"


# --- school termly report ----------------------------------------------------------------------


def _map_figures(pmap: costing.ProvisionMap) -> dict:
    def total(t: costing.MapTotal) -> dict:
        return {
            "key": t.key,
            "label": t.label,
            "provisions": t.rows,
            "groups": t.groups,
            "weekly_hours": rounded(t.weekly_hours),
            "cost": costing.money(t.cost),
            "complete": t.complete,
            "pupils": t.pupils,
            "places": t.places,
            "per_pupil_cost": costing.money(t.per_pupil_cost),
        }

    rows = [
        {
            "provision_id": r.provision_id,
            "name": r.name,
            "area": r.area,
            "area_label": r.area_label,
            "step": r.step,
            "ratio": r.ratio,
            "staff": [
                {
                    "kind": s.kind,
                    "label": s.label,
                    "groups": s.groups,
                    "weekly_hours": rounded(s.weekly_hours),
                    "weekly_time": s.weekly_time,
                    "rate": s.rate,
                    "cost": costing.money(s.cost),
                }
                for s in r.staff
            ],
            "groups": r.groups,
            "weekly_hours": rounded(r.weekly_hours),
            "weekly_time": r.weekly_time,
            "weeks": r.weeks,
            "cost": costing.money(r.cost),
            "pupils": r.pupils,
            "per_pupil_cost": costing.money(r.per_pupil_cost),
            "missing_rates": [costing.STAFF_LABELS.get(k, k) for k in r.missing_rates],
        }
        for r in pmap.rows
    ]
    return {
        "rows": rows,
        "by_step": [total(t) for t in pmap.by_step],
        "by_area": [total(t) for t in pmap.by_area],
        "total": total(pmap.total),
        "missing_rates": pmap.missing_rate_labels,
    }


def _pupil_figures(school: School) -> dict:
    """Pupils on roll by current step (with SEN status) and on the SEN register by need: two
    grouped queries on the register's own selector."""
    scope = require_scope()
    on_roll = pupil_register(scope, RegisterFilters()).filter(school_id=school.pk).order_by()
    by_step: dict[int | None, dict] = {}
    for row in on_roll.values(
        "current_step_number", "current_placement__step__tier_label", "sen_status"
    ).annotate(n=Count("pk")):
        number = row["current_step_number"]
        entry = by_step.setdefault(
            number,
            {"step": number, "labels": set(), "pupils": 0, "ehc_plan": 0, "sen_support": 0, "no_sen": 0},
        )
        if row["current_placement__step__tier_label"]:
            entry["labels"].add(row["current_placement__step__tier_label"])
        entry["pupils"] += row["n"]
        key = {SenStatus.EHC_PLAN: "ehc_plan", SenStatus.SEN_SUPPORT: "sen_support"}.get(
            row["sen_status"], "no_sen"
        )
        entry[key] += row["n"]
    steps = []
    for number in sorted(by_step, key=lambda n: (n is None, n or 0)):
        entry = by_step[number]
        labels = sorted(entry.pop("labels"))
        entry["label"] = _step_word(number) + (f": {' / '.join(labels)}" if labels else "")
        steps.append(entry)

    needs: dict[str, dict] = {}
    register = on_roll.exclude(sen_status=SenStatus.NONE)
    for row in register.values("primary_need", "sen_status").annotate(n=Count("pk")):
        need = row["primary_need"] or ""
        entry = needs.setdefault(
            need,
            {
                "need": need,
                "label": NEED_LABELS.get(need, "Not recorded"),
                "area": AREA_OF_NEED.get(need, AreaOfNeed.OTHER),
                "ehc_plan": 0,
                "sen_support": 0,
                "pupils": 0,
            },
        )
        entry["ehc_plan" if row["sen_status"] == SenStatus.EHC_PLAN else "sen_support"] += row["n"]
        entry["pupils"] += row["n"]
    area_order = {a: i for i, a in enumerate(AreaOfNeed.values)}
    need_rows = sorted(needs.values(), key=lambda e: (area_order.get(e["area"], 99), e["label"]))
    for entry in need_rows:
        entry["area_label"] = AREA_LABELS.get(entry["area"], entry["area"])
    areas = []
    for area in sorted({e["area"] for e in need_rows}, key=lambda a: area_order.get(a, 99)):
        mine = [e for e in need_rows if e["area"] == area]
        areas.append(
            {
                "area": area,
                "label": AREA_LABELS.get(area, area),
                "ehc_plan": sum(e["ehc_plan"] for e in mine),
                "sen_support": sum(e["sen_support"] for e in mine),
                "pupils": sum(e["pupils"] for e in mine),
            }
        )
    return {
        "on_roll": sum(e["pupils"] for e in steps),
        "ehc_plan": sum(e["ehc_plan"] for e in steps),
        "sen_support": sum(e["sen_support"] for e in steps),
        "by_step": steps,
        "by_need": need_rows,
        "by_area": areas,
    }


def _movement_figures(school: School, first: date, last: date) -> dict:
    """Step placements dated in the term. A move up made as an override counts once a
    headteacher approved it; one still awaiting approval is counted apart, and one that was
    never approved (the pupil moved on first) not at all."""
    Kind, Status = StepPlacement.Kind, StepPlacement.Status
    rows = (
        StepPlacement.objects.filter(school_id=school.pk, placed_on__gte=first, placed_on__lte=last)
        .order_by()
        .values("kind", "status", "override", "approved_at", "from_step__number", "step__number")
    )
    by_kind = {k: 0 for k in Kind.values}
    routes: dict[tuple, int] = defaultdict(int)
    awaiting = overrides = 0
    for r in rows:
        if r["status"] == Status.PENDING:
            awaiting += 1
            continue
        if r["override"] and r["approved_at"] is None:
            continue
        overrides += r["override"]
        by_kind[r["kind"]] += 1
        start = None if r["kind"] == Kind.START else r["from_step__number"]
        end = None if r["kind"] == Kind.EXIT else r["step__number"]
        routes[(r["kind"], start, end)] += 1
    labels = dict(Kind.choices)
    kind_order = {k: i for i, k in enumerate(Kind.values)}
    return {
        "total": sum(by_kind.values()),
        "by_kind": [{"kind": k, "label": labels[k], "count": by_kind[k]} for k in Kind.values],
        "routes": [
            {
                "kind": kind,
                "label": labels[kind],
                "from_step": start,
                "to_step": end,
                "count": n,
            }
            for (kind, start, end), n in sorted(
                routes.items(), key=lambda item: (kind_order[item[0][0]], item[0][1] or 0, item[0][2] or 0)
            )
        ],
        "overrides_approved": overrides,
        "awaiting_approval": awaiting,
    }


def _impact_figures(school: School, year: int) -> list[dict]:
    return [
        {
            "provision_id": r.provision_id,
            "name": r.name,
            "area_label": r.area_label,
            "step": r.step,
            "measure": r.measure_label,
            "groups": r.groups,
            "enrolments": r.enrolments,
            "pupils": r.pupils,
            "scored": r.scored,
            "average_improvement": rounded(r.average_improvement),
            "improved": r.improved,
            "with_outcome": r.with_outcome,
            "improved_share": rounded(r.improved_share, 4),
            "mean_rating": rounded(r.mean_rating),
            "attendance_rate": rounded(r.attendance_rate, 4),
            "cost": costing.money(r.cost),
            "cost_per_pupil": costing.money(r.cost_per_pupil),
            "cost_per_improvement": costing.money(r.cost_per_improvement),
        }
        for r in costing.what_works(school, academic_year=year)
        if r.enrolments
    ]


def _review_figures(school: School, today: date) -> dict:
    """Open plans of pupils on roll whose review date has passed (and those due within two
    weeks), from the SENCO's list of reviews due."""
    scope = require_scope()
    due = list(
        reviews_due(scope, today=today, within_days=14)
        .filter(school_id=school.pk)
        .values("review_due", "step__number")
    )
    overdue = [d for d in due if d["review_due"] < today]
    bands = []
    lower = 0
    for upper, label in OVERDUE_BANDS:
        n = sum(1 for d in overdue if lower < (today - d["review_due"]).days <= (upper or 10**6))
        bands.append({"label": label, "plans": n})
        lower = upper or 0
    by_step: dict[int | None, int] = defaultdict(int)
    for d in overdue:
        by_step[d["step__number"]] += 1
    open_plans = SupportPlan.objects.filter(
        school_id=school.pk,
        status=SupportPlan.Status.OPEN,
        pupil__in=pupil_register(scope, RegisterFilters()).values("pk"),
    ).count()
    return {
        "as_of": today,
        "open_plans": open_plans,
        "overdue": len(overdue),
        "due_within_14_days": len(due) - len(overdue),
        "oldest_due": min((d["review_due"] for d in overdue), default=None),
        "overdue_by": bands,
        "overdue_by_step": [
            {"step": s, "label": _step_word(s), "plans": by_step[s]}
            for s in sorted(by_step, key=lambda s: (s is None, s or 0))
        ],
    }


def _money_text(value: Decimal | None, complete: bool = True) -> str:
    text = costing.format_money(value)
    return text if complete or value is None else f"{text} (known costs only)"


@register(ReportKind.SCHOOL_TERMLY)
def school_termly(row: ReportRequest) -> Built:
    period = period_of(row)
    school = School.objects.select_related("local_authority").get(pk=row.school_id)
    today = timezone.localdate()
    term = costing.CostingPeriod(year=period.year, kind=costing.CostingYear.ACADEMIC, term=period.term)
    pmap = costing.provision_map(school, period=term)
    figures = {
        "kind": row.kind,
        "school": {"id": school.pk, "name": school.name, "urn": school.urn},
        "period": period_figures(period),
        "built_on": today,
        "provision_map": _map_figures(pmap),
        "pupils": _pupil_figures(school),
        "movements": _movement_figures(school, period.first, period.last),
        "impact": {
            "school_year": costing.academic_year_label(period.year),
            "rows": _impact_figures(school, period.year),
        },
        "reviews": _review_figures(school, today),
    }

    pm = figures["provision_map"]
    steps = figures["pupils"]["by_step"]
    known_by_step = [t for t in pm["by_step"] if t["cost"]]
    context = context_base(
        "School provision report for the term",
        school.name,
        period.label,
        contents=[
            ("summary", "The term at a glance"),
            ("provision-map", "Costed provision map"),
            ("pupils", "Pupils by step and by need"),
            ("movements", "Moves between steps"),
            ("impact", "What the interventions achieved"),
            ("reviews", "Plan reviews overdue"),
        ],
    )
    context.update(
        {
            "map_rows": [
                {
                    **r,
                    "step_text": costing.step_label(r["step"]),
                    "cost_text": costing.format_money(r["cost"]),
                    "per_pupil_text": costing.format_money(r["per_pupil_cost"], unknown="—"),
                    "staff_text": ", ".join(s["label"] for s in r["staff"]),
                }
                for r in pm["rows"]
            ],
            "map_totals": [
                (caption, first, [{**t, "cost_text": _money_text(t["cost"], t["complete"])} for t in totals])
                for caption, first, totals in (
                    ("Cost by wave or step", "Wave or step", pm["by_step"]),
                    ("Cost by area of need", "Area of need", pm["by_area"]),
                )
            ],
            "map_total_text": _money_text(pm["total"]["cost"], pm["total"]["complete"]),
            "map_per_pupil_text": costing.format_money(pm["total"]["per_pupil_cost"], unknown="—"),
            "step_chart": charts.bar_chart(
                [f"Step {s['step']}" if s["step"] is not None else "No step" for s in steps],
                [s["pupils"] for s in steps],
                title="Pupils on roll by current step",
                value_label="Pupils",
                chart_id="chart-pupils-by-step",
            ),
            "cost_chart": charts.horizontal_bar_chart(
                [t["label"] for t in known_by_step],
                [t["cost"] for t in known_by_step],
                title="Known cost of the term's provision by wave or step",
                value_label="Cost (£)",
                chart_id="chart-cost-by-step",
            )
            if known_by_step
            else "",
            "impact_rows": [
                {
                    **r,
                    "step_text": costing.step_label(r["step"]),
                    "average_text": costing.plain(r["average_improvement"])
                    if r["average_improvement"] is not None
                    else "—",
                    "improved_text": costing.format_share(r["improved_share"]),
                    "attendance_text": costing.format_share(r["attendance_rate"]),
                    "cost_per_pupil_text": costing.format_money(r["cost_per_pupil"], unknown="—"),
                    "cost_per_gain_text": costing.format_money(r["cost_per_improvement"], unknown="—"),
                }
                for r in figures["impact"]["rows"]
            ],
        }
    )
    return figures, "reports/school_termly.html", context
