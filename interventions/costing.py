"""What provision costs and what difference it makes: the one place these figures are worked out.

The provision map page, its exports and API, the pupil's map, the "what works" table — and
later the dashboards and PDF reports — all call the functions here; none of them holds a copy
of a formula.

The arithmetic, in the words a SENCO uses:
- **Cost of a group** = staff hours a week (sessions × minutes ÷ 60 × staff per session)
  × the hourly rate of the group's kind of staff × the group's costed weeks. The rate is the
  school's own where it has one, else the LA's. With no rate at all the cost is *unknown*
  (None), never £0, and the map names the kind of staff that lacks a rate; a rate set to £0
  (a free LA service) is a real £0.
- **A pupil's share** of a group's cost is in proportion to the days they were enrolled within
  the group's run (their start and end clipped to the group's); the shares add up to the
  group's cost exactly. Per-pupil cost on a map row is the row's cost ÷ its pupils.
- **Impact** of an enrolment is exit − entry score, or entry − exit for a measure where a fall
  is progress (the provision's `higher_is_better` is off).

Figures stay unrounded Decimals all the way through; `money()` rounds to pence once, where a
figure is shown or exported.

**Periods.** An LA costs by academic year (September–August) or financial year (April–March),
named by the calendar year it starts. A year is read as its terms: an academic year is autumn,
spring and summer of that school year; financial year Y is the summer term of school year
Y−1 and the autumn and spring terms of school year Y. A group set to a term counts in that
term. A group with no term runs all year: a view of some terms only (a term, or a financial
year) counts the part of its cost that falls in those terms, in proportion to the group's
school days in them (weekdays inside the LA's term dates, half-terms left out), and its pupils'
shares of that part follow their days enrolled within those terms. So the three terms of a
year add up to the year, and a financial year costs each group once.

Queries are a fixed handful per call whatever the number of groups and pupils: rows are read
once and the sums made here.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q
from django.utils import timezone

from interventions.models import Attendance, Enrolment, InterventionGroup, StaffKind, attendance_fraction
from pupils.codes import AreaOfNeed
from pupils.models import Pupil
from schools.formatting import plain_number
from schools.models import LocalAuthority, School, TermDates
from schools.rates import rate_table
from schools.tenancy import counting
from schools.terms import Term, TermSpan, academic_year_label, academic_year_of, typical_terms

PENCE = Decimal("0.01")
ZERO = Decimal(0)
TERMS: tuple[str, ...] = tuple(Term.values)  # autumn, spring, summer: the order of a school year
STAFF_LABELS: dict[str, str] = dict(StaffKind.choices)
AREA_LABELS: dict[str, str] = dict(AreaOfNeed.choices)
AREA_ORDER: dict[str, int] = {area: i for i, area in enumerate(AreaOfNeed.values)}
CostingYear = LocalAuthority.CostingYear


# --- rounding and words --------------------------------------------------------------------


def money(value: Decimal | None) -> Decimal | None:
    """To the penny, halves up (as a finance officer rounds): the one rounding of a cost,
    made where it is shown or exported."""
    return None if value is None else value.quantize(PENCE, rounding=ROUND_HALF_UP)


def format_money(value: Decimal | None, *, unknown: str = "Unknown") -> str:
    """£7,600.00: pounds with thousands separated, to the penny; `unknown` for no figure."""
    return unknown if value is None else f"£{money(value):,}"


def format_share(value: Decimal | None, *, missing: str = "—") -> str:
    """A share from 0 to 1 as a whole percentage: 0.6667 → "67%"."""
    return missing if value is None else f"{plain(value * 100, 0)}%"


def plain(value: Decimal | int | None, places: int = 2) -> str:
    """1.50 as 1.5 and 38.0 as 38: how people write hours and weeks."""
    if value is None:
        return ""
    return plain_number(Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def hours_text(hours: Decimal) -> str:
    """1 → "1 hour", 1.5 → "1.5 hours", 0.75 → "45 minutes"."""
    if hours < 1:
        return f"{plain(hours * 60, 1)} minutes"
    return "1 hour" if hours == 1 else f"{plain(hours)} hours"


def weekly_time_text(hours_per_group: Iterable[Decimal]) -> str:
    """The provision map's "cost in time" column: groups of the same shape as "4 × 1 hour",
    one group as "1 hour", mixed shapes listed ("2 × 1 hour, 1 × 2 hours")."""
    shapes = Counter(hours_per_group)
    if sum(shapes.values()) == 1:
        return hours_text(next(iter(shapes)))
    return ", ".join(f"{n} × {hours_text(h)}" for h, n in sorted(shapes.items()))


def ratio_text(ratios: Iterable[str]) -> str:
    """Staff:pupil ratios of the groups, each once, in the order first met ("1:6, 2:10")."""
    return ", ".join(dict.fromkeys(ratios))


def weeks_text(weeks: Iterable[Decimal]) -> str:
    """The weeks column: one figure when the groups agree, else the range ("10–20")."""
    values = sorted(set(weeks))
    if not values:
        return ""
    if len(values) == 1:
        return plain(values[0], 1)
    return f"{plain(values[0], 1)}–{plain(values[-1], 1)}"


def step_label(step: int | None) -> str:
    return f"Wave or step {step}" if step is not None else "No wave or step"


# --- rates and a group's cost -----------------------------------------------------------------


def hourly_rates(school: School) -> dict[str, Decimal]:
    """Hourly cost of each kind of staff for a school: the LA's rate, replaced by the school's
    own where it has set one (one query). A kind missing from the result has no rate."""
    table = rate_table(school.local_authority_id, school)
    return {row.kind: row.rate for row in table if row.rate is not None}


def group_cost(group: InterventionGroup, rates: dict[str, Decimal]) -> Decimal | None:
    """Weekly staff hours × hourly rate × weeks; None when the group's kind of staff has no rate."""
    rate = rates.get(group.staff_kind)
    if rate is None:
        return None
    return group.weekly_staff_hours * rate * group.weeks


