"""Fuzzing the API from its own OpenAPI schema (SECURITY.md 28), once per role.

Schemathesis reads /api/v1/schema/ from the app and sends generated requests, valid and
invalid, to every operation, in process through WSGI, so the whole stack runs: token
sign-in, two-factor, the app database role, the tenant scope and row-level security.
Each caller is checked for:
- no 5xx, whatever the input;
- answers the schema describes (status code, content type, body);
- nothing outside the caller's scope in any body: not another LA's names, UPNs or row ids,
  nor (for a SENCO) the sibling school's pupils, nor (for a partnership lead, who sees
  figures only) any pupil at all.

Two roles with very different reach are fuzzed: a SENCO (one school, pupil-level) and a
partnership lead (a partnership, aggregates only, two-factor required, so its token is
earned with a TOTP code). Half the time the ids in a path or a filter, and the text of a
search, are taken from real rows of both LAs, so the fuzz reaches the caller's own records
(and writes to them) and aims at the other LA's, instead of only at ids that exist nowhere.

The run is bounded for CI: a few examples per operation and mode, no deadline, a fixed seed,
no shrinking and no example database, so a failure is the same on every machine.

Every operation is fuzzed. The one that needs care is DELETE /auth/token/current/: it would
revoke the token the rest of the run signs in with, so it is sent a spare token instead.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from dataclasses import dataclass, field

import hypothesis
import hypothesis.errors
import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from werkzeug.test import Client

from schools import tokens
from schools.models import Role, User
from tests.conftest import Tenant
from tests.test_signin import code_for

# Examples per operation and per mode (valid, then invalid input), and the seed: CI's bound
# and CI's seed. For a longer hunt on a developer's machine, set API_FUZZ_EXAMPLES (25 takes
# about 15 minutes) and another API_FUZZ_SEED.
MAX_EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "3"))
SEED = int(os.environ.get("API_FUZZ_SEED", "28"))  # 28: the SECURITY.md item
ROLES = [Role.SENCO.value, Role.PARTNERSHIP_LEAD.value]
PASSWORD = "correct horse battery staple"  # tests/factories.py
REVOKE_TOKEN = "DELETE /api/v1/auth/token/current/"


@pytest.fixture
def wsgi_app(settings):
    """Django's WSGI handler, kept inside the test's transaction.

    A real handler closes "obsolete" connections when a request starts and ends; inside the
    test's transaction that would throw the transaction away, so (as Django's test client
    does) those two hooks are off while the test runs. Every request of a test that uses
    this goes through it: Django's test client would switch the hooks back on.
    """
    # The WSGI client sends Host: localhost; tests otherwise allow only "testserver".
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost"]
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


# --- the world: both LAs with one record of each kind, made as the app makes them -----------


@dataclass
class World:
    """Row ids of each kind, named by the API's path segment, split by whose they are."""

    own: dict[str, list[int]]  # the fuzzed roles' LA: their school, partnership and LA
    sibling: dict[str, list[int]]  # the sibling school's pupil-level rows
    other: dict[str, list[int]]  # the other LA's
    names: list[str] = field(default_factory=list)  # pupils' surnames, to search for

    def pool(self, family: str) -> list[int]:
        return sorted({*self.own.get(family, []), *self.sibling.get(family, []), *self.other.get(family, [])})


def _records(t: Tenant, *, sibling: bool = False) -> dict[str, list[int]]:
    """One of every record the API serves for a tenant's school (or its sibling school),
    made by the helpers the isolation sweep uses, which call the app's services."""
    from tests import sweep_routes as sweep
    from tests.test_isolation_sweep import target_of

    target = target_of(t, sibling=sibling, membership=None if sibling else t.memberships["senco"])
    interventions = sweep._intervention_ids(target)
    ids = {
        "pupils": [p.pk for p in target.pupils],
        "steps": [sweep._placement_id(target)],
        "support-plans": [sweep._plan_id(target)],
        "observations": [sweep._observation_id(target)],
        "provisions": [interventions["provision"]],
        "groups": [interventions["group"]],
        "enrolments": [interventions["enrolment"]],
        "sessions": [interventions["session"]],
    }
    if sibling:
        return ids
    budget = sweep._budget_ids(target)
    lead = target_of(t, membership=t.memberships["partnership_lead"])
    return ids | {
        "frameworks": [sweep._framework_id(target)],
        "budgets": [budget["budget"]],
        "spend": [budget["item"]],
        "placements": [sweep._provision_placement(target)["pk"]],
        "transfers": [sweep._transfer_id(target)],
        "reports": [sweep._report_id(target), sweep._report_id(lead)],
        "schools": [t.school.pk, t.sibling.pk, t.neighbour.pk],
        "partnerships": [t.partnership.pk, t.neighbour.partnership_id],
    }


