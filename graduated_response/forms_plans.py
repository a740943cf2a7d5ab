"""Browser forms for support plans: the plan (Assess, Plan, Do), its targets, and a review."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone

from graduated_response.models import PlanReview, PlanTarget, SupportPlan, TargetOutcome
from graduated_response.plans import MAX_TARGETS, StrategyInput, TargetInput
from schools.forms import DateInput


def _text(label: str, *, rows: int = 3, required: bool = False, help_text: str = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        widget=forms.Textarea(attrs={"rows": rows}),
        max_length=4000,
        required=required,
        help_text=help_text,
    )


class PlanForm(forms.Form):
    """Assess and Plan in one form, in the order a planning meeting goes through them."""

    title = forms.CharField(max_length=200, help_text="A short name, e.g. Settling into lessons after lunch.")
    kind = forms.ChoiceField(
        label="Kind of plan", choices=SupportPlan.Kind.choices, initial=SupportPlan.Kind.SUPPORT
    )
    concerns = _text("Concerns", help_text="What the school and family are worried about.")
    triggers = _text(
        "Triggers", help_text="What tends to set the behaviour off: times, places, demands, people."
    )
    frequency_intensity = _text(
        "How often and how strongly",
        help_text="From observations: how many times a week, how intense, how long.",
    )
    assessments = _text(
        "Assessments used", help_text="For example SDQ, Boxall Profile, observations, reports."
    )
    key_adult = forms.CharField(label="Key adult", max_length=200, required=False)
    pupil_involvement = _text("How the pupil took part")
    parent_involvement = _text("How parents or carers took part")
    starts_on = forms.DateField(label="Plan starts", widget=DateInput, initial=timezone.localdate)
    review_due = forms.DateField(
        label="Review due",
        widget=DateInput,
        required=False,
        help_text="Leave empty to use the local authority's interval in school weeks.",
    )
    strategies = forms.ModelMultipleChoiceField(
        label="Strategies from the step's catalogue",
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    other_strategies = _text(
        "Other strategies", help_text="One per line, for strategies outside the catalogue."
    )
    delivery_notes = _text(
        "What is being delivered", help_text="The Do stage: how the strategies are going in practice."
    )

    def __init__(self, *args: Any, catalogue, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["strategies"].queryset = catalogue
        if editing:
            del self.fields["starts_on"]
            self.fields["strategies"].label = "Add strategies from the step's catalogue"
            self.fields["review_due"].help_text = "Move the review if the team has agreed another date."
        else:
            del self.fields["delivery_notes"]

    def plan_data(self) -> dict[str, Any]:
        skip = {"starts_on", "review_due", "strategies", "other_strategies"}
        return {k: v for k, v in self.cleaned_data.items() if k not in skip}

    def strategy_inputs(self) -> list[StrategyInput]:
        chosen = [StrategyInput(strategy=s) for s in self.cleaned_data.get("strategies") or []]
        others = [
            StrategyInput(name=line.strip())
            for line in (self.cleaned_data.get("other_strategies") or "").splitlines()
            if line.strip()
        ]
        return chosen + others


class TargetForm(forms.Form):
    id = forms.IntegerField(widget=forms.HiddenInput, required=False)
    description = _text("Target", rows=2, help_text="Specific, measurable, and within reach by the review.")
    success_criteria = _text("Success criteria", rows=2, help_text="What everyone will see when it is met.")


TargetFormSet = forms.formset_factory(TargetForm, extra=0, max_num=MAX_TARGETS, absolute_max=MAX_TARGETS)


def target_formset(data=None, *, plan: SupportPlan | None = None) -> forms.BaseFormSet:
    """The plan's targets, with blank rows to add more (three for a new plan, one when editing)."""
    initial = [
        {"id": t.pk, "description": t.description, "success_criteria": t.success_criteria}
        for t in (plan.targets.all() if plan else [])
    ]
    blanks = 3 if plan is None else 1
    initial += [{}] * min(blanks, MAX_TARGETS - len(initial))
    return TargetFormSet(data, initial=initial, prefix="targets")


def target_inputs(formset: forms.BaseFormSet) -> list[TargetInput]:
    return [
        TargetInput(
            id=form.cleaned_data.get("id"),
            description=form.cleaned_data.get("description", ""),
            success_criteria=form.cleaned_data.get("success_criteria", ""),
        )
        for form in formset.forms
        if form.cleaned_data
    ]


class ReviewForm(forms.Form):
    """A review: one outcome per target (fields made per plan), views, and the decision."""

    reviewed_on = forms.DateField(label="Reviewed on", widget=DateInput, initial=timezone.localdate)
    summary = _text("What the review found")
    pupil_views = _text("The pupil's views")
    parent_views = _text("Parents' or carers' views")
    decision = forms.ChoiceField(
        label="Decision", choices=PlanReview.Decision.choices, widget=forms.RadioSelect
    )
    next_review_due = forms.DateField(
        label="Next review",
        widget=DateInput,
        required=False,
        help_text="When continuing: leave empty for the local authority's interval in school weeks.",
    )

    def __init__(self, *args: Any, targets: list[PlanTarget], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.targets = targets
        for n, target in enumerate(targets, start=1):
            # The target's own words are shown by the template, escaped: labels and help
            # texts here stay ours (help texts are rendered as written).
            self.fields[f"rating_{target.pk}"] = forms.ChoiceField(
                label=f"Outcome of target {n}", choices=TargetOutcome.Rating.choices, widget=forms.RadioSelect
            )
            self.fields[f"note_{target.pk}"] = forms.CharField(
                label=f"Note on target {n}",
                max_length=2000,
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
            )

    def target_fields(self):
        return [(t, self[f"rating_{t.pk}"], self[f"note_{t.pk}"]) for t in self.targets]

    def main_fields(self):
        return [self[name] for name in ("reviewed_on", "summary", "pupil_views", "parent_views")]

    def outcomes(self) -> dict[int, tuple[str, str]]:
        data = self.cleaned_data
        return {t.pk: (data[f"rating_{t.pk}"], data.get(f"note_{t.pk}", "")) for t in self.targets}
