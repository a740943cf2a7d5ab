"""A partnership's own records over the years of history:

- placements in its behaviour provision: each school year about nine that ended with an
  outcome and one referral withdrawn; now about six running and two waiting to start. Pupils
  come from the partnership's schools, highest steps and SEMH needs first (as in
  interventions/demo_placements.py), within the key stages it takes; one a year (and one now)
  with an EHC plan is placed as a recorded exception, and one a year (and one now) from
  outside its key stages comes with the multidisciplinary meeting that agreed it. Each
  placement that started holds the pupil grant the service would have written
  (interventions/placements.py): open while it runs, ended with it;
- a budget per financial year with the demo's lines and spend through the year (paid in past
  years, committed in this one), and at the first partnership a large item signed by both
  its lead and the host school's headteacher;
- the demo's KPI targets for its provision, every school year.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from interventions.demo_placements import CONSENT, REASONS
from interventions.models import ExitOutcome, PlacementPattern, ProvisionPlacement
from interventions.placements import is_outside_key_stage
from provisionmap.scale_data.bulk import Rows
from provisionmap.scale_data.organisation import World
from provisionmap.scale_data.pupils import Story
from pupils.codes import SenStatus
from schools.demo_budgets import LARGE_ITEM, LINES, SPEND, _month
from schools.demo_kpis import DEMO_TARGETS
from schools.models import (
    Budget,
    BudgetLine,
    KpiTarget,
    Partnership,
    PupilGrant,
    Role,
    School,
    SpendItem,
    SpendStatus,
    financial_quarter_of,
    financial_year_of,
)
from schools.terms import academic_year_of

Status = ProvisionPlacement.Status
ENDED_PER_YEAR = 9
WITHDRAWN_PER_YEAR = 1
RUNNING = 6
WAITING = 2
# Of each year's placements (and of those running now), the first is a pupil with an EHC plan
# placed as an exception and the second a pupil outside the provision's key stages.
EXCEPTIONS = {0: "ehc", 1: "outside"}
# (pattern, days a week, weight)
PATTERNS = [
    (PlacementPattern.FULL_TIME, "5", 3),
    (PlacementPattern.PART_TIME, "3", 3),
    (PlacementPattern.PART_TIME, "2", 3),
    (PlacementPattern.OUTREACH, "1", 1),
    (PlacementPattern.IN_REACH, "1.5", 1),
]
OUTCOME_WEIGHTS = {
    ExitOutcome.RETURNED: 60,
    ExitOutcome.MANAGED_MOVE: 15,
    ExitOutcome.PRU: 15,
    ExitOutcome.SPECIALIST: 10,
}
MDT_NOTE = "Home school, provision, psychologist and family agreed a place outside its key stages."
EHC_EXCEPTION = "An emergency review of the EHC plan agreed a short placement while the plan is amended."
WITHDRAWN_NOTE = "The family moved away before the placement began."
RETURNED_NOTE = "Reintegration plan agreed with the home school."
SURPLUS_PLAN = "Training for partnership staff, and a small contingency."


@dataclass(frozen=True)
class Candidate:
    """What choosing a pupil for a placement needs to know (kept while the partnership's
    schools are written, so the placements need no query)."""

    pupil_id: int
    school_id: int
    nc_year: int
    sen_status: str
    semh: bool
    step: int
    identified: date


def candidates(school: School, stories: list[Story]) -> list[Candidate]:
    if school.phase == School.Phase.NURSERY:
        return []
    return [
        Candidate(s.pupil.pk, school.pk, s.pupil.nc_year, s.pupil.sen_status, s.semh, s.step, s.identified)
        for s in stories
        if s.on_register and s.step is not None
    ]


class PlacementRows:
    def __init__(self) -> None:
        self.placements = Rows(
            ProvisionPlacement,
            "school_id", "pupil_id", "provision_id", "status", "referred_on", "referral_reason", "consent_on",
            "consent_note", "pattern", "days_per_week", "starts_on", "planned_end_on", "ends_on",
            "outside_key_stage", "mdt_meeting_on", "mdt_note", "ehc_exception", "exit_outcome", "exit_note",
            "attendance_percent", "suspensions",
            ids=True,
        )  # fmt: skip
        self.grants = Rows(
            PupilGrant, "pupil_id", "school_id", "provision_id", "records_school_id", "kind", "reason",
            "source_id", "starts_on", "ends_on",
        )  # fmt: skip

    def tables(self) -> list[Rows]:
        # Grants after placements: the database admits a grant only for a placement it can see.
        return [self.placements, self.grants]


def _day_between(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randint(0, max(0, (last - first).days)))


def write_placements(
    world: World, partnership: Partnership, pool: list[Candidate], rng: random.Random, rows: PlacementRows
) -> None:
    provision = world.provisions[partnership.pk]
    today = world.options.today
    yesterday = today - timedelta(days=1)
    # A stable sort: ties keep the pool's order (schools in turn, pupils as made), never the
    # ids, which depend on which worker wrote which school first.
    ranked = sorted(pool, key=lambda c: (-c.step, not c.semh))
    used: set[int] = set()
    outside_stages = {c.pupil_id for c in pool if is_outside_key_stage(c, provision)}

    def pick(on: date, *, ehc: bool, outside: bool) -> Candidate | None:
        fitting = [
            c
            for c in ranked
            if c.pupil_id not in used
            and c.identified < on
            and (c.sen_status == SenStatus.EHC_PLAN) == ehc
            and (c.pupil_id in outside_stages) == outside
        ][:30]
        if not fitting:
            return None
        chosen = rng.choice(fitting)
        used.add(chosen.pupil_id)
        return chosen

    def place(state: str, referred_on: date, case: str = "") -> None:
        """One placement; `case` "ehc" or "outside" asks for the exception of that name
        (an ordinary placement when no pupil fits)."""
        pupil = pick(referred_on, ehc=case == "ehc", outside=case == "outside")
        if pupil is None and case:
            pupil = pick(referred_on, ehc=False, outside=False)
        if pupil is None:
            return
        pattern, days, _ = rng.choices(PATTERNS, weights=[w for *_, w in PATTERNS])[0]
        outside = pupil.pupil_id in outside_stages
        with_plan = pupil.sen_status == SenStatus.EHC_PLAN
        starts_on = ends_on = None
        outcome, note, attendance, suspensions = "", "", None, 0
        if state in (Status.ENDED, Status.ACTIVE):
            starts_on = min(referred_on + timedelta(days=rng.randint(7, 21)), yesterday)
            attendance = Decimal(str(round(min(100.0, max(35.0, rng.gauss(84, 9))), 1)))
            suspensions = rng.choice([0, 0, 0, 1, 1, 2, 3])
        if state == Status.ENDED:
            ends_on = min(starts_on + timedelta(weeks=rng.randint(6, 20)), yesterday)
            outcome = rng.choices(list(OUTCOME_WEIGHTS), weights=list(OUTCOME_WEIGHTS.values()))[0]
            note = RETURNED_NOTE if outcome == ExitOutcome.RETURNED else ""
        elif state == Status.WITHDRAWN:
            note = WITHDRAWN_NOTE
        placement = rows.placements.add(
            pupil.school_id, pupil.pupil_id, provision.pk, state, referred_on,
            REASONS[rng.randrange(len(REASONS))], referred_on - timedelta(days=rng.randint(2, 6)),
            rng.choice(CONSENT), pattern, Decimal(days), starts_on, referred_on + timedelta(weeks=16),
            ends_on, outside, referred_on - timedelta(days=4) if outside else None,
            MDT_NOTE if outside else "", EHC_EXCEPTION if with_plan else "", outcome, note, attendance,
            suspensions,
        )  # fmt: skip
        if starts_on is not None:
            rows.grants.add(
                pupil.pupil_id, None, provision.pk, pupil.school_id, PupilGrant.Kind.RECORD,
                PupilGrant.Reason.PLACEMENT, placement, starts_on, ends_on,
            )  # fmt: skip

    this_year = academic_year_of(today)
    for year in range(this_year - world.options.years + 1, this_year + 1):
        first, last = date(year, 9, 10), min(date(year + 1, 7, 1), today - timedelta(days=60))
        if last <= first:
            continue
        for k in range(ENDED_PER_YEAR):
            place(Status.ENDED, _day_between(rng, first, last), EXCEPTIONS.get(k, ""))
        for _ in range(WITHDRAWN_PER_YEAR):
            place(Status.WITHDRAWN, _day_between(rng, first, last))
    for k in range(RUNNING):
        place(Status.ACTIVE, today - timedelta(days=rng.randint(30, 150)), EXCEPTIONS.get(k, ""))
    for _ in range(WAITING):
        place(Status.REFERRED, today - timedelta(days=rng.randint(1, 14)))


def write_budgets(world: World, partnership: Partnership, rng: random.Random) -> dict[str, int]:
    """A budget for each financial year of history (Django's bulk_create: a few dozen rows)."""
    today = world.options.today
    now = timezone.now()
    this_year = financial_year_of(today)
    years = list(range(this_year - world.options.years + 1, this_year + 1))
    lead = world.users.get(Role.PARTNERSHIP_LEAD)
    head = world.users.get(Role.HEADTEACHER)
    signs = partnership == world.partnerships[0] and lead is not None and head is not None
    budgets = Budget.objects.bulk_create(
        Budget(
            partnership=partnership,
            financial_year=year,
            allocation=Decimal(95_000 + 1_000 * rng.randint(0, 30)),
            carried_forward=Decimal(0) if n == 0 else Decimal(500 * rng.randint(2, 24)),
            surplus_plan="" if n == 0 else SURPLUS_PLAN,
            created_by=lead if signs else None,
        )
        for n, year in enumerate(years)
    )
    lines = BudgetLine.objects.bulk_create(
        BudgetLine(partnership=partnership, budget=budget, category=category, name=name, planned=planned)
        for budget in budgets
        for category, name, planned in LINES
    )
    items = []
    for n, budget in enumerate(budgets):
        past = budget.financial_year < this_year
        own_lines = lines[n * len(LINES) : (n + 1) * len(LINES)]
        spend = [(*item, False) for item in SPEND] + [(i, d, s, a, m + 6, False) for i, d, s, a, m in SPEND]
        if signs:
            spend.append((*LARGE_ITEM, True))
        for line_index, description, supplier, amount, months, large in spend:
            spent_on = _month(budget.financial_year, months)
            if spent_on > today:
                continue
            signed = large and past
            if large:
                status = SpendStatus.PAID if signed else SpendStatus.PROPOSED
            else:
                status = SpendStatus.PAID if past else SpendStatus.COMMITTED
            items.append(
                SpendItem(
                    partnership=partnership,
                    budget=budget,
                    line=own_lines[line_index],
                    description=description,
                    supplier=supplier,
                    amount=amount if large else amount + Decimal(rng.randint(-40, 40)),
                    spent_on=spent_on,
                    quarter=financial_quarter_of(spent_on),
                    status=status,
                    proposed_by=lead if signs else None,
                    partnership_approved_by=lead if large else None,
                    partnership_approved_at=now if large else None,
                    host_school_approved_by=head if signed else None,
                    host_school_approved_at=now if signed else None,
                )
            )
    SpendItem.objects.bulk_create(items)
    return {"budgets": len(budgets), "lines": len(lines), "spend": len(items)}


def write_kpi_targets(world: World, partnership: Partnership) -> int:
    provision = world.provisions[partnership.pk]
    this_year = academic_year_of(world.options.today)
    made = KpiTarget.objects.bulk_create(
        KpiTarget(partnership=partnership, provision=provision, academic_year=year, kpi=kpi, target=target)
        for year in range(this_year - world.options.years + 1, this_year + 1)
        for kpi, target in DEMO_TARGETS.items()
    )
    return len(made)