def enrolled_days(
    starts_on: dt.date, ends_on: dt.date | None, window_start: dt.date, window_end: dt.date
) -> int:
    """Days (inclusive) of an enrolment inside a window; an open end runs to the window's end."""
    first = max(starts_on, window_start)
    last = min(ends_on or window_end, window_end)
    return max((last - first).days + 1, 0)


def cost_shares(cost: Decimal, days: dict[int, int]) -> dict[int, Decimal]:
    """Split `cost` among keys in proportion to their days. The shares add up to `cost`
    exactly: the last key (by key order) takes what division left over."""
    total = sum(d for d in days.values() if d > 0)
    keys = sorted(k for k, d in days.items() if d > 0)
    if not total:
        return {}
    shares = {k: cost * days[k] / total for k in keys[:-1]}
    shares[keys[-1]] = cost - sum(shares.values(), ZERO)
    return shares


def enrolment_improvement(
    entry: Decimal | None, exit_score: Decimal | None, *, higher_is_better: bool
) -> Decimal | None:
    """Exit − entry, or entry − exit where a fall is progress; None without both scores."""
    if entry is None or exit_score is None:
        return None
    return exit_score - entry if higher_is_better else entry - exit_score


# --- periods: years and terms ---------------------------------------------------------------


def current_costing_year(local_authority: LocalAuthority, today: dt.date | None = None) -> int:
    """The costing year today falls in, named by the calendar year it starts."""
    today = today or timezone.localdate()
    if local_authority.costing_year == CostingYear.FINANCIAL:
        return today.year if today.month >= 4 else today.year - 1
    return academic_year_of(today)


@dataclass(frozen=True)
class CostingPeriod:
    """A costing year (academic or financial), or one term of it."""

    year: int
    kind: str = CostingYear.ACADEMIC
    term: str = ""

    @property
    def slots(self) -> list[tuple[int, str]]:
        """The (school year, term) pairs the period covers."""
        if self.kind == CostingYear.FINANCIAL:
            # April to March: the summer term of the school year before, then autumn and spring.
            terms = [(self.year - 1, Term.SUMMER), (self.year, Term.AUTUMN), (self.year, Term.SPRING)]
        else:
            terms = [(self.year, t) for t in TERMS]
        return [(y, str(t)) for y, t in terms if not self.term or t == self.term]

    @property
    def year_label(self) -> str:
        if self.kind == CostingYear.FINANCIAL:
            span = f"April {self.year} to March {self.year + 1}"
            return f"financial year {academic_year_label(self.year)} ({span})"
        return f"school year {academic_year_label(self.year)}"

    @property
    def label(self) -> str:
        if not self.term:
            return self.year_label[0].upper() + self.year_label[1:]
        school_year = self.slots[0][0]
        return f"{Term(self.term).label} term {academic_year_label(school_year)}"


def _weekdays(first: dt.date, last: dt.date) -> int:
    """Monday-to-Friday days from `first` to `last` inclusive, counted without a loop."""
    if last < first:
        return 0
    days = (last - first).days + 1
    weeks, rest = divmod(days, 7)
    start = first.weekday()
    return weeks * 5 + sum(1 for i in range(rest) if (start + i) % 7 < 5)


def _school_days(span: TermSpan, first: dt.date, last: dt.date) -> int:
    return sum(_weekdays(max(a, first), min(b, last)) for a, b in span.open_ranges())


