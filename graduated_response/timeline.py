"""A pupil's timeline: everything dated on their graduated response, newest first.

Each source adds its events with one query, so the page costs the same whatever the
pupil's history holds. Apps built on this one (interventions, placements) add their own
sources with `register_source` rather than this module importing them.

A school that received the pupil by transfer reads rows other schools recorded (through
the pupil grant) but not those schools' own pages, such as an intervention group. Each
event names the school whose row it is; `pupil_timeline` compares that with the viewer's
scope, says which school recorded a row of another school, and drops a link the viewer
could not open.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Avg, Count, Max, Q
from django.db.models.functions import TruncMonth
from django.urls import reverse
from django.utils import timezone

from graduated_response.models import (
    BehaviourObservation,
    PlanReview,
    StepPlacement,
    StrategyTried,
    SupportPlan,
)
from pupils.models import Pupil, Transfer
from schools.models import RECORD_KEEPERS, School
from schools.tenancy import TenantScope, require_scope


@dataclass(frozen=True)
class TimelineEvent:
    day: date
    kind: str  # register, step, plan, review, strategy, observations, and later others
    title: str
    detail: str = ""
    url: str = ""
    flag: str = ""  # a short warning shown as a tag, e.g. Override
    at: datetime | None = None  # when it was recorded: orders events of the same day
    # The school whose row this is. None: no single school's (a transfer names both).
    school_id: int | None = None
    # A provision the row is shared with: its page opens for that provision's staff too.
    provision_id: int | None = None
    # The url is a page of the pupil's record (a plan), which opens for whoever reads the
    # pupil, wherever the row was recorded; otherwise it is a page of the recording school.
    record_page: bool = False
    # Filled in by pupil_timeline: the name of the other school that recorded the row.
    recorded_at: str = ""


Source = Callable[[Pupil], list[TimelineEvent]]
_sources: list[Source] = []


def register_source(source: Source) -> Source:
    if source not in _sources:
        _sources.append(source)
    return source


def pupil_timeline(pupil: Pupil) -> list[TimelineEvent]:
    events = _for_viewer([event for source in _sources for event in source(pupil)], require_scope())
    # Newest first; on one day, the one recorded last first.
    return sorted(events, key=lambda e: (e.day, e.at.timestamp() if e.at else 0.0), reverse=True)


def _for_viewer(events: list[TimelineEvent], scope: TenantScope) -> list[TimelineEvent]:
    """Mark each event recorded outside the viewer's schools with its school's name, and keep
    its link only where the page opens for the viewer: a page of the pupil's record, or one
    shared with the viewer's provision. One query for the names, whatever the count."""

    def foreign(e: TimelineEvent) -> bool:
        return e.school_id is not None and e.school_id not in scope.read_school

    others = {e.school_id for e in events if foreign(e)}
    if not others:
        return events
    names = dict(School.objects.filter(pk__in=others).values_list("pk", "name"))
    marked = []
    for e in events:
        if foreign(e):
            opens = e.record_page or (e.provision_id is not None and e.provision_id in scope.read_provision)
            e = dataclasses.replace(
                e, url=e.url if opens else "", recorded_at=names.get(e.school_id, "another school")
            )
        marked.append(e)
    return marked


@register_source
def _transfers(pupil: Pupil) -> list[TimelineEvent]:
    # The scope reads the transfers of its own school and, through the pupil grant, those of
    # the schools before it; each names both schools, so no "recorded at" is added.
    links = require_scope().role in RECORD_KEEPERS  # the transfer's page is theirs alone
    transfers = Transfer.objects.filter(pupil=pupil).select_related("school", "to_school")
    return [
        TimelineEvent(
            day=t.transferred_on,
            kind="transfer",
            title=f"Moved from {t.school.name} to {t.to_school.name} ({_reason(t)})",
            detail=t.note,
            url=reverse("transfers:detail", kwargs={"pk": t.pk}) if links else "",
            at=t.created_at,
        )
        for t in transfers
    ]


def _reason(t: Transfer) -> str:
    # The choices' labels are written for a form ("Transition to the next phase (e.g. to
    # secondary)"); a timeline line reads better with the short form.
    short = {Transfer.Reason.TRANSITION: "transition to the next phase"}
    return short.get(t.reason, t.get_reason_display().lower())


@register_source
def _register(pupil: Pupil) -> list[TimelineEvent]:
    return [
        TimelineEvent(
            day=entry.start_date,
            kind="register",
            title=f"SEN register: {entry.get_status_display()}",
            detail=entry.get_primary_need_display() if entry.primary_need else "",
            at=entry.recorded_at,
            school_id=entry.school_id,
        )
        for entry in pupil.sen_history.order_by("-start_date", "-id")
    ]


