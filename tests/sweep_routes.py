"""How the isolation sweep fills in each route. Every route with parameters, or that takes an
id in its body, must be listed here, or in EXEMPT with the reason; a route the sweep cannot
fill in fails tests/test_isolation_sweep.py.

A builder takes a Target (the objects of one tenant) and returns the URL kwargs, or None
when the route has nothing to aim at in that target.

`Route.patch` is the other way round (SECURITY.md 2): the caller's own object (or list) stays
in the address and the target's ids go in the body of a write, one id a body.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import NamedTuple

from django.db import transaction
from django.utils import timezone

from graduated_response.models import Framework, PlanTarget, Step, StepPlacement, SupportPlan
from graduated_response.placements import step_place
from graduated_response.plans import TargetInput, plan_create
from graduated_response.services import frameworks_load_for_la
from pupils.models import Pupil
from schools.models import BehaviourProvision, LocalAuthority, Membership, Partnership, School
from schools.tenancy import TenantScope, tenant_scope


@dataclass
class Target:
    school: School
    pupils: list[Pupil]
    partnership: Partnership | None
    provision: BehaviourProvision | None
    la: LocalAuthority | None
    membership: Membership | None
    markers: list[str] = field(default_factory=list)  # text that must never show outside it


class Foreign(NamedTuple):
    """A write body naming one of a target's ids. `field` is the key a 400 names; for a key
    the write does not take (in `Route.ignores`) it is that key, and the answer may be a 2xx
    as long as the caller's object stays where it was."""

    field: str
    body: dict


@dataclass
class Route:
    kwargs: Callable[[Target], dict | None] | None = None
    post: Callable[[Target], dict | None] | None = None  # a POST body naming the target's ids
    api_writes: bool = False  # also try PUT, PATCH and DELETE
    body_ids: bool = False  # the POST names the target's ids in its body: 400 (SECURITY.md 2)
    # Bodies naming the target's ids, sent to the caller's own address (own, target): with PUT
    # and PATCH where `api_writes`, else with POST. Each a 400, or for a key in `ignores` left
    # alone.
    patch: Callable[[Target, Target], list[Foreign]] | None = None
    ignores: frozenset[str] = frozenset()


def _pupil_record_body(t: Target) -> dict:
    """A valid edit of the target's first pupil, so the sweep tries a real write."""
    p = t.pupils[0]
    return {
        "upn": p.upn,
        "first_name": p.first_name,
        "last_name": p.last_name,
        "preferred_name": "Swept",
        "date_of_birth": p.date_of_birth.isoformat(),
        "nc_year": p.nc_year,
        "sen_status": "K",
        "primary_need": "SEMH",
        "is_active": "on",
    }


def _today() -> str:
    return timezone.localdate().isoformat()


def _academic_year() -> int:
    today = timezone.localdate()
    return today.year if today.month >= 9 else today.year - 1


def _system_scope(t: Target):
    pupil = t.pupils[0]
    return tenant_scope(
        TenantScope.system(schools=[pupil.school_id], local_authorities=[t.school.local_authority_id])
    )


def _framework_id(t: Target) -> int:
    """A framework of the target's LA: the NW six-step, copied in if it has none yet."""
    with transaction.atomic(), _system_scope(t):
        la = LocalAuthority.objects.get(pk=t.school.local_authority_id)
        frameworks_load_for_la(la=la, template_keys=["nw-six-step"])
        return Framework.objects.filter(slug="nw-six-step").values_list("pk", flat=True).get()


def _placement_id(t: Target) -> int:
    """A placement of the target's first pupil, made on step 1 if the pupil has none."""
    framework_id = _framework_id(t)
    pupil = t.pupils[0]
    with transaction.atomic(), _system_scope(t):
        placement = StepPlacement.objects.filter(pupil_id=pupil.pk).first()
        if placement is None:
            step = Step.objects.get(framework_id=framework_id, number=1)
            placement = step_place(
                request=None, pupil=pupil, step=step, reason="Swept", placed_on=timezone.localdate()
            )
        return placement.pk


def _placement_kwargs(t: Target) -> dict:
    return {"pk": t.pupils[0].pk, "placement_id": _placement_id(t)}


def _plan_id(t: Target) -> int:
    """A support plan of the target's first pupil (placed on a step first if need be)."""
    _placement_id(t)
    pupil = t.pupils[0]
    with transaction.atomic(), _system_scope(t):
        plan = SupportPlan.objects.filter(pupil_id=pupil.pk).first()
        if plan is None:
            plan = plan_create(
                request=None,
                pupil=Pupil.objects.get(pk=pupil.pk),
                data={"title": "Swept plan"},
                starts_on=timezone.localdate(),
                targets=[TargetInput(description="Swept target", success_criteria="Swept")],
            )
        return plan.pk


def _plan_kwargs(t: Target) -> dict:
    return {"pk": t.pupils[0].pk, "plan_id": _plan_id(t)}


def _plan_review_body(t: Target) -> dict:
    """A whole review of the target's plan (its one target rated), so the sweep tries a real write."""
    plan_id = _plan_id(t)
    with transaction.atomic(), _system_scope(t):
        target_ids = list(PlanTarget.objects.filter(plan_id=plan_id).values_list("pk", flat=True))
    body = {"reviewed_on": _today(), "decision": "continue"}
    body.update({f"rating_{pk}": "achieved" for pk in target_ids})
    return body


