"""The school year: academic years, terms, and counting weeks in term time.

A support plan's review falls due after a number of *school* weeks (six by default, set per
LA), so a plan made just before Christmas is not overdue on the first day of spring term.
The LA's term dates say which days are term time; where an LA has none for a stretch of
the calendar, weeks there count as ordinary calendar weeks.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import models


class Term(models.TextChoices):
    AUTUMN = "autumn", "Autumn"
    SPRING = "spring", "Spring"
    SUMMER = "summer", "Summer"


def academic_year_of(day: date) -> int:
    """The academic year a day falls in, named by the calendar year it starts (Sept–Aug)."""
    return day.year if day.month >= 9 else day.year - 1


def academic_year_label(start_year: int) -> str:
    """2025 → "2025-26", the form reports and periods use."""
    return f"{start_year}-{(start_year + 1) % 100:02d}"


@dataclass(frozen=True)
class TermSpan:
    """One term: its first and last days, and its half-term break (if any)."""

    starts_on: date
    ends_on: date
    break_starts_on: date | None = None
    break_ends_on: date | None = None

    def open_ranges(self) -> list[tuple[date, date]]:
        if self.break_starts_on and self.break_ends_on:
            ranges = [
                (self.starts_on, self.break_starts_on - timedelta(days=1)),
                (self.break_ends_on + timedelta(days=1), self.ends_on),
            ]
            return [(a, b) for a, b in ranges if a <= b]
        return [(self.starts_on, self.ends_on)]


class SchoolCalendar:
    """Which days are school days: weekdays inside a term and outside its half-term.

    Holidays are known only for a school year whose three terms are all entered; in any
    other year every weekday counts, so an LA with no term dates (or a year it has not
    entered yet) gets plain weeks of five days rather than a year of holiday.
    """

    # A review interval is weeks, not years: stop counting long before anything runs away.
    MAX_DAYS = 3 * 366

    def __init__(self, spans: Iterable[TermSpan] = ()) -> None:
        spans = list(spans)
        terms_per_year = Counter(academic_year_of(span.starts_on) for span in spans)
        self.known_years = {year for year, n in terms_per_year.items() if n >= len(Term)}
        self.ranges = sorted(
            r
            for span in spans
            if academic_year_of(span.starts_on) in self.known_years
            for r in span.open_ranges()
        )
        self._starts = [a for a, _ in self.ranges]

    def is_school_day(self, day: date) -> bool:
        if day.weekday() >= 5:
            return False
        if academic_year_of(day) not in self.known_years:
            return True
        i = bisect_right(self._starts, day) - 1
        return i >= 0 and day <= self.ranges[i][1]

    def add_school_weeks(self, start: date, weeks: int) -> date:
        """The school day on which `weeks` weeks of school (five school days each) have
        passed after `start`; a start in a holiday counts from the next term."""
        need, day = weeks * 5, start
        for _ in range(self.MAX_DAYS):
            if need <= 0:
                break
            day += timedelta(days=1)
            if self.is_school_day(day):
                need -= 1
        return day

    def school_days_between(self, start: date, end: date) -> int:
        """School days after `start`, up to and including `end`."""
        days = min((end - start).days, self.MAX_DAYS)
        return sum(1 for n in range(1, days + 1) if self.is_school_day(start + timedelta(days=n)))


def typical_terms(start_year: int) -> list[dict]:
    """A usual pattern of English term dates for an academic year, for an LA that has not
    entered its own yet (and for the demo): early September to late July, with a week's
    half-term in each term. An LA's real dates replace these."""

    def monday_on_or_after(day: date) -> date:
        return day + timedelta(days=(7 - day.weekday()) % 7)

    def friday_before(day: date) -> date:
        return day - timedelta(days=(day.weekday() - 4) % 7 or 7)

    y = start_year
    autumn = monday_on_or_after(date(y, 9, 2))
    autumn_half = monday_on_or_after(date(y, 10, 23))
    christmas = friday_before(date(y, 12, 22))
    spring = monday_on_or_after(date(y + 1, 1, 3))
    spring_half = monday_on_or_after(date(y + 1, 2, 12))
    spring_end = friday_before(date(y + 1, 4, 1))
    summer = monday_on_or_after(date(y + 1, 4, 15))
    summer_half = monday_on_or_after(date(y + 1, 5, 25))
    summer_end = friday_before(date(y + 1, 7, 24))
    week = timedelta(days=4)  # a half-term is Monday to Friday
    return [
        {"term": Term.AUTUMN, "starts_on": autumn, "ends_on": christmas,
         "half_term_starts_on": autumn_half, "half_term_ends_on": autumn_half + week},
        {"term": Term.SPRING, "starts_on": spring, "ends_on": spring_end,
         "half_term_starts_on": spring_half, "half_term_ends_on": spring_half + week},
        {"term": Term.SUMMER, "starts_on": summer, "ends_on": summer_end,
         "half_term_starts_on": summer_half, "half_term_ends_on": summer_half + week},
    ]  # fmt: skip
