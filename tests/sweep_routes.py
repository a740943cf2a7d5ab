"""How the isolation sweep fills in each route. Every route with parameters, or that takes an
id in its body, must be listed here, or in EXEMPT with the reason; a route the sweep cannot
fill in fails tests/test_isolation_sweep.py.

A builder takes a Target (the objects of one tenant) and returns the URL kwargs, or None
when the route has nothing to aim at in that target.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pupils.models import Pupil
from schools.models import BehaviourProvision, LocalAuthority, Membership, Partnership, School


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


ROUTES: dict[str, Route] = {
    "schools:detail": Route(kwargs=lambda t: {"pk": t.school.pk}),
    "pupils:detail": Route(kwargs=lambda t: {"pk": t.pupils[0].pk}),
    "switch_membership": Route(post=lambda t: {"membership": t.membership.pk} if t.membership else None),
    "api:school-detail": Route(kwargs=lambda t: {"pk": t.school.pk}, api_writes=True),
    "api:pupil-detail": Route(kwargs=lambda t: {"pk": t.pupils[0].pk}, api_writes=True),
    "api:pupil-sen-history": Route(kwargs=lambda t: {"pk": t.pupils[0].pk}),
    "api:pupil-outcomes": Route(kwargs=lambda t: {"pk": t.pupils[0].pk}),
    "api:pupil-scores": Route(kwargs=lambda t: {"pk": t.pupils[0].pk}),
}

# Keys are route names, or path prefixes starting with "/".
EXEMPT: dict[str, str] = {
    "password_reset_confirm": "takes a signed one-time token, not an object id; covered in test_signin",
    "/admin/": "platform staff behind two-factor; no pupil data (test_admin_is_for_platform_staff)",
}
