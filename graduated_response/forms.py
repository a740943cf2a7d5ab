"""Browser forms for a pupil's step: place or move, leave the framework, record a strategy."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone

from graduated_response.models import Step, Strategy
from schools.forms import DateInput


class StepForm(forms.Form):
    """Place, move or take off the framework: one form, the action chosen by the step."""

    EXIT = "exit"

    to_step = forms.ChoiceField(label="Step")
    placed_on = forms.DateField(label="From", widget=DateInput, initial=timezone.localdate)
    reason = forms.CharField(label="Reason", widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)
    evidence = forms.CharField(
        label="Evidence", widget=forms.Textarea(attrs={"rows": 3}), max_length=4000, required=False
    )
    override_justification = forms.CharField(
        label="Justification for an override",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
        required=False,
        help_text="Only for moving up before the step's rule is met: a headteacher must approve it.",
    )

    def __init__(self, *args: Any, steps: list[Step], can_exit: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.steps = {str(s.pk): s for s in steps}
        choices = [(str(s.pk), f"{s.framework.name}: step {s.number}, {s.tier_label}") for s in steps]
        if can_exit:
            choices.append((self.EXIT, "Leave the framework"))
        self.fields["to_step"].choices = [("", "Choose"), *choices]

    def chosen_step(self) -> Step | None:
        return self.steps.get(self.cleaned_data["to_step"])


class StrategyTriedForm(forms.Form):
    strategy = forms.ModelChoiceField(
        label="Strategy from the step's catalogue", queryset=None, required=False
    )
    name = forms.CharField(label="Or another strategy", max_length=200, required=False)
    started_on = forms.DateField(label="Started", widget=DateInput, initial=timezone.localdate)
    reviewed_on = forms.DateField(
        label="Reviewed",
        widget=DateInput,
        required=False,
        help_text="Only reviewed strategies count towards moving up a step.",
    )
    outcome = forms.CharField(label="Outcome", widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args: Any, step: Step, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["strategy"].queryset = Strategy.objects.filter(step=step).order_by("order", "id")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not data.get("strategy") and not (data.get("name") or "").strip():
            raise forms.ValidationError("Choose a strategy from the catalogue or name another one.")
        return data
