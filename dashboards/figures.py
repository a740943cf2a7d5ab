"""The figures a dashboard, a report and `/api/v1/figures/` share: one function per scope.

- `school_figures(school, period, filters)`: the school's costed provision map for the term,
  its SEN register beside England's, pupils by step and need, moves between steps, what the
  school year's interventions achieved, attendance and suspensions of pupils at step 3 and
  above, approvals waiting and plan reviews overdue. The school termly report is built from
  this same dict (reports/build_school.py), so a governor's PDF and the headteacher's page
  cannot disagree.
- `provision_figures`, `partnership_figures` and `la_figures` hand on to the builders of the
  provision termly, partnership annual and LA overview reports (reports/build_partnership.py),
  which return the suppressed figures they print; dashboards and the API show those.

Figures are plain JSON values (numbers, strings, dates, Decimals): what the report snapshot
keeps and the API returns. Filters (year group, area of need) narrow the school's figures
and the counts over many schools; the reports are the figures with no filter.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Count, F, Min, Q, Sum
from django.utils import timezone

from graduated_response.models import BehaviourObservation, StepPlacement, SupportPlan
from graduated_response.selectors import pending_overrides, reviews_due
from interventions import costing
from interventions.models import Attendance, ProvisionPlacement
from pupils.codes import AREA_OF_NEED, AreaOfNeed, Need, SenStatus, in_area
from pupils.selectors import RegisterFilters, pupil_register
from reports.build_pupil import period_figures, rounded
from reports.periods import Period
from schools.models import School
from schools.tenancy import require_scope

NEED_LABELS = dict(Need.choices)
AREA_LABELS = dict(AreaOfNeed.choices)
# How long past its date an overdue review is, in the bands a governor reads.
OVERDUE_BANDS = ((14, "Up to 2 weeks"), (42, "2 to 6 weeks"), (None, "More than 6 weeks"))
# England's SEN register as the DfE's "Special educational needs in England" counted it in
# the January 2025 school census: shares of all pupils in state-funded schools.
ENGLAND = {
    "source": "Special educational needs in England, January 2025 (DfE)",
    "ehc_plan_share": Decimal("0.053"),
    "sen_support_share": Decimal("0.142"),
}
# Steps whose pupils' attendance and suspensions a headteacher follows.
WATCHED_FROM_STEP = 3


@dataclass(frozen=True)
class Filters:
    """What a dashboard narrows its figures to; empty means everything (as the reports)."""

    year_group: int | None = None  # NC year, as pupils are in it now
    area: str = ""  # an AreaOfNeed value: pupils whose primary need is in it

    def __bool__(self) -> bool:
        return self.year_group is not None or bool(self.area)

    def as_dict(self) -> dict:
        return {"year_group": self.year_group, "area": self.area or None}

    def pupils(self, prefix: str = "") -> Q:
        """The filter on a query of rows that reach a pupil through `prefix`."""
        q = Q()
        if self.year_group is not None:
            q &= Q(**{f"{prefix}nc_year": self.year_group})
        if self.area:
            q &= in_area(self.area, prefix)
        return q


NO_FILTERS = Filters()


def step_word(number: int | None) -> str:
    return f"Step {number}" if number is not None else "No step recorded"


def share(part: int, whole: int) -> Decimal | None:
    return rounded(Decimal(part) / whole, 4) if whole else None


def _on_roll(school: School, filters: Filters):
    """The school's pupils on roll, through the register's selector (as the scope sees them)."""
    qs = pupil_register(
        require_scope(), RegisterFilters(year=filters.year_group, area=filters.area or "")
    ).filter(school_id=school.pk)
    return qs.order_by()


# --- the parts of a school's figures ------------------------------------------------------------


def map_figures(pmap: costing.ProvisionMap) -> dict:
    def total(t: costing.MapTotal) -> dict:
        return {
            "key": t.key,
            "label": t.label,
            "provisions": t.rows,
            "groups": t.groups,
            "weekly_hours": rounded(t.weekly_hours),
            "cost": costing.money(t.cost),
            "complete": t.complete,
            "pupils": t.pupils,
            "places": t.places,
            "per_pupil_cost": costing.money(t.per_pupil_cost),
        }

    rows = [
        {
            "provision_id": r.provision_id,
            "name": r.name,
            "area": r.area,
            "area_label": r.area_label,
            "step": r.step,
            "ratio": r.ratio,
            "staff": [
                {
                    "kind": s.kind,
                    "label": s.label,
                    "groups": s.groups,
                    "weekly_hours": rounded(s.weekly_hours),
                    "weekly_time": s.weekly_time,
                    "rate": s.rate,
                    "cost": costing.money(s.cost),
                }
                for s in r.staff
            ],
            "groups": r.groups,
            "weekly_hours": rounded(r.weekly_hours),
            "weekly_time": r.weekly_time,
            "weeks": r.weeks,
            "cost": costing.money(r.cost),
            "pupils": r.pupils,
            "per_pupil_cost": costing.money(r.per_pupil_cost),
            "missing_rates": [costing.STAFF_LABELS.get(k, k) for k in r.missing_rates],
        }
        for r in pmap.rows
    ]
    return {
        "rows": rows,
        "by_step": [total(t) for t in pmap.by_step],
        "by_area": [total(t) for t in pmap.by_area],
        "total": total(pmap.total),
        "missing_rates": pmap.missing_rate_labels,
    }


def pupil_figures(school: School, filters: Filters = NO_FILTERS) -> dict:
    """Pupils on roll by current step (with SEN status) and on the SEN register by need: two
    grouped queries on the register's own selector."""
    on_roll = _on_roll(school, filters)
    by_step: dict[int | None, dict] = {}
    for row in on_roll.values(
        "current_step_number", "current_placement__step__tier_label", "sen_status"
    ).annotate(n=Count("pk")):
        number = row["current_step_number"]
        entry = by_step.setdefault(
            number,
            {"step": number, "labels": set(), "pupils": 0, "ehc_plan": 0, "sen_support": 0, "no_sen": 0},
        )
        if row["current_placement__step__tier_label"]:
            entry["labels"].add(row["current_placement__step__tier_label"])
        entry["pupils"] += row["n"]
        key = {SenStatus.EHC_PLAN: "ehc_plan", SenStatus.SEN_SUPPORT: "sen_support"}.get(
            row["sen_status"], "no_sen"
        )
        entry[key] += row["n"]
    steps = []
    for number in sorted(by_step, key=lambda n: (n is None, n or 0)):
        entry = by_step[number]
        labels = sorted(entry.pop("labels"))
        entry["label"] = step_word(number) + (f": {' / '.join(labels)}" if labels else "")
        steps.append(entry)

    needs: dict[str, dict] = {}
    on_register = on_roll.exclude(sen_status=SenStatus.NONE)
    for row in on_register.values("primary_need", "sen_status").annotate(n=Count("pk")):
        need = row["primary_need"] or ""
        entry = needs.setdefault(
            need,
            {
                "need": need,
                "label": NEED_LABELS.get(need, "Not recorded"),
                "area": AREA_OF_NEED.get(need, AreaOfNeed.OTHER),
                "ehc_plan": 0,
                "sen_support": 0,
                "pupils": 0,
            },
        )
        entry["ehc_plan" if row["sen_status"] == SenStatus.EHC_PLAN else "sen_support"] += row["n"]
        entry["pupils"] += row["n"]
    area_order = {a: i for i, a in enumerate(AreaOfNeed.values)}
    need_rows = sorted(needs.values(), key=lambda e: (area_order.get(e["area"], 99), e["label"]))
    for entry in need_rows:
        entry["area_label"] = AREA_LABELS.get(entry["area"], entry["area"])
    areas = []
    for area in sorted({e["area"] for e in need_rows}, key=lambda a: area_order.get(a, 99)):
        mine = [e for e in need_rows if e["area"] == area]
        areas.append(
            {
                "area": area,
                "label": AREA_LABELS.get(area, area),
                "ehc_plan": sum(e["ehc_plan"] for e in mine),
                "sen_support": sum(e["sen_support"] for e in mine),
                "pupils": sum(e["pupils"] for e in mine),
            }
        )
    return {
        "on_roll": sum(e["pupils"] for e in steps),
        "ehc_plan": sum(e["ehc_plan"] for e in steps),
        "sen_support": sum(e["sen_support"] for e in steps),
        "by_step": steps,
        "by_need": need_rows,
        "by_area": areas,
    }


