"""Report periods as written in requests: `2025-26` (a school year), `2025-26-autumn` (a term)
and `2025-26-q1` (a quarter of the financial year that starts in April 2025). An empty
period means the latest complete one."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from django.core.exceptions import ValidationError

from reports.models import PeriodKind
from schools.terms import Term, academic_year_of

_YEAR = re.compile(r"^(\d{4})-(\d{2})$")
_TERM = re.compile(r"^(\d{4})-(\d{2})-(autumn|spring|summer)$")
_QUARTER = re.compile(r"^(\d{4})-(\d{2})-q([1-4])$")
TERM_ORDER = ("autumn", "spring", "summer")
EXAMPLES = {PeriodKind.YEAR: "2025-26", PeriodKind.TERM: "2025-26-autumn", PeriodKind.QUARTER: "2025-26-q1"}


@dataclass(frozen=True)
class Period:
    """A span of days with the words people use for it."""

    kind: str
    code: str
    label: str
    first: date
    last: date
    year: int  # the calendar year the school (or financial) year starts in
    term: str = ""
    quarter: int = 0


def _year_label(year: int) -> str:
    return f"{year}-{(year + 1) % 100:02d}"


def _check_pair(start: str, end: str) -> int:
    year = int(start)
    if (year + 1) % 100 != int(end) or not 2000 <= year <= 2100:
        raise ValidationError({"period": f"{start}-{end} is not a year followed by the next (e.g. 2025-26)."})
    return year


def school_year(year: int) -> Period:
    return Period(
        PeriodKind.YEAR,
        _year_label(year),
        f"School year {_year_label(year)}",
        date(year, 9, 1),
        date(year + 1, 8, 31),
        year,
    )


def term_period(year: int, term: str, spans: dict[str, tuple[date, date]] | None = None) -> Period:
    """A term: the LA's dates when it has them, else the usual bounds of English terms."""
    if spans and term in spans:
        first, last = spans[term]
    else:
        first, last = {
            "autumn": (date(year, 9, 1), date(year, 12, 31)),
            "spring": (date(year + 1, 1, 1), date(year + 1, 4, 14)),
            "summer": (date(year + 1, 4, 15), date(year + 1, 8, 31)),
        }[term]
    return Period(
        PeriodKind.TERM,
        f"{_year_label(year)}-{term}",
        f"{Term(term).label} term {_year_label(year)}",
        first,
        last,
        year,
        term=term,
    )


def quarter_period(year: int, quarter: int) -> Period:
    starts = [date(year, 4, 1), date(year, 7, 1), date(year, 10, 1), date(year + 1, 1, 1)]
    first = starts[quarter - 1]
    last = (starts[quarter] if quarter < 4 else date(year + 1, 4, 1)) - timedelta(days=1)
    return Period(
        PeriodKind.QUARTER,
        f"{_year_label(year)}-q{quarter}",
        f"Quarter {quarter} of {_year_label(year)} (financial year)",
        first,
        last,
        year,
        quarter=quarter,
    )


def parse_period(kind: str, text: str, *, today: date, spans=None) -> Period | None:
    """The period a request names, checked against the kind of period its report takes."""
    text = (text or "").strip().lower()
    if kind == PeriodKind.NONE:
        if text:
            raise ValidationError({"period": "This report is of the record as it stands: give no period."})
        return None
    if not text:
        return latest_complete(kind, today=today, spans=spans)
    if kind == PeriodKind.YEAR and (m := _YEAR.match(text)):
        return school_year(_check_pair(m[1], m[2]))
    if kind == PeriodKind.TERM and (m := _TERM.match(text)):
        return term_period(_check_pair(m[1], m[2]), m[3], spans)
    if kind == PeriodKind.QUARTER and (m := _QUARTER.match(text)):
        return quarter_period(_check_pair(m[1], m[2]), int(m[3]))
    example = {
        PeriodKind.YEAR: "2025-26",
        PeriodKind.TERM: "2025-26-autumn",
        PeriodKind.QUARTER: "2025-26-q1",
    }
    raise ValidationError(
        {"period": f"Write the period like {example[kind]} (or leave it empty for the latest)."}
    )


def latest_complete(kind: str, *, today: date, spans=None) -> Period:
    """The most recent period of this kind that has ended by `today`."""
    if kind == PeriodKind.YEAR:
        return school_year(academic_year_of(today) - 1)
    if kind == PeriodKind.QUARTER:
        year = today.year if today.month >= 4 else today.year - 1
        quarter = (today.month - 4) % 12 // 3 + 1  # the quarter today is in
        return quarter_period(year, quarter - 1) if quarter > 1 else quarter_period(year - 1, 4)
    year = academic_year_of(today)
    candidates = [
        term_period(y, t, spans if y == year else None) for y in (year - 1, year) for t in TERM_ORDER
    ]
    ended = [p for p in candidates if p.last < today]
    return ended[-1]


def recent_periods(kind: str, *, today: date, spans_by_year: dict[int, dict] | None = None) -> list[Period]:
    """Choices for a dashboard's period, newest first: the current school year and the two
    before it, or the terms begun in this school year and the last (the first is the one
    under way, or between terms the last one begun)."""
    year = academic_year_of(today)
    if kind == PeriodKind.YEAR:
        return [school_year(y) for y in (year, year - 1, year - 2)]
    spans_by_year = spans_by_year or {}
    terms = [term_period(y, t, spans_by_year.get(y)) for y in (year - 1, year) for t in TERM_ORDER]
    return [p for p in reversed(terms) if p.first <= today] or [terms[3]]
