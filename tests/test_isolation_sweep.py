"""The isolation sweep (SECURITY.md 1–5): every route, every role, another tenant's objects.

Each route from the resolver is requested by every role of tenant Alpha:
- with Zulu's (another LA's) ids, and for school roles with their sibling school's ids:
  the answer is 404, or 403 only where the role is refused the route even for its own
  objects (a role rule that reveals nothing); never another tenant's data in the body;
- without ids (lists, pages): no other tenant's markers in the body;
- writes naming another tenant's ids change nothing; an id in a POST body (not the address)
  answers 400 (SECURITY.md 2);
- every GET aimed at another tenant is made again as htmx would make it (`HX-Request`), since
  several views answer those with a fragment of their own;
- a write to the caller's own object (or list) with another tenant's id in its body answers
  400, or leaves a tenant field it does not take alone: the caller's rows keep their keys, and
  no row of the other tenant changes at all.
"""

from __future__ import annotations

import json
import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from schools.models import AuditEvent, Role
from schools.tenancy import TenantScope
from tests.conftest import Tenant, sign_in
from tests.sweep_routes import EXEMPT, ROUTES, Route, Target, tenant_rows

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


HX = {"HX-Request": "true"}  # what htmx sends with every request it makes


def request(client, name: str, route: Route, target: Target, method: str, *, htmx: bool = False) -> list:
    """The route's request aimed at the target, as (how, response) pairs: none when the route
    has nothing to aim at there; with `htmx`, the same request again as htmx sends it (the
    address built once)."""
    if route.kwargs is None and method != "POST":
        # Only its body names the target (an API list's POST): its other methods aim at
        # nothing, and test_pages_and_lists_show_nothing_of_another_tenant covers its GET.
        return []
    kwargs = route.kwargs(target) if route.kwargs else {}
    if kwargs is None:
        return []
    url = reverse(name, kwargs=kwargs)
    if method == "POST" and route.post:
        body = route.post(target)
        if body is None:
            return []

        def send(headers):
            return client.post(url, body, headers=headers)
    else:

        def send(headers):
            return client.generic(method, url, content_type="application/json", data="{}", headers=headers)

    answers = [("", send(None))]
    if htmx:
        answers.append((", htmx", send(HX)))
    return answers


def make_everything(targets: list[tuple[str, Target]], own: Target) -> None:
    """Every builder once for each target, so the rows the sweep aims at exist before the
    target's rows are read, and any change after that is the sweep's requests'."""
    for route in ROUTES.values():
        for _, target in targets:
            for build in (route.kwargs, route.post):
                if build is not None:
                    build(target)
            if route.patch is not None:
                route.patch(own, target)


def body_methods(route: Route) -> tuple[str, ...]:
    """The methods `Route.patch` bodies go with: an API object's PUT and PATCH, else POST."""
    return ("PUT", "PATCH") if route.api_writes else ("POST",)


def foreign_bodies(client, name: str, route: Route, own: Target, target: Target, method: str):
    """The route's bodies naming the target's ids, each sent to the caller's own address."""
    kwargs = route.kwargs(own) if route.kwargs else {}
    if kwargs is None:
        return
    url = reverse(name, kwargs=kwargs)
    for foreign in route.patch(own, target):
        body = json.dumps(foreign.body)
        yield foreign, client.generic(method, url, data=body, content_type="application/json")


def check_foreign_bodies(client, name, route, own, own_response, targets, method, own_la) -> list[str]:
    """SECURITY.md 2 for one route and method: each body naming a target's id is a 400 naming
    that field (or the role's own refusal, whatever the body), or for a key the write does not
    take a 2xx; the caller's rows keep their keys; no marker shows."""
    failures = []
    refused = own_response is not None and own_response.status_code in (403, 404, 405)
    before = None if refused else tenant_rows(own_la, keys_only=True)
    for label, target in targets:
        for foreign, response in foreign_bodies(client, name, route, own, target, method):
            where = f"{method} {name} ({label}, {foreign.field} in the body)"
            status = response.status_code
            if refused:
                ok = status == own_response.status_code  # refused before the body is read
            elif foreign.field in route.ignores:
                ok = status == 400 or 200 <= status < 300
            else:
                # A 400 that names the field, not one for a missing field or a closed plan.
                ok = status == 400 and foreign.field in response.json()
            if not ok:
                failures.append(f"{where}: {status} {response.content.decode(errors='replace')[:200]}")
            body = response.content.decode(errors="replace")
            leaked = [m for m in target.markers if m in body]
            if leaked:
                failures.append(f"{where}: body shows {leaked}")
    if before is not None and tenant_rows(own_la, keys_only=True) != before:
        failures.append(f"{method} {name} (ids in the body): the caller's rows moved")
    return failures


@pytest.mark.parametrize("role", ROLES)
def test_routes_with_ids_answer_404_for_another_tenants_objects(client, tenant, other, role):
    user = tenant.users[role]
    sign_in(client, user, tenant.memberships[role])
    own = target_of(tenant, membership=tenant.memberships[role])
    targets = [("other LA", target_of(other, membership=other.memberships[role]))]
    if role in SCHOOL_ROLES:
        targets.append(("sibling school", target_of(tenant, sibling=True)))
    make_everything(targets, own)
    before = tenant_rows(other.la.pk)
    sibling_before = tenant_rows(tenant.la.pk, schools=[tenant.sibling.pk]) if role in SCHOOL_ROLES else None
    failures = []
    for name, _pattern, _ in all_routes():
        if name not in ROUTES:
            continue
        route = ROUTES[name]
        methods = ["GET", "POST"] + (["PUT", "PATCH", "DELETE"] if route.api_writes else [])
        for method in methods:
            own_answers = request(client, name, route, own, method)
            own_response = own_answers[0][1] if own_answers else None
            for label, target in targets:
                # htmx's GETs too: several views answer them with a fragment of their own.
                for how, response in request(client, name, route, target, method, htmx=method == "GET"):
                    allowed = {404}
                    if method == "POST" and route.body_ids:
                        allowed = {400}  # an id in a body, not the address (SECURITY.md 2)
                    if own_response is not None and own_response.status_code in (403, 405):
                        allowed.add(own_response.status_code)  # a role or method rule, same for any id
                    if response.status_code not in allowed:
                        failures.append(
                            f"{method} {name} ({label}{how}): {response.status_code}, expected {allowed}"
                        )
                    body = response.content.decode(errors="replace")
                    leaked = [m for m in target.markers if m in body]
                    if leaked:
                        failures.append(f"{method} {name} ({label}{how}): body shows {leaked}")
            if route.patch is not None and method in body_methods(route):
                failures += check_foreign_bodies(
                    client, name, route, own, own_response, targets, method, tenant.la.pk
                )
    assert failures == []
    assert tenant_rows(other.la.pk) == before
    if sibling_before is not None:
        assert tenant_rows(tenant.la.pk, schools=[tenant.sibling.pk]) == sibling_before


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
        tries = (
            ("GET", client.get(url)),
            ("GET (htmx)", client.get(url, headers=HX)),
            ("POST", client.post(url, {"q": "Pupil"})),
        )
        for method, response in tries:
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
