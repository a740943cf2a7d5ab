"""Browser forms for an LA administrator's settings: the review interval, how long pupils'
records are kept, and one school year's three terms edited together."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from schools.forms import DateInput
from schools.models import RETENTION_YEARS_MAX, RETENTION_YEARS_MIN, LocalAuthority, TermDates
from schools.rates import COSTING_WEEKS_MAX, COSTING_WEEKS_MIN, MAX_RATE, RateRow
from schools.services_la import REVIEW_WEEKS_MAX, REVIEW_WEEKS_MIN, TERM_ORDER, term_order_errors


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


class RetentionForm(forms.Form):
    retention_years_after_birth = forms.IntegerField(
        label="Years pupils' records are kept after their date of birth",
        min_value=RETENTION_YEARS_MIN,
        max_value=RETENTION_YEARS_MAX,
        help_text=(
            "Each night, a pupil who has left your schools is removed, with everything recorded about "
            "them (plans, steps, interventions, placements, reports and their PDFs), once their date of "
            "birth plus this many years has passed. SEN records are commonly kept for 31 years. Pupils "
            "still on roll, and pupils a headteacher has put on legal hold, are kept. Removal cannot be "
            "undone: a shorter period takes effect at the next nightly run."
        ),
        error_messages={
            "required": "Give the number of years records are kept after a pupil's date of birth.",
            "invalid": "Give a whole number of years, such as 31.",
            "min_value": (
                f"Give at least {RETENTION_YEARS_MIN} years: a claim about a child's schooling can "
                f"be brought until they are {RETENTION_YEARS_MIN}."
            ),
            "max_value": f"Give at most {RETENTION_YEARS_MAX} years.",
        },
    )

    def __init__(self, *args: Any, la: LocalAuthority, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"retention_years_after_birth": la.retention_years_after_birth})
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
        widgets = {name: DateInput() for name in fields}
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


def _rate_field(label: str, help_text: str = "") -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=False,
        min_value=0,
        max_value=MAX_RATE,
        decimal_places=2,
        max_digits=6,
        help_text=help_text,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
        error_messages={"invalid": "Give an amount in pounds, such as 24.50."},
    )


class CostingForm(forms.Form):
    """The LA's costing year and an hourly rate per kind of staff."""

    costing_weeks = forms.DecimalField(
        label="Weeks in a costing year",
        min_value=COSTING_WEEKS_MIN,
        max_value=COSTING_WEEKS_MAX,
        decimal_places=1,
        max_digits=4,
        help_text="Usually 38; some LAs cost 38.6 or 39 weeks.",
    )
    costing_year = forms.ChoiceField(
        label="Costing year", choices=LocalAuthority.CostingYear.choices, widget=forms.RadioSelect
    )

    def __init__(self, *args: Any, la: LocalAuthority, table: list[RateRow], **kwargs: Any) -> None:
        initial = {"costing_weeks": la.costing_weeks, "costing_year": la.costing_year}
        initial.update({f"rate_{row.kind}": row.la_rate for row in table})
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        for row in table:
            self.fields[f"rate_{row.kind}"] = _rate_field(f"{row.label}, £ an hour")

    def rates(self) -> dict[str, Decimal | None]:
        return {name[5:]: value for name, value in self.cleaned_data.items() if name.startswith("rate_")}

    def rate_fields(self):
        return [field for field in self if field.name.startswith("rate_")]


class SchoolRatesForm(forms.Form):
    """A school's own hourly rates; empty uses the LA's."""

    def __init__(self, *args: Any, table: list[RateRow], **kwargs: Any) -> None:
        kwargs.setdefault("initial", {f"rate_{row.kind}": row.school_rate for row in table})
        super().__init__(*args, **kwargs)
        for row in table:
            la_rate = f"£{row.la_rate:.2f}" if row.la_rate is not None else "none set"
            self.fields[f"rate_{row.kind}"] = _rate_field(
                f"{row.label}, £ an hour",
                help_text=f"Leave empty to use the local authority's rate ({la_rate}).",
            )

    def rates(self) -> dict[str, Decimal | None]:
        return {name[5:]: value for name, value in self.cleaned_data.items()}