ROUTES: dict[str, Route] = {
    "schools:detail": Route(kwargs=lambda t: {"pk": t.school.pk}),
    "pupils:detail": Route(kwargs=lambda t: {"pk": t.pupils[0].pk}),
    "pupils:print": Route(kwargs=lambda t: {"pk": t.pupils[0].pk}),
    "pupils:edit": Route(kwargs=lambda t: {"pk": t.pupils[0].pk}, post=_pupil_record_body),
    "pupils:profile": Route(kwargs=lambda t: {"pk": t.pupils[0].pk}, post=lambda t: {"strengths": "Swept"}),
    "pupils:outcomes": Route(
        kwargs=lambda t: {"pk": t.pupils[0].pk},
        post=lambda t: {
            "outcome-academic_year": _academic_year(),
            "outcome-term": "autumn",
            "outcome-attendance_pct": "91.5",
            "outcome-suspensions": 0,
            "outcome-suspension_days": 0,
        },
    ),
    "pupils:scores": Route(
        kwargs=lambda t: {"pk": t.pupils[0].pk},
        post=lambda t: {"score-measure": "sdq_total", "score-assessed_on": _today(), "score-score": "12"},
    ),
    "switch_membership": Route(post=lambda t: {"membership": t.membership.pk} if t.membership else None),
    "api:school-detail": Route(kwargs=lambda t: {"pk": t.school.pk}, api_writes=True),
    "api:pupil-detail": Route(kwargs=lambda t: {"pk": t.pupils[0].pk}, api_writes=True),
    "api:pupil-sen-history": Route(kwargs=lambda t: {"pk": t.pupils[0].pk}),
    "api:pupil-outcomes": Route(kwargs=lambda t: {"pk": t.pupils[0].pk}),
    "api:pupil-scores": Route(kwargs=lambda t: {"pk": t.pupils[0].pk}),
    "graduated_response:step": Route(
        kwargs=lambda t: {"pk": t.pupils[0].pk},
        post=lambda t: {"to_step": "exit", "placed_on": _today(), "reason": "Swept"},
    ),
    "graduated_response:strategies": Route(
        kwargs=lambda t: {"pk": t.pupils[0].pk},
        post=lambda t: {"name": "Swept", "started_on": _today()},
    ),
    "graduated_response:approve": Route(kwargs=_placement_kwargs),
    # Frameworks belong to the LA, so a sibling school (same LA) is no target for them.
    "api:framework-detail": Route(kwargs=lambda t: {"pk": _framework_id(t)} if t.la else None),
    "api:pupil-placements": Route(kwargs=lambda t: {"pk": t.pupils[0].pk}),
    "api:pupil-placement-approve": Route(kwargs=_placement_kwargs),
    "graduated_response:plan-create": Route(
        kwargs=lambda t: {"pk": t.pupils[0].pk} if _placement_id(t) else None,
        post=lambda t: {
            "title": "Swept",
            "starts_on": _today(),
            "targets-TOTAL_FORMS": "1",
            "targets-INITIAL_FORMS": "0",
            "targets-0-description": "Swept",
            "targets-0-success_criteria": "Swept",
        },
    ),
    "graduated_response:plan": Route(kwargs=_plan_kwargs),
    "graduated_response:plan-edit": Route(
        kwargs=_plan_kwargs,
        post=lambda t: {
            "title": "Swept",
            "kind": "support",
            "targets-TOTAL_FORMS": "0",
            "targets-INITIAL_FORMS": "0",
        },
    ),
    "graduated_response:plan-review": Route(kwargs=_plan_kwargs, post=_plan_review_body),
    "graduated_response:timeline": Route(kwargs=lambda t: {"pk": t.pupils[0].pk}),
    "api:support-plan-detail": Route(kwargs=lambda t: {"pk": _plan_id(t)}, api_writes=True),
    "api:support-plan-reviews": Route(kwargs=lambda t: {"pk": _plan_id(t)}),
}

# Keys are route names, or path prefixes starting with "/".
EXEMPT: dict[str, str] = {
    "password_reset_confirm": "takes a signed one-time token, not an object id; covered in test_signin",
    "/admin/": "platform staff behind two-factor; no pupil data (test_admin_is_for_platform_staff)",
}


# --- behaviour observations (appended as one block, so it merges cleanly) ----------------------


def _observation_id(t: Target) -> int:
    """An observation of the target's first pupil, logged now if the pupil has none."""
    from graduated_response.models import BehaviourObservation
    from graduated_response.observations import observation_record

    pupil = t.pupils[0]
    with transaction.atomic(), _system_scope(t):
        observation = BehaviourObservation.objects.filter(pupil_id=pupil.pk).first()
        if observation is None:
            observation = observation_record(
                request=None,
                pupil=Pupil.objects.get(pk=pupil.pk),
                observed_at=timezone.now(),
                setting="lesson",
                behaviour="Swept",
                intensity=2,
            )
        return observation.pk


ROUTES.update(
    {
        "graduated_response:observations": Route(
            kwargs=lambda t: {"pk": t.pupils[0].pk},
            post=lambda t: {
                "observed_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
                "setting": "lesson",
                "behaviour": "Swept",
                "intensity": "3",
            },
        ),
        "api:observation-detail": Route(kwargs=lambda t: {"pk": _observation_id(t)}),
    }
)


