"""Browser forms for the SEN register: the register's filters, the pupil record, the one-page
profile, a term's outcomes and an assessment score.

Django's CharField refuses NUL characters and over-long text, and a ChoiceField refuses any
value it does not offer, so hostile input becomes a form error (a 400 or a message), never a
500 and never a query.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from pupils.codes import AreaOfNeed, Ethnicity, Gender, Measure, Need, SenStatus, Term
from pupils.models import (
    NC_YEAR_MAX,
    NC_YEAR_MIN,
    AssessmentScore,
    OnePageProfile,
    OutcomeRecord,
    Pupil,
    nc_year_label,
    validate_upn,
)
from pupils.retention import HOLD_REASON_MISSING
from pupils.selectors import SORTS, RegisterFilters
from pupils.services import PROFILE_FIELDS, SEN_FIELDS
from schools.forms import DateInput
from schools.models import School

YEAR_CHOICES = [(year, nc_year_label(year)) for year in range(NC_YEAR_MIN, NC_YEAR_MAX + 1)]
YES_NO_ANY = [("", "Any"), ("yes", "Yes"), ("no", "No")]
SORT_LABELS = {
    "name": "Name, A to Z",
    "-name": "Name, Z to A",
    "year": "Year, youngest first",
    "-year": "Year, oldest first",
    "sen": "SEN provision (EHC plans first)",
    "need": "Primary need",
    "upn": "UPN",
}
# Which column of the register each sort orders by, for aria-sort on its header.
SORT_COLUMNS = {
    "name": ("name", "ascending"),
    "-name": ("name", "descending"),
    "year": ("year", "ascending"),
    "-year": ("year", "descending"),
    "sen": ("sen", "ascending"),
    "need": ("need", "ascending"),
    "upn": ("upn", "ascending"),
}
TEXT_LIMIT = 4000  # a one-page profile's box: generous, but not a way to fill the database


def _yes_no(value: str) -> bool:
    return value == "yes"


def _date_input() -> forms.DateInput:
    return DateInput()


def _not_in_future(value: date | None, what: str) -> None:
    if value is not None and value > timezone.localdate():
        raise ValidationError(f"{what} cannot be in the future.", code="future")


def add_model_errors(form: forms.BaseForm, exc: ValidationError) -> None:
    """Put a service's ValidationError on the form: on its field where the form has one,
    otherwise at the top (never a 500 for a rule the model caught after the form)."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for name, errors in exc.error_dict.items():
        form.add_error(name if name in form.fields else None, errors)


