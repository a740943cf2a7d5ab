"""The dashboard's filters: period, year group and area of need."""

from __future__ import annotations

from django import forms

from dashboards.figures import Filters
from pupils.codes import AreaOfNeed
from pupils.forms import YEAR_CHOICES
from reports.periods import Period


class FilterForm(forms.Form):
    period = forms.ChoiceField(label="Period", required=False)
    year_group = forms.TypedChoiceField(
        label="Year group",
        choices=[("", "Every year group"), *YEAR_CHOICES],
        coerce=int,
        empty_value=None,
        required=False,
    )
    area = forms.ChoiceField(
        label="Area of need", choices=[("", "Every area of need"), *AreaOfNeed.choices], required=False
    )

    def __init__(self, data, *, periods: list[Period], filtered: bool) -> None:
        super().__init__(data)
        self.fields["period"].choices = [(p.code, p.label) for p in periods]
        self.fields["period"].error_messages["invalid_choice"] = "Choose one of the periods in the list."
        self.fields["year_group"].error_messages["invalid_choice"] = "Choose a year group from the list."
        self.fields["area"].error_messages["invalid_choice"] = "Choose an area of need from the list."
        if not filtered:
            del self.fields["year_group"]
            del self.fields["area"]

    def chosen(self) -> tuple[str, Filters]:
        """The period code (empty: the one under way) and the filters; nothing when invalid."""
        if not self.is_bound or not self.is_valid():
            return "", Filters()
        data = self.cleaned_data
        return data.get("period") or "", Filters(data.get("year_group"), data.get("area") or "")