# --- the framework editor and following up moves (appended as one block) ----------------------


def _editor_ids(t: Target) -> dict | None:
    """Ids in the current version of the target's waves-apdr copy: a framework no other route
    places pupils under, so the sweep's own edits go through (and a new version it makes
    leaves the NW six-step, which `_framework_id` expects once, alone)."""
    from graduated_response.models import Strategy

    if t.la is None:
        return None  # frameworks belong to the LA: a sibling school is no target for them
    with transaction.atomic(), _system_scope(t):
        frameworks_load_for_la(la=LocalAuthority.objects.get(pk=t.la.pk), template_keys=["waves-apdr"])
        framework = Framework.objects.get(slug="waves-apdr", is_current=True)
        strategies = Strategy.objects.filter(step__framework=framework)
        strategy = strategies.order_by("step__number", "order", "id").first()
        return {"pk": framework.pk, "step_id": strategy.step_id, "strategy_id": strategy.pk}


def _editor_kwargs(*names: str) -> Callable[[Target], dict | None]:
    def build(t: Target) -> dict | None:
        ids = _editor_ids(t)
        return {name: ids[name] for name in names} if ids else None

    return build


def _strategy_tried_kwargs(t: Target) -> dict:
    """A strategy tried with the target's first pupil, at the step they were placed on."""
    from graduated_response.models import StrategyTried

    placement_id = _placement_id(t)
    pupil = t.pupils[0]
    with transaction.atomic(), _system_scope(t):
        tried = StrategyTried.objects.filter(pupil_id=pupil.pk).first()
        if tried is None:
            tried = StrategyTried.objects.create(
                school_id=pupil.school_id,
                pupil_id=pupil.pk,
                step_id=StepPlacement.objects.get(pk=placement_id).step_id,
                name="Swept",
                started_on=timezone.localdate(),
            )
        return {"pk": pupil.pk, "tried_id": tried.pk}


_STEP_BODY = {"tier_label": "Swept", "behaviour_descriptors": "Swept"}

ROUTES.update(
    {
        "frameworks:detail": Route(kwargs=_editor_kwargs("pk")),
        "frameworks:new-version": Route(kwargs=_editor_kwargs("pk"), post=lambda t: {}),
        "frameworks:step-edit": Route(kwargs=_editor_kwargs("pk", "step_id"), post=lambda t: _STEP_BODY),
        "frameworks:strategy-add": Route(
            kwargs=_editor_kwargs("pk", "step_id"), post=lambda t: {"name": "Swept strategy"}
        ),
        "frameworks:strategy-edit": Route(
            kwargs=_editor_kwargs("pk", "step_id", "strategy_id"), post=lambda t: {"name": "Swept again"}
        ),
        "frameworks:strategy-move": Route(
            kwargs=_editor_kwargs("pk", "step_id", "strategy_id"), post=lambda t: {"direction": "down"}
        ),
        "frameworks:strategy-remove": Route(kwargs=_editor_kwargs("pk", "step_id", "strategy_id")),
        "graduated_response:strategy-review": Route(
            kwargs=_strategy_tried_kwargs, post=lambda t: {"reviewed_on": _today(), "outcome": "Swept"}
        ),
    }
)


# --- interventions: catalogue, groups, enrolments, sessions (appended as one block) ----------


def _intervention_ids(t: Target) -> dict:
    """A provision of the target's school, a group of it running now with the first pupil
    enrolled, and a session today; made once, then found again."""
    from datetime import timedelta

    from interventions.models import Enrolment, InterventionGroup, Provision, Session
    from schools.terms import academic_year_of

    pupil = t.pupils[0]
    today = timezone.localdate()
    with transaction.atomic(), _system_scope(t):
        provision, _ = Provision.objects.get_or_create(school_id=pupil.school_id, name="Swept provision")
        group = InterventionGroup.objects.filter(provision=provision).first()
        if group is None:
            starts = today - timedelta(days=14)
            group = InterventionGroup.objects.create(
                school_id=pupil.school_id,
                provision=provision,
                name="Swept group",
                academic_year=academic_year_of(starts),
                starts_on=starts,
                ends_on=today + timedelta(days=30),
                weeks=6,
            )
        enrolment, _ = Enrolment.objects.get_or_create(
            school_id=pupil.school_id, group=group, pupil_id=pupil.pk, defaults={"starts_on": group.starts_on}
        )
        session, _ = Session.objects.get_or_create(school_id=pupil.school_id, group=group, held_on=today)
        ids = {"provision": provision, "group": group, "enrolment": enrolment, "session": session}
        return {key: obj.pk for key, obj in ids.items()}


def _library_item_id(t: Target) -> int | None:
    from interventions.models import LibraryProvision

    if t.la is None:
        return None  # the library belongs to the LA: a sibling school is no target for it
    with transaction.atomic(), tenant_scope(TenantScope.system(local_authorities=[t.la.pk])):
        item, _ = LibraryProvision.objects.get_or_create(
            local_authority_id=t.la.pk, name="Swept library entry"
        )
        return item.pk


def _ids(name: str) -> Callable[[Target], dict]:
    return lambda t: {"pk": _intervention_ids(t)[name]}