class RegisterForm(forms.Form):
    """The register's filters, search, sort and page, all sent in the request body.

    The search box holds a child's name or UPN, so the whole form is POSTed and none of it
    ever reaches a URL or an access log (SECURITY.md 14).
    """

    q = forms.CharField(label="Search by name or UPN", max_length=100, required=False, strip=True)
    year = forms.TypedChoiceField(
        label="Year", choices=[("", "Any year"), *YEAR_CHOICES], coerce=int, empty_value=None, required=False
    )
    sen_status = forms.ChoiceField(
        label="SEN provision", choices=[("", "Any"), *SenStatus.choices], required=False
    )
    need = forms.ChoiceField(label="Type of need", choices=[("", "Any"), *Need.choices], required=False)
    area = forms.ChoiceField(label="Area of need", choices=[("", "Any"), *AreaOfNeed.choices], required=False)
    fsm = forms.TypedChoiceField(
        label="Free school meals", choices=YES_NO_ANY, coerce=_yes_no, empty_value=None, required=False
    )
    pupil_premium = forms.TypedChoiceField(
        label="Pupil premium", choices=YES_NO_ANY, coerce=_yes_no, empty_value=None, required=False
    )
    looked_after = forms.TypedChoiceField(
        label="Looked after", choices=YES_NO_ANY, coerce=_yes_no, empty_value=None, required=False
    )
    step = forms.TypedChoiceField(
        label="Step",
        choices=[("", "Any step"), *[(n, f"Step {n}") for n in range(1, 11)]],
        coerce=int,
        empty_value=None,
        required=False,
        help_text="The pupil's current step on the graduated response.",
    )
    include_leavers = forms.BooleanField(label="Include leavers", required=False)
    sort = forms.ChoiceField(
        label="Sort by", choices=[(key, SORT_LABELS[key]) for key in SORTS], required=False, initial="name"
    )
    # Sent by the pager's buttons, never by a field of its own: a change of filter starts again
    # at page 1.
    page = forms.IntegerField(
        min_value=1,
        max_value=1_000_000,
        required=False,
        widget=forms.HiddenInput,
        error_messages={
            "invalid": "The page number was not valid.",
            "min_value": "The page number was not valid.",
            "max_value": "The page number was not valid.",
        },
    )

    FILTER_FIELDS = ("year", "sen_status", "need", "area", "step", "fsm", "pupil_premium", "looked_after")

    def __init__(self, *args: Any, withheld: tuple[str, ...] = (), **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "register-%s")
        super().__init__(*args, **kwargs)
        # Census details the role does not see are not offered as filters either.
        for name in withheld:
            self.fields.pop(name, None)
        self.fields["q"].widget = forms.TextInput(
            attrs={"type": "search", "maxlength": 100, "autocomplete": "off", "spellcheck": "false"}
        )

    def _values(self) -> dict[str, Any]:
        if self.is_bound and self.is_valid():
            return self.cleaned_data
        return {}

    def filters(self) -> RegisterFilters:
        """What the selector should show: the whole active register until something is chosen."""
        v = self._values()
        return RegisterFilters(
            search=v.get("q") or "",
            year=v.get("year"),
            sen_status=v.get("sen_status") or "",
            need=v.get("need") or "",
            area=v.get("area") or "",
            fsm=v.get("fsm"),
            pupil_premium=v.get("pupil_premium"),
            looked_after=v.get("looked_after"),
            step=v.get("step"),
            include_leavers=bool(v.get("include_leavers")),
            sort=v.get("sort") or "name",
        )

    def page_number(self) -> int:
        return self._values().get("page") or 1

    def audit_filters(self) -> dict[str, Any]:
        """The filters in use, for the audit row: codes and flags only, never the search text."""
        f = self.filters()
        chosen = {name: getattr(f, name) for name in self.FILTER_FIELDS if getattr(f, name) not in (None, "")}
        if f.include_leavers:
            chosen["include_leavers"] = True
        return chosen

    def export_fields(self) -> list[tuple[str, str]]:
        """The applied filters as (name, value) pairs, for the hidden fields of the download
        form that sits beside the results it would export."""
        v = self._values()
        pairs = []
        for name in ("q", *self.FILTER_FIELDS, "include_leavers", "sort"):
            value = v.get(name)
            if value is None or value == "" or value is False:
                continue
            if name in ("fsm", "pupil_premium", "looked_after"):
                value = "yes" if value else "no"
            elif name == "include_leavers":
                value = "on"
            pairs.append((name, str(value)))
        return pairs

    def sorted_column(self) -> tuple[str, str]:
        return SORT_COLUMNS.get(self.filters().sort, SORT_COLUMNS["name"])