def _term_spans(local_authority_id: int, years: set[int]) -> dict[tuple[int, str], TermSpan]:
    """The LA's term dates for the school years (one query). A year counts as entered only
    when all three of its terms are (as the school calendar reads them); any other year
    takes a usual pattern of terms."""
    entered = {
        (t.academic_year, t.term): t.span()
        for t in TermDates.objects.filter(local_authority_id=local_authority_id, academic_year__in=years)
    }
    spans: dict[tuple[int, str], TermSpan] = {}
    for year in years:
        if all((year, t) in entered for t in TERMS):
            spans.update({(year, t): entered[(year, t)] for t in TERMS})
            continue
        for t in typical_terms(year):
            spans[(year, str(t["term"]))] = TermSpan(
                t["starts_on"], t["ends_on"], t["half_term_starts_on"], t["half_term_ends_on"]
            )
    return spans


@dataclass(frozen=True)
class _Coverage:
    """How much of one group a period takes: a fraction of its cost, and the dates within
    which its pupils' days are counted."""

    fraction: Decimal
    window_start: dt.date
    window_end: dt.date


def _coverage(
    group: InterventionGroup, terms: set[str], spans: dict[tuple[int, str], TermSpan]
) -> _Coverage | None:
    run = (group.starts_on, group.ends_on)
    if group.term:
        return _Coverage(Decimal(1), *run) if group.term in terms else None
    if not terms:
        return None
    if set(TERMS) <= terms:
        return _Coverage(Decimal(1), *run)
    year = group.academic_year
    days = {t: _school_days(spans[(year, t)], *run) for t in TERMS}
    covered = sum(days[t] for t in terms)
    if sum(days.values()):
        fraction = Decimal(covered) / Decimal(sum(days.values()))
    else:
        # A "whole year" group that meets only in the holidays: split it by term length.
        lengths = {t: _school_days(spans[(year, t)], dt.date.min, dt.date.max) for t in TERMS}
        fraction = Decimal(sum(lengths[t] for t in terms)) / Decimal(sum(lengths.values()))
    if not fraction:
        return None
    first = min(spans[(year, t)].starts_on for t in terms)
    last = max(spans[(year, t)].ends_on for t in terms)
    return _Coverage(fraction, max(first, group.starts_on), min(last, group.ends_on))


# --- reading groups and their pupils ------------------------------------------------------------


@dataclass
class _GroupFigures:
    """One group as a period sees it: its cost there, and each pupil's days and share."""

    group: InterventionGroup
    cost: Decimal | None  # the group's cost in the period (None: no rate)
    weeks: Decimal  # its costed weeks in the period
    days: dict[int, int]  # pupil id → days enrolled within the period's window
    shares: dict[int, Decimal]  # pupil id → share of `cost` (empty when the cost is unknown)


def _enrolment_rows(groups: Sequence[InterventionGroup]) -> dict[int, list[dict]]:
    """Every enrolment of the groups, with the pupil's NC year (one query)."""
    by_group: dict[int, list[dict]] = defaultdict(list)
    if not groups:
        return by_group
    rows = (
        Enrolment.objects.filter(group_id__in=[g.pk for g in groups])
        .order_by("group_id", "pupil_id")
        .values("group_id", "pupil_id", "starts_on", "ends_on", "pupil__nc_year")
    )
    for row in rows:
        by_group[row["group_id"]].append(row)
    return by_group


def _figures(
    group: InterventionGroup, coverage: _Coverage, enrolments: list[dict], rates: dict[str, Decimal]
) -> _GroupFigures:
    full = group_cost(group, rates)
    cost = None if full is None else full * coverage.fraction
    days = {
        e["pupil_id"]: enrolled_days(e["starts_on"], e["ends_on"], coverage.window_start, coverage.window_end)
        for e in enrolments
    }
    days = {pupil: d for pupil, d in days.items() if d > 0}
    shares = cost_shares(cost, days) if cost is not None else {}
    return _GroupFigures(group, cost, group.weeks * coverage.fraction, days, shares)


# --- the costed provision map --------------------------------------------------------------------


@dataclass
class StaffLine:
    """One kind of staff on a map row: the Kent maps' separate lines for a SENCO and a TA."""

    kind: str
    label: str
    groups: int
    weekly_hours: Decimal
    weekly_time: str
    rate: Decimal | None
    cost: Decimal | None


@dataclass
class MapRow:
    """One provision on the map."""

    provision_id: int
    name: str
    area: str
    area_label: str
    step: int | None
    ratio: str
    staff: list[StaffLine]
    groups: int
    weekly_hours: Decimal
    weekly_time: str
    weeks: str
    cost: Decimal | None
    pupils: int
    pupil_ids: frozenset[int] = field(repr=False)
    missing_rates: list[str]  # kinds of staff with no rate, so the cost is unknown

    @property
    def per_pupil_cost(self) -> Decimal | None:
        return None if self.cost is None or not self.pupils else self.cost / self.pupils

    @property
    def staff_involved(self) -> str:
        return ", ".join(line.label for line in self.staff)


