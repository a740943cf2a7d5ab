"""Demo placements in the demo partnership's behaviour provision, over the last two school
years: ended ones with varied outcomes and figures, some running now, one outside the
provision's key stages (with its multidisciplinary meeting), one EHC plan exception, one
referral withdrawn and one waiting to start.

Made through the services (interventions/placements.py), so the audit rows and the pupil
grants are the ones the app itself writes; under a system scope naming the partnership's
schools and the provision. Idempotent: a provision that has placements gets no more.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from interventions.models import ExitOutcome, PlacementPattern, ProvisionPlacement
from interventions.placements import (
    is_outside_key_stage,
    placement_end,
    placement_progress,
    placement_refer,
    placement_start,
    placement_withdraw,
)
from pupils.codes import SenStatus
from pupils.models import Pupil
from schools.models import BehaviourProvision, School
from schools.tenancy import TenantScope, tenant_scope
from schools.terms import academic_year_of

Pattern = PlacementPattern
Outcome = ExitOutcome

REASONS = [
    "Repeated suspensions this term despite a step 4 plan; a key adult and a reduced timetable have "
    "been tried for six weeks.",
    "Escalating dysregulation at unstructured times; nurture group and mentoring reviewed without "
    "lasting change.",
    "Risk of permanent exclusion after an assault on a peer; the school asks for a short, "
    "intensive placement with a plan to return.",
    "Refusing to enter lessons most days; outside agency advice followed, attendance still falling.",
]
CONSENT = ["Mother, signed form at a meeting", "Father, by phone, then signed form", "Carer, signed form"]


@dataclass(frozen=True)
class Plan:
    """One demo placement. Ended ones are placed by fractions of the time since the start of
    last school year (so they fall in the last two years whatever today is); current ones
    by days ago."""

    state: str  # ended, active, waiting, withdrawn
    pattern: str
    days: str
    referred_ago: float  # a fraction of the span for ended and withdrawn ones; days otherwise
    length: float = 0  # ended: a fraction of the span; active: days since the start
    outcome: str = ""
    attendance: str | None = None
    suspensions: int = 0
    kind: str = ""  # "outside": the pupil of a school outside its key stages; "ehc": an EHC plan


PLANS = [
    Plan("ended", Pattern.FULL_TIME, "5", 0.95, 0.20, Outcome.RETURNED, "88.5", 0),
    Plan("ended", Pattern.PART_TIME, "3", 0.88, 0.22, Outcome.MANAGED_MOVE, "71", 2),
    Plan("ended", Pattern.PART_TIME, "2", 0.80, 0.15, Outcome.RETURNED, "93", 0),
    Plan("ended", Pattern.FULL_TIME, "5", 0.72, 0.25, Outcome.PRU, "58.5", 4),
    Plan("ended", Pattern.IN_REACH, "1", 0.62, 0.15, Outcome.RETURNED, "90", 1),
    Plan("ended", Pattern.FULL_TIME, "5", 0.52, 0.20, Outcome.SPECIALIST, "76", 3),
    Plan("ended", Pattern.OUTREACH, "1", 0.42, 0.18, Outcome.RETURNED, "95.5", 0),
    Plan("ended", Pattern.PART_TIME, "2.5", 0.30, 0.15, Outcome.RETURNED, "84", 1),
    Plan("ended", Pattern.PART_TIME, "3", 0.22, 0.12, Outcome.MANAGED_MOVE, "67.5", 2),
    Plan("withdrawn", Pattern.PART_TIME, "2", 0.35),
    Plan("active", Pattern.FULL_TIME, "5", 120, 105, attendance="86", suspensions=1),
    Plan("active", Pattern.PART_TIME, "3", 90, 80, attendance="79.5", suspensions=2),
    Plan("active", Pattern.PART_TIME, "2", 75, 60, attendance="91", kind="outside"),
    Plan("active", Pattern.IN_REACH, "1.5", 50, 40, attendance="88", kind="ehc"),
    Plan("active", Pattern.OUTREACH, "1", 35, 21),
    Plan("waiting", Pattern.PART_TIME, "2", 7),
]


def _candidates(school_ids: list[int], *, sen_status: str) -> list[Pupil]:
    """Pupils on roll at these schools with this SEN status, SEMH needs and the highest
    steps first (placements are provision at steps 4–5)."""
    step = Max("step_placements__step__number", filter=Q(step_placements__status="active"))
    qs = Pupil.objects.filter(school_id__in=school_ids, is_active=True, sen_status=sen_status)
    semh = Q(primary_need="SEMH") | Q(secondary_need="SEMH")
    ranked = qs.annotate(step=step).order_by(F("step").desc(nulls_last=True), "pk")
    return list(ranked.filter(semh)) + list(ranked.exclude(semh))


def _pick(pool: list[Pupil], used: set[int], test) -> Pupil | None:
    for pupil in pool:
        if pupil.pk not in used and test(pupil):
            used.add(pupil.pk)
            return pupil
    return None


def _scope(provision: BehaviourProvision, school_ids: list[int], la_id: int) -> TenantScope:
    scope = TenantScope.system(
        schools=school_ids, partnerships=[provision.partnership_id], local_authorities=[la_id]
    )
    ids = frozenset({provision.pk})
    return dataclasses.replace(scope, read_provision=ids, write_provision=ids)


def seed_provision_placements(provision: BehaviourProvision, *, today: date | None = None) -> int:
    """Seed the provision's demo placements once; returns how many were made."""
    today = today or timezone.localdate()
    schools = list(
        School.objects.filter(partnership_id=provision.partnership_id)
        .exclude(phase=School.Phase.NURSERY)
        .order_by("pk")
    )
    school_ids = [s.pk for s in schools]
    la_id = provision.partnership.local_authority_id
    span = (today - date(academic_year_of(today) - 1, 9, 1)).days
    made = 0
    with transaction.atomic(), tenant_scope(_scope(provision, school_ids, la_id)):
        if ProvisionPlacement.objects.filter(provision=provision).exists():
            return 0
        supported = _candidates(school_ids, sen_status=SenStatus.SEN_SUPPORT)
        with_plans = _candidates(school_ids, sen_status=SenStatus.EHC_PLAN)
        used: set[int] = set()
        for i, plan in enumerate(PLANS):
            if plan.kind == "ehc":
                pupil = _pick(with_plans, used, lambda p: not is_outside_key_stage(p, provision))
            else:
                outside = plan.kind == "outside"
                pupil = _pick(supported, used, lambda p, o=outside: is_outside_key_stage(p, provision) == o)
            if pupil is None:
                continue  # a partnership without such a pupil: that demo case is left out
            _seed_one(provision, pupil, plan, i, today, span)
            made += 1
    return made


