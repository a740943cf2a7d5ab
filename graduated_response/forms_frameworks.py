"""Browser forms for an LA administrator's framework editor: copy a template, edit a step,
add or change a strategy. The services validate again (and refuse an edit of a version
pupils are placed under); these forms give clear messages beside the fields."""

from __future__ import annotations

from typing import Any

from django import forms

from graduated_response.models import Step, Strategy
from graduated_response.selectors import framework_templates
from graduated_response.services import STEP_EDITABLE, STEP_TEXT_LISTS

ONE_PER_LINE = "One item per line."


class CopyTemplateForm(forms.Form):
    template = forms.ChoiceField(label="Template", error_messages={"invalid_choice": "Choose a template."})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["template"].choices = [(t.key, t.name) for t in framework_templates()]


class StepEditForm(forms.Form):
    """The step's editable fields (services.STEP_EDITABLE), built from the model's own fields
    so lengths and labels stay in one place; a plain form, so the step is only changed by the
    service."""

    def __init__(self, *args: Any, step: Step, **kwargs: Any) -> None:
        initial = {field: getattr(step, field) for field in STEP_EDITABLE}
        super().__init__(*args, initial=initial, **kwargs)
        widgets = {field: forms.Textarea(attrs={"rows": 4}) for field in STEP_TEXT_LISTS}
        widgets["next_step"] = forms.Textarea(attrs={"rows": 2})
        widgets["escalation_note"] = forms.Textarea(attrs={"rows": 2})
        self.fields.update(forms.fields_for_model(Step, fields=STEP_EDITABLE, widgets=widgets))
        for field in STEP_TEXT_LISTS:
            self.fields[field].help_text = ONE_PER_LINE
        self.fields["min_strategies_to_escalate"] = forms.IntegerField(
            label="Strategies needed before moving up",
            required=False,
            min_value=1,
            max_value=30,
            help_text=(
                "Distinct strategies tried and reviewed at this step before a pupil may move up "
                "without a headteacher's approval. Leave it empty for no rule."
            ),
            error_messages={
                "min_value": "Give 1 or more, or leave it empty for no rule.",
                "max_value": "Give at most 30.",
                "invalid": "Give a whole number, or leave it empty for no rule.",
            },
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for field in STEP_TEXT_LISTS:
            if isinstance(data.get(field), str):
                # Blank lines between items carry nothing; keep one item per line.
                data[field] = "\n".join(line.strip() for line in data[field].splitlines() if line.strip())
        return data

    def changes(self) -> dict[str, Any]:
        return {field: self.cleaned_data[field] for field in STEP_EDITABLE}


class StrategyForm(forms.Form):
    name = forms.CharField(label="Name", max_length=200)
    description = forms.CharField(
        label="Description", widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=4000
    )

    def __init__(self, *args: Any, step: Step, strategy: Strategy | None = None, **kwargs: Any) -> None:
        if strategy is not None:
            kwargs.setdefault("initial", {"name": strategy.name, "description": strategy.description})
        super().__init__(*args, **kwargs)
        self.step = step
        self.strategy = strategy

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the strategy a name.")
        # Escalation counts distinct strategies, so one catalogue names each once.
        same = Strategy.objects.filter(step=self.step, name__iexact=name)
        if self.strategy is not None:
            same = same.exclude(pk=self.strategy.pk)
        if same.exists():
            raise forms.ValidationError(f"Step {self.step.number} already has a strategy called “{name}”.")
        return name
