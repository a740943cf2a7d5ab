"""Builders of a pupil's reports (registered in reports/builders.py through build_school.py).

- `pupil_provision_map`: what one pupil received in a school year, in words for parents and
  carers: no costs and nothing about any other child.
- `pupil_profile`: the one-page profile with the pupil's SEN status, needs and current step.
- `transition_record`: what a receiving school or setting needs to carry on the support
  (appendix 4 of the Luton behaviour provision toolkit, under our own headings).

Each reads only rows about the report's pupil, through the selectors the pupil's pages use,
so no other child's name can reach the PDF: the costing selector reads the other pupils of
a group only to share its cost, and nothing of them is kept here. The small helpers at the
top are shared with the school's report (reports/build_school.py).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone
from django.utils.text import capfirst

from graduated_response.models import SupportPlan
from graduated_response.selectors import (
    current_step_placement,
    plans_for_pupil,
    step_history,
    strategies_tried,
)
from interventions import costing
from interventions.models import Enrolment
from interventions.placements import CURRENT, placements_in_scope
from interventions.selectors_placements import weeks_and_days
from pupils.codes import AreaOfNeed, Need, SenStatus
from pupils.models import AssessmentScore, OnePageProfile, OutcomeRecord, Pupil, nc_year_label
from pupils.selectors import pupil_history, pupil_list
from reports.builders import period_of, register
from reports.models import ReportKind, ReportRequest
from reports.periods import Period
from schools.models import Membership, Role
from schools.tenancy import require_scope

Built = tuple[dict, str, dict]
NEED_LABELS = dict(Need.choices)
AREA_LABELS = dict(AreaOfNeed.choices)
SEN_LABELS = dict(SenStatus.choices)
TERM_ORDER = {"autumn": 0, "spring": 1, "summer": 2}
SENCO_ROLE = "Special educational needs co-ordinator (SENCO)"

# --- small helpers ----------------------------------------------------------------------------


def rounded(value: Decimal | None, places: int = 2) -> Decimal | None:
    if value is None:
        return None
    return Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def period_figures(period: Period) -> dict:
    return {"code": period.code, "label": period.label, "first": period.first, "last": period.last}


def context_base(
    title: str, scope_name: str, period_label: str = "", contents: Iterable[tuple[str, str]] = ()
) -> dict:
    """The context keys reports/base.html lays out (school and pupil reports are never suppressed)."""
    return {
        "title": title,
        "scope_name": scope_name,
        "period_label": period_label,
        "built_at": timezone.now(),
        "contents": list(contents),
        "suppressed": False,
    }


# --- the pupil's reports ---------------------------------------------------------------------


def _pupil(row: ReportRequest) -> Pupil:
    """The report's pupil, read through the register as the build's scope sees it."""
    return pupil_list(require_scope(), include_leavers=True).select_related("school").get(pk=row.pupil_id)


def _known_as(pupil: Pupil) -> str:
    return pupil.preferred_name or pupil.first_name


def _pupil_facts(pupil: Pupil) -> dict:
    return {
        "id": pupil.pk,
        "name": f"{_known_as(pupil)} {pupil.last_name}",
        "known_as": _known_as(pupil),
        "year_group": nc_year_label(pupil.nc_year),
        "school": pupil.school.name,
        "on_roll": pupil.is_active,
    }


def _needs(pupil: Pupil) -> dict:
    return {
        "sen_status": pupil.sen_status,
        "sen_status_label": SEN_LABELS.get(pupil.sen_status, ""),
        "primary_need": pupil.primary_need,
        "primary_need_label": NEED_LABELS.get(pupil.primary_need, ""),
        "secondary_need": pupil.secondary_need,
        "secondary_need_label": NEED_LABELS.get(pupil.secondary_need, ""),
        "area_label": AREA_LABELS.get(pupil.area_of_need, ""),
    }


def _current_step(pupil: Pupil) -> dict | None:
    placement = current_step_placement(pupil)
    if placement is None:
        return None
    return {
        "number": placement.step.number,
        "label": placement.step.tier_label,
        "summary": placement.step.summary,
        "since": placement.placed_on,
        "framework": placement.framework.name,
    }


def _senco_contacts(school_id: int) -> list[dict]:
    """The school's SENCOs, by name and email, for the reader to get in touch."""
    members = (
        Membership.objects.filter(school_id=school_id, role=Role.SENCO, user__is_active=True)
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "pk")
    )
    return [
        {
            "role": SENCO_ROLE,
            "name": m.user.get_full_name(),
            "email": m.user.email,
        }
        for m in members
    ]


