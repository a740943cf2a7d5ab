"""Browser forms: a catalogue entry, a group, enrolling a pupil, a pupil's place, a session.

Forms check shape and ranges; the services check the rules (dates inside the group, staff
of the school, one place per pupil) and their messages come back onto the same fields.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone

from interventions.models import Enrolment, InterventionGroup, Provision, StaffKind
from interventions.services import COUNTS, OUTCOME_RATINGS
from pupils.codes import AreaOfNeed
from pupils.models import Pupil, nc_year_label
from schools.forms import DateInput
from schools.terms import Term, academic_year_label, academic_year_of

SCORE = {"max_digits": 7, "decimal_places": 2, "min_value": Decimal("-99999.99")}


def _score(label: str, help_text: str = "") -> forms.DecimalField:
    return forms.DecimalField(label=label, required=False, help_text=help_text, **SCORE)


def _date(label: str, *, required: bool = False, help_text: str = "", initial=None) -> forms.DateField:
    return forms.DateField(
        label=label, widget=DateInput, required=required, help_text=help_text, initial=initial
    )


def add_errors(form: forms.Form, exc) -> None:
    """A service's ValidationError onto the form: on its field where the form has one."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


class ProvisionForm(forms.ModelForm):
    class Meta:
        model = Provision
        fields = [
            "name",
            "area_of_need",
            "step_number",
            "description",
            "staff_kind",
            "staff_count",
            "group_size",
            "session_minutes",
            "sessions_per_week",
            "typical_weeks",
            "measure",
            "measure_name",
            "higher_is_better",
            "is_active",
        ]
        labels = {"is_active": "Offered now", "higher_is_better": "A higher score is better"}
        help_texts = {"is_active": "Untick to keep it on record without offering it for new groups."}
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["description"].max_length = 4000

    def data_for_service(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


def year_choices(today: date, *extra: int) -> list[tuple[int, str]]:
    this = academic_year_of(today)
    years = sorted({this - 1, this, this + 1, *extra})
    return [(y, academic_year_label(y)) for y in years]


class GroupForm(forms.Form):
    """A group: when, who and how. Blank figures come from the provision, blank dates from
    the LA's term dates, blank weeks from the school weeks between the dates."""

    name = forms.CharField(
        max_length=200, required=False, help_text="Leave empty to name it after the provision and term."
    )
    academic_year = forms.TypedChoiceField(label="School year", coerce=int)
    term = forms.ChoiceField(choices=[("", "The whole year"), *Term.choices], required=False)
    starts_on = _date("First day", help_text="Leave empty for the first day of the term.")
    ends_on = _date("Last day", help_text="Leave empty for the last day of the term.")
    weeks = forms.DecimalField(
        label="Weeks of delivery",
        max_digits=4,
        decimal_places=1,
        min_value=Decimal("0.5"),
        max_value=Decimal(52),
        required=False,
        help_text="Leave empty to count the school weeks between the dates (at most the costing year).",
    )
    schedule = forms.CharField(
        max_length=200, required=False, help_text="For example Tuesdays and Thursdays, 13:15."
    )
    lead = forms.ModelChoiceField(label="Lead", queryset=None, required=False, empty_label="No lead yet")
    staff = forms.ModelMultipleChoiceField(
        label="Staff who run it",
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="They record its sessions and see its pupils. The lead is always one of them.",
    )
    staff_kind = forms.ChoiceField(
        label="Staff", choices=[("", "As the provision"), *StaffKind.choices], required=False
    )
    staff_count = forms.IntegerField(label="Staff per session", min_value=1, max_value=20, required=False)
    group_size = forms.IntegerField(label="Pupils per group", min_value=1, max_value=60, required=False)
    session_minutes = forms.IntegerField(
        label="Minutes per session", min_value=5, max_value=480, required=False
    )
    sessions_per_week = forms.DecimalField(
        label="Sessions per week",
        max_digits=4,
        decimal_places=1,
        min_value=Decimal("0.1"),
        max_value=Decimal(25),
        required=False,
    )

    DELIVERY = ("staff_kind", "staff_count", "group_size", "session_minutes", "sessions_per_week")

    def __init__(
        self, *args: Any, staff: QuerySet, today: date, group: InterventionGroup | None = None, **kwargs
    ):
        if group is not None:
            kwargs.setdefault("initial", {})
            kwargs["initial"].update(
                {
                    "name": group.name,
                    "academic_year": group.academic_year,
                    "term": group.term,
                    "starts_on": group.starts_on,
                    "ends_on": group.ends_on,
                    "weeks": group.weeks,
                    "schedule": group.schedule,
                    "lead": group.lead_id,
                    "staff": [link.user_id for link in group.staff_links.all()],
                    **{f: getattr(group, f) for f in self.DELIVERY},
                }
            )
        super().__init__(*args, **kwargs)
        self.fields["lead"].queryset = staff
        self.fields["staff"].queryset = staff
        extra = (group.academic_year,) if group else ()
        self.fields["academic_year"].choices = year_choices(today, *extra)
        if group is None:
            self.fields["academic_year"].initial = academic_year_of(today)
        else:
            self.fields["weeks"].help_text = "Leave empty to count the school weeks between the dates again."
            self.fields["starts_on"].help_text = "Empty: the first day of the term chosen (or of the year)."
            self.fields["ends_on"].help_text = "Empty: the last day of the term chosen (or of the year)."

    def data_for_service(self) -> dict[str, Any]:
        data = {k: v for k, v in self.cleaned_data.items() if k not in ("lead", "staff")}
        # Empty dates and weeks are sent as None: filled in from the term's dates and the
        # school weeks. Other empty fields are left out: the provision's (or the group's) stand.
        kept = ("term", "weeks", "schedule", "starts_on", "ends_on")
        return {k: v for k, v in data.items() if v not in (None, "") or k in kept}

    def lead_id(self) -> int | None:
        lead = self.cleaned_data.get("lead")
        return lead.pk if lead else None

    def staff_ids(self) -> list[int]:
        return [u.pk for u in self.cleaned_data.get("staff") or []]


def pupil_label(pupil: Pupil) -> str:
    step = getattr(pupil, "current_step_number", None)
    on_step = f", step {step}" if step else ""
    return f"{pupil.last_name}, {pupil.first_name} ({nc_year_label(pupil.nc_year)}{on_step})"


class EnrolForm(forms.Form):
    pupil = forms.TypedChoiceField(label="Pupil", coerce=int)
    starts_on = _date("Joins on", help_text="Leave empty to join from the group's first day.")
    ends_on = _date("Leaves on", help_text="Only for a part-term place: leave empty to stay to the end.")
    entry_score = _score("Entry score")
    entry_on = _date("Entry assessed on", help_text="Leave empty for the day the pupil joins.")
    counts_as_strategy = forms.BooleanField(
        label="Counts as a strategy tried at the pupil's step",
        required=False,
        help_text="Reviewed when the exit result is recorded, so it counts towards moving up a step.",
    )
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, required=False)

    def __init__(self, *args: Any, pupils: list[Pupil], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["pupil"].choices = [("", "Choose a pupil"), *((p.pk, pupil_label(p)) for p in pupils)]


class EnrolmentForm(forms.Form):
    """A pupil's place in a group: dates, entry and exit results, the strategy option."""

    starts_on = _date("Joined on", required=True)
    ends_on = _date("Left on", help_text="Leave empty while the pupil stays to the end of the group.")
    entry_score = _score("Entry score")
    entry_on = _date("Entry assessed on")
    exit_score = _score("Exit score")
    exit_on = _date("Exit assessed on", help_text="Leave empty for today.")
    outcome_rating = forms.TypedChoiceField(
        label="Outcome rating",
        choices=[("", "Not rated"), *OUTCOME_RATINGS],
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
        help_text="For targets with no score: how things changed over the intervention.",
    )
    counts_as_strategy = forms.BooleanField(
        label="Counts as a strategy tried at the pupil's step", required=False
    )
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, required=False)

    FIELDS = (
        "starts_on",
        "ends_on",
        "entry_score",
        "entry_on",
        "exit_score",
        "exit_on",
        "outcome_rating",
        "note",
    )

    def __init__(self, *args: Any, enrolment: Enrolment, **kwargs: Any) -> None:
        kwargs["initial"] = {f: getattr(enrolment, f) for f in self.FIELDS}
        kwargs["initial"][COUNTS] = enrolment.strategy_tried_id is not None
        if enrolment.outcome_rating is None:
            kwargs["initial"]["outcome_rating"] = ""
        super().__init__(*args, **kwargs)

    def data_for_service(self) -> dict[str, Any]:
        return {f: self.cleaned_data.get(f) for f in self.FIELDS}