@register_source
def _steps(pupil: Pupil) -> list[TimelineEvent]:
    events = []
    for p in StepPlacement.objects.filter(pupil=pupil).select_related("step", "from_step"):
        if p.kind == StepPlacement.Kind.EXIT:
            title = f"Left the framework from step {p.step.number}"
        elif p.from_step is not None:
            moved = f"{p.get_kind_display()} from step {p.from_step.number}"
            title = f"{moved} to step {p.step.number}, {p.step.tier_label}"
        else:
            title = f"Placed on step {p.step.number}, {p.step.tier_label}"
        flag = "Override" if p.override else ""
        if p.status == StepPlacement.Status.PENDING:
            flag = "Override awaiting approval"
        events.append(
            TimelineEvent(
                day=p.placed_on,
                kind="step",
                title=title,
                detail=p.reason,
                flag=flag,
                at=p.recorded_at,
                school_id=p.school_id,
            )
        )
    return events


@register_source
def _plans(pupil: Pupil) -> list[TimelineEvent]:
    events = []
    today = timezone.localdate()
    plans = (
        SupportPlan.objects.filter(pupil=pupil).select_related("step").annotate(n_targets=Count("targets"))
    )
    for plan in plans:
        url = reverse("graduated_response:plan", kwargs={"pk": pupil.pk, "plan_id": plan.pk})
        at_step = f" at step {plan.step.number}" if plan.step else ""
        targets = f"{plan.n_targets} target{'s' if plan.n_targets != 1 else ''}"
        events.append(
            TimelineEvent(
                day=plan.starts_on,
                kind="plan",
                title=f"{plan.get_kind_display()} made{at_step}: {plan.title}",
                detail=f"{targets}; review due {plan.review_due:%d %b %Y}"
                if plan.status == "open"
                else targets,
                url=url,
                flag="Review overdue" if plan.is_overdue(today) else "",
                at=plan.created_at,
                school_id=plan.school_id,
                record_page=True,
            )
        )
    return events


@register_source
def _reviews(pupil: Pupil) -> list[TimelineEvent]:
    reviews = (
        PlanReview.objects.filter(plan__pupil=pupil)
        .select_related("plan")
        .annotate(
            n_outcomes=Count("outcomes"),
            n_achieved=Count("outcomes", filter=Q(outcomes__rating="achieved")),
        )
    )
    return [
        TimelineEvent(
            day=r.reviewed_on,
            kind="review",
            title=f"Plan reviewed: {r.plan.title}. {r.get_decision_display()}",
            detail=f"{r.n_achieved} of {r.n_outcomes} targets achieved",
            url=reverse("graduated_response:plan", kwargs={"pk": pupil.pk, "plan_id": r.plan_id}),
            at=r.recorded_at,
            school_id=r.school_id,
            record_page=True,
        )
        for r in reviews
    ]


@register_source
def _strategies(pupil: Pupil) -> list[TimelineEvent]:
    # Strategies a plan put in place appear with the plan; these are the ones tried alone.
    tried = StrategyTried.objects.filter(pupil=pupil, plan_strategy__isnull=True).select_related(
        "step", "strategy"
    )
    return [
        TimelineEvent(
            day=t.started_on,
            kind="strategy",
            title=f"Strategy tried at step {t.step.number}: {t.label}",
            detail=f"Reviewed {t.reviewed_on:%d %b %Y}" if t.reviewed_on else "Not yet reviewed",
            at=t.recorded_at,
            school_id=t.school_id,
        )
        for t in tried
    ]


@register_source
def _observations(pupil: Pupil) -> list[TimelineEvent]:
    # A month's count per school, so a month either side of a transfer says whose it is.
    months = (
        BehaviourObservation.objects.filter(pupil=pupil)
        .annotate(month=TruncMonth("observed_at"))
        .values("month", "school_id")
        .annotate(n=Count("id"), mean=Avg("intensity"), last=Max("observed_at"))
        .order_by("month", "school_id")
    )
    return [
        TimelineEvent(
            # Dated by the month's latest observation, so it sorts among that month's events.
            day=timezone.localtime(m["last"]).date(),
            at=m["last"],
            kind="observations",
            title=f"{m['n']} behaviour observation{'s' if m['n'] != 1 else ''} in {m['month']:%B %Y}",
            detail=f"Mean intensity {m['mean']:.1f} of 5",
            school_id=m["school_id"],
        )
        for m in months
    ]