def _session_body(t: Target) -> dict:
    enrolment = _intervention_ids(t)["enrolment"]
    return {"held_on": _today(), "shown": [enrolment], f"present_{enrolment}": "1", "notes": "Swept"}


_PROVISION_BODY = {
    "name": "Swept provision",
    "area_of_need": "semh",
    "staff_kind": "ta",
    "staff_count": 1,
    "group_size": 6,
    "session_minutes": 30,
    "sessions_per_week": "1",
    "typical_weeks": 10,
    "higher_is_better": "on",
    "is_active": "on",
    "description": "Swept",
}

ROUTES.update(
    {
        "interventions:group": Route(kwargs=_ids("group")),
        "interventions:group-edit": Route(
            kwargs=_ids("group"), post=lambda t: {"academic_year": _academic_year(), "name": "Swept"}
        ),
        "interventions:group-enrol": Route(kwargs=_ids("group"), post=lambda t: {"pupil": t.pupils[-1].pk}),
        "interventions:session-record": Route(kwargs=_ids("group"), post=_session_body),
        "interventions:enrolment-edit": Route(
            kwargs=_ids("enrolment"), post=lambda t: {"starts_on": _today(), "note": "Swept"}
        ),
        "interventions:enrolment-withdraw": Route(kwargs=_ids("enrolment")),
        "interventions:provision-edit": Route(kwargs=_ids("provision"), post=lambda t: _PROVISION_BODY),
        "interventions:group-create": Route(
            kwargs=_ids("provision"),
            post=lambda t: {"academic_year": _academic_year(), "starts_on": _today(), "ends_on": _today()},
        ),
        # No id in the address, but one in the body: the library entry to copy.
        "interventions:provision-add": Route(
            post=lambda t: {"library_item": item} if (item := _library_item_id(t)) else None,
            body_ids=True,
        ),
        "api:provision-detail": Route(kwargs=_ids("provision"), api_writes=True),
        "api:group-detail": Route(kwargs=_ids("group"), api_writes=True),
        "api:enrolment-detail": Route(kwargs=_ids("enrolment"), api_writes=True),
        "api:session-detail": Route(kwargs=_ids("session"), api_writes=True),
    }
)


# --- the pupil's costed provision map (appended as one block) ----------------------------------

ROUTES.update(
    {
        "provision_map:pupil": Route(kwargs=lambda t: {"pk": t.pupils[0].pk}),
    }
)


# --- partnership budgets (appended as one block) -------------------------------------------------


def _budget_ids(t: Target) -> dict | None:
    """A budget of the target's partnership with one line and one item awaiting approval."""
    if t.partnership is None:
        return None
    from decimal import Decimal

    from schools.models import Budget, BudgetLine, SpendItem, financial_year_of

    today = timezone.localdate()
    with transaction.atomic(), tenant_scope(TenantScope.system(partnerships=[t.partnership.pk])):
        budget, _ = Budget.objects.get_or_create(
            partnership=t.partnership, financial_year=financial_year_of(today), defaults={"allocation": 1000}
        )
        line = BudgetLine.objects.filter(budget=budget).order_by("id").first() or BudgetLine.objects.create(
            partnership=t.partnership, budget=budget, category="other", name="Swept", planned=1
        )
        item = SpendItem.objects.filter(budget=budget).first() or SpendItem.objects.create(
            partnership=t.partnership,
            budget=budget,
            line=line,
            description="Swept",
            amount=Decimal(40000),
            spent_on=today,
        )
    return {"budget": budget.pk, "line": line.pk, "item": item.pk}


def _budget(t: Target) -> dict | None:
    ids = _budget_ids(t)
    return {"pk": ids["budget"]} if ids else None


def _budget_item(t: Target) -> dict | None:
    ids = _budget_ids(t)
    return {"pk": ids["budget"], "item_id": ids["item"]} if ids else None


def _spend_body(t: Target) -> dict | None:
    ids = _budget_ids(t)
    if ids is None:
        return None
    return {"line": ids["line"], "description": "Swept", "amount": "5", "spent_on": _today()}


ROUTES.update(
    {
        "schools:budget": Route(kwargs=_budget),
        "schools:budget-line-add": Route(
            kwargs=_budget, post=lambda t: {"category": "other", "name": "Swept", "planned": "1"}
        ),
        "schools:budget-spend-add": Route(kwargs=_budget, post=_spend_body),
        "schools:budget-spend-approve": Route(kwargs=_budget_item),
        "schools:budget-spend-paid": Route(kwargs=_budget_item),
        "api:budget-detail": Route(kwargs=_budget, api_writes=True),
        "api:budget-spend": Route(kwargs=_budget, post=_spend_body),
        "api:budget-spend-approve": Route(kwargs=_budget_item),
    }
)


# --- a partnership's agreements, reviews and report narratives (appended as one block) -------


def _agreement_id(t: Target) -> int | None:
    """An agreement for the target's provision, made once, then found again."""
    from schools.models import SLA_SECTIONS, ServiceLevelAgreement

    if t.provision is None:
        return None  # a sibling school is no partnership target
    with transaction.atomic(), tenant_scope(TenantScope.system(partnerships=[t.provision.partnership_id])):
        agreement = ServiceLevelAgreement.objects.filter(provision_id=t.provision.pk).first()
        if agreement is None:
            today = timezone.localdate()
            agreement = ServiceLevelAgreement.objects.create(
                partnership_id=t.provision.partnership_id,
                provision_id=t.provision.pk,
                starts_on=today,
                review_on=today.replace(year=today.year + 1, day=min(today.day, 28)),
                **{name: "Swept" for name, _, _ in SLA_SECTIONS},
            )
        return agreement.pk