class SessionForm(forms.Form):
    """The day and the session's note; each pupil's tick and note are read by the view."""

    held_on = _date("Date of the session", required=True, initial=timezone.localdate)
    notes = forms.CharField(
        label="Session note",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=4000,
        required=False,
        help_text="What the session covered, anything to follow up.",
    )

    def __init__(self, *args: Any, reload_url: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if reload_url:
            # A new day brings that day's pupils (and what was recorded) without a reload.
            self.fields["held_on"].widget.attrs.update(
                {"hx-get": reload_url, "hx-trigger": "change", "hx-target": "#session-pupils"}
            )


class GroupFilterForm(forms.Form):
    """The groups list's filters: a term (or whole year) and a provision."""

    period = forms.ChoiceField(label="Term", required=False)
    provision = forms.TypedChoiceField(label="Provision", coerce=int, required=False, empty_value=None)

    def __init__(
        self, *args: Any, periods: list[tuple[int, str]], provisions: list[Provision], **kwargs: Any
    ):
        super().__init__(*args, **kwargs)
        choices = [("", "All terms")]
        for year, term in periods:
            label = (
                f"{term.capitalize()} {academic_year_label(year)}" if term else f"{academic_year_label(year)}"
            )
            choices.append((f"{year}-{term or 'year'}", label if term else f"{label}, whole year"))
        self.fields["period"].choices = choices
        self.fields["provision"].choices = [("", "All provisions"), *((p.pk, p.name) for p in provisions)]

    def chosen_period(self) -> tuple[int | None, str | None]:
        value = self.cleaned_data.get("period") if self.is_valid() else ""
        if not value:
            return None, None
        year, term = value.split("-", 1)
        return int(year), "" if term == "year" else term


class LibraryFilterForm(forms.Form):
    area = forms.ChoiceField(
        label="Area of need", choices=[("", "All areas"), *AreaOfNeed.choices], required=False
    )
