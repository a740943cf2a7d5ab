"""The browser's form for asking for a report: one of the reports the membership may ask for
(built from its scope, never from the request), and a period."""

from __future__ import annotations

from django import forms

from reports.selectors import Askable

PERIOD_HELP = (
    "A term (2025-26-autumn), a school year (2025-26) or a quarter of the financial year "
    "(2025-26-q1), to suit the report. Leave it empty for the latest complete one."
)


class ReportRequestForm(forms.Form):
    report = forms.ChoiceField(label="Report")
    period = forms.CharField(label="Period", max_length=16, required=False, help_text=PERIOD_HELP)

    def __init__(self, *args, choices: list[Askable], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.askable = {a.value: a for a in choices}
        self.fields["report"].choices = [(a.value, f"{a.label} ({a.period_hint})") for a in choices]

    def chosen(self) -> Askable:
        return self.askable[self.cleaned_data["report"]]