def _plan(plan: SupportPlan, today: date) -> dict:
    reviews = list(plan.reviews.all())  # prefetched, newest first
    latest = reviews[0] if reviews else None
    return {
        "id": plan.pk,
        "title": plan.title,
        "kind": plan.get_kind_display(),
        "step": plan.step.number if plan.step_id else None,
        "status": plan.status,
        "starts_on": plan.starts_on,
        "review_due": plan.review_due,
        "closed_on": plan.closed_on,
        "overdue": plan.is_overdue(today),
        "concerns": plan.concerns,
        "triggers": plan.triggers,
        "frequency_intensity": plan.frequency_intensity,
        "key_adult": plan.key_adult,
        "targets": [
            {"description": t.description, "success_criteria": t.success_criteria} for t in plan.targets.all()
        ],
        "strategies": [{"name": ps.tried.label, "how": ps.how} for ps in plan.plan_strategies.all()],
        "latest_review": None
        if latest is None
        else {
            "reviewed_on": latest.reviewed_on,
            "decision": latest.get_decision_display(),
            "summary": latest.summary,
            "pupil_views": latest.pupil_views,
            "parent_views": latest.parent_views,
            "outcomes": [
                {"target": o.target.description, "rating": o.get_rating_display(), "note": o.note}
                for o in latest.outcomes.all()
            ],
        },
    }


@register(ReportKind.PUPIL_PROVISION_MAP)
def pupil_provision_map(row: ReportRequest) -> Built:
    period = period_of(row)
    pupil = _pupil(row)
    today = timezone.localdate()
    entries = costing.parent_provision_map(pupil, academic_year=period.year)
    # Plans that ran at some point in the school year: what the help is working towards.
    plans = [
        _plan(p, today)
        for p in plans_for_pupil(pupil)
        if p.starts_on <= period.last and (p.closed_on is None or p.closed_on >= period.first)
    ]
    facts = _pupil_facts(pupil)
    figures = {
        "kind": row.kind,
        "pupil": facts,
        "period": period_figures(period),
        "sen": _needs(pupil),
        "help": [dataclasses.asdict(e) for e in entries],
        "working_on": [
            {
                "title": p["title"],
                "starts_on": p["starts_on"],
                "review_due": p["review_due"],
                "open": p["status"] == SupportPlan.Status.OPEN,
                "targets": p["targets"],
            }
            for p in plans
        ],
        "contacts": _senco_contacts(pupil.school_id),
    }
    context = context_base(f"{facts['known_as']}’s support at school", facts["name"], period.label)
    return figures, "reports/pupil_provision_map.html", context


PROFILE_FIELDS = ("strengths", "what_helps", "what_does_not_help", "pupil_voice", "parent_voice")


def _profile(pupil: Pupil) -> dict:
    profile = OnePageProfile.objects.filter(pupil=pupil).first()
    sections = [
        {
            "field": name,
            "heading": capfirst(OnePageProfile._meta.get_field(name).verbose_name),
            "text": getattr(profile, name) if profile else "",
        }
        for name in PROFILE_FIELDS
    ]
    return {"sections": sections, "updated_on": timezone.localdate(profile.updated_at) if profile else None}


@register(ReportKind.PUPIL_PROFILE)
def pupil_profile(row: ReportRequest) -> Built:
    pupil = _pupil(row)
    facts = _pupil_facts(pupil)
    figures = {
        "kind": row.kind,
        "pupil": facts,
        "sen": _needs(pupil),
        "step": _current_step(pupil),
        "profile": _profile(pupil),
    }
    context = context_base("One-page profile", facts["name"])
    return figures, "reports/pupil_profile.html", context


# --- transition record -------------------------------------------------------------------------


def _interventions(pupil: Pupil) -> list[dict]:
    """Every intervention the pupil took part in, school year by school year (no costs: the
    receiving setting needs what was done and what came of it)."""
    years = sorted(set(Enrolment.objects.filter(pupil=pupil).values_list("group__academic_year", flat=True)))
    out = []
    for year in years:
        for e in costing.pupil_provision_map(pupil, academic_year=year).entries:
            out.append(
                {
                    "school_year": costing.academic_year_label(year),
                    "provision": e.provision_name,
                    "area_label": e.area_label,
                    "step": e.step,
                    "how_often": e.how_often,
                    "staff": e.staff_label,
                    "starts_on": e.starts_on,
                    "ends_on": e.ends_on,
                    "sessions_attended": e.sessions_attended,
                    "sessions_recorded": e.sessions_recorded,
                    "attendance_rate": rounded(e.attendance_rate, 4),
                    "measure": e.measure_label,
                    "entry_score": e.entry_score,
                    "exit_score": e.exit_score,
                    "improvement": e.improvement,
                    "higher_is_better": e.higher_is_better,
                    "outcome_rating": e.outcome_rating,
                    "result": _result(e),
                }
            )
    return out


RATING_WORDS = {
    -2: "much harder",
    -1: "a little harder",
    0: "no change",
    1: "a little better",
    2: "much better",
}


def _result(e: costing.PupilProvision) -> str:
    """What came of an intervention, in a sentence a receiving SENCO reads at a glance."""
    if e.improvement is not None:
        entry, exit_score = costing.plain(e.entry_score), costing.plain(e.exit_score)
        scores = f"{e.measure_label}: {entry} at the start, {exit_score} at the end"
        if e.improvement == 0:
            return f"{scores} (no change)."
        direction = "better" if e.improvement > 0 else "worse"
        return f"{scores} ({costing.plain(abs(e.improvement))} {direction})."
    if e.outcome_rating is not None:
        return f"Rated by staff: {RATING_WORDS[e.outcome_rating]}."
    return "No result recorded yet."


