"""Spreadsheet exports: neutralising cells, CSV and XLSX writers, and the register's columns.

Anything a user typed may open in Excel or LibreOffice, where a cell that begins with `=`,
`+`, `-` or `@` (or a tab or carriage return before one) is run as a formula: a pupil named
`=HYPERLINK(...)` would become a link that sends data away. Every text cell is neutralised
with a leading single quote (SECURITY.md 23); numbers and dates are written as themselves
and cannot carry a formula. Later exports (reports, provision maps) reuse these writers.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from pupils.codes import AreaOfNeed
from pupils.models import Pupil

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

Cell = str | int | Decimal | float | date | bool | None


def neutralise(value: Any) -> Any:
    """A text cell that a spreadsheet would read as a formula, made plain text."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _csv_value(value: Cell) -> Cell:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")  # day first, as schools' MIS exports and imports use
    return neutralise(value)


def write_csv(headers: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    """UTF-8 with a byte-order mark (so Excel reads accents right) and CRLF line ends."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([neutralise(h) for h in headers])
    for row in rows:
        writer.writerow([_csv_value(v) for v in row])
    return out.getvalue().encode("utf-8-sig")


def _xlsx_text(value: str) -> str:
    # openpyxl refuses control characters an XLSX cannot hold; drop them first, then
    # neutralise, so a control character cannot hide a leading `=` from the check.
    return neutralise(ILLEGAL_CHARACTERS_RE.sub("", value))


def write_xlsx(headers: Sequence[str], rows: Iterable[Sequence[Cell]], *, title: str = "Export") -> bytes:
    """One sheet, header row in bold and frozen; dates as real dates shown day first."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=re.sub(r"[\[\]:*?/\\]", " ", title)[:31] or "Export")
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header_cells = []
    for h in headers:
        cell = WriteOnlyCell(sheet, value=_xlsx_text(h))
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    for row in rows:
        cells: list[Any] = []
        for value in row:
            if isinstance(value, bool):
                cells.append("Yes" if value else "No")
            elif isinstance(value, str):
                cells.append(_xlsx_text(value))
            elif isinstance(value, date):
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = "DD/MM/YYYY HH:MM" if isinstance(value, datetime) else "DD/MM/YYYY"
                cells.append(cell)
            else:
                cells.append(value)
        sheet.append(cells)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def safe_filename(*parts: str, extension: str) -> str:
    """A download name of letters, digits and dashes only: nothing a header or a file
    system could misread, and never a pupil's name."""
    stem = "-".join(re.sub(r"[^A-Za-z0-9]+", "-", p).strip("-") for p in parts if p)
    return f"{stem[:80] or 'export'}.{extension}"


# --- the SEN register ------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    header: str
    value: Any  # Pupil -> Cell


AREA_LABELS = dict(AreaOfNeed.choices)

# Headers follow the names common MIS exports use, so an export can be read back by the import.
REGISTER_COLUMNS: list[Column] = [
    Column("UPN", lambda p: p.upn),
    Column("Legal Surname", lambda p: p.last_name),
    Column("Legal Forename", lambda p: p.first_name),
    Column("Preferred Name", lambda p: p.preferred_name),
    Column("DOB", lambda p: p.date_of_birth),
    Column("Gender", lambda p: p.gender),
    Column("NC Year", lambda p: p.nc_year),
    Column("Ethnicity", lambda p: p.ethnicity),
    Column("FSM", lambda p: p.fsm),
    Column("Pupil Premium", lambda p: p.pupil_premium),
    Column("EAL", lambda p: p.eal),
    Column("Looked After", lambda p: p.looked_after),
    Column("SEN Provision", lambda p: p.sen_status),
    Column("Primary Need", lambda p: p.primary_need),
    Column("Secondary Need", lambda p: p.secondary_need),
    Column("Area of Need", lambda p: AREA_LABELS.get(p.area_of_need, "")),
    Column("On Roll", lambda p: p.is_active),
    Column("Leaving Date", lambda p: p.left_on),
]
REGISTER_HEADERS = [c.header for c in REGISTER_COLUMNS]


def register_rows(pupils: Iterable[Pupil]) -> Iterable[list[Cell]]:
    for pupil in pupils:
        yield [column.value(pupil) for column in REGISTER_COLUMNS]