def register_figures(pupils: dict) -> dict:
    """The SEN register as E (EHC plan), K (SEN support) and N (no SEN), with each share of
    the pupils on roll beside England's (worked out from `pupil_figures`, no query)."""
    on_roll = pupils["on_roll"]
    no_sen = on_roll - pupils["ehc_plan"] - pupils["sen_support"]
    return {
        "on_roll": on_roll,
        "rows": [
            {
                "code": "E",
                "label": "EHC plan",
                "pupils": pupils["ehc_plan"],
                "share": share(pupils["ehc_plan"], on_roll),
                "england_share": ENGLAND["ehc_plan_share"],
            },
            {
                "code": "K",
                "label": "SEN support",
                "pupils": pupils["sen_support"],
                "share": share(pupils["sen_support"], on_roll),
                "england_share": ENGLAND["sen_support_share"],
            },
            {
                "code": "N",
                "label": "No SEN",
                "pupils": no_sen,
                "share": share(no_sen, on_roll),
                "england_share": Decimal(1) - ENGLAND["ehc_plan_share"] - ENGLAND["sen_support_share"],
            },
        ],
        "england_source": ENGLAND["source"],
    }


def movement_figures(school: School, first: date, last: date, filters: Filters = NO_FILTERS) -> dict:
    """Step placements dated in the term. A move up made as an override counts once a
    headteacher approved it; one still awaiting approval is counted apart, and one that was
    never approved (the pupil moved on first) not at all."""
    Kind, Status = StepPlacement.Kind, StepPlacement.Status
    rows = (
        StepPlacement.objects.filter(
            filters.pupils("pupil__"), school_id=school.pk, placed_on__gte=first, placed_on__lte=last
        )
        .order_by()
        .values("kind", "status", "override", "approved_at", "from_step__number", "step__number")
    )
    by_kind = {k: 0 for k in Kind.values}
    routes: dict[tuple, int] = defaultdict(int)
    awaiting = overrides = 0
    for r in rows:
        if r["status"] == Status.PENDING:
            awaiting += 1
            continue
        if r["override"] and r["approved_at"] is None:
            continue
        overrides += r["override"]
        by_kind[r["kind"]] += 1
        start = None if r["kind"] == Kind.START else r["from_step__number"]
        end = None if r["kind"] == Kind.EXIT else r["step__number"]
        routes[(r["kind"], start, end)] += 1
    labels = dict(Kind.choices)
    kind_order = {k: i for i, k in enumerate(Kind.values)}
    return {
        "total": sum(by_kind.values()),
        "by_kind": [{"kind": k, "label": labels[k], "count": by_kind[k]} for k in Kind.values],
        "routes": [
            {
                "kind": kind,
                "label": labels[kind],
                "from_step": start,
                "to_step": end,
                "count": n,
            }
            for (kind, start, end), n in sorted(
                routes.items(), key=lambda item: (kind_order[item[0][0]], item[0][1] or 0, item[0][2] or 0)
            )
        ],
        "overrides_approved": overrides,
        "awaiting_approval": awaiting,
    }