def _agreement(t: Target) -> dict | None:
    pk = _agreement_id(t)
    return {"pk": pk} if pk else None


def _agreement_body(t: Target) -> dict:
    from schools.models import SLA_SECTIONS

    today = timezone.localdate()
    body = {"starts_on": _today(), "review_on": today.replace(year=today.year + 1, day=min(today.day, 28))}
    body.update({name: "Swept" for name, _, _ in SLA_SECTIONS})
    return body


ROUTES.update(
    {
        "schools:sla-detail": Route(kwargs=_agreement),
        "schools:sla-edit": Route(kwargs=_agreement, post=_agreement_body),
        "schools:sla-agree": Route(kwargs=_agreement),
        "schools:sla-review-create": Route(
            kwargs=_agreement,
            post=lambda t: {
                "academic_year": _academic_year(),
                "reviewed_on": _today(),
                "respondent": "Swept",
                "reflects_vision": "3",
                "reflects_provision": "3",
                "reflects_practice": "3",
            },
        ),
        "schools:sla-create": Route(
            kwargs=lambda t: {"provision_id": t.provision.pk} if t.provision else None, post=_agreement_body
        ),
        "schools:narratives": Route(kwargs=lambda t: {"pk": t.partnership.pk} if t.partnership else None),
        "schools:narrative-save": Route(
            kwargs=lambda t: {"pk": t.partnership.pk, "section": "summary"} if t.partnership else None,
            post=lambda t: {"summary-text": "Swept", "year": _academic_year(), "action": "draft"},
        ),
    }
)


# --- placements in behaviour provisions (appended as one block) --------------------------------


def _partnership_provision_id(t: Target) -> int | None:
    """The behaviour provision serving the target school's partnership (a sibling school's
    target names none of its own)."""
    if t.provision is not None:
        return t.provision.pk
    return (
        BehaviourProvision.objects.filter(partnership_id=t.school.partnership_id)
        .values_list("pk", flat=True)
        .first()
    )


def _provision_placement(t: Target) -> dict | None:
    """A placement of the target's first pupil in its partnership's provision: referred now
    if the pupil has none (the sweep's own writes may start or end it later)."""
    from decimal import Decimal

    from interventions.models import ProvisionPlacement
    from interventions.placements import placement_refer

    provision_id = _partnership_provision_id(t)
    if provision_id is None:
        return None
    pupil = t.pupils[0]
    with transaction.atomic(), _system_scope(t):
        placement = ProvisionPlacement.objects.filter(pupil_id=pupil.pk).order_by("id").first()
        if placement is None:
            today = timezone.localdate()
            placement = placement_refer(
                None,
                Pupil.objects.get(pk=pupil.pk),
                provision=BehaviourProvision.objects.get(pk=provision_id),
                referred_on=today,
                referral_reason="Swept",
                consent_on=today,
                consent_note="Swept",
                pattern="part_time",
                days_per_week=Decimal(2),
                # The target's provision may not take the pupil's key stage: met in advance.
                mdt_meeting_on=today,
                mdt_note="Swept",
                ehc_exception="Swept",
            )
        return {"pk": placement.pk}


def _referral_body(t: Target, prefix: str = "") -> dict | None:
    provision_id = _partnership_provision_id(t)
    if provision_id is None:
        return None
    body = {
        "provision": provision_id,
        "referred_on": _today(),
        "referral_reason": "Swept",
        "consent_on": _today(),
        "consent_note": "Swept",
        "pattern": "part_time",
        "days_per_week": "2",
        "mdt_meeting_on": _today(),
        "mdt_note": "Swept",
    }
    return {prefix + k: v for k, v in body.items()}


_START = {"starts_on": _today}
_PROGRESS = {"attendance_percent": lambda: "90", "suspensions": lambda: "0"}
_END = {"ends_on": _today, "exit_outcome": lambda: "returned"}
_WITHDRAW = {"note": lambda: "Swept"}


def _change_body(fields: dict, prefix: str = "") -> Callable[[Target], dict]:
    return lambda t: {f"{prefix}{name}": make() for name, make in fields.items()}


ROUTES.update(
    {
        "placements:refer": Route(kwargs=lambda t: {"pupil_pk": t.pupils[0].pk}, post=_referral_body),
        "placements:detail": Route(kwargs=_provision_placement),
        "placements:start": Route(kwargs=_provision_placement, post=_change_body(_START, "start-")),
        "placements:progress": Route(kwargs=_provision_placement, post=_change_body(_PROGRESS, "progress-")),
        "placements:end": Route(kwargs=_provision_placement, post=_change_body(_END, "end-")),
        "placements:withdraw": Route(kwargs=_provision_placement, post=_change_body(_WITHDRAW, "withdraw-")),
        # No id in the address, but the pupil and provision in the body: a 400 if not the caller's.
        "api:placement-list": Route(
            post=lambda t: None if (b := _referral_body(t)) is None else {**b, "pupil": t.pupils[0].pk},
            body_ids=True,
        ),
        "api:placement-detail": Route(kwargs=_provision_placement, api_writes=True),
        "api:placement-start": Route(kwargs=_provision_placement, post=_change_body(_START)),
        "api:placement-progress": Route(kwargs=_provision_placement, post=_change_body(_PROGRESS)),
        "api:placement-end": Route(kwargs=_provision_placement, post=_change_body(_END)),
        "api:placement-withdraw": Route(kwargs=_provision_placement, post=_change_body(_WITHDRAW)),
    }
)