@pytest.fixture
def world(tenant, other) -> World:
    return World(
        own=_records(tenant),
        sibling=_records(tenant, sibling=True),
        other=_records(other),
        names=[other.marker, *tenant.pupil_names(), *other.pupil_names()],
    )


# The pool a path parameter draws from is the path's first segment ("pupils", "groups"…),
# except for these; and the pools of the filters that name rows.
PATH_POOLS = {"placement_id": "steps", "item_id": "spend"}
QUERY_POOLS = {"school": "schools", "pupil": "pupils", "group": "groups", "provision": "provisions"}


def _family(path: str) -> str:
    return path.removeprefix("/api/v1/").split("/")[0]


def _with_real_values(strategy, real: dict):
    """About half the time the generated values with these ones put in, else as generated:
    rows of either LA. Which examples get them depends on the generator, so `own_example`
    adds one read of the caller's own rows to every operation that reads one."""
    if not real:
        return strategy

    def merge(pair):
        generated, chosen = pair
        return {**generated, **chosen} if isinstance(generated, dict) else generated

    return st.one_of(st.tuples(strategy, st.fixed_dictionaries(real)).map(merge), strategy)


def load_schema(wsgi_app, world: World):
    """The schema as the app serves it, with generation steered towards real rows."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", wsgi_app)

    def before_generate_path_parameters(context, strategy):
        operation = context.operation
        real = {
            p.name: st.sampled_from(world.pool(PATH_POOLS.get(p.name, _family(operation.path))) or [0])
            for p in operation.path_parameters
        }
        return _with_real_values(strategy, real)

    def before_generate_query(context, strategy):
        real = {}
        for p in context.operation.query:
            if p.name in QUERY_POOLS:
                real[p.name] = st.sampled_from(world.pool(QUERY_POOLS[p.name]))
            elif p.name == "search":
                real[p.name] = st.sampled_from(world.names)
        return _with_real_values(strategy, real)

    def before_generate_body(context, strategy):
        if context.operation.label != "POST /api/v1/pupils/search/":
            return strategy
        return _with_real_values(strategy, {"q": st.sampled_from(world.names)})

    for hook in (before_generate_path_parameters, before_generate_query, before_generate_body):
        schema.hook(hook)
    return schema


# --- the callers and what they must never see --------------------------------------------------


@dataclass
class Caller:
    """One fuzzed role: its token, what must never reach it, and what the run did."""

    role: str
    user_id: int
    token: str
    forbidden_text: list[str]
    forbidden_ids: dict[str, set[int]]  # by kind ("pupils", "schools"…)
    counts: Counter = field(default_factory=Counter)  # cases sent, by operation
    statuses: Counter = field(default_factory=Counter)  # answers, by class (2 for 2xx…)
    reached: Counter = field(default_factory=Counter)  # 2xx answers about a row named in the path

    def spare_token(self) -> str:
        return tokens.issue(User.objects.get(pk=self.user_id), two_factor_verified=True)


def sign_in_to_api(app, user: User) -> str:
    """A token as the API's users get one: username, password and, where the role needs
    two-factor, the current TOTP code."""
    body = {"username": user.username, "password": PASSWORD}
    device = user.totpdevice_set.filter(confirmed=True).first()
    if device is not None:
        body["otp"] = code_for(device)
    response = Client(app).post("/api/v1/auth/token/", json=body)
    assert response.status_code == 200, response.text
    return response.json["token"]


def make_caller(role: str, tenant: Tenant, other: Tenant, world: World, app) -> Caller:
    user = tenant.users[role]
    outsiders = tenant.sibling_pupils + tenant.neighbour_pupils
    if role == Role.PARTNERSHIP_LEAD.value:
        outsiders = tenant.pupils + outsiders  # figures only: no pupil is theirs to see
    forbidden_text = [
        other.marker,  # in every name of the other LA: council, schools, pupils
        *[p.upn for p in other.pupils + other.sibling_pupils + other.neighbour_pupils],
        tenant.neighbour.name,  # a school of another partnership
        *[p.last_name for p in outsiders],
        *[p.upn for p in outsiders],
    ]
    forbidden_ids = {family: set(ids) for family, ids in world.other.items()}
    for family, ids in world.sibling.items():
        forbidden_ids.setdefault(family, set()).update(ids)
    forbidden_ids["pupils"].update(p.pk for p in outsiders)
    forbidden_ids["schools"].add(tenant.neighbour.pk)
    forbidden_ids["partnerships"].add(tenant.neighbour.partnership_id)
    return Caller(role, user.pk, sign_in_to_api(app, user), forbidden_text, forbidden_ids)


# Keys in a response body whose value is the id of a row of a kind.
ID_KEYS = {
    "pupil": "pupils",
    "pupil_id": "pupils",
    "school": "schools",
    "school_id": "schools",
    "host_school": "schools",
    "from_school": "schools",
    "to_school": "schools",
    "partnership": "partnerships",
    "partnership_id": "partnerships",
    "plan": "support-plans",
    "group": "groups",
    "budget": "budgets",
}


def _walk(value, key: str | None = None):
    """Every (key, scalar) pair in a JSON document; list items keep their list's key."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _walk(v, k)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item, key)
    else:
        yield key, value