class PupilForm(forms.ModelForm):
    """Adding a pupil. The school is never a field: it is the signed-in membership's."""

    FIELDSETS = [
        (
            "Pupil",
            ["upn", "first_name", "last_name", "preferred_name", "date_of_birth", "gender", "ethnicity"],
        ),
        ("School", ["nc_year", "fsm", "pupil_premium", "eal", "looked_after"]),
        ("Special educational needs", ["sen_status", "primary_need", "secondary_need"]),
    ]

    nc_year = forms.TypedChoiceField(label="NC year", choices=YEAR_CHOICES, coerce=int)

    class Meta:
        model = Pupil
        fields = [
            "upn",
            "first_name",
            "last_name",
            "preferred_name",
            "date_of_birth",
            "gender",
            "ethnicity",
            "nc_year",
            "fsm",
            "pupil_premium",
            "eal",
            "looked_after",
            "sen_status",
            "primary_need",
            "secondary_need",
        ]
        labels = {"fsm": "Free school meals", "eal": "English as an additional language"}
        help_texts = {
            "upn": "13 characters: a letter, 11 digits, then a digit or letter. Temporary UPNs are accepted.",
            "preferred_name": "If the pupil goes by another name at school.",
            "primary_need": "Only for pupils on SEN support or with an EHC plan.",
            "secondary_need": "Optional, and different from the primary need.",
        }
        widgets = {"date_of_birth": _date_input()}

    def __init__(self, *args: Any, school: School, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.school = school
        self.fields["upn"].widget.attrs.update({"autocomplete": "off", "spellcheck": "false"})
        self.fields["gender"].choices = [("", "Not recorded"), *Gender.choices]
        self.fields["ethnicity"].choices = [("", "Not recorded"), *Ethnicity.choices]
        self.fields["sen_status"].choices = SenStatus.choices
        self.fields["primary_need"].choices = [("", "None"), *Need.choices]
        self.fields["secondary_need"].choices = [("", "None"), *Need.choices]

    def fieldsets(self) -> list[tuple[str, list[forms.BoundField]]]:
        return [
            (legend, [self[name] for name in names if name in self.fields])
            for legend, names in self.FIELDSETS
        ]

    def clean_upn(self) -> str:
        upn = validate_upn(self.cleaned_data["upn"])
        # Only this school's register is searched (the scope would show no other anyway), so a
        # UPN another school holds never blocks or reveals anything (SECURITY.md 6).
        taken = Pupil.objects.filter(school=self.school, upn=upn).exclude(pk=self.instance.pk).exists()
        if taken:
            raise ValidationError(
                "A pupil with this UPN is already on your school's register. Search the register "
                "for it, or check the UPN.",
                code="duplicate_upn",
            )
        return upn

    def clean_date_of_birth(self) -> date:
        value = self.cleaned_data["date_of_birth"]
        _not_in_future(value, "The date of birth")
        return value

    def model_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self._meta.fields if name in self.cleaned_data}


class PupilEditForm(PupilForm):
    """Changing a pupil's record; a change of SEN provision or need is dated on the register."""

    FIELDSETS = [
        *PupilForm.FIELDSETS[:2],
        ("Special educational needs", ["sen_status", "primary_need", "secondary_need", "sen_change_date"]),
        ("On roll", ["is_active", "left_on"]),
    ]

    sen_change_date = forms.DateField(
        label="SEN change effective from",
        required=False,
        widget=_date_input(),
        help_text="Used only when the SEN provision or a need changes. Leave blank for today.",
    )

    class Meta(PupilForm.Meta):
        fields = [*PupilForm.Meta.fields, "is_active", "left_on"]
        labels = {**PupilForm.Meta.labels, "is_active": "On roll", "left_on": "Leaving date"}
        help_texts = {
            **PupilForm.Meta.help_texts,
            "is_active": "Untick for a leaver: they stay on record but leave the register's lists.",
        }
        widgets = {**PupilForm.Meta.widgets, "left_on": _date_input()}

    def __init__(self, *args: Any, last_sen_start: date | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.last_sen_start = last_sen_start

    def sen_changed(self) -> bool:
        return bool(set(self.changed_data) & set(SEN_FIELDS))

    def clean_sen_change_date(self) -> date | None:
        value = self.cleaned_data["sen_change_date"]
        _not_in_future(value, "The SEN change")
        # The register's current entry is its latest by date, so a change may not be dated
        # before the entry it replaces.
        if value and self.last_sen_start and value < self.last_sen_start:
            raise ValidationError(
                "The change cannot take effect before the register's latest entry, "
                f"which starts on {self.last_sen_start:%d/%m/%Y}.",
                code="before_latest",
            )
        return value

    def clean_left_on(self) -> date | None:
        value = self.cleaned_data["left_on"]
        _not_in_future(value, "The leaving date")
        return value


class ProfileForm(forms.ModelForm):
    LABELS = {
        "strengths": "What people like and admire about me",
        "what_helps": "What helps me",
        "what_does_not_help": "What does not help me",
        "pupil_voice": "What I want people to know",
        "parent_voice": "What my parents or carers say",
    }

    class Meta:
        model = OnePageProfile
        fields = list(PROFILE_FIELDS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A text column has no length of its own; a profile is one page, so cap each box.
        for name in PROFILE_FIELDS:
            self.fields[name] = forms.CharField(
                label=self.LABELS[name],
                required=False,
                max_length=TEXT_LIMIT,
                widget=forms.Textarea(attrs={"rows": 4}),
            )

    def model_data(self) -> dict[str, str]:
        return {name: self.cleaned_data[name] for name in PROFILE_FIELDS}


def academic_year_of(day: date) -> int:
    """The year an academic year starts: September onwards belongs to that year's."""
    return day.year if day.month >= 9 else day.year - 1


def term_of(day: date) -> str:
    if day.month >= 9:
        return Term.AUTUMN
    return Term.SPRING if day.month <= 3 else Term.SUMMER


def academic_year_label(start: int) -> str:
    return f"{start}/{(start + 1) % 100:02d}"


class OutcomeForm(forms.ModelForm):
    """One term's outcomes; recording a term again corrects it."""

    academic_year = forms.TypedChoiceField(label="Academic year", coerce=int)

    class Meta:
        model = OutcomeRecord
        fields = [
            "academic_year",
            "term",
            "attendance_pct",
            "suspensions",
            "suspension_days",
            "permanently_excluded",
        ]
        labels = {
            "attendance_pct": "Attendance (%)",
            "suspension_days": "Days lost to suspension",
            "permanently_excluded": "Permanently excluded this term",
        }
        help_texts = {"attendance_pct": "Leave blank if not known yet."}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "outcome")
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        current = academic_year_of(today)
        self.fields["academic_year"].choices = [
            (year, academic_year_label(year)) for year in range(current, current - 8, -1)
        ]
        self.fields["term"].choices = Term.choices
        if not self.is_bound:
            self.initial.setdefault("academic_year", current)
            self.initial.setdefault("term", term_of(today))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if (data.get("suspensions") or 0) == 0 and (data.get("suspension_days") or 0) > 0:
            self.add_error("suspensions", "Days lost to suspension need at least one suspension.")
        return data

    def model_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self._meta.fields}