# --- behaviour provision KPIs, and the partnership and LA overviews (appended as one block) --


def _kpi_targets_body(t: Target) -> dict | None:
    if t.provision is None:
        return None
    return {"year": _academic_year(), f"p{t.provision.pk}-pupils_placed": "6"}


def _kpi_target_api_body(t: Target) -> dict | None:
    if t.provision is None:
        return None
    return {"provision": t.provision.pk, "year": _academic_year(), "kpi": "pupils_placed", "target": "6"}


ROUTES.update(
    {
        "partnership:kpi-targets": Route(
            kwargs=lambda t: {"provision_id": t.provision.pk} if t.provision else None, post=_kpi_targets_body
        ),
        "partnership:partnership-overview": Route(
            kwargs=lambda t: {"pk": t.partnership.pk} if t.partnership else None
        ),
        # The address names the partnership (404 outside the scope) before the body is read.
        "api:partnership-kpis": Route(
            kwargs=lambda t: {"pk": t.partnership.pk} if t.partnership else None,
            post=_kpi_target_api_body,
            api_writes=True,
        ),
    }
)


# --- transfers of pupils between schools (appended as one block) -------------------------------


def _transfer_id(t: Target) -> int:
    """A transfer out of the target's school: a pupil made for it, sent to a school made for
    it in the same LA (so no school a sweeping role belongs to receives anyone)."""
    from pupils.models import Transfer
    from pupils.transfers import transfer_pupil
    from tests.factories import PupilFactory, SchoolFactory

    la_id = t.school.local_authority_id
    with (
        transaction.atomic(),
        tenant_scope(TenantScope.system(schools=[t.school.pk], local_authorities=[la_id])),
    ):
        transfer = Transfer.objects.filter(school_id=t.school.pk).first()
        if transfer is None:
            pupil = PupilFactory(school=t.school, last_name="Swept")
            receiving = SchoolFactory(local_authority_id=la_id, name=f"Swept receiving school {t.school.pk}")
            transfer = transfer_pupil(
                None, pupil, to_school=receiving, reason="moving_home", transferred_on=timezone.localdate()
            )
        return transfer.pk


def _transfer_body(t: Target) -> dict:
    """A transfer of the target's first pupil to its own school: refused by the form and the
    service (so the sweep moves no one), but only after the pupil is looked up."""
    return {"to_school": t.school.pk, "reason": "transition", "transferred_on": _today(), "note": "Swept"}


ROUTES.update(
    {
        "pupils:transfer": Route(kwargs=lambda t: {"pk": t.pupils[0].pk}, post=_transfer_body),
        "transfers:detail": Route(kwargs=lambda t: {"pk": _transfer_id(t)}),
        "api:transfer-detail": Route(kwargs=lambda t: {"pk": _transfer_id(t)}, api_writes=True),
        # No id in the address, but the pupil in the body: a 400 if not the caller's.
        "api:transfer-list": Route(
            post=lambda t: {**_transfer_body(t), "pupil": t.pupils[0].pk}, body_ids=True
        ),
    }
)


# --- reports: ask, follow, build again, download (appended as one block) -----------------------


def _report_target(t: Target) -> tuple[str, str, int, dict]:
    """The report a role of the target's tenant would read (kind, scope type, scope id and
    the row's tenant columns): its school's, provision's, partnership's or LA's; a sibling
    school's target is that school's."""
    from schools.models import Role

    role = t.membership.role if t.membership else None
    if role == Role.PROVISION_LEAD and t.provision:
        columns = {"provision_id": t.provision.pk, "partnership_id": t.provision.partnership_id}
        return "provision_termly", "provision", t.provision.pk, columns
    if role == Role.PARTNERSHIP_LEAD and t.partnership:
        return "partnership_annual", "partnership", t.partnership.pk, {"partnership_id": t.partnership.pk}
    if role == Role.LA_OFFICER and t.la:
        return "la_overview", "local_authority", t.la.pk, {"for_local_authority_id": t.la.pk}
    return "school_termly", "school", t.school.pk, {"school_id": t.school.pk}


def _report_id(t: Target) -> int:
    """A finished report of the target's (its files are not written: a download for another
    tenant is refused before any file is opened)."""
    from reports.models import KIND_PERIOD, ReportRequest

    kind, scope_type, _, columns = _report_target(t)
    la_id = t.school.local_authority_id
    scope = TenantScope.system(
        schools=[t.school.pk],
        partnerships=[columns["partnership_id"]] if "partnership_id" in columns else [],
        provisions=[columns["provision_id"]] if "provision_id" in columns else [],
        local_authorities=[la_id],
        la_figures=[la_id] if "for_local_authority_id" in columns else [],
    )
    period = {"term": "2024-25-summer", "year": "2024-25"}[KIND_PERIOD[kind]]
    with transaction.atomic(), tenant_scope(scope):
        row = ReportRequest.objects.filter(kind=kind, period=period, **columns).first()
        if row is None:
            now = timezone.now()
            row = ReportRequest.objects.create(
                kind=kind,
                scope_type=scope_type,
                period=period,
                local_authority_id=la_id,
                status=ReportRequest.Status.DONE,
                queued_at=now,
                started_at=now,
                finished_at=now,
                attempts=1,
                pdf=f"reports/pdf/swept-{kind}.pdf",
                snapshot=f"reports/snapshot/swept-{kind}.json",
                **columns,
            )
        return row.pk


