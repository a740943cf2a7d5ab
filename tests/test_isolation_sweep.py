"""The isolation sweep (SECURITY.md 1–5): every route, every role, another tenant's objects.

Each route from the resolver is requested by every role of tenant Alpha:
- with Zulu's (another LA's) ids, and for school roles with their sibling school's ids:
  the answer is 404, or 403 only where the role is refused the route even for its own
  objects (a role rule that reveals nothing); never another tenant's data in the body;
- without ids (lists, pages): no other tenant's markers in the body;
- writes naming another tenant's ids change nothing; an id in a POST body (not the address)
  answers 400 (SECURITY.md 2).
"""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from pupils.models import Pupil
from schools.models import AuditEvent, Role
from schools.tenancy import TenantScope
from tests.conftest import Tenant, sign_in
from tests.sweep_routes import EXEMPT, ROUTES, Route, Target

ROLES = [r.value for r in Role]
SCHOOL_ROLES = {Role.SENCO.value, Role.PRACTITIONER.value, Role.HEADTEACHER.value}


def walk(patterns, prefix="", namespace=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from walk(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            name = f"{namespace}{p.name}" if p.name else p.lookup_str
            yield name, prefix + str(p.pattern), list(p.pattern.converters)


def all_routes():
    return sorted({(name, pattern, tuple(conv)) for name, pattern, conv in walk(get_resolver().url_patterns)})


def exempt(name: str, pattern: str) -> bool:
    return any(name == key or (key.startswith("/") and f"/{pattern}".startswith(key)) for key in EXEMPT)


def test_every_route_is_known_to_the_sweep():
    unknown = [
        (name, pattern)
        for name, pattern, conv in all_routes()
        if (conv or re.search(r"<|\(\?P", pattern)) and name not in ROUTES and not exempt(name, pattern)
    ]
    assert unknown == [], "register these in tests/sweep_routes.py: " + repr(unknown)


def target_of(t: Tenant, *, sibling: bool = False, membership=None) -> Target:
    if sibling:
        return Target(
            school=t.sibling,
            pupils=t.sibling_pupils,
            partnership=None,
            provision=None,
            la=None,
            membership=None,
            markers=[p.last_name for p in t.sibling_pupils],
        )
    return Target(
        school=t.school,
        pupils=t.pupils,
        partnership=t.partnership,
        provision=t.provision,
        la=t.la,
        membership=membership,
        markers=[t.marker],
    )


def request(client, name: str, route: Route, target: Target, method: str):
    if route.kwargs is None and method != "POST":
        # Only its body names the target (an API list's POST): its other methods aim at
        # nothing, and test_pages_and_lists_show_nothing_of_another_tenant covers its GET.
        return None
    kwargs = route.kwargs(target) if route.kwargs else {}
    if kwargs is None:
        return None
    url = reverse(name, kwargs=kwargs)
    if method == "POST" and route.post:
        body = route.post(target)
        if body is None:
            return None
        return client.post(url, body)
    return client.generic(method, url, content_type="application/json", data="{}")


def snapshot(t: Tenant, as_school):
    rows = []
    for school in (t.school, t.sibling):
        with as_school(school):
            rows += list(Pupil.objects.order_by("pk").values())
    return rows


@pytest.mark.parametrize("role", ROLES)
def test_routes_with_ids_answer_404_for_another_tenants_objects(client, tenant, other, role, as_school):
    user = tenant.users[role]
    sign_in(client, user, tenant.memberships[role])
    own = target_of(tenant, membership=tenant.memberships[role])
    targets = [("other LA", target_of(other, membership=other.memberships[role]))]
    if role in SCHOOL_ROLES:
        targets.append(("sibling school", target_of(tenant, sibling=True)))
    before = snapshot(other, as_school)
    failures = []
    for name, _pattern, _ in all_routes():
        if name not in ROUTES:
            continue
        route = ROUTES[name]
        methods = ["GET", "POST"] + (["PUT", "PATCH", "DELETE"] if route.api_writes else [])
        for method in methods:
            own_response = request(client, name, route, own, method)
            for label, target in targets:
                response = request(client, name, route, target, method)
                if response is None:
                    continue
                allowed = {404}
                if method == "POST" and route.body_ids:
                    allowed = {400}  # an id in a body, not the address (SECURITY.md 2)
                if own_response is not None and own_response.status_code in (403, 405):
                    allowed.add(own_response.status_code)  # a role or method rule, same for any id
                if response.status_code not in allowed:
                    failures.append(f"{method} {name} ({label}): {response.status_code}, expected {allowed}")
                body = response.content.decode(errors="replace")
                leaked = [m for m in target.markers if m in body]
                if leaked:
                    failures.append(f"{method} {name} ({label}): body shows {leaked}")
    assert failures == []
    assert snapshot(other, as_school) == before


@pytest.mark.parametrize("role", ROLES)
def test_pages_and_lists_show_nothing_of_another_tenant(client, tenant, other, role):
    sign_in(client, tenant.users[role], tenant.memberships[role])
    forbidden = [other.marker]
    if role in SCHOOL_ROLES:
        forbidden += [p.last_name for p in tenant.sibling_pupils + tenant.neighbour_pupils]
    else:
        forbidden += tenant.pupil_names()  # no identifiable pupils outside a school
    if role not in (Role.LA_OFFICER, Role.LA_ADMIN):
        forbidden.append(tenant.neighbour.name)  # another partnership's school
    failures = []
    for name, pattern, conv in all_routes():
        # Routes with ids in the address are the test above's; a list whose POST names ids in
        # its body (registered there for that POST) is still read here.
        if conv or exempt(name, pattern) or "<" in pattern:
            continue
        if name in ROUTES and ROUTES[name].kwargs is not None:
            continue
        url = reverse(name)
        for method, response in (("GET", client.get(url)), ("POST", client.post(url, {"q": "Pupil"}))):
            if response.status_code >= 500:
                failures.append(f"{method} {url}: {response.status_code}")
            body = response.content.decode(errors="replace")
            leaked = [m for m in forbidden if m in body]
            if leaked:
                failures.append(f"{method} {url}: shows {leaked}")
    assert failures == []


@pytest.mark.parametrize("role", [Role.PARTNERSHIP_LEAD.value, Role.LA_OFFICER.value, Role.LA_ADMIN.value])
def test_aggregate_roles_get_403_from_pupil_routes(client, tenant, role):
    sign_in(client, tenant.users[role], tenant.memberships[role])
    for url in (
        "/pupils/",
        f"/pupils/{tenant.pupils[0].pk}/",
        "/api/v1/pupils/",
        f"/api/v1/pupils/{tenant.pupils[0].pk}/",
    ):
        assert client.get(url).status_code == 403, url


def test_denied_lookups_are_audited(client, tenant, other, as_school):
    sign_in(client, tenant.users["senco"])
    assert client.get(f"/pupils/{other.pupils[0].pk}/").status_code == 404
    with as_school(tenant.school):
        denied = AuditEvent.objects.filter(action=AuditEvent.Action.DENIED, object_type="pupils.pupil")
        assert [(e.object_id, e.user_id) for e in denied] == [
            (str(other.pupils[0].pk), tenant.users["senco"].pk)
        ]


def test_api_membership_header_for_someone_elses_membership_is_refused(client, tenant, other):
    sign_in(client, tenant.users["senco"])
    response = client.get("/api/v1/pupils/", HTTP_X_MEMBERSHIP_ID=str(other.memberships["senco"].pk))
    assert response.status_code == 403
    assert other.marker not in response.content.decode()


def test_scope_for_one_school_is_what_the_sweep_assumes(tenant):
    # Guard for the sweep's own premise: a school scope holds that school alone.
    assert TenantScope.for_school(tenant.school.pk).read_school == frozenset({tenant.school.pk})


def test_practitioner_cannot_open_pupils_outside_their_groups(client, tenant):
    # Until groups exist a practitioner runs none, so every pupil is out of reach.
    sign_in(client, tenant.users["practitioner"])
    assert client.get(f"/pupils/{tenant.pupils[0].pk}/").status_code == 404
    assert client.get(f"/api/v1/pupils/{tenant.pupils[0].pk}/").status_code == 404