class ScoreForm(forms.ModelForm):
    class Meta:
        model = AssessmentScore
        fields = ["measure", "measure_name", "assessed_on", "score"]
        labels = {"measure_name": "Name of the measure", "assessed_on": "Date assessed"}
        help_texts = {"measure_name": "Only for 'Other measure'."}
        widgets = {"assessed_on": _date_input()}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "score")
        super().__init__(*args, **kwargs)
        self.fields["measure"].choices = Measure.choices
        if not self.is_bound:
            self.initial.setdefault("assessed_on", timezone.localdate())

    def clean_assessed_on(self) -> date:
        value = self.cleaned_data["assessed_on"]
        _not_in_future(value, "The assessment date")
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        measure, score = data.get("measure"), data.get("score")
        if measure == Measure.OTHER and not data.get("measure_name"):
            self.add_error("measure_name", "Say what was measured.")
        if measure != Measure.OTHER and data.get("measure_name"):
            data["measure_name"] = ""  # a name belongs only to 'other'
        if score is not None:
            if measure == Measure.SDQ_TOTAL and not 0 <= score <= 40:
                self.add_error("score", "An SDQ total difficulties score runs from 0 to 40.")
            elif measure == Measure.READING_AGE and score <= 0:
                self.add_error("score", "Give the reading age in months, above 0.")
        return data

    def model_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self._meta.fields}


class LegalHoldForm(forms.Form):
    """A headteacher's legal hold on a pupil's record (pupils/retention.py), on the pupil's page."""

    legal_hold = forms.BooleanField(
        label="Keep this record past its retention date (legal hold)",
        required=False,
        help_text="Untick to lift it: the record then goes at its retention date once the pupil has left.",
    )
    legal_hold_reason = forms.CharField(
        label="Why the record must be kept",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The claim, inquiry or request to preserve records, and who asked.",
        error_messages={"max_length": "Keep the reason to %(limit_value)d characters."},
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("legal_hold") and not (data.get("legal_hold_reason") or "").strip():
            self.add_error("legal_hold_reason", HOLD_REASON_MISSING)
        return data
