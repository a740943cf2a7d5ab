"""How the isolation sweep fills in each route. Every route with parameters, or that takes an
id in its body, must be listed here, or in EXEMPT with the reason; a route the sweep cannot
fill in fails tests/test_isolation_sweep.py.

A builder takes a Target (the objects of one tenant) and returns the URL kwargs, or None
when the route has nothing to aim at in that target.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from graduated_response.models import Framework, Step, StepPlacement
from graduated_response.placements import step_place
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


@dataclass
class Route:
    kwargs: Callable[[Target], dict | None] | None = None
    post: Callable[[Target], dict | None] | None = None  # a POST body naming the target's ids
    api_writes: bool = False  # also try PUT, PATCH and DELETE


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
}

# Keys are route names, or path prefixes starting with "/".
EXEMPT: dict[str, str] = {
    "password_reset_confirm": "takes a signed one-time token, not an object id; covered in test_signin",
    "/admin/": "platform staff behind two-factor; no pupil data (test_admin_is_for_platform_staff)",
}