@dataclass
class MapTotal:
    """A subtotal (one wave/step or area of need) or the total. `cost` adds up the rows whose
    cost is known; `complete` says whether every row's was. Pupils are counted once however
    many provisions they receive; `places` counts a pupil once per provision."""

    key: str
    label: str
    rows: int
    groups: int
    weekly_hours: Decimal
    cost: Decimal
    complete: bool
    pupils: int
    places: int
    missing_rates: list[str]

    @property
    def per_pupil_cost(self) -> Decimal | None:
        return self.cost / self.pupils if self.complete and self.pupils else None


@dataclass
class ProvisionMap:
    school_id: int
    period: CostingPeriod
    year_group: int | None
    rows: list[MapRow]
    by_step: list[MapTotal]
    by_area: list[MapTotal]
    total: MapTotal
    rates: dict[str, Decimal]

    @property
    def missing_rates(self) -> list[str]:
        return self.total.missing_rates

    @property
    def missing_rate_labels(self) -> list[str]:
        return [STAFF_LABELS.get(k, k) for k in self.missing_rates]


def _sort_kinds(kinds: Iterable[str]) -> list[str]:
    order = {k: i for i, k in enumerate(StaffKind.values)}
    return sorted(set(kinds), key=lambda k: order.get(k, 99))


def _row(
    provision, figures: list[_GroupFigures], rates: dict[str, Decimal], year_group: int | None
) -> MapRow:
    pupils: set[int] = set()
    by_kind: dict[str, list[_GroupFigures]] = defaultdict(list)
    for f in figures:
        by_kind[f.group.staff_kind].append(f)
    staff: list[StaffLine] = []
    for kind in _sort_kinds(by_kind):
        lines = by_kind[kind]
        cost: Decimal | None = ZERO
        for f in lines:
            if f.cost is None:
                cost = None
                break
            # A year group's view costs only its own pupils' shares of each group.
            cost += sum(f.shares.values(), ZERO) if year_group is not None else f.cost
        staff.append(
            StaffLine(
                kind=kind,
                label=STAFF_LABELS.get(kind, kind),
                groups=len(lines),
                weekly_hours=sum((f.group.weekly_staff_hours for f in lines), ZERO),
                weekly_time=weekly_time_text(f.group.weekly_staff_hours for f in lines),
                rate=rates.get(kind),
                cost=cost,
            )
        )
    for f in figures:
        pupils.update(f.days)
    missing = [line.kind for line in staff if line.cost is None]
    total_cost = None if missing else sum((line.cost for line in staff), ZERO)
    return MapRow(
        provision_id=provision.pk,
        name=provision.name,
        area=provision.area_of_need,
        area_label=AREA_LABELS.get(provision.area_of_need, provision.area_of_need),
        step=provision.step_number,
        ratio=ratio_text(f.group.ratio for f in figures),
        staff=staff,
        groups=len(figures),
        weekly_hours=sum((f.group.weekly_staff_hours for f in figures), ZERO),
        weekly_time=weekly_time_text(f.group.weekly_staff_hours for f in figures),
        weeks=weeks_text(f.weeks for f in figures),
        cost=total_cost,
        pupils=len(pupils),
        pupil_ids=frozenset(pupils),
        missing_rates=missing,
    )


def _total(key: str, label: str, rows: list[MapRow]) -> MapTotal:
    pupils: set[int] = set()
    for row in rows:
        pupils |= row.pupil_ids
    return MapTotal(
        key=key,
        label=label,
        rows=len(rows),
        groups=sum(r.groups for r in rows),
        weekly_hours=sum((r.weekly_hours for r in rows), ZERO),
        cost=sum((r.cost for r in rows if r.cost is not None), ZERO),
        complete=all(r.cost is not None for r in rows),
        pupils=len(pupils),
        places=sum(r.pupils for r in rows),
        missing_rates=_sort_kinds(k for r in rows for k in r.missing_rates),
    )


def costing_period(school: School, *, year: int | None = None, term: str | None = None) -> CostingPeriod:
    """The period a school's map covers: the LA's kind of costing year (today's unless
    `year` is given), or one term of it. `school.local_authority` should be loaded already."""
    la = school.local_authority
    return CostingPeriod(
        year=year if year is not None else current_costing_year(la), kind=la.costing_year, term=term or ""
    )