def impact_figures(school: School, year: int, filters: Filters = NO_FILTERS) -> list[dict]:
    """What works for the school year: every provision with enrolments (of one area of need
    when filtered; the table counts every year group)."""
    return [
        {
            "provision_id": r.provision_id,
            "name": r.name,
            "area_label": r.area_label,
            "step": r.step,
            "measure": r.measure_label,
            "groups": r.groups,
            "enrolments": r.enrolments,
            "pupils": r.pupils,
            "scored": r.scored,
            "average_improvement": rounded(r.average_improvement),
            "improved": r.improved,
            "with_outcome": r.with_outcome,
            "improved_share": rounded(r.improved_share, 4),
            "mean_rating": rounded(r.mean_rating),
            "attendance_rate": rounded(r.attendance_rate, 4),
            "cost": costing.money(r.cost),
            "cost_per_pupil": costing.money(r.cost_per_pupil),
            "cost_per_improvement": costing.money(r.cost_per_improvement),
        }
        for r in costing.what_works(school, academic_year=year)
        if r.enrolments and (not filters.area or r.area == filters.area)
    ]


def review_figures(school: School, today: date, filters: Filters = NO_FILTERS) -> dict:
    """Open plans of pupils on roll whose review date has passed (and those due within two
    weeks), from the SENCO's list of reviews due."""
    scope = require_scope()
    due = list(
        reviews_due(scope, today=today, within_days=14)
        .filter(filters.pupils("pupil__"), school_id=school.pk)
        .values("review_due", "step__number")
    )
    overdue = [d for d in due if d["review_due"] < today]
    bands = []
    lower = 0
    for upper, label in OVERDUE_BANDS:
        n = sum(1 for d in overdue if lower < (today - d["review_due"]).days <= (upper or 10**6))
        bands.append({"label": label, "plans": n})
        lower = upper or 0
    by_step: dict[int | None, int] = defaultdict(int)
    for d in overdue:
        by_step[d["step__number"]] += 1
    open_plans = SupportPlan.objects.filter(
        school_id=school.pk,
        status=SupportPlan.Status.OPEN,
        pupil__in=_on_roll(school, filters).values("pk"),
    ).count()
    return {
        "as_of": today,
        "open_plans": open_plans,
        "overdue": len(overdue),
        "due_within_14_days": len(due) - len(overdue),
        "oldest_due": min((d["review_due"] for d in overdue), default=None),
        "overdue_by": bands,
        "overdue_by_step": [
            {"step": s, "label": step_word(s), "plans": by_step[s]}
            for s in sorted(by_step, key=lambda s: (s is None, s or 0))
        ],
    }


