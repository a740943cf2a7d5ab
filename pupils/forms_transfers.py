"""The browser form that transfers a pupil to another school of the same local authority.

The receiving school is chosen from the LA's schools (tens, not thousands, so a select is
enough); the service (pupils/transfers.py) checks everything again, so a tampered choice
gets the same clear message as the API.
"""

from __future__ import annotations

from django import forms
from django.utils import timezone

from pupils.models import Transfer
from schools.forms import DateInput
from schools.models import School

NOTE_LIMIT = 4000


class SchoolChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: School) -> str:
        return f"{obj.name} (URN {obj.urn})"


class TransferForm(forms.Form):
    to_school = SchoolChoiceField(
        label="School the pupil is moving to",
        queryset=School.objects.none(),
        empty_label="Choose a school",
        error_messages={
            "required": "Choose the school the pupil is moving to.",
            "invalid_choice": "Choose one of the listed schools of your local authority.",
        },
    )
    reason = forms.ChoiceField(
        label="Why the pupil is moving",
        choices=Transfer.Reason.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose why the pupil is moving."},
    )
    transferred_on = forms.DateField(
        label="Date of the move",
        widget=DateInput,
        help_text="The pupil's first day on the new school's roll; today or earlier.",
        error_messages={"required": "Give the date of the move.", "invalid": "Give a real date."},
    )
    note = forms.CharField(
        label="Note for the receiving school",
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        max_length=NOTE_LIMIT,
        help_text="What the new school should know first. It stays with the transfer record.",
    )

    def __init__(self, *args, school: School, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to_school"].queryset = (
            School.objects.filter(local_authority_id=school.local_authority_id)
            .exclude(pk=school.pk)
            .order_by("name")
        )
        self.fields["transferred_on"].initial = timezone.localdate()