def scope_check_for(caller: Caller):
    def only_the_callers_rows(ctx, response, case) -> None:
        """Nothing outside the caller's scope, in a list, a record or an error message: no
        name or UPN, no row of the operation's own kind, no id of a kind under a key that
        names one."""
        text = response.text or ""
        shown = [marker for marker in caller.forbidden_text if marker in text]
        assert not shown, f"{case.operation.label} showed {shown}, outside a {caller.role}'s scope"
        try:
            body = json.loads(text)
        except ValueError:
            return
        family = _family(case.operation.path)
        out_of_scope = caller.forbidden_ids.get(family, set())
        records = body.get("results", [body]) if isinstance(body, dict) else body
        for record in records if isinstance(records, list) else []:
            if isinstance(record, dict) and record.get("id") in out_of_scope:
                raise AssertionError(f"{case.operation.label} returned {family} row {record['id']}")
        for key, value in _walk(body):
            kind = ID_KEYS.get(key or "")
            if kind and isinstance(value, int) and value in caller.forbidden_ids.get(kind, set()):
                raise AssertionError(f"{case.operation.label} named {kind} row {value} as {key!r}")

    return only_the_callers_rows


# --- the fuzz ---------------------------------------------------------------------------------


def _takes_input(operation) -> bool:
    return any(len(part) for part in (operation.path_parameters, operation.query, operation.body))


def own_example(operation, world: World):
    """A read of the caller's own first row of each kind in the path, for an operation that
    reads one: sent before the generated cases, so every such read is tried with a row the
    caller may see, whatever the generator picks."""
    if operation.method.upper() != "GET" or not operation.path_parameters:
        return None
    ids = {}
    for p in operation.path_parameters:
        pool = world.own.get(PATH_POOLS.get(p.name, _family(operation.path)))
        if not pool:
            return None
        ids[p.name] = pool[0]
    return operation.Case(path_parameters=ids)