def _seed_one(
    provision: BehaviourProvision, pupil: Pupil, plan: Plan, i: int, today: date, span: int
) -> None:
    by_span = plan.state in ("ended", "withdrawn")
    referred_on = today - timedelta(
        days=round(span * plan.referred_ago) if by_span else int(plan.referred_ago)
    )
    outside = plan.kind == "outside"
    placement = placement_refer(
        None,
        pupil,
        provision=provision,
        referred_on=referred_on,
        referral_reason=REASONS[i % len(REASONS)],
        consent_on=referred_on - timedelta(days=2 + i % 5),
        consent_note=CONSENT[i % len(CONSENT)],
        pattern=plan.pattern,
        days_per_week=Decimal(plan.days),
        planned_end_on=referred_on + timedelta(weeks=16),
        mdt_meeting_on=referred_on - timedelta(days=4) if outside else None,
        mdt_note=(
            "Home school, provision, educational psychologist and family met: a part-time place "
            "outside the pupil's key stage is agreed for one term, with weekly reviews."
            if outside
            else ""
        ),
        ehc_exception=(
            "Emergency annual review agreed a short in-reach placement while the plan is amended."
            if plan.kind == "ehc"
            else ""
        ),
    )
    if plan.state == "withdrawn":
        placement_withdraw(None, placement, "Family moved out of the area before the start.")
        return
    if plan.state == "waiting":
        return
    if plan.state == "ended":
        starts_on = referred_on + timedelta(days=10)
        ends_on = min(starts_on + timedelta(days=round(span * plan.length)), today - timedelta(days=1))
    else:
        starts_on = today - timedelta(days=int(plan.length))
        ends_on = None
    placement_start(None, placement, starts_on)
    attendance = Decimal(plan.attendance) if plan.attendance is not None else None
    if ends_on is None:
        if attendance is not None:
            placement_progress(
                None,
                placement,
                attendance_percent=attendance,
                suspensions=plan.suspensions,
                planned_end_on=placement.planned_end_on,
            )
        return
    placement_end(
        None,
        placement,
        ends_on=ends_on,
        exit_outcome=plan.outcome,
        exit_note="Reintegration plan agreed with the home school."
        if plan.outcome == Outcome.RETURNED
        else "",
        attendance_percent=attendance,
        suspensions=plan.suspensions,
    )
