"""Spreadsheet columns of the costed provision map and the "what works" table.

The figures come from `interventions.costing`; this module only lays them out in cells, and
`pupils.export` writes them (CSV or XLSX), neutralising any text cell a spreadsheet would run
as a formula: a provision named "=HYPERLINK(...)" arrives as plain text. Money is written as a
number rounded to the penny (the one rounding, `costing.money`), so a finance officer can add
the column up; an unknown cost is an empty cell with the reason in the note column.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

from interventions import costing
from pupils.export import Cell

MAP_HEADERS = [
    "Provision",
    "Area of need",
    "Wave or step",
    "Staff:pupil ratio",
    "Staff involved",
    "Weekly time",
    "Weekly staff hours",
    "Weeks",
    "Groups",
    "Cost (£)",
    "Pupils",
    "Cost per pupil (£)",
    "Note",
]


def _hours(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _no_rate_note(kinds: list[str]) -> str:
    if not kinds:
        return ""
    labels = ", ".join(costing.STAFF_LABELS.get(k, k) for k in kinds)
    return f"Cost unknown: no hourly rate for {labels}"


def _total_cells(total: costing.MapTotal, label: str) -> list[Cell]:
    note = _no_rate_note(total.missing_rates)
    if note:
        note = f"{note}; the cost adds up only the provision with rates"
    return [
        label,
        "",
        "",
        "",
        "",
        "",
        _hours(total.weekly_hours),
        "",
        total.groups,
        costing.money(total.cost),
        total.pupils,
        costing.money(total.per_pupil_cost),
        note,
    ]


def map_rows(pmap: costing.ProvisionMap) -> Iterable[list[Cell]]:
    """One row per provision, then the subtotals by wave or step and by area of need, then the
    total. Pupils in a subtotal are counted once however many provisions they receive."""
    for row in pmap.rows:
        yield [
            row.name,
            row.area_label,
            row.step,
            row.ratio,
            row.staff_involved,
            row.weekly_time,
            _hours(row.weekly_hours),
            row.weeks,
            row.groups,
            costing.money(row.cost),
            row.pupils,
            costing.money(row.per_pupil_cost),
            _no_rate_note(row.missing_rates),
        ]
    for total in pmap.by_step:
        yield _total_cells(total, f"Subtotal: {total.label}")
    for total in pmap.by_area:
        yield _total_cells(total, f"Subtotal: {total.label}")
    yield _total_cells(pmap.total, f"Total: {pmap.period.label}")


IMPACT_HEADERS = [
    "Provision",
    "Area of need",
    "Wave or step",
    "Measure",
    "Groups",
    "Enrolments",
    "Pupils",
    "Enrolments with entry and exit scores",
    "Average improvement",
    "Share improved (%)",
    "Mean rating (-2 to +2)",
    "Attendance (%)",
    "Cost (£)",
    "Cost per pupil (£)",
    "Cost per unit of improvement (£)",
    "Note",
]


def _percent(value: Decimal | None) -> Decimal | None:
    return None if value is None else (value * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _two_places(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def impact_rows(rows: Iterable[costing.ImpactRow]) -> Iterable[list[Cell]]:
    for r in rows:
        yield [
            r.name,
            r.area_label,
            r.step,
            r.measure_label,
            r.groups,
            r.enrolments,
            r.pupils,
            r.scored,
            _two_places(r.average_improvement),
            _percent(r.improved_share),
            _two_places(r.mean_rating),
            _percent(r.attendance_rate),
            costing.money(r.cost),
            costing.money(r.cost_per_pupil),
            costing.money(r.cost_per_improvement),
            _no_rate_note(r.missing_rates),
        ]
