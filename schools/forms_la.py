"""Browser forms for an LA administrator's settings: the review interval, and one school
year's three terms edited together."""

from __future__ import annotations

from typing import Any

from django import forms

from schools.models import LocalAuthority, TermDates
from schools.services_la import REVIEW_WEEKS_MAX, REVIEW_WEEKS_MIN, TERM_ORDER, term_order_errors


class DateInput(forms.DateInput):
    input_type = "date"


class ReviewIntervalForm(forms.Form):
    review_interval_weeks = forms.IntegerField(
        label="School weeks between support plan reviews",
        min_value=REVIEW_WEEKS_MIN,
        max_value=REVIEW_WEEKS_MAX,
        help_text=(
            "A plan, and each review of it, sets the next review this many school weeks on. "
            "Holidays in your term dates are not counted."
        ),
        error_messages={
            "required": "Give the number of school weeks between reviews.",
            "invalid": "Give a whole number of weeks, such as 6.",
            "min_value": f"Give at least {REVIEW_WEEKS_MIN} week.",
            "max_value": f"Give at most {REVIEW_WEEKS_MAX} weeks (a school year).",
        },
    )

    def __init__(self, *args: Any, la: LocalAuthority, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"review_interval_weeks": la.review_interval_weeks})
        super().__init__(*args, **kwargs)


class TermForm(forms.ModelForm):
    """One term's dates. The model's own checks (end after start, half-term inside the term,
    start inside the school year) run as the form validates."""

    class Meta:
        model = TermDates
        fields = ["starts_on", "ends_on", "half_term_starts_on", "half_term_ends_on"]
        labels = {
            "starts_on": "First day",
            "ends_on": "Last day",
            "half_term_starts_on": "First day of half-term",
            "half_term_ends_on": "Last day of half-term",
        }
        widgets = {name: DateInput(format="%Y-%m-%d") for name in fields}
        error_messages = {
            "starts_on": {"required": "Give the first day of term.", "invalid": "Give a real date."},
            "ends_on": {"required": "Give the last day of term.", "invalid": "Give a real date."},
            "half_term_starts_on": {"invalid": "Give a real date."},
            "half_term_ends_on": {"invalid": "Give a real date."},
        }


class TermYearForms:
    """The autumn, spring and summer terms of one school year, as three prefixed forms that
    are valid together or not at all (terms must also follow one another)."""

    def __init__(
        self,
        data: Any = None,
        *,
        la: LocalAuthority,
        academic_year: int,
        saved: dict[str, TermDates],
        initial: dict[str, dict] | None = None,
    ) -> None:
        initial = initial or {}
        self.forms = [
            TermForm(
                data,
                prefix=term.value,
                instance=saved.get(term)
                or TermDates(local_authority=la, academic_year=academic_year, term=term),
                initial=initial.get(term),
            )
            for term in TERM_ORDER
        ]
        self.non_form_errors: list[str] = []

    def __iter__(self):
        return iter(self.forms)

    @property
    def is_bound(self) -> bool:
        return self.forms[0].is_bound

    def is_valid(self) -> bool:
        valid = all([form.is_valid() for form in self.forms])  # every form, for every message
        if valid:
            self.non_form_errors = term_order_errors(self.rows())
        return valid and not self.non_form_errors

    def has_errors(self) -> bool:
        return bool(self.non_form_errors) or any(form.errors for form in self.forms)

    def add_error(self, message: str) -> None:
        self.non_form_errors.append(message)

    def rows(self) -> list[TermDates]:
        """The forms' instances, which hold the submitted dates once validated."""
        return [form.instance for form in self.forms]
