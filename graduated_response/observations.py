"""Behaviour observations: logging one, and the figures a support plan review reads from them
(how often, how intense, when in the school day, in which settings).

Writes and reads of observations live together here, as placements do in placements.py.
Every figure is one aggregate query over a bounded date range, computed in the school's time
zone (settings.TIME_ZONE, Europe/London), so an incident at 08:30 BST counts as 08:30 and one
just after midnight on a Monday belongs to that Monday's week whatever the clocks did.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Avg, Case, CharField, Count, QuerySet, Sum, Value, When
from django.db.models.expressions import CombinedExpression
from django.db.models.functions import ExtractHour, ExtractMinute, TruncWeek
from django.http import HttpRequest
from django.utils import timezone

from graduated_response.models import BehaviourObservation, SupportPlan
from pupils.models import Pupil
from pupils.selectors import pupil_list
from pupils.services import acting_user
from schools.audit import Action, audit
from schools.tenancy import TenantScope

Setting = BehaviourObservation.Setting

# A clock a few minutes fast on a tablet is not a future observation; more than this is.
FUTURE_GRACE = timedelta(minutes=5)
# Free text is for a short account, not an essay (the model's TextFields have no limit).
TEXT_LIMIT = 4000
# The longest span the weekly figure draws, one bar a week.
MAX_WEEKS = 53

# The parts of a school day, by local clock time: (key, label, starts at minute of the day).
# A typical English school day (registration about 08:45, lunch 12:00–13:15, home about
# 15:15–15:30); a part runs until the next one starts. Schools' own timetables may come later;
# until then these are fixed so figures from different schools compare.
DAY_PARTS: tuple[tuple[str, str, int], ...] = (
    ("before", "Before school (before 08:45)", 0),
    ("morning", "Morning (08:45–12:00)", 8 * 60 + 45),
    ("lunch", "Lunchtime (12:00–13:15)", 12 * 60),
    ("afternoon", "Afternoon (13:15–15:30)", 13 * 60 + 15),
    ("after", "After school (from 15:30)", 15 * 60 + 30),
)


def local_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def start_of(day: date) -> datetime:
    """Local midnight at the start of `day` (UK clocks change at 01:00 or 02:00, so midnight
    always exists and is never repeated)."""
    return datetime.combine(day, time.min, tzinfo=local_zone())


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


# --- writes ----------------------------------------------------------------------------------


@transaction.atomic
def observation_record(
    *,
    request: HttpRequest | None,
    pupil: Pupil,
    observed_at: datetime,
    setting: str,
    behaviour: str,
    intensity: int,
    antecedent: str = "",
    consequence: str = "",
    duration_minutes: int | None = None,
    plan: SupportPlan | None = None,
) -> BehaviourObservation:
    """Log one observation of the pupil. Refuses a time in the future (beyond a few minutes'
    grace) or before the pupil was born, and a plan that is not this pupil's. Audits the
    change on the pupil with ids and kinds only, never the text."""
    errors: dict[str, str] = {}
    if timezone.is_naive(observed_at):
        observed_at = timezone.make_aware(observed_at, local_zone())
    if observed_at > timezone.now() + FUTURE_GRACE:
        errors["observed_at"] = "The time cannot be in the future: log what has already happened."
    elif observed_at < start_of(pupil.date_of_birth):
        errors["observed_at"] = "The time cannot come before the pupil's date of birth."
    if plan is not None and plan.pupil_id != pupil.pk:
        errors["plan"] = "Choose one of this pupil's support plans."
    if not behaviour.strip():
        errors["behaviour"] = "Describe what the pupil did."
    for name, text in (("antecedent", antecedent), ("behaviour", behaviour), ("consequence", consequence)):
        if len(text) > TEXT_LIMIT and name not in errors:
            errors[name] = f"Keep this to {TEXT_LIMIT} characters or fewer."
    if errors:
        raise ValidationError(errors)
    observation = BehaviourObservation(
        school_id=pupil.school_id,
        pupil=pupil,
        plan=plan,
        observed_at=observed_at,
        setting=setting,
        antecedent=antecedent.strip(),
        behaviour=behaviour.strip(),
        consequence=consequence.strip(),
        intensity=intensity,
        duration_minutes=duration_minutes,
        recorded_by=acting_user(request),
    )
    observation.full_clean()
    observation.save()
    audit(
        request,
        Action.CREATE,
        pupil,
        detail={
            "part": "observations",
            "observation": observation.pk,
            "setting": observation.setting,
            "plan": plan.pk if plan else None,
        },
    )
    return observation


# --- reads -----------------------------------------------------------------------------------


def observation_list(scope: TenantScope) -> QuerySet[BehaviourObservation]:
    """Every observation the scope may read, newest first: only of pupils the register shows
    it (so a role that reaches no pupils, a practitioner for now, reaches no observations)."""
    pupils = pupil_list(scope, include_leavers=True).values("pk")
    return BehaviourObservation.objects.filter(pupil__in=pupils).order_by("-observed_at", "-id")


def in_period(
    qs: QuerySet[BehaviourObservation], since: date | None = None, until: date | None = None
) -> QuerySet[BehaviourObservation]:
    """Narrow to observations on or after `since` and on or before `until`: local dates, both
    ends included."""
    if since is not None:
        qs = qs.filter(observed_at__gte=start_of(since))
    if until is not None and until < date.max:  # the last possible day has no day after it
        qs = qs.filter(observed_at__lt=start_of(until + timedelta(days=1)))
    return qs


def observations_for(
    pupil: Pupil, since: date | None = None, until: date | None = None
) -> QuerySet[BehaviourObservation]:
    """A pupil's observations, newest first, with who recorded them and the plan named."""
    qs = BehaviourObservation.objects.filter(pupil=pupil).select_related("recorded_by", "plan")
    return in_period(qs, since, until).order_by("-observed_at", "-id")