def fuzz(schema, caller: Caller, world: World) -> list[str]:
    """Every operation, with valid and then invalid input; what failed, one entry per
    operation and mode (the first failing example, with a curl line to repeat it)."""
    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
        scope_check_for(caller),
    ]
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        modes = [GenerationMode.POSITIVE]
        if _takes_input(operation):
            modes.append(GenerationMode.NEGATIVE)  # with no input, nothing can be made invalid
        for mode in modes:
            own = own_example(operation, world) if mode is GenerationMode.POSITIVE else None

            @hypothesis.seed(SEED)
            @hypothesis.settings(
                max_examples=MAX_EXAMPLES,
                derandomize=True,
                deadline=None,
                database=None,
                # the caller's own rows first, then generated cases; no shrinking: the first
                # failure will do
                phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
                suppress_health_check=list(hypothesis.HealthCheck),
            )
            @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
            def exercise(case):
                token = caller.spare_token() if case.operation.label == REVOKE_TOKEN else caller.token
                caller.counts[case.operation.label] += 1
                response = case.call(headers={"Authorization": f"Token {token}"})
                caller.statuses[response.status_code // 100] += 1
                if response.status_code < 300 and case.path_parameters:
                    caller.reached[case.operation.label] += 1
                case.validate_response(response, checks=checks)

            if own is not None:
                exercise = hypothesis.example(case=own)(exercise)
            try:
                exercise()
            except (Exception, FailureGroup) as exc:  # FailureGroup is a BaseExceptionGroup
                failures.append(f"{operation.label} [{mode.value}]: {exc}")
    return failures


# Operations a role must have reached with its own rows: proof the fuzz got past the 404s.
MUST_REACH = {
    Role.SENCO.value: {
        "GET /api/v1/pupils/{id}/",
        "GET /api/v1/support-plans/{id}/",
        "GET /api/v1/groups/{id}/",
    },
    Role.PARTNERSHIP_LEAD.value: {"GET /api/v1/budgets/{id}/"},
}


@pytest.mark.parametrize("role", ROLES)
def test_api_fuzz(role, tenant, other, world, wsgi_app):
    caller = make_caller(role, tenant, other, world, wsgi_app)
    schema = load_schema(wsgi_app, world)
    started = time.monotonic()
    failures = fuzz(schema, caller, world)
    print(
        f"\n{role}: {len(caller.counts)} operations, {sum(caller.counts.values())} cases"
        f" in {time.monotonic() - started:.0f} s; answers by class {dict(sorted(caller.statuses.items()))};"
        f" {len(caller.reached)} operations answered 2xx about a row in their path"
    )
    assert failures == [], "\n\n".join(failures)
    assert len(caller.counts) == len(list(schema.get_all_operations()))
    assert MUST_REACH[role] <= set(caller.reached)


# --- regression tests for what the fuzz found ---------------------------------------------------


def _conforms(schema, method: str, path: str, response, caller: Caller | None = None, **ids) -> None:
    """The answer is one the schema describes (and, given a caller, inside its scope)."""
    checks = [status_code_conformance, content_type_conformance, response_schema_conformance]
    if caller is not None:
        checks.append(scope_check_for(caller))
    case = schema[path][method].Case(path_parameters=ids)
    case.validate_response(response, checks=checks)


def test_unset_choices_are_in_the_schema(tenant, other, world, wsgi_app):
    """A group for the whole year (term ""), a provision with no measure, a placement not yet
    ended (exit_outcome ""): the schema listed only the set values, so these bodies broke it."""
    caller = make_caller(Role.SENCO.value, tenant, other, world, wsgi_app)
    schema = load_schema(wsgi_app, world)
    client = Client(wsgi_app)
    auth = {"Authorization": f"Token {caller.token}"}
    for path, family, field_name in (
        ("/api/v1/groups/{id}/", "groups", "term"),
        ("/api/v1/provisions/{id}/", "provisions", "measure"),
        ("/api/v1/placements/{id}/", "placements", "exit_outcome"),
    ):
        pk = world.own[family][0]
        response = client.get(path.format(id=pk), headers=auth)
        assert response.status_code == 200
        assert response.json[field_name] == ""
        _conforms(schema, "GET", path, response, caller, id=pk)


def test_shared_error_answers_are_in_the_schema(tenant, other, world, wsgi_app):
    """The answers the middleware and DRF give before a view runs (401, 403, 404, 400) were
    missing from nearly every operation; each one here is now described."""
    senco = make_caller(Role.SENCO.value, tenant, other, world, wsgi_app)
    schema = load_schema(wsgi_app, world)
    client = Client(wsgi_app)
    auth = {"Authorization": f"Token {senco.token}"}

    no_token = client.get("/api/v1/pupils/")
    assert no_token.status_code == 401
    _conforms(schema, "GET", "/api/v1/pupils/", no_token)

    not_for_a_senco = client.get("/api/v1/budgets/", headers=auth)
    assert not_for_a_senco.status_code == 403
    _conforms(schema, "GET", "/api/v1/budgets/", not_for_a_senco, senco)

    another_las_pupil = client.get(f"/api/v1/pupils/{other.pupils[0].pk}/", headers=auth)
    assert another_las_pupil.status_code == 404
    _conforms(schema, "GET", "/api/v1/pupils/{id}/", another_las_pupil, senco, id=other.pupils[0].pk)

    past_the_last_page = client.get("/api/v1/behaviour-provisions/?page=999", headers=auth)
    assert past_the_last_page.status_code == 404
    _conforms(schema, "GET", "/api/v1/behaviour-provisions/", past_the_last_page, senco)

    bad_filter = client.get("/api/v1/groups/?term=winter", headers=auth)
    assert bad_filter.status_code == 400
    _conforms(schema, "GET", "/api/v1/groups/", bad_filter, senco)

    # Found by a longer run (API_FUZZ_EXAMPLES=20, API_FUZZ_SEED=7): a body of a type the
    # operation does not read.
    plain_text = client.post(
        "/api/v1/pupils/search/", data="q=Alpha", headers=auth | {"Content-Type": "text/plain"}
    )
    assert plain_text.status_code == 415
    _conforms(schema, "POST", "/api/v1/pupils/search/", plain_text, senco)

    # The import's 400 was described as a file preview only; a request without a file is a
    # field error instead.
    no_file = client.post("/api/v1/pupils/import/", data={"commit": "false"}, headers=auth)
    assert no_file.status_code == 400
    assert "file" in no_file.json
    _conforms(schema, "POST", "/api/v1/pupils/import/", no_file, senco)


def test_a_refused_action_is_in_the_schema(tenant, other, world, wsgi_app):
    """Approving a spend item twice is refused with a 400 that the schema did not describe
    (found by a longer run, API_FUZZ_EXAMPLES=25): an action without a body can still be
    refused by its service."""
    lead = make_caller(Role.PARTNERSHIP_LEAD.value, tenant, other, world, wsgi_app)
    schema = load_schema(wsgi_app, world)
    client = Client(wsgi_app)
    path = "/api/v1/budgets/{id}/spend/{item_id}/approve/"
    ids = {"id": world.own["budgets"][0], "item_id": world.own["spend"][0]}
    auth = {"Authorization": f"Token {lead.token}"}
    assert client.post(path.format(**ids), headers=auth).status_code == 200
    again = client.post(path.format(**ids), headers=auth)
    assert again.status_code == 400
    assert "already approved" in again.text
    _conforms(schema, "POST", path, again, lead, **ids)


def test_scope_check_sees_a_leak(tenant, other, world, wsgi_app):
    """The custom check is only worth something if it fails on a leak: told that the SENCO's
    own school and pupils were out of scope, it must object to their own lists."""
    caller = make_caller(Role.SENCO.value, tenant, other, world, wsgi_app)
    schema = load_schema(wsgi_app, world)
    client = Client(wsgi_app)
    auth = {"Authorization": f"Token {caller.token}"}
    check = scope_check_for(caller)
    pupils = client.get("/api/v1/pupils/", headers=auth)
    case = schema["/api/v1/pupils/"]["GET"].Case()
    check(None, pupils, case)  # their own pupils: nothing to object to

    by_name = Caller(caller.role, caller.user_id, caller.token, [tenant.pupils[0].last_name], {})
    with pytest.raises(AssertionError, match="outside"):
        scope_check_for(by_name)(None, pupils, case)

    by_id = Caller(caller.role, caller.user_id, caller.token, [], {"pupils": {tenant.pupils[0].pk}})
    with pytest.raises(AssertionError, match="pupils row"):
        scope_check_for(by_id)(None, pupils, case)