def _report_ask_body(t: Target) -> dict:
    kind, scope_type, scope_id, _ = _report_target(t)
    return {"kind": kind, "scope_type": scope_type, "scope_id": scope_id, "period": ""}


def _report_form_body(t: Target) -> dict:
    body = _report_ask_body(t)
    return {"report": f"{body['kind']}:{body['scope_id']}", "period": ""}


ROUTES.update(
    {
        "reports:detail": Route(kwargs=lambda t: {"pk": _report_id(t)}),
        "reports:again": Route(kwargs=lambda t: {"pk": _report_id(t)}),
        "reports:pdf": Route(kwargs=lambda t: {"pk": _report_id(t)}),
        "reports:snapshot": Route(kwargs=lambda t: {"pk": _report_id(t)}),
        "reports:pupil": Route(
            kwargs=lambda t: {"pk": t.pupils[0].pk},
            post=lambda t: {"report": f"pupil_profile:{t.pupils[0].pk}", "period": ""},
        ),
        # No id in the address: the report asked for names its school, provision,
        # partnership or LA in the body, so another tenant's is a 400 (SECURITY.md 2).
        "reports:list": Route(post=_report_form_body, body_ids=True),
        "api:report-list": Route(post=_report_ask_body, body_ids=True),
        "api:report-detail": Route(kwargs=lambda t: {"pk": _report_id(t)}, api_writes=True),
        "api:report-pdf": Route(kwargs=lambda t: {"pk": _report_id(t)}),
        "api:report-snapshot": Route(kwargs=lambda t: {"pk": _report_id(t)}),
    }
)

# --- dashboards one level down (appended as one block) -------------------------------------------
# Each scope's page takes its id in the address: another tenant's (or the sibling school's)
# is a 404. GET /api/v1/figures/ names its scope in the query string: tests/test_dashboards.py
# sweeps every role and scope type against another tenant's ids there.

ROUTES.update(
    {
        "dashboards:school": Route(kwargs=lambda t: {"pk": t.school.pk}),
        "dashboards:provision": Route(kwargs=lambda t: {"pk": t.provision.pk} if t.provision else None),
        "dashboards:partnership": Route(kwargs=lambda t: {"pk": t.partnership.pk} if t.partnership else None),
        "dashboards:local-authority": Route(kwargs=lambda t: {"pk": t.la.pk} if t.la else None),
    }
)


# --- retention: a headteacher's legal hold on a pupil's record (appended as one block) ---------

ROUTES.update(
    {
        "pupils:legal-hold": Route(
            kwargs=lambda t: {"pk": t.pupils[0].pk},
            post=lambda t: {"legal_hold": "on", "legal_hold_reason": "Swept"},
        ),
    }
)


# --- what the sweep reads to see that nothing changed (appended as one block) ------------------


def tenant_rows(la_id: int, *, schools: list[int] | None = None, keys_only: bool = False) -> dict:
    """The rows of one LA's tenant tables (all but the audit log, where a refusal is itself
    recorded), read through a scope naming all its schools, partnerships and provisions, or
    only the `schools` given: whole rows, or with `keys_only` each row's id and foreign keys
    (where it belongs and what it is of), keyed by table and id."""
    from django.apps import apps

    from schools.models import AuditEvent
    from schools.tenancy import TenantModel

    partnerships = list(Partnership.objects.filter(local_authority_id=la_id).values_list("pk", flat=True))
    if schools is None:
        scope = TenantScope.system(
            schools=School.objects.filter(local_authority_id=la_id).values_list("pk", flat=True),
            partnerships=partnerships,
            local_authorities=[la_id],
            provisions=BehaviourProvision.objects.filter(partnership_id__in=partnerships).values_list(
                "pk", flat=True
            ),
            la_figures=[la_id],
        )
    else:
        scope = TenantScope.system(schools=schools)
    tables = [m for m in apps.get_models() if issubclass(m, TenantModel) and m is not AuditEvent]
    rows = {}
    with transaction.atomic(), tenant_scope(scope):
        for model in tables:
            pk = model._meta.pk.attname
            if keys_only:
                fields = [pk, *(f.attname for f in model._meta.concrete_fields if f.is_relation)]
            else:
                fields = [f.attname for f in model._meta.concrete_fields]
            for row in model.objects.values(*fields):
                rows[(model._meta.label, row[pk])] = row
    return rows


# --- bodies naming another tenant's ids at the caller's own address (appended as one block) ----
# SECURITY.md 2: the address is the caller's own object (or list), and one id in the body is
# the target's. The answer is a 400 naming that field, or for a key the write does not take
# (a tenant field such as `school`) the key is left alone; either way nothing moves.