def watched_figures(school: School, period: Period, filters: Filters = NO_FILTERS) -> dict:
    """Pupils on roll at step 3 or above now, per step: how many, their attendance at the
    school's intervention sessions recorded in the period, their placements in a behaviour
    provision that ran in it (with the attendance and suspensions recorded over each
    placement so far), and the behaviour incidents the school observed in it. Rows another
    school recorded (a pupil's record before a transfer) are not counted. Four grouped
    queries whatever the numbers."""
    on_roll = _on_roll(school, filters).filter(current_step_number__gte=WATCHED_FROM_STEP)
    ids = on_roll.values("pk")
    steps: dict[int, dict] = {}

    def entry(step: int) -> dict:
        return steps.setdefault(
            step,
            {
                "step": step,
                "label": step_word(step),
                "pupils": 0,
                "sessions_recorded": 0,
                "sessions_attended": 0,
                "session_attendance": None,
                "placements": 0,
                "placement_attendance": None,
                "suspensions": 0,
                "incidents": 0,
            },
        )

    for row in on_roll.values("current_step_number").annotate(n=Count("pk")):
        entry(row["current_step_number"])["pupils"] = row["n"]

    # Each pupil has one active step placement (a database constraint), so joining it to
    # group rows by the pupil's step never repeats a row.
    def by_step(model, path: str):
        return (
            model.objects.filter(
                **{f"{path}step_placements__status": "active", f"{path}in": ids}, school_id=school.pk
            )
            .order_by()
            .values(step=F(f"{path}step_placements__step__number"))
        )

    sessions = by_step(Attendance, "enrolment__pupil__").filter(
        session__held_on__gte=period.first, session__held_on__lte=period.last
    )
    for row in sessions.annotate(recorded=Count("pk"), attended=Count("pk", filter=Q(present=True))):
        e = entry(row["step"])
        e["sessions_recorded"] = row["recorded"]
        e["sessions_attended"] = row["attended"]
        e["session_attendance"] = share(row["attended"], row["recorded"])

    ran = Q(starts_on__isnull=False, starts_on__lte=period.last) & (
        Q(ends_on__isnull=True) | Q(ends_on__gte=period.first)
    )
    placements = by_step(ProvisionPlacement, "pupil__").filter(ran)
    for row in placements.annotate(
        n=Count("pk"),
        suspensions=Sum("suspensions"),
        attendance=Sum("attendance_percent"),
        with_attendance=Count("attendance_percent"),
    ):
        e = entry(row["step"])
        e["placements"] = row["n"]
        e["suspensions"] = row["suspensions"] or 0
        if row["with_attendance"]:
            e["placement_attendance"] = rounded(row["attendance"] / row["with_attendance"] / 100, 4)

    incidents = by_step(BehaviourObservation, "pupil__").filter(
        observed_at__date__gte=period.first, observed_at__date__lte=period.last
    )
    for row in incidents.annotate(n=Count("pk")):
        entry(row["step"])["incidents"] = row["n"]

    rows = [steps[s] for s in sorted(steps)]
    recorded = sum(r["sessions_recorded"] for r in rows)
    attended = sum(r["sessions_attended"] for r in rows)
    return {
        "from_step": WATCHED_FROM_STEP,
        "rows": rows,
        "pupils": sum(r["pupils"] for r in rows),
        "session_attendance": share(attended, recorded),
        "placements": sum(r["placements"] for r in rows),
        "suspensions": sum(r["suspensions"] for r in rows),
        "incidents": sum(r["incidents"] for r in rows),
    }


def approval_figures(school: School) -> dict:
    """Moves up made as overrides that wait for the headteacher (one query)."""
    waiting = pending_overrides(require_scope()).filter(school_id=school.pk).order_by()
    row = waiting.aggregate(n=Count("pk"), oldest=Min("placed_on"))
    return {"overrides": row["n"], "oldest": row["oldest"]}


# --- a school's figures, all together ----------------------------------------------------------


def school_figures(school: School, period: Period, filters: Filters = NO_FILTERS) -> dict:
    """Everything the school dashboard and the school termly report show for a term.
    `school.local_authority` should be loaded. Queries: a fixed number whatever the data."""
    today = timezone.localdate()
    term = costing.CostingPeriod(year=period.year, kind=costing.CostingYear.ACADEMIC, term=period.term)
    pmap = costing.provision_map(school, period=term, year_group=filters.year_group, area=filters.area)
    pupils = pupil_figures(school, filters)
    return {
        "school": {"id": school.pk, "name": school.name, "urn": school.urn},
        "period": period_figures(period),
        "filters": filters.as_dict(),
        "register": register_figures(pupils),
        "provision_map": map_figures(pmap),
        "pupils": pupils,
        "movements": movement_figures(school, period.first, period.last, filters),
        "impact": {
            "school_year": costing.academic_year_label(period.year),
            "rows": impact_figures(school, period.year, filters),
        },
        "watched": watched_figures(school, period, filters),
        "approvals": approval_figures(school),
        "reviews": review_figures(school, today, filters),
    }