def provision_map(
    school: School,
    *,
    year: int | None = None,
    term: str | None = None,
    year_group: int | None = None,
    period: CostingPeriod | None = None,
    area: str = "",
) -> ProvisionMap:
    """The school's costed provision map for a costing year (or one term of it), optionally for
    the pupils of one NC year group only: one row per provision that ran, subtotals by wave or
    step and by area of need, and the total.

    `year` is the calendar year the LA's costing year starts in (its academic or financial
    year, per `LocalAuthority.costing_year`); today's when omitted. A year group's view counts
    only that year's pupils (by their NC year now) and their shares of each group's cost;
    `area` keeps only the provisions meeting that area of need.
    Queries: rates, groups with their provisions, enrolments, and term dates when the period
    is part of a year — the same four whatever the data.
    """
    if period is None:
        period = costing_period(school, year=year, term=term)
    with counting():
        rates = hourly_rates(school)
        slots = period.slots
        wanted = Q()
        for school_year in {y for y, _ in slots}:
            terms = [t for y, t in slots if y == school_year]
            wanted |= Q(academic_year=school_year, term__in=[*terms, ""])
        groups = list(
            InterventionGroup.objects.filter(wanted, school_id=school.pk)
            .select_related("provision")
            .order_by("provision_id", "starts_on", "id")
        )
        partial_years = {
            g.academic_year
            for g in groups
            if not g.term and len([y for y, _ in slots if y == g.academic_year]) < 3
        }
        spans = _term_spans(school.local_authority_id, partial_years) if partial_years else {}
        enrolments = _enrolment_rows(groups)

    by_provision: dict[int, list[_GroupFigures]] = defaultdict(list)
    provisions = {}
    for group in groups:
        terms = {t for y, t in slots if y == group.academic_year}
        coverage = _coverage(group, terms, spans)
        if coverage is None:
            continue
        # The whole group's days decide the shares; a year group's view then keeps its own.
        figures = _figures(group, coverage, enrolments.get(group.pk, []), rates)
        if year_group is not None:
            # Pupils move up a year each September: compare the year group they were in
            # during the group's school year, not the one they are in now.
            now = year_group + (academic_year_of(timezone.localdate()) - group.academic_year)
            mine = {e["pupil_id"] for e in enrolments.get(group.pk, []) if e["pupil__nc_year"] == now}
            figures.days = {p: d for p, d in figures.days.items() if p in mine}
            figures.shares = {p: s for p, s in figures.shares.items() if p in mine}
            if not figures.days:
                continue
        if area and group.provision.area_of_need != area:
            continue
        by_provision[group.provision_id].append(figures)
        provisions[group.provision_id] = group.provision

    rows_out = [_row(provisions[pid], figs, rates, year_group) for pid, figs in by_provision.items()]
    rows_out.sort(key=lambda r: (r.step is None, r.step or 0, AREA_ORDER.get(r.area, 99), r.name.lower()))

    steps = sorted({r.step for r in rows_out}, key=lambda s: (s is None, s or 0))
    by_step = [
        _total(
            f"step-{s}" if s is not None else "step-none", step_label(s), [r for r in rows_out if r.step == s]
        )
        for s in steps
    ]
    areas = sorted({r.area for r in rows_out}, key=lambda a: AREA_ORDER.get(a, 99))
    by_area = [_total(a, AREA_LABELS.get(a, a), [r for r in rows_out if r.area == a]) for a in areas]
    return ProvisionMap(
        school_id=school.pk,
        period=period,
        year_group=year_group,
        rows=rows_out,
        by_step=by_step,
        by_area=by_area,
        total=_total("total", "All provision", rows_out),
        rates=rates,
    )


# --- one pupil's provision -----------------------------------------------------------------------


@dataclass
class PupilProvision:
    """One enrolment of a pupil: what they receive, how often, with whom, and their share."""

    enrolment_id: int
    provision_name: str
    provision_description: str
    area_label: str
    step: int | None
    group_id: int
    group_name: str
    schedule: str
    staff_kind: str
    staff_label: str
    staff_count: int
    group_size: int
    ratio: str
    sessions_per_week: Decimal
    session_minutes: int
    weekly_hours: Decimal
    weeks: Decimal
    group_starts_on: dt.date
    group_ends_on: dt.date
    starts_on: dt.date
    ends_on: dt.date
    sessions_attended: int
    sessions_recorded: int
    entry_score: Decimal | None
    exit_score: Decimal | None
    improvement: Decimal | None
    outcome_rating: int | None
    measure_label: str
    higher_is_better: bool
    cost_share: Decimal | None  # None: the group's staff kind has no rate

    @property
    def attendance_rate(self) -> Decimal | None:
        return attendance_fraction(self.sessions_attended, self.sessions_recorded)

    @property
    def hours_per_week(self) -> Decimal:
        """The pupil's own time in the group each week (staff hours count each adult)."""
        return self.sessions_per_week * Decimal(self.session_minutes) / 60

    @property
    def how_often(self) -> str:
        per_week = plain(self.sessions_per_week, 1)
        sessions = "session" if self.sessions_per_week == 1 else "sessions"
        return f"{per_week} {sessions} a week of {plain(Decimal(self.session_minutes))} minutes"


