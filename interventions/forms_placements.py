"""Browser forms for placements in behaviour provisions: referring a pupil, then starting,
recording progress, ending or withdrawing the placement.

The forms check shape and ranges; interventions/placements.py checks the rules (consent,
key stage and multidisciplinary meeting, EHC plan exception, dates in order) and its
messages come back onto the same fields (`add_errors`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone

from interventions.models import ExitOutcome, PlacementPattern, ProvisionPlacement
from interventions.placements import is_outside_key_stage, provision_key_stages
from interventions.selectors_placements import STATUS_FILTERS
from pupils.codes import SenStatus, key_stage_of
from pupils.models import Pupil
from schools.forms import DateInput
from schools.models import BehaviourProvision

TEXT_LIMIT = 4000


def _date(label: str, *, required: bool = False, help_text: str = "", initial=None) -> forms.DateField:
    return forms.DateField(
        label=label, widget=DateInput, required=required, help_text=help_text, initial=initial
    )


def _text(label: str, *, required: bool = False, help_text: str = "", rows: int = 3) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        help_text=help_text,
        max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": rows}),
    )


def _attendance() -> forms.DecimalField:
    return forms.DecimalField(
        label="Attendance at the provision (%)",
        required=False,
        min_value=Decimal(0),
        max_value=Decimal(100),
        max_digits=4,
        decimal_places=1,
        help_text="Sessions attended out of sessions offered so far, as a percentage.",
    )


def _suspensions() -> forms.IntegerField:
    return forms.IntegerField(
        label="Suspensions during the placement", min_value=0, max_value=200, required=False
    )


class PlacementFilterForm(forms.Form):
    status = forms.ChoiceField(label="Show", choices=list(STATUS_FILTERS.items()), required=False)

    def chosen(self) -> str:
        return (self.cleaned_data.get("status") if self.is_valid() else "") or "all"


class ReferForm(forms.Form):
    """A referral: where to, why, consent, the pattern asked for, and where the rules call
    for them the multidisciplinary meeting and the EHC plan exception."""

    # Consent and the reason are left to the service to require, so its words (which say why)
    # are the ones shown.
    provision = forms.TypedChoiceField(
        label="Behaviour provision",
        coerce=int,
        error_messages={"required": "Choose the provision the school asks for a place in."},
    )
    referred_on = _date("Referral date", required=True, initial=timezone.localdate)
    referral_reason = _text(
        "Reason for the referral",
        rows=5,
        help_text="What the school has tried (the strategies and interventions at the pupil's step) "
        "and why it now asks for a place.",
    )
    consent_on = _date(
        "Parental consent given on",
        help_text="No referral goes ahead without the consent of parents or carers.",
    )
    consent_note = forms.CharField(
        label="Consent given by",
        max_length=200,
        required=False,
        help_text="Who gave it and how, for example: mother, signed form.",
    )
    pattern = forms.ChoiceField(
        label="Pattern",
        choices=PlacementPattern.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose full-time, part-time, outreach or in-reach."},
    )
    days_per_week = forms.DecimalField(
        label="Days a week",
        error_messages={"required": "Say how many days a week the pupil would spend with the provision."},
        min_value=Decimal("0.5"),
        max_value=Decimal(5),
        max_digits=2,
        decimal_places=1,
        help_text="From 0.5 to 5; halves allowed.",
    )
    planned_end_on = _date("Planned end", help_text="Leave empty if not agreed yet.")
    mdt_meeting_on = _date("Multidisciplinary meeting held on")
    mdt_note = _text("What the meeting decided")
    ehc_exception = _text("EHC plan exception")

    def __init__(self, *args: Any, pupil: Pupil, provisions: list[BehaviourProvision], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["provision"].choices = [("", "Choose a provision"), *((p.pk, p.name) for p in provisions)]
        if len(provisions) == 1:
            self.fields["provision"].initial = provisions[0].pk
        outside = [p for p in provisions if is_outside_key_stage(pupil, p)]
        stage = key_stage_of(pupil.nc_year)
        if outside:
            names = "; ".join(f"{p.name} takes {', '.join(sorted(provision_key_stages(p)))}" for p in outside)
            need = f"Required: the pupil is in {stage} ({names})."
        else:
            need = "Required only when the pupil's key stage is not one the provision takes."
        self.fields["mdt_meeting_on"].help_text = (
            f"{need} The meeting (home school, provision and the agencies involved) must agree the "
            "placement before it is made."
        )
        self.fields["mdt_note"].help_text = "Required with the meeting: what it agreed, and why."
        if pupil.sen_status == SenStatus.EHC_PLAN:
            self.fields["ehc_exception"].help_text = (
                "Required: the pupil has an EHC plan, so a place here is an exception. Say why it is "
                "agreed (for example, an emergency annual review)."
            )
        else:
            self.fields[
                "ehc_exception"
            ].help_text = "Only for a pupil with an EHC plan; this pupil has none, so leave it empty."

    def data_for_service(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("provision")
        for name in ("mdt_note", "ehc_exception", "consent_note", "referral_reason"):
            data[name] = data.get(name) or ""
        return data


class StartForm(forms.Form):
    starts_on = _date(
        "First day at the provision",
        required=True,
        initial=timezone.localdate,
        help_text="From this day the provision's staff can open the pupil's record.",
    )


class ProgressForm(forms.Form):
    attendance_percent = _attendance()
    suspensions = _suspensions()
    planned_end_on = _date("Planned end", help_text="Leave empty if not agreed yet.")

    def __init__(self, *args: Any, placement: ProvisionPlacement | None = None, **kwargs: Any) -> None:
        if placement is not None:  # an empty form starts from the figures recorded so far
            kwargs.setdefault(
                "initial",
                {
                    "attendance_percent": placement.attendance_percent,
                    "suspensions": placement.suspensions,
                    "planned_end_on": placement.planned_end_on,
                },
            )
        super().__init__(*args, **kwargs)


class EndForm(forms.Form):
    ends_on = _date("Last day at the provision", required=True, initial=timezone.localdate)
    exit_outcome = forms.ChoiceField(
        label="Where the pupil went", choices=ExitOutcome.choices, widget=forms.RadioSelect
    )
    exit_note = _text("Note on the ending", help_text="For example, the reintegration plan agreed.")
    attendance_percent = _attendance()
    suspensions = _suspensions()

    def __init__(self, *args: Any, placement: ProvisionPlacement | None = None, **kwargs: Any) -> None:
        if placement is not None:
            kwargs.setdefault(
                "initial",
                {"attendance_percent": placement.attendance_percent, "suspensions": placement.suspensions},
            )
        super().__init__(*args, **kwargs)
        self.fields["attendance_percent"].help_text = "The final figure for the whole placement."
        self.fields["suspensions"].help_text = "The final count for the whole placement."


class WithdrawForm(forms.Form):
    note = _text("Why the referral is withdrawn", rows=2)
