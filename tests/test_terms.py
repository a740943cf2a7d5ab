"""Counting school weeks on an LA's term dates: reviews fall due in term time, so holidays
(half-terms, Christmas, Easter, summer) do not make a plan overdue."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from schools.models import TermDates
from schools.terms import SchoolCalendar, TermSpan, academic_year_label, academic_year_of, typical_terms

# A real-looking year: autumn 2025 with half-term 27–31 Oct, Christmas from 20 Dec,
# spring from 5 Jan 2026 with half-term 16–20 Feb.
AUTUMN = TermSpan(date(2025, 9, 3), date(2025, 12, 19), date(2025, 10, 27), date(2025, 10, 31))
SPRING = TermSpan(date(2026, 1, 5), date(2026, 3, 27), date(2026, 2, 16), date(2026, 2, 20))
SUMMER = TermSpan(date(2026, 4, 13), date(2026, 7, 22), date(2026, 5, 25), date(2026, 5, 29))
CAL = SchoolCalendar([AUTUMN, SPRING, SUMMER])


def test_six_weeks_without_holidays_is_six_calendar_weeks():
    # With no term dates, six weeks from Monday 15 September is Monday 27 October.
    assert SchoolCalendar().add_school_weeks(date(2025, 9, 15), 6) == date(2025, 10, 27)
    assert CAL.add_school_weeks(date(2025, 9, 8), 6) == date(2025, 10, 20)


def test_half_term_week_does_not_count():
    # From Monday 13 October: 14–24 October is 9 school days; the other 21 run from
    # Monday 3 November (after half-term) to Monday 1 December.
    assert CAL.add_school_weeks(date(2025, 10, 13), 6) == date(2025, 12, 1)


def test_review_across_the_christmas_holiday():
    # Monday 1 December: 2–19 Dec is 14 school days; 16 more from Monday 5 January → 26 January.
    assert CAL.add_school_weeks(date(2025, 12, 1), 6) == date(2026, 1, 26)
    # Calendar weeks would have said 12 January, in the second week back.
    assert SchoolCalendar().add_school_weeks(date(2025, 12, 1), 6) == date(2026, 1, 12)


def test_a_start_in_the_holiday_counts_from_the_next_term():
    assert CAL.add_school_weeks(date(2025, 12, 24), 1) == date(2026, 1, 9)


def test_a_year_without_term_dates_counts_weekdays():
    # 2026-27 has no dates: plain weekdays, not a year of holiday.
    assert CAL.add_school_weeks(date(2026, 9, 7), 2) == date(2026, 9, 21)
    # The Easter holiday of 2025-26 is known: 23 March + 2 school weeks crosses it.
    assert CAL.add_school_weeks(date(2026, 3, 23), 2) == date(2026, 4, 20)


def test_a_year_with_only_some_terms_entered_is_not_taken_as_holiday():
    partial = SchoolCalendar([AUTUMN, SPRING])
    assert partial.add_school_weeks(date(2026, 3, 23), 2) == date(2026, 4, 6)


def test_school_days_between_skips_holidays():
    assert CAL.school_days_between(date(2025, 12, 19), date(2026, 1, 9)) == 5
    assert CAL.school_days_between(date(2026, 1, 9), date(2026, 1, 9)) == 0


def test_academic_year_helpers():
    assert academic_year_of(date(2025, 8, 31)) == 2024
    assert academic_year_of(date(2025, 9, 1)) == 2025
    assert academic_year_label(2025) == "2025-26"
    assert academic_year_label(2099) == "2099-00"


def test_typical_terms_are_valid_term_dates():
    for row in typical_terms(2025):
        term = TermDates(academic_year=2025, local_authority_id=1, **row)
        term.clean()
        assert term.starts_on.weekday() == 0 and term.ends_on.weekday() == 4
    autumn, spring, summer = typical_terms(2025)
    assert autumn["ends_on"] < spring["starts_on"] < spring["ends_on"] < summer["starts_on"]


def test_term_dates_are_checked():
    bad = TermDates(
        local_authority_id=1,
        academic_year=2025,
        term="autumn",
        starts_on=date(2025, 9, 3),
        ends_on=date(2025, 12, 19),
        half_term_starts_on=date(2026, 1, 5),
        half_term_ends_on=date(2026, 1, 9),
    )
    with pytest.raises(ValidationError) as err:
        bad.clean()
    assert "half_term_starts_on" in err.value.message_dict
    wrong_year = TermDates(
        local_authority_id=1,
        academic_year=2024,
        term="autumn",
        starts_on=date(2025, 9, 3),
        ends_on=date(2025, 12, 19),
    )
    with pytest.raises(ValidationError) as err:
        wrong_year.clean()
    assert "starts_on" in err.value.message_dict