@dataclass
class PupilProvisionMap:
    pupil_id: int
    academic_year: int
    entries: list[PupilProvision]

    @property
    def total_cost(self) -> Decimal | None:
        """What the pupil's provision cost this year; None if any part has no rate."""
        if any(e.cost_share is None for e in self.entries):
            return None
        return sum((e.cost_share for e in self.entries), ZERO)

    @property
    def missing_rate_labels(self) -> list[str]:
        return [
            STAFF_LABELS.get(k, k)
            for k in _sort_kinds(e.staff_kind for e in self.entries if e.cost_share is None)
        ]


def _attendance_counts(enrolment_ids: list[int]) -> dict[int, tuple[int, int]]:
    """Per enrolment: sessions attended and sessions with attendance recorded (one query)."""
    if not enrolment_ids:
        return {}
    rows = (
        Attendance.objects.filter(enrolment_id__in=enrolment_ids)
        .order_by()
        .values("enrolment_id")
        .annotate(present=Count("id", filter=Q(present=True)), recorded=Count("id"))
    )
    return {r["enrolment_id"]: (r["present"], r["recorded"]) for r in rows}


def pupil_provision_map(pupil: Pupil, *, academic_year: int) -> PupilProvisionMap:
    """What one pupil receives in a school year, with their share of each group's cost (the
    whole group's run, as the school's annual map shares it). Five queries whatever the data:
    the pupil's enrolments with groups and provisions, the groups' other enrolments (their
    days decide the shares), attendance, rates, and the school for its LA."""
    enrolments = list(
        Enrolment.objects.filter(pupil_id=pupil.pk, group__academic_year=academic_year)
        .select_related("group__provision")
        .order_by("starts_on", "group__name", "id")
    )
    groups = [e.group for e in enrolments]
    others = _enrolment_rows(groups)
    attendance = _attendance_counts([e.pk for e in enrolments])
    school = School.objects.only("pk", "local_authority_id").get(pk=pupil.school_id)
    rates = hourly_rates(school)
    entries = []
    for e in enrolments:
        group = e.group
        provision = group.provision
        figures = _figures(
            group, _Coverage(Decimal(1), group.starts_on, group.ends_on), others[group.pk], rates
        )
        share = None if figures.cost is None else figures.shares.get(pupil.pk, ZERO)
        present, recorded = attendance.get(e.pk, (0, 0))
        entries.append(
            PupilProvision(
                enrolment_id=e.pk,
                provision_name=provision.name,
                provision_description=provision.description,
                area_label=AREA_LABELS.get(provision.area_of_need, provision.area_of_need),
                step=provision.step_number,
                group_id=group.pk,
                group_name=group.name,
                schedule=group.schedule,
                staff_kind=group.staff_kind,
                staff_label=STAFF_LABELS.get(group.staff_kind, group.staff_kind),
                staff_count=group.staff_count,
                group_size=group.group_size,
                ratio=group.ratio,
                sessions_per_week=group.sessions_per_week,
                session_minutes=group.session_minutes,
                weekly_hours=group.weekly_staff_hours,
                weeks=group.weeks,
                group_starts_on=group.starts_on,
                group_ends_on=group.ends_on,
                starts_on=max(e.starts_on, group.starts_on),
                ends_on=min(e.ends_on or group.ends_on, group.ends_on),
                sessions_attended=present,
                sessions_recorded=recorded,
                entry_score=e.entry_score,
                exit_score=e.exit_score,
                improvement=enrolment_improvement(
                    e.entry_score, e.exit_score, higher_is_better=provision.higher_is_better
                ),
                outcome_rating=e.outcome_rating,
                measure_label=provision.measure_name or provision.get_measure_display(),
                higher_is_better=provision.higher_is_better,
                cost_share=share,
            )
        )
    return PupilProvisionMap(pupil_id=pupil.pk, academic_year=academic_year, entries=entries)


# The parent-friendly version: plain words, no costs, nothing about other children.

_WHO = {
    StaffKind.TEACHER: "a teacher",
    StaffKind.TA: "a teaching assistant",
    StaffKind.HLTA: "a senior teaching assistant",
    StaffKind.LSA: "a learning support assistant",
    StaffKind.MENTOR: "a learning mentor",
    StaffKind.SENCO: "the school's special educational needs co-ordinator (SENCO)",
    StaffKind.EXTERNAL: "a specialist from outside the school",
}
_TIMES = {1: "once a week", 2: "twice a week"}
_RATINGS = {
    -2: "finding this much harder",
    -1: "finding this a little harder",
    0: "no change yet",
    1: "a little better",
    2: "much better",
}


@dataclass(frozen=True)
class ParentEntry:
    """One thing the child receives, said the way a letter home would say it."""

    what: str
    about: str
    how_often: str
    who: str
    when: str
    attendance: str
    progress: str