def _outcomes(pupil: Pupil) -> list[dict]:
    rows = sorted(
        OutcomeRecord.objects.filter(pupil=pupil),
        key=lambda o: (o.academic_year, TERM_ORDER.get(o.term, 9)),
    )
    return [
        {
            "school_year": costing.academic_year_label(o.academic_year),
            "term": o.get_term_display(),
            "attendance_pct": o.attendance_pct,
            "suspensions": o.suspensions,
            "suspension_days": o.suspension_days,
            "permanently_excluded": o.permanently_excluded,
        }
        for o in rows
    ]


def _placements(pupil: Pupil) -> list[dict]:
    return [
        {
            "provision": p.provision.name,
            "status": p.get_status_display(),
            "current": p.status in CURRENT,
            "pattern": p.get_pattern_display(),
            "days_per_week": p.days_per_week,
            "referred_on": p.referred_on,
            "starts_on": p.starts_on,
            "ends_on": p.ends_on,
            "length": weeks_and_days(p.length_of_stay_days),
            "attendance_percent": p.attendance_percent,
            "suspensions": p.suspensions,
            "exit_outcome": p.get_exit_outcome_display(),
            "exit_note": p.exit_note,
        }
        for p in placements_in_scope().filter(pupil=pupil).order_by("referred_on", "id")
    ]


@register(ReportKind.TRANSITION_RECORD)
def transition_record(row: ReportRequest) -> Built:
    pupil = _pupil(row)
    today = timezone.localdate()
    facts = _pupil_facts(pupil)
    facts.update(
        {
            "legal_name": f"{pupil.first_name} {pupil.last_name}",
            "upn": pupil.upn,
            "date_of_birth": pupil.date_of_birth,
            "eal": pupil.eal,
            "looked_after": pupil.looked_after,
        }
    )
    history = list(step_history(pupil))
    plans = [_plan(p, today) for p in plans_for_pupil(pupil)]
    placements = _placements(pupil)
    transfer = pupil.transfers.select_related("to_school").order_by("-transferred_on", "-id").first()
    current = next((p for p in placements if p["current"]), None)
    contacts = _senco_contacts(pupil.school_id)
    contacts += [
        {"role": f"Key adult for “{p['title']}”", "name": p["key_adult"], "email": ""}
        for p in plans
        if p["status"] == SupportPlan.Status.OPEN and p["key_adult"]
    ]
    if current:
        contacts.append({"role": "Behaviour provision", "name": current["provision"], "email": ""})
    figures = {
        "kind": row.kind,
        "pupil": facts,
        "built_on": today,
        "moving_to": None
        if transfer is None
        else {
            "school": transfer.to_school.name,
            "on": transfer.transferred_on,
            "reason": transfer.get_reason_display(),
            "note": transfer.note,
        },
        "sen": _needs(pupil),
        "sen_history": [
            {
                "from": e.start_date,
                "status": e.get_status_display(),
                "primary_need": NEED_LABELS.get(e.primary_need, ""),
                "secondary_need": NEED_LABELS.get(e.secondary_need, ""),
            }
            for e in pupil_history(pupil)
        ],
        "assessments": [
            {
                "on": s.assessed_on,
                "measure": s.measure_name or s.get_measure_display(),
                "score": s.score,
            }
            for s in AssessmentScore.objects.filter(pupil=pupil).order_by("assessed_on", "id")
        ],
        "step": _current_step(pupil),
        "step_history": [
            {
                "on": p.placed_on,
                "kind": p.get_kind_display(),
                "from_step": p.from_step.number if p.from_step_id else None,
                "to_step": p.step.number,
                "to_label": p.step.tier_label,
                "status": p.get_status_display(),
                "override": p.override,
                "reason": p.reason,
            }
            for p in reversed(history)
        ],
        "strategies": [
            {
                "name": t.label,
                "step": t.step.number,
                "started_on": t.started_on,
                "reviewed_on": t.reviewed_on,
                "outcome": t.outcome,
            }
            for t in strategies_tried(pupil)
        ],
        "profile": _profile(pupil),
        "current_plans": [p for p in plans if p["status"] == SupportPlan.Status.OPEN],
        "past_plans": [
            {k: p[k] for k in ("title", "kind", "step", "starts_on", "closed_on", "latest_review")}
            for p in plans
            if p["status"] != SupportPlan.Status.OPEN
        ],
        "interventions": _interventions(pupil),
        "outcomes": _outcomes(pupil),
        "placements": placements,
        "contacts": contacts,
    }
    context = context_base(
        "Transition record",
        facts["name"],
        contents=[
            ("about", "About the pupil"),
            ("needs", "Needs"),
            ("steps", "The graduated response so far"),
            ("what-helps", "What helps"),
            ("plan", "The plan now"),
            ("interventions", "Interventions and what came of them"),
            ("attendance", "Attendance and suspensions"),
            ("placements", "Time in a behaviour provision"),
            ("contacts", "Who to contact"),
            ("planning", "Planning the move together"),
        ],
    )
    return figures, "reports/transition_record.html", context