def _staff_id(t: Target) -> int:
    """A member of staff of the target's school: a practitioner made for the sweep (a sibling
    school's target has none of its own)."""
    from schools.models import Role, User
    from tests.factories import MembershipFactory, UserFactory

    username = f"swept-staff-{t.school.pk}"
    user = User.objects.filter(username=username).first()
    if user is None:
        user = UserFactory(username=username)
        MembershipFactory(user=user, role=Role.PRACTITIONER, school=t.school)
    return user.pk


def _pupil_bodies(own: Target, t: Target) -> list[Foreign]:
    return [Foreign("school", {"school": t.school.pk})]


def _plan_bodies(own: Target, t: Target) -> list[Foreign]:
    """The target plan's target kept as if it were the caller's, the target's pupil, and a
    strategy of the target LA's catalogue (a sibling school shares the caller's catalogue)."""
    from graduated_response.models import Strategy

    plan_id = _plan_id(t)
    with transaction.atomic(), _system_scope(t):
        target_id = PlanTarget.objects.filter(plan_id=plan_id).values_list("pk", flat=True).first()
        step_id = SupportPlan.objects.filter(pk=plan_id).values_list("step_id", flat=True).get()
        strategy_id = Strategy.objects.filter(step_id=step_id).values_list("pk", flat=True).first()
    kept = {"id": target_id, "description": "Swept", "success_criteria": "Swept"}
    bodies = [Foreign("targets", {"targets": [kept]}), Foreign("pupil", {"pupil": t.pupils[0].pk})]
    if t.la is not None:
        bodies.append(Foreign("strategies", {"strategies": [{"strategy": strategy_id}]}))
    return bodies


def _provision_bodies(own: Target, t: Target) -> list[Foreign]:
    bodies = [Foreign("school", {"school": t.school.pk})]
    if (item := _library_item_id(t)) is not None:
        bodies.append(Foreign("library_item", {"library_item": item}))
    return bodies


def _group_bodies(own: Target, t: Target) -> list[Foreign]:
    ids, staff = _intervention_ids(t), _staff_id(t)
    return [
        Foreign("staff", {"lead": staff}),  # the lead is one of the staff: refused as staff
        Foreign("staff", {"staff": [staff]}),
        Foreign("provision", {"provision": ids["provision"]}),
        Foreign("school", {"school": t.school.pk}),
    ]


def _enrolment_bodies(own: Target, t: Target) -> list[Foreign]:
    ids = _intervention_ids(t)
    return [
        Foreign("group", {"group": ids["group"]}),
        Foreign("pupil", {"pupil": t.pupils[0].pk}),
        Foreign("school", {"school": t.school.pk}),
    ]


def _session_bodies(own: Target, t: Target) -> list[Foreign]:
    ids = _intervention_ids(t)
    return [
        Foreign("attendance", {"attendance": [{"enrolment": ids["enrolment"], "present": True}]}),
        Foreign("attendance", {"attendance": [{"pupil": t.pupils[0].pk, "present": True}]}),
        Foreign("group", {"group": ids["group"]}),
    ]


def _kpi_bodies(own: Target, t: Target) -> list[Foreign]:
    if t.provision is None:
        return []  # a sibling school's provision is the caller's partnership's own
    body = {"provision": t.provision.pk, "year": _academic_year(), "kpi": "pupils_placed", "target": "6"}
    return [Foreign("provision", body)]


def _spend_bodies(own: Target, t: Target) -> list[Foreign]:
    ids = _budget_ids(t)
    if ids is None:
        return []  # a sibling school's budget is the caller's partnership's own
    body = {"line": ids["line"], "description": "Swept", "amount": "5", "spent_on": _today()}
    return [Foreign("line", body)]


def _referral_bodies(own: Target, t: Target) -> list[Foreign]:
    """The caller's second pupil (not placed by the sweep) referred to the target LA's provision."""
    if t.provision is None or (body := _referral_body(own)) is None:
        return []  # a sibling school's provision is the caller's partnership's own
    return [Foreign("provision", {**body, "pupil": own.pupils[1].pk, "provision": t.provision.pk})]


def _transfer_bodies(own: Target, t: Target) -> list[Foreign]:
    """The caller's pupil sent to a school of another LA (a sibling school is a lawful
    destination, so it is no target here)."""
    if t.la is None:
        return []
    body = {**_transfer_body(own), "pupil": own.pupils[0].pk, "to_school": t.school.pk}
    return [Foreign("to_school", body)]


# The interventions' writes take no school, pupil, group or provision once made: ignored.
for _name, _patch, _ignores in (
    ("api:pupil-detail", _pupil_bodies, ()),
    ("api:support-plan-detail", _plan_bodies, ("pupil",)),
    ("api:provision-detail", _provision_bodies, ("school", "library_item")),
    ("api:group-detail", _group_bodies, ("provision", "school")),
    ("api:enrolment-detail", _enrolment_bodies, ("group", "pupil", "school")),
    ("api:session-detail", _session_bodies, ("group",)),
    ("api:partnership-kpis", _kpi_bodies, ()),
    ("api:budget-spend", _spend_bodies, ()),
    ("api:placement-list", _referral_bodies, ()),
    ("api:transfer-list", _transfer_bodies, ()),
):
    ROUTES[_name] = replace(ROUTES[_name], patch=_patch, ignores=frozenset(_ignores))
