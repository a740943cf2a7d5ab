"""Browser forms for a partnership's agreements, their review survey and report narratives."""

from __future__ import annotations

from django import forms

from schools.forms import DateInput
from schools.models import SLA_SECTIONS, ServiceLevelAgreement, SlaReview

DATE_ERRORS = {"required": "Give a date.", "invalid": "Give a real date."}


class AgreementForm(forms.ModelForm):
    class Meta:
        model = ServiceLevelAgreement
        fields = ["starts_on", "review_on", *[name for name, _, _ in SLA_SECTIONS]]
        labels = {"starts_on": "Starts on", "review_on": "Next review", **{n: h for n, h, _ in SLA_SECTIONS}}
        help_texts = {n: hint for n, _, hint in SLA_SECTIONS}
        widgets = {
            "starts_on": DateInput(),
            "review_on": DateInput(),
            **{n: forms.Textarea(attrs={"rows": 4}) for n, _, _ in SLA_SECTIONS},
        }
        error_messages = {"starts_on": DATE_ERRORS, "review_on": DATE_ERRORS}

    def sections(self) -> dict[str, str]:
        return {name: self.cleaned_data.get(name, "") for name, _, _ in SLA_SECTIONS}


class SlaReviewForm(forms.ModelForm):
    class Meta:
        model = SlaReview
        fields = [
            "academic_year",
            "reviewed_on",
            "respondent",
            "reflects_vision",
            "reflects_provision",
            "reflects_practice",
            "practice_evidence",
            "strengths",
            "changes_wanted",
            "comments",
        ]
        labels = {
            "academic_year": "Review year (the year the school year starts)",
            "reviewed_on": "Reviewed on",
            "respondent": "Answered by (role)",
            "reflects_vision": "The agreement reflects the partnership's vision",
            "reflects_provision": "The agreement reflects what the provision is like",
            "reflects_practice": "The agreement reflects the provision's day-to-day practice",
            "practice_evidence": "How do you know?",
            "strengths": "Strengths of the agreement",
            "changes_wanted": "Changes you would like made",
            "comments": "Anything else",
        }
        widgets = {
            "reviewed_on": DateInput(),
            "reflects_vision": forms.RadioSelect,
            "reflects_provision": forms.RadioSelect,
            "reflects_practice": forms.RadioSelect,
            **{
                n: forms.Textarea(attrs={"rows": 3})
                for n in ("practice_evidence", "strengths", "changes_wanted", "comments")
            },
        }
        error_messages = {"reviewed_on": DATE_ERRORS}

    def clean_academic_year(self) -> int:
        year = self.cleaned_data["academic_year"]
        if not 2000 <= year <= 2100:
            raise forms.ValidationError("Give the year the school year starts, such as 2025.")
        return year


class NarrativeForm(forms.Form):
    text = forms.CharField(
        label="Text", required=False, max_length=20000, widget=forms.Textarea(attrs={"rows": 8})
    )