@dataclass(frozen=True)
class WeekFigure:
    week_start: date  # the Monday
    count: int
    mean_intensity: float | None  # None in a week with no observations


def first_monday(until: date, weeks: int) -> date:
    """The Monday that starts `weeks` weeks ending with `until`'s week."""
    return monday_of(until) - timedelta(weeks=weeks - 1)


def observations_by_week(
    pupil: Pupil, *, weeks: int = 12, until: date | None = None, since: date | None = None
) -> list[WeekFigure]:
    """Observations per week (Monday to Sunday, local time), oldest first, with the mean
    intensity, every week present even when it had none. The weeks run up to `until`'s week
    (default today): from `since`'s week when given, otherwise `weeks` weeks (at most
    MAX_WEEKS either way, the latest kept). With `since`, days before it do not count."""
    until = until or timezone.localdate()
    weeks = max(1, weeks)
    start = monday_of(since) if since is not None else first_monday(until, weeks)
    start = max(start, first_monday(until, MAX_WEEKS))
    since = max(since or start, start)
    rows = (
        in_period(BehaviourObservation.objects.filter(pupil=pupil), since, until)
        .annotate(week=TruncWeek("observed_at", tzinfo=local_zone()))
        .values("week")
        .annotate(n=Count("id"), mean=Avg("intensity"))
        .order_by("week")
    )
    found = {timezone.localtime(r["week"], local_zone()).date(): r for r in rows}
    figures = []
    for i in range((monday_of(until) - start).days // 7 + 1):
        monday = start + timedelta(weeks=i)
        row = found.get(monday)
        figures.append(
            WeekFigure(monday, row["n"], round(float(row["mean"]), 2)) if row else WeekFigure(monday, 0, None)
        )
    return figures


@dataclass(frozen=True)
class PartFigure:
    key: str
    label: str
    count: int
    mean_intensity: float | None


@dataclass(frozen=True)
class TimeOfDayFigures:
    day_parts: list[PartFigure]  # in the order of the day, every part present
    settings: list[PartFigure]  # in the order of BehaviourObservation.Setting
    by_part_and_setting: dict[tuple[str, str], int]  # (day part key, setting) → count
    total: int

    def count(self, part: str, setting: str) -> int:
        return self.by_part_and_setting.get((part, setting), 0)


def _day_part() -> tuple[CombinedExpression, Case]:
    """The local minute of the day (0–1439), and the DAY_PARTS key it falls in."""
    minute = ExtractHour("observed_at", tzinfo=local_zone()) * 60 + ExtractMinute(
        "observed_at", tzinfo=local_zone()
    )
    whens = [When(minute_of_day__gte=start, then=Value(key)) for key, _label, start in reversed(DAY_PARTS)]
    return minute, Case(*whens, default=Value(DAY_PARTS[0][0]), output_field=CharField())


def observations_by_time_of_day(
    pupil: Pupil, *, since: date | None = None, until: date | None = None
) -> TimeOfDayFigures:
    """Observations by part of the school day (DAY_PARTS, local clock time) and by setting,
    with mean intensities: one query grouping by both, whatever the number of observations."""
    minute, part = _day_part()
    rows = (
        in_period(BehaviourObservation.objects.filter(pupil=pupil), since, until)
        .annotate(minute_of_day=minute)
        .annotate(part=part)
        .values("part", "setting")
        .annotate(n=Count("id"), intensity_sum=Sum("intensity"))
        .order_by("part", "setting")
    )
    cells: dict[tuple[str, str], int] = {}
    part_n: dict[str, int] = {}
    part_sum: dict[str, int] = {}
    setting_n: dict[str, int] = {}
    setting_sum: dict[str, int] = {}
    for r in rows:
        cells[(r["part"], r["setting"])] = r["n"]
        part_n[r["part"]] = part_n.get(r["part"], 0) + r["n"]
        part_sum[r["part"]] = part_sum.get(r["part"], 0) + r["intensity_sum"]
        setting_n[r["setting"]] = setting_n.get(r["setting"], 0) + r["n"]
        setting_sum[r["setting"]] = setting_sum.get(r["setting"], 0) + r["intensity_sum"]

    def mean(total: dict[str, int], n: dict[str, int], key: str) -> float | None:
        return round(total[key] / n[key], 2) if n.get(key) else None

    return TimeOfDayFigures(
        day_parts=[
            PartFigure(key, label, part_n.get(key, 0), mean(part_sum, part_n, key))
            for key, label, _start in DAY_PARTS
        ],
        settings=[
            PartFigure(key, label, setting_n.get(key, 0), mean(setting_sum, setting_n, key))
            for key, label in Setting.choices
        ],
        by_part_and_setting=cells,
        total=sum(part_n.values()),
    )


def observations_recent_count(pupil: Pupil, *, weeks: int = 4) -> int:
    """How many observations of the pupil in the last `weeks` weeks, up to now."""
    since = timezone.now() - timedelta(weeks=weeks)
    return BehaviourObservation.objects.filter(pupil=pupil, observed_at__gte=since).count()