def _minutes_words(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    parts = []
    if hours:
        parts.append("1 hour" if hours == 1 else f"{hours} hours")
    if rest:
        parts.append(f"{rest} minutes")
    return " and ".join(parts)


def _often_words(per_week: Decimal) -> str:
    if per_week == int(per_week):
        return _TIMES.get(int(per_week), f"{int(per_week)} times a week")
    if per_week == Decimal("0.5"):
        return "once a fortnight"
    return f"about {plain(per_week, 1)} times a week"


def _date_words(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def parent_entry(entry: PupilProvision, *, today: dt.date | None = None) -> ParentEntry:
    today = today or timezone.localdate()
    setting = "one to one" if entry.group_size == 1 else "in a small group"
    if entry.starts_on > today:
        when = f"starting on {_date_words(entry.starts_on)}, until {_date_words(entry.ends_on)}"
    elif entry.ends_on >= today:
        when = f"since {_date_words(entry.starts_on)}, until {_date_words(entry.ends_on)}"
    else:
        when = f"from {_date_words(entry.starts_on)} to {_date_words(entry.ends_on)}"
    if entry.sessions_recorded:
        attendance = f"Came to {entry.sessions_attended} of the {entry.sessions_recorded} sessions so far."
    else:
        attendance = "No sessions recorded yet."
    if entry.improvement is not None:
        progress = (
            "Has made progress."
            if entry.improvement > 0
            else ("No change measured yet." if entry.improvement == 0 else "Finding this harder for now.")
        )
    elif entry.outcome_rating is not None:
        progress = _RATINGS[entry.outcome_rating].capitalize() + "."
    else:
        progress = "Progress will be checked at the end."
    return ParentEntry(
        what=entry.provision_name,
        about=entry.provision_description,
        how_often=(
            f"{_often_words(entry.sessions_per_week)}, "
            f"{_minutes_words(entry.session_minutes)} each time, {setting}"
        ),
        who=f"With {_WHO.get(entry.staff_kind, 'a member of staff')}.",
        when=when[0].upper() + when[1:] + ".",
        attendance=attendance,
        progress=progress,
    )


def parent_provision_map(pupil: Pupil, *, academic_year: int) -> list[ParentEntry]:
    """The pupil's provision for parents and carers: what, how often, with whom, since when."""
    return [parent_entry(e) for e in pupil_provision_map(pupil, academic_year=academic_year).entries]


# --- what works ---------------------------------------------------------------------------------------


@dataclass
class ImpactRow:
    """A provision's impact: the "what works" table a headteacher sorts."""

    provision_id: int
    name: str
    area: str
    area_label: str
    step: int | None
    measure_label: str
    higher_is_better: bool
    groups: int
    enrolments: int
    pupils: int
    scored: int  # enrolments with entry and exit scores
    total_improvement: Decimal
    with_outcome: int  # enrolments with a score pair or, failing that, a rating
    improved: int
    rated: int
    rating_total: int
    sessions_present: int
    sessions_recorded: int
    cost: Decimal | None
    missing_rates: list[str]
    # The part of the cost that bought the scored enrolments (their shares by days): the
    # fair numerator for cost per unit of improvement, which only they measured.
    scored_cost: Decimal | None = None

    @property
    def average_improvement(self) -> Decimal | None:
        return self.total_improvement / self.scored if self.scored else None

    @property
    def improved_share(self) -> Decimal | None:
        """Of the enrolments with an outcome, the share that improved (0 to 1)."""
        return Decimal(self.improved) / self.with_outcome if self.with_outcome else None

    @property
    def mean_rating(self) -> Decimal | None:
        return Decimal(self.rating_total) / self.rated if self.rated else None

    @property
    def attendance_rate(self) -> Decimal | None:
        return attendance_fraction(self.sessions_present, self.sessions_recorded)

    @property
    def cost_per_pupil(self) -> Decimal | None:
        return self.cost / self.pupils if self.cost is not None and self.pupils else None

    @property
    def cost_per_improvement(self) -> Decimal | None:
        """Cost ÷ the improvement all its pupils made together, when that is above zero."""
        if self.scored_cost is None or not self.scored or self.total_improvement <= 0:
            return None
        return self.scored_cost / self.total_improvement


def what_works(school: School, *, academic_year: int | None = None) -> list[ImpactRow]:
    """Per provision (that ran in the school year, or ever when None): enrolments, pupils,
    average improvement, share improved, mean rating, attendance rate, cost per pupil and per
    unit of improvement. Sorted by name; see `sort_impact`. Four queries whatever the data."""
    with counting():
        rates = hourly_rates(school)
        groups_qs = InterventionGroup.objects.filter(school_id=school.pk).select_related("provision")
        if academic_year is not None:
            groups_qs = groups_qs.filter(academic_year=academic_year)
        groups = list(groups_qs.order_by("provision_id", "id"))
        enrolments = list(
            Enrolment.objects.filter(group_id__in=[g.pk for g in groups])
            .order_by("id")
            .values(
                "id",
                "group_id",
                "pupil_id",
                "entry_score",
                "exit_score",
                "outcome_rating",
                "starts_on",
                "ends_on",
            )
        )
        attendance = _attendance_counts([e["id"] for e in enrolments])

    provision_of = {g.pk: g.provision for g in groups}
    by_provision: dict[int, dict] = {}
    for g in groups:
        p = g.provision
        acc = by_provision.setdefault(
            p.pk,
            {"provision": p, "groups": 0, "cost": ZERO, "missing": set(), "enrolments": [], "pupils": set()},
        )
        acc["groups"] += 1
        cost = group_cost(g, rates)
        if cost is None:
            acc["missing"].add(g.staff_kind)
        else:
            acc["cost"] += cost
    for e in enrolments:
        acc = by_provision[provision_of[e["group_id"]].pk]
        acc["enrolments"].append(e)
        acc["pupils"].add(e["pupil_id"])
    # Each enrolment's share of its group's cost, by days enrolled (as the map shares it).
    share_of: dict[int, Decimal] = {}
    group_of = {g.pk: g for g in groups}
    by_group: dict[int, dict[int, int]] = defaultdict(dict)
    for e in enrolments:
        g = group_of[e["group_id"]]
        by_group[g.pk][e["id"]] = enrolled_days(e["starts_on"], e["ends_on"], g.starts_on, g.ends_on)
    for gid, days in by_group.items():
        cost = group_cost(group_of[gid], rates)
        if cost is not None:
            share_of.update(cost_shares(cost, days))

    rows = []
    for acc in by_provision.values():
        p = acc["provision"]
        scored = improved = with_outcome = rated = rating_total = present = recorded = 0
        total_improvement = scored_cost = ZERO
        for e in acc["enrolments"]:
            change = enrolment_improvement(
                e["entry_score"], e["exit_score"], higher_is_better=p.higher_is_better
            )
            rating = e["outcome_rating"]
            if change is not None:
                scored += 1
                total_improvement += change
                scored_cost += share_of.get(e["id"], ZERO)
                with_outcome += 1
                improved += change > 0
            elif rating is not None:
                with_outcome += 1
                improved += rating > 0
            if rating is not None:
                rated += 1
                rating_total += rating
            p_present, p_recorded = attendance.get(e["id"], (0, 0))
            present += p_present
            recorded += p_recorded
        rows.append(
            ImpactRow(
                provision_id=p.pk,
                name=p.name,
                area=p.area_of_need,
                area_label=AREA_LABELS.get(p.area_of_need, p.area_of_need),
                step=p.step_number,
                measure_label=p.measure_name or p.get_measure_display() or "Rated −2 to +2",
                higher_is_better=p.higher_is_better,
                groups=acc["groups"],
                enrolments=len(acc["enrolments"]),
                pupils=len(acc["pupils"]),
                scored=scored,
                total_improvement=total_improvement,
                with_outcome=with_outcome,
                improved=improved,
                rated=rated,
                rating_total=rating_total,
                sessions_present=present,
                sessions_recorded=recorded,
                cost=None if acc["missing"] else acc["cost"],
                missing_rates=_sort_kinds(acc["missing"]),
                scored_cost=None if acc["missing"] else scored_cost,
            )
        )
    return sort_impact(rows, "name")


# Columns the what-works table sorts by: key → the value sorted on (None sorts last).
IMPACT_SORTS: dict[str, str] = {
    "name": "Provision",
    "area": "Area of need",
    "step": "Wave or step",
    "enrolments": "Enrolments",
    "pupils": "Pupils",
    "average_improvement": "Average improvement",
    "improved_share": "Share improved",
    "mean_rating": "Mean rating",
    "attendance_rate": "Attendance",
    "cost": "Cost",
    "cost_per_pupil": "Cost per pupil",
    "cost_per_improvement": "Cost per unit of improvement",
}


def sort_impact(rows: list[ImpactRow], sort: str) -> list[ImpactRow]:
    """Sort by a column of IMPACT_SORTS, "-column" for descending; rows without a figure go
    last either way, and ties fall back to the provision's name. An unknown key sorts by name."""
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    if key not in IMPACT_SORTS:
        key, descending = "name", False
    attribute = "area_label" if key == "area" else key

    def value(row: ImpactRow):
        v = getattr(row, attribute)
        return v.lower() if isinstance(v, str) else v

    present = [r for r in rows if value(r) is not None]
    missing = [r for r in rows if value(r) is None]
    present.sort(key=lambda r: (r.name.lower(), r.provision_id))
    present.sort(key=value, reverse=descending)
    missing.sort(key=lambda r: (r.name.lower(), r.provision_id))
    return present + missing
