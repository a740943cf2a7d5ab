"""Builder of the school's termly provision report (registered in reports/builders.py).

For the governors and the partnership: the costed provision map of the term, pupils by step
and by need, step changes in the term, what the school year's interventions achieved, and
support plans whose review is overdue. It counts pupils and names none: governors need the
picture, not the children, and the SENCO's own lists name them.

The figures are the school dashboard's, from the one function both use
(`dashboards.figures.school_figures`), with no filter; this module lays them out. They are
plain JSON values: the snapshot kept beside the PDF. Display strings the template needs go
in the context, made from the same figures.

Importing this module also registers the pupils' reports (reports/build_pupil.py).
"""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from dashboards.figures import school_figures
from interventions import costing
from provisionmap import charts
from reports.build_pupil import Built, context_base
from reports.builders import period_of, register
from reports.models import ReportKind, ReportRequest
from schools.models import School


def _money_text(value: Decimal | None, complete: bool = True) -> str:
    text = costing.format_money(value)
    return text if complete or value is None else f"{text} (known costs only)"


@register(ReportKind.SCHOOL_TERMLY)
def school_termly(row: ReportRequest) -> Built:
    period = period_of(row)
    school = School.objects.select_related("local_authority").get(pk=row.school_id)
    figures = {"kind": row.kind, "built_on": timezone.localdate(), **school_figures(school, period)}

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
