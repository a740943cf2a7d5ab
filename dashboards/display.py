"""How the shared figures are shown: display strings and SVG charts, made from the figures
dict alone (no query), for the dashboards and the school termly report alike.

Every chart comes from the one chart module (provisionmap/charts.py) and sits beside a table
of the same figures, so a chart is never the only way to read them; its `<desc>` says what
it shows. Suppressed figures ("<5", "x") are never drawn: a bar cannot show "fewer than
five", so scopes outside a school get tables, and charts only of money and of KPIs the
provision's figures already show as numbers.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from dashboards.figures import Filters
from interventions import costing
from provisionmap import charts
from pupils.codes import AreaOfNeed
from pupils.models import nc_year_label
from reports.build_partnership import budget_chart, spend_chart
from reports.models import ScopeType

PERCENT_KPIS = ("attendance_rate", "reintegration_rate")


def money_text(value: Decimal | None, complete: bool = True) -> str:
    text = costing.format_money(value)
    return text if complete or value is None else f"{text} (known costs only)"


def percent(value: Decimal | None) -> str:
    return costing.format_share(value)


def map_rows(pm: dict) -> list[dict]:
    return [
        {
            **r,
            "step_text": costing.step_label(r["step"]),
            "cost_text": costing.format_money(r["cost"]),
            "per_pupil_text": costing.format_money(r["per_pupil_cost"], unknown="—"),
            "staff_text": ", ".join(s["label"] for s in r["staff"]),
        }
        for r in pm["rows"]
    ]


def map_totals(pm: dict) -> list[tuple[str, str, list[dict]]]:
    """(caption, first heading, totals with their cost as text) by wave or step and by area."""
    return [
        (caption, first, [{**t, "cost_text": money_text(t["cost"], t["complete"])} for t in totals])
        for caption, first, totals in (
            ("Cost by wave or step", "Wave or step", pm["by_step"]),
            ("Cost by area of need", "Area of need", pm["by_area"]),
        )
    ]


def impact_rows(rows: list[dict]) -> list[dict]:
    return [
        {
            **r,
            "step_text": costing.step_label(r["step"]),
            "average_text": costing.plain(r["average_improvement"])
            if r["average_improvement"] is not None
            else "—",
            "improved_text": percent(r["improved_share"]),
            "attendance_text": percent(r["attendance_rate"]),
            "cost_per_pupil_text": costing.format_money(r["cost_per_pupil"], unknown="—"),
            "cost_per_gain_text": costing.format_money(r["cost_per_improvement"], unknown="—"),
        }
        for r in rows
    ]


def step_chart(steps: list[dict]) -> str:
    return charts.bar_chart(
        [f"Step {s['step']}" if s["step"] is not None else "No step" for s in steps],
        [s["pupils"] for s in steps],
        title="Pupils on roll by current step",
        value_label="Pupils",
        chart_id="chart-pupils-by-step",
    )


def cost_chart(totals: list[dict], *, by: str, chart_id: str) -> str:
    known = [t for t in totals if t["cost"]]
    if not known:
        return ""
    return charts.horizontal_bar_chart(
        [t["label"] for t in known],
        [t["cost"] for t in known],
        title=f"Known cost of the term's provision by {by}",
        value_label="Cost (£)",
        chart_id=chart_id,
    )


def school(figures: dict) -> dict:
    pm = figures["provision_map"]
    pupils = figures["pupils"]
    register = figures["register"]
    shares = [r for r in register["rows"] if r["code"] != "N"]
    return {
        "register_rows": [
            {**r, "share_text": percent(r["share"]), "england_text": percent(r["england_share"])}
            for r in register["rows"]
        ],
        "register_chart": charts.horizontal_bar_chart(
            [f"{r['label']}: {where}" for r in shares for where in ("this school", "England")],
            [(v or 0) * 100 for r in shares for v in (r["share"], r["england_share"])],
            title="Share of pupils on the SEN register, this school beside England",
            value_label="Per cent of pupils on roll",
            chart_id="chart-register",
        )
        if register["on_roll"]
        else "",
        "step_chart": step_chart(pupils["by_step"]),
        "area_chart": charts.horizontal_bar_chart(
            [a["label"] for a in pupils["by_area"]],
            [a["pupils"] for a in pupils["by_area"]],
            title="Pupils on the SEN register by area of primary need",
            value_label="Pupils",
            chart_id="chart-register-by-area",
        ),
        "movement_chart": charts.bar_chart(
            [k["label"] for k in figures["movements"]["by_kind"]],
            [k["count"] for k in figures["movements"]["by_kind"]],
            title="Moves on the graduated response in the term",
            value_label="Moves",
            chart_id="chart-movements",
        ),
        "map_rows": map_rows(pm),
        "map_totals": map_totals(pm),
        "map_total_text": money_text(pm["total"]["cost"], pm["total"]["complete"]),
        "map_per_pupil_text": costing.format_money(pm["total"]["per_pupil_cost"], unknown="—"),
        "cost_by_area_chart": cost_chart(pm["by_area"], by="area of need", chart_id="chart-cost-by-area"),
        "cost_by_step_chart": cost_chart(pm["by_step"], by="wave or step", chart_id="chart-cost-by-step"),
        "impact_rows": impact_rows(figures["impact"]["rows"]),
        "watched_rows": [
            {
                **r,
                "session_text": percent(r["session_attendance"]),
                "placement_text": percent(r["placement_attendance"]),
            }
            for r in figures["watched"]["rows"]
        ],
        "watched_session_text": percent(figures["watched"]["session_attendance"]),
    }


def _number(text: str | None) -> Decimal | None:
    try:
        return Decimal(text) if text not in (None, "") else None
    except (InvalidOperation, TypeError):
        return None  # a suppressed figure ("<5", "x") or none at all


def kpi_chart(rows: list[dict], *, title: str, chart_id: str) -> str:
    """Targets beside actuals for the percentage KPIs shown as numbers."""
    categories: list[str] = []
    values: list[Decimal] = []
    for row in rows:
        actual = _number(row["actual"])
        if row["kpi"] not in PERCENT_KPIS or actual is None:
            continue
        name = row["label"].replace(" (%)", "")
        target = _number(row["target"])
        if target is not None:
            categories.append(f"{name}: target")
            values.append(target)
        categories.append(f"{name}: actual")
        values.append(actual)
    if not categories:
        return ""
    return charts.horizontal_bar_chart(
        categories, values, title=title, value_label="Per cent", chart_id=chart_id
    )


def provision(figures: dict) -> dict:
    return {
        "kpi_chart": kpi_chart(
            figures["kpis"], title="Attendance and reintegration: target and actual", chart_id="chart-kpis"
        )
    }


def partnership(figures: dict) -> dict:
    return {
        "spend_chart": spend_chart(figures["budget"], chart_id="chart-spend") if figures["budget"] else "",
    }


def local_authority(figures: dict) -> dict:
    return {"budget_chart": budget_chart(figures["budgets"])}


def filter_text(filters: Filters) -> str:
    """The filters in words: "Year 7, Social, emotional and mental health pupils"."""
    parts = []
    if filters.year_group is not None:
        parts.append(nc_year_label(filters.year_group))
    if filters.area:
        parts.append(dict(AreaOfNeed.choices).get(filters.area, filters.area))
    return f"{', '.join(parts)} pupils only" if parts else ""


def for_scope(scope_type: str, figures: dict) -> dict:
    return {
        ScopeType.SCHOOL: school,
        ScopeType.PROVISION: provision,
        ScopeType.PARTNERSHIP: partnership,
        ScopeType.LOCAL_AUTHORITY: local_authority,
    }[scope_type](figures)
