"""A pupil's behaviour observations in the browser: a quick log form, the weekly and
time-of-day figures as charts with their tables, and the observations of the period.

Reading follows the pupil's page (pupil-level roles, the pupil opened through the register,
so another school's pupil is a 404); logging is for record keepers. The period (?from=&to=)
narrows everything on the page at once, so a review can compare the weeks before a plan
started with the weeks since.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from graduated_response import observations as obs
from graduated_response.forms import DateInput
from graduated_response.models import BehaviourObservation, SupportPlan
from graduated_response.views import _errors, _pupil_or_404
from provisionmap import charts
from pupils.models import Pupil
from schools.audit import Action, audit
from schools.models import RECORD_KEEPERS

PAGE_SIZE = 25
DEFAULT_WEEKS = 12
INTENSITY_CHOICES = [
    (1, "1 – mild"),
    (2, "2"),
    (3, "3 – moderate"),
    (4, "4"),
    (5, "5 – severe"),
]


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


def _now_to_the_minute():
    return timezone.localtime().replace(second=0, microsecond=0)


class ObservationForm(forms.Form):
    observed_at = forms.DateTimeField(
        label="When", widget=DateTimeInput(), initial=_now_to_the_minute, help_text="Date and time."
    )
    setting = forms.ChoiceField(
        label="Where", choices=[("", "Choose"), *BehaviourObservation.Setting.choices]
    )
    antecedent = forms.CharField(
        label="What happened before",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=obs.TEXT_LIMIT,
        required=False,
    )
    behaviour = forms.CharField(
        label="What the pupil did", widget=forms.Textarea(attrs={"rows": 3}), max_length=obs.TEXT_LIMIT
    )
    consequence = forms.CharField(
        label="What happened after",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=obs.TEXT_LIMIT,
        required=False,
    )
    intensity = forms.TypedChoiceField(
        label="Intensity",
        choices=INTENSITY_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        help_text="1 is mild (a brief disruption), 5 is severe (harm or the risk of it).",
    )
    duration_minutes = forms.IntegerField(
        label="How long, in minutes", min_value=1, max_value=600, required=False
    )


# No school record goes back further; dates before it are typing slips.
EARLIEST_DAY = date(1990, 1, 1)


class PeriodForm(forms.Form):
    """?from=&to=, both optional local dates. `from` is a Python keyword, hence the fields
    are added by name rather than declared."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["from"] = forms.DateField(label="From", widget=DateInput, required=False)
        self.fields["to"] = forms.DateField(label="To", widget=DateInput, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        since, until = data.get("from"), data.get("to")
        for name, day in (("from", since), ("to", until)):
            if day and day < EARLIEST_DAY:
                self.add_error(name, f"Choose a date from {EARLIEST_DAY:%Y} onwards.")
                return data
        if since and since > timezone.localdate():
            self.add_error("from", "The period cannot start in the future.")
        elif since and until and since > until:
            raise forms.ValidationError("The start of the period must come before its end.")
        return data


@dataclass(frozen=True)
class Period:
    since: date
    until: date
    chosen: bool  # from the query string, rather than the default weeks
    shortened: bool  # longer than the weekly chart draws, so cut to its latest weeks


def _period(form: PeriodForm) -> Period:
    today = timezone.localdate()
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    until = min(data.get("to") or today, today)  # nothing is observed in the future
    since = data.get("from") or obs.first_monday(until, DEFAULT_WEEKS)
    earliest = obs.first_monday(until, obs.MAX_WEEKS)
    chosen = bool(data.get("from") or data.get("to"))
    return Period(max(since, earliest), until, chosen, shortened=since < earliest)


def _day(d: date) -> str:
    return f"{d.day} {d:%b %Y}"


def _week_chart(figures: list[obs.WeekFigure]) -> dict[str, Any]:
    labels = [f"{f.week_start.day} {f.week_start:%b}" for f in figures]
    counts = [f.count for f in figures]
    means = [f.mean_intensity for f in figures]
    total = sum(counts)
    weeks = f"{len(figures)} week{'s' if len(figures) != 1 else ''}"
    if total:
        top = max(range(len(counts)), key=lambda i: (counts[i], -i))
        said = [
            f"highest {counts[top]} in the week beginning {_day(figures[top].week_start)}",
            f"{total} in all",
        ]
        present = [m for m in means if m is not None]
        low, high = charts.format_number(min(present)), charts.format_number(max(present))
        said.append(f"mean intensity from {low} to {high}")
        summary = "; ".join(said)
    else:
        summary = "no observations"
    description = f"Observations per week, {weeks} from {_day(figures[0].week_start)}: {summary}."
    return {
        "svg": charts.bar_chart(
            labels,
            counts,
            title="Observations per week",
            description=description,
            value_label="Observations",
            line=means,
            line_label="Mean intensity",
            line_max=5,
            chart_id="chart-weeks",
        ),
        "rows": [(f.week_start, f.count, charts.format_number(f.mean_intensity)) for f in figures],
        "description": description,
    }


def _time_charts(figures: obs.TimeOfDayFigures) -> dict[str, Any]:
    parts = charts.horizontal_bar_chart(
        [p.label for p in figures.day_parts],
        [p.count for p in figures.day_parts],
        title="Observations by time of day",
        value_label="Observations",
        chart_id="chart-day-parts",
    )
    places = charts.horizontal_bar_chart(
        [s.label for s in figures.settings],
        [s.count for s in figures.settings],
        title="Observations by setting",
        value_label="Observations",
        chart_id="chart-settings",
    )
    settings = figures.settings
    rows = [
        {
            "label": part.label,
            "cells": [figures.count(part.key, s.key) for s in settings],
            "total": part.count,
            "mean": charts.format_number(part.mean_intensity),
        }
        for part in figures.day_parts
    ]
    return {
        "parts_svg": parts,
        "settings_svg": places,
        "settings": settings,
        "rows": rows,
        "total": figures.total,
    }


def _plan_periods(pupil: Pupil, today: date) -> list[dict[str, Any]]:
    """For each of the pupil's latest plans, the query strings of the six weeks before it
    started and of the time since, so a review compares them in a click."""
    periods = []
    for plan in SupportPlan.objects.filter(pupil=pupil).order_by("-starts_on", "-id")[:3]:
        before_start = max(plan.starts_on - timedelta(weeks=6), EARLIEST_DAY)
        before_end = max(plan.starts_on - timedelta(days=1), before_start)
        periods.append(
            {
                "plan": plan,
                "before": f"from={before_start:%Y-%m-%d}&to={before_end:%Y-%m-%d}",
                "since": f"from={plan.starts_on:%Y-%m-%d}&to={max(today, plan.starts_on):%Y-%m-%d}",
            }
        )
    return periods


def _refuse_non_writers(request: HttpRequest) -> None:
    membership = getattr(request, "membership", None)
    if membership is None or membership.role not in RECORD_KEEPERS:
        audit(
            request,
            Action.DENIED,
            object_type="route",
            object_id=request.path[:40],
            detail={"reason": "role"},
        )
        raise PermissionDenied("Only a SENCO or headteacher can log observations.")


@login_required
@require_http_methods(["GET", "POST"])
def observations(request: HttpRequest, pk: int) -> HttpResponse:
    if request.method == "POST":
        _refuse_non_writers(request)  # the role alone decides, before any lookup
    pupil = _pupil_or_404(request, pk)
    membership = getattr(request, "membership", None)
    can_log = membership is not None and membership.role in RECORD_KEEPERS
    form = ObservationForm(request.POST if request.method == "POST" else None) if can_log else None
    if form is not None and form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            obs.observation_record(
                request=request,
                pupil=pupil,
                observed_at=data["observed_at"],
                setting=data["setting"],
                antecedent=data["antecedent"],
                behaviour=data["behaviour"],
                consequence=data["consequence"],
                intensity=data["intensity"],
                duration_minutes=data["duration_minutes"],
            )
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, "Observation logged.")
            query = request.GET.urlencode()
            return redirect(
                reverse("graduated_response:observations", kwargs={"pk": pupil.pk})
                + (f"?{query}" if query else "")
            )

    period_form = PeriodForm(request.GET if ("from" in request.GET or "to" in request.GET) else None)
    period = _period(period_form)
    weekly = obs.observations_by_week(pupil, since=period.since, until=period.until)
    by_time = obs.observations_by_time_of_day(pupil, since=period.since, until=period.until)
    page = Paginator(obs.observations_for(pupil, period.since, period.until), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    shown = list(page.object_list)
    audit(
        request,
        Action.VIEW,
        pupil,
        detail={
            "page": "observations",
            "from": period.since.isoformat(),
            "to": period.until.isoformat(),
            "shown": len(shown),
        },
    )
    period_query = f"from={period.since:%Y-%m-%d}&to={period.until:%Y-%m-%d}" if period.chosen else ""
    context = {
        "pupil": pupil,
        "form": form,
        "period_form": period_form,
        "period": period,
        "period_query": period_query,
        "weekly": _week_chart(weekly),
        "by_time": _time_charts(by_time),
        "page": page,
        "observations": shown,
        "plan_periods": _plan_periods(pupil, timezone.localdate()),
        "form_action": request.get_full_path(),
    }
    bad = (form is not None and bool(form.errors)) or bool(period_form.errors)
    return render(request, "graduated_response/observations.html", context, status=400 if bad else 200)
