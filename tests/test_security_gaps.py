"""SECURITY.md promises that had no test of their own, or only part of one.

- 12, route by route: every read of pupil data, through every browser page, fragment, export
  and API route the isolation sweep knows, writes exactly one audit row naming who, which
  membership, which tenant and when; every refusal writes exactly one `denied` row.
- 22, with real content: a report too big for WeasyPrint to lay out in time, built by a real
  Celery worker, is stopped by the soft time limit and failed, with no PDF kept.
- 29, the throttles: over its rate the API answers 429 with Retry-After and a JSON body,
  never a 5xx, for session and token callers and for a burst of report requests; the token
  exchange has its own rate; the browser's report requests and sign-in floods never 5xx.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from types import SimpleNamespace

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from pupils.models import AssessmentScore, Pupil
from reports.models import ReportRequest
from reports.services import request_report
from schools.models import AuditEvent, School
from schools.scopes import scope_for_membership
from schools.tenancy import TenantScope, tenant_scope
from tests.conftest import Tenant, sign_in
from tests.sweep_routes import EXEMPT, ROUTES, Target
from tests.test_isolation_sweep import HX, SCHOOL_ROLES, all_routes, exempt, make_everything, target_of
from tests.test_report_tasks import (  # noqa: F401  (alpha, media, stand_in_builder, workers: fixtures)
    alpha,
    load,
    media,
    stand_in_builder,
    wait_finished,
    workers,
)

Action = AuditEvent.Action
READS = {Action.VIEW, Action.LIST, Action.SEARCH, Action.EXPORT, Action.PRINT, Action.DOWNLOAD}

# --- SECURITY.md 12: one audit row per read, route by route -------------------------------------


def audit_rows(*tenants: Tenant) -> list[AuditEvent]:
    """Every audit row of the tenants' LAs, whichever school (or none) it names, so a row
    written against the wrong tenant or twice is seen too."""
    schools = list(
        School.objects.filter(local_authority__in=[t.la for t in tenants]).values_list("pk", flat=True)
    )
    scope = TenantScope.system(schools=schools, local_authorities=[t.la.pk for t in tenants])
    with transaction.atomic(), tenant_scope(scope):
        return list(AuditEvent._base_manager.order_by("id"))


def own_markers(t: Tenant) -> list[str]:
    """Text that shows a page holds one of the school's pupils: names and UPNs (the UPNs of
    pupils the sweep's builders made too)."""
    with transaction.atomic(), tenant_scope(TenantScope.for_school(t.school.pk)):
        upns = list(Pupil.objects.filter(school=t.school).values_list("upn", flat=True))
    return [p.last_name for p in t.pupils] + upns


def body_text(response) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if "spreadsheetml" in response.get("Content-Type", ""):
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(content), read_only=True)
        return "\n".join(
            str(cell)
            for sheet in book.worksheets
            for row in sheet.iter_rows(values_only=True)
            for cell in row
        )
    return content.decode(errors="replace")


def names_a_pupil(data) -> bool:
    """JSON that carries a pupil: a `pupil` id, a UPN, or a list of pupils."""
    if isinstance(data, dict):
        for key, value in data.items():
            if key in ("pupil", "upn") and value not in (None, ""):
                return True
            if key == "pupils" and isinstance(value, list) and value:
                return True
            if names_a_pupil(value):
                return True
    elif isinstance(data, list):
        return any(names_a_pupil(item) for item in data)
    return False


def shows_pupil_data(url: str, response, t: Tenant, markers: list[str]) -> bool:
    if any(f"/pupils/{p.pk}/" in url for p in t.pupils):
        return True  # an address about one pupil: whatever it answers is about them
    text = body_text(response)
    if any(m in text for m in markers):
        return True
    if response.get("Content-Type", "").startswith("application/json"):
        return names_a_pupil(json.loads(text))
    return False


def own_requests(own: Target):
    """(route name, url) for each route the sweep knows, aimed at the caller's own objects;
    routes without ids (lists, exports, dashboards) as they are."""
    for name, pattern, conv in all_routes():
        if exempt(name, pattern):
            continue
        route = ROUTES.get(name)
        if route is not None and route.kwargs is not None:
            kwargs = route.kwargs(own)
            if kwargs is None:
                continue
        elif conv or "<" in pattern:
            continue  # EXEMPT, or registered for its body only
        else:
            kwargs = {}
        yield name, reverse(name, kwargs=kwargs)


def check_row(row: AuditEvent, t: Tenant, role: str, path: str, started: dt.datetime) -> list[str]:
    """The row names who, which membership, which tenant and when."""
    membership = t.memberships[role]
    wanted = (t.users[role].pk, membership.pk, role, t.school.pk, t.la.pk, path)
    got = (row.user_id, row.membership_id, row.role, row.school_id, row.local_authority_id, row.path)
    problems = [] if got == wanted else [f"row names {got}, expected {wanted}"]
    if not (row.at.tzinfo is not None and row.at.utcoffset() == dt.timedelta(0) and row.at >= started):
        problems.append(f"row time {row.at!r} is not a UTC time from this request")
    return problems


def test_every_read_of_pupil_data_writes_exactly_one_audit_row(client, tenant):
    """As the SENCO, every route the isolation sweep knows is read (and read again as htmx
    reads it) on the school's own objects: a read showing pupil data writes one audit row,
    a refusal one `denied` row, and nothing writes two."""
    role = "senco"
    sign_in(client, tenant.users[role], tenant.memberships[role])
    own = target_of(tenant, membership=tenant.memberships[role])
    make_everything([("own", own)], own)
    markers = own_markers(tenant)
    failures, pupil_routes = [], set()
    for name, url in own_requests(own):
        for how, headers in (("", None), (" (htmx)", HX)):
            before = len(audit_rows(tenant))
            started = timezone.now()
            response = client.get(url, headers=headers)
            new = audit_rows(tenant)[before:]
            where = f"GET {name}{how} {response.status_code}"
            if response.status_code >= 500:
                failures.append(f"{where}: server error")
            elif response.status_code == 403:
                if [r.action for r in new] != [Action.DENIED]:
                    failures.append(f"{where}: wrote {[r.action for r in new]}, expected one denied row")
            elif 200 <= response.status_code < 300 and shows_pupil_data(url, response, tenant, markers):
                pupil_routes.add(name)
                if len(new) != 1 or new[0].action not in READS:
                    failures.append(
                        f"{where}: shows pupil data, wrote {[(r.action, r.object_type) for r in new]}"
                    )
                for row in new:
                    failures += [f"{where}: {p}" for p in check_row(row, tenant, role, url, started)]
            elif len(new) > 1:
                failures.append(f"{where}: wrote {len(new)} rows for one request")
    # Searches carry their text in the body, never in the row.
    needle = tenant.pupils[1].last_name
    for name, url, kwargs in (
        ("pupils:list", "/pupils/", {}),
        ("api:pupil-search", "/api/v1/pupils/search/", {"content_type": "application/json"}),
    ):
        before = len(audit_rows(tenant))
        started = timezone.now()
        response = client.post(url, {"q": needle}, **kwargs)
        new = audit_rows(tenant)[before:]
        assert response.status_code == 200 and needle in response.content.decode(), name
        if [r.action for r in new] != [Action.SEARCH] or needle in json.dumps(new[0].detail):
            failures.append(f"POST {name}: wrote {[(r.action, r.detail) for r in new]}")
        for row in new:
            failures += [f"POST {name}: {p}" for p in check_row(row, tenant, role, url, started)]
    assert failures == []
    # The sweep really met the pupil pages it is about, not an empty set.
    core = {
        "pupils:list",
        "pupils:detail",
        "pupils:print",
        "pupils:export-csv",
        "pupils:export-xlsx",
        "api:pupil-list",
        "api:pupil-detail",
        "api:pupil-outcomes",
        "graduated_response:timeline",
        "graduated_response:plan",
        "interventions:group",
        "placements:detail",
        "provision_map:pupil",
        "reports:pupil",
        "api:observation-detail",
    }
    assert core <= pupil_routes, core - pupil_routes
    assert len(pupil_routes) >= 40


@pytest.mark.parametrize("role", sorted(SCHOOL_ROLES))
def test_every_refused_lookup_of_another_tenants_object_writes_one_denied_row(client, tenant, other, role):
    """Each route with an id, aimed by a school role at another LA's objects and at its
    sibling school's: the 404 (or the role's 403) writes one `denied` row, in the caller's
    own tenant, naming the caller."""
    sign_in(client, tenant.users[role], tenant.memberships[role])
    own = target_of(tenant, membership=tenant.memberships[role])
    targets = [
        ("other LA", target_of(other, membership=other.memberships[role])),
        ("sibling school", target_of(tenant, sibling=True)),
    ]
    make_everything(targets, own)
    failures, refused = [], 0
    for name, pattern, _ in all_routes():
        route = ROUTES.get(name)
        if route is None or route.kwargs is None or exempt(name, pattern):
            continue
        for label, target in targets:
            kwargs = route.kwargs(target)
            if kwargs is None:
                continue
            url = reverse(name, kwargs=kwargs)
            before = len(audit_rows(tenant, other))
            started = timezone.now()
            response = client.get(url)
            new = audit_rows(tenant, other)[before:]
            where = f"GET {name} ({label}) {response.status_code}"
            if response.status_code == 405:
                continue  # a POST-only route: refused before any lookup, nothing to audit
            if response.status_code not in (403, 404):
                failures.append(f"{where}: expected 403 or 404")
                continue
            refused += 1
            if [r.action for r in new] != [Action.DENIED]:
                failures.append(f"{where}: wrote {[r.action for r in new]}, expected one denied row")
            for row in new:
                failures += [f"{where}: {p}" for p in check_row(row, tenant, role, url, started)]
    assert failures == []
    assert refused >= 50  # the sweep aimed at real routes


def test_the_sweep_exempts_no_pupil_route():
    """The audit sweeps above read every route but EXEMPT's: none of those holds pupil data."""
    assert set(EXEMPT) == {"password_reset_confirm", "/admin/"}


# --- SECURITY.md 22: real oversized content, a real worker, the soft time limit ----------------

# Laid out by WeasyPrint at roughly 2 ms a row, a table of this many rows takes far longer
# than the test workers' six-second soft limit (tests/report_worker_settings.py).
HUGE_TABLE_ROWS = 12_000


def test_a_report_too_big_to_lay_out_in_time_is_stopped_and_failed_with_no_pdf(alpha, workers, media):  # noqa: F811
    """A pupil with an absurd number of assessment scores (a runaway import, say): their
    transition record lists every one, so its PDF is a table far too long to lay out. The
    real builder and WeasyPrint run on a real worker until the soft limit stops them."""
    pupil = alpha.pupils[0]
    today = timezone.localdate()
    with transaction.atomic(), tenant_scope(TenantScope.for_school(alpha.school.pk)):
        AssessmentScore.objects.bulk_create(
            AssessmentScore(
                school=alpha.school,
                pupil=pupil,
                measure="sdq_total",
                assessed_on=today - dt.timedelta(days=i % 3000),
                score=i % 40,
            )
            for i in range(HUGE_TABLE_ROWS)
        )
    workers()
    membership = alpha.memberships["senco"]
    asker = SimpleNamespace(membership=membership, user=membership.user, path=f"/pupils/{pupil.pk}/reports/")
    scope = scope_for_membership(membership)
    with transaction.atomic(), tenant_scope(scope):
        pk = request_report(asker, kind="transition_record", scope_type="pupil", scope_id=pupil.pk).pk
    row = wait_finished(alpha, pk, workers, seconds=40)
    assert row.status == ReportRequest.Status.FAILED
    assert row.error == "The report took too long to build and was stopped; ask for it again later."
    # Stopped by the soft limit in the one attempt (its message, above), not killed by the
    # hard limit and handed round again. (How long that took is not asserted: on a loaded
    # machine the pool notices a limit late.)
    assert row.attempts == 1 and row.started_at and row.finished_at
    assert not row.pdf and not row.snapshot and row.pages is None
    assert [p for p in media.rglob("*") if p.is_file()] == []
    # Nothing later picks it up again.
    assert load(alpha, pk).status == ReportRequest.Status.FAILED


# --- SECURITY.md 29: throttled requests get 429, never 500 -------------------------------------

PASSWORD = "correct horse battery staple"  # every factory user's (tests/factories.py)
RATE = 4  # requests a minute each caller may make in these tests


@pytest.fixture
def api_throttle(settings, monkeypatch):
    """The production API throttle, on, at a rate a test can reach. The test settings turn
    it off; APIView and the throttles copied the settings into class attributes on import,
    so those are pointed at the reloaded settings too."""
    from provisionmap import settings as production

    classes = production.REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"]
    assert classes, "production sets no API throttle"
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_CLASSES": classes,
        "DEFAULT_THROTTLE_RATES": {
            **production.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "user": f"{RATE}/minute",
        },
    }
    monkeypatch.setattr(APIView, "throttle_classes", api_settings.DEFAULT_THROTTLE_CLASSES)
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", api_settings.DEFAULT_THROTTLE_RATES)


def assert_throttled(response) -> None:
    assert response.status_code == 429, response.content[:200]
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response["Content-Type"].startswith("application/json")
    assert "throttled" in response.json()["detail"].lower()


def test_the_api_over_its_rate_answers_429_with_retry_after(client, tenant, api_throttle, as_school):
    sign_in(client, tenant.users["senco"], tenant.memberships["senco"])
    answers = [client.get("/api/v1/pupils/") for _ in range(RATE + 3)]
    assert [r.status_code for r in answers] == [200] * RATE + [429] * 3
    for response in answers[RATE:]:
        assert_throttled(response)
    # A refused request read nothing: only the answered ones are in the audit log.
    with as_school(tenant.school):
        assert AuditEvent.objects.filter(action=Action.LIST, object_type="pupils.pupil").count() == RATE
    # Each caller has their own count: the headteacher is still answered.
    client.logout()
    sign_in(client, tenant.users["headteacher"], tenant.memberships["headteacher"])
    assert client.get("/api/v1/pupils/").status_code == 200


def test_a_burst_of_report_requests_by_token_is_throttled_and_none_half_made(
    client, tenant, api_throttle, as_school
):
    user = tenant.users["senco"]
    exchange = client.post("/api/v1/auth/token/", {"username": user.username, "password": PASSWORD})
    auth = {"HTTP_AUTHORIZATION": f"Token {exchange.json()['token']}"}
    body = {"kind": "school_termly", "scope_type": "school", "scope_id": tenant.school.pk, "period": ""}
    answers = [
        client.post("/api/v1/reports/", body, content_type="application/json", **auth)
        for _ in range(RATE + 4)
    ]
    statuses = [r.status_code for r in answers]
    assert statuses == [202] * RATE + [429] * 4
    for response in answers[RATE:]:
        assert_throttled(response)
    with as_school(tenant.school):
        assert ReportRequest.objects.count() == RATE  # each accepted request made one row, no more


def test_the_token_exchange_has_its_own_rate_even_with_the_api_throttle_off(client, tenant):
    """20 a minute from one client (the production rate, live under the test settings too):
    the 21st guess is a 429, not one more password check."""
    answers = [
        client.post("/api/v1/auth/token/", {"username": f"guess-{n}", "password": f"pw-{n}"})
        for n in range(21)
    ]
    assert [r.status_code for r in answers] == [401] * 20 + [429]
    assert_throttled(answers[-1])


def test_a_burst_of_report_requests_past_the_hourly_limit_gets_429_in_the_browser_and_the_api(
    client, tenant, as_school, settings
):
    """REPORT_REQUESTS_PER_HOUR per membership, browser and API together: past it the form
    page, asking again and the API answer 429 with Retry-After and say when to try, nothing
    more is queued, and another membership (and the schedule) is not held up."""
    settings.REPORT_REQUESTS_PER_HOUR = 3
    sign_in(client, tenant.users["senco"], tenant.memberships["senco"])
    ask = {"report": f"school_termly:{tenant.school.pk}", "period": ""}
    statuses = [client.post("/reports/", ask).status_code for _ in range(3)]
    assert statuses == [302, 302, 302]
    refused = client.post("/reports/", ask)
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 3500
    assert b"3 reports in the last hour" in refused.content
    with as_school(tenant.school):
        first = ReportRequest.objects.order_by("pk").first()
    again = client.post(f"/reports/{first.pk}/again/")
    assert again.status_code == 429 and again["Retry-After"]
    token = client.post(
        "/api/v1/auth/token/", {"username": tenant.users["senco"].username, "password": PASSWORD}
    ).json()["token"]
    body = {"kind": "school_termly", "scope_type": "school", "scope_id": tenant.school.pk, "period": ""}
    api = client.post(
        "/api/v1/reports/", body, content_type="application/json", HTTP_AUTHORIZATION=f"Token {token}"
    )
    assert api.status_code == 429 and api["Retry-After"]
    assert "in the last hour" in api.json()["detail"]
    with as_school(tenant.school):
        assert ReportRequest.objects.count() == 3
    # The headteacher's membership has its own allowance.
    sign_in(client, tenant.users["headteacher"], tenant.memberships["headteacher"])
    assert client.post("/reports/", ask).status_code == 302


def test_a_flood_of_sign_ins_from_one_address_is_paused_without_a_server_error(client, tenant, settings):
    """Many accounts, many passwords, one address: past LOGIN_MAX_FAILURES_PER_IP the address
    is paused, even for a right password, while another address still signs in."""
    flood = [
        client.post(
            "/accounts/login/",
            {"username": f"staff-{n}", "password": f"guess-{n}"},
            REMOTE_ADDR="198.51.100.9",
        )
        for n in range(settings.LOGIN_MAX_FAILURES_PER_IP + 5)
    ]
    assert {r.status_code for r in flood} == {400}
    senco = {"username": tenant.users["senco"].username, "password": PASSWORD}
    paused = client.post("/accounts/login/", senco, REMOTE_ADDR="198.51.100.9")
    assert paused.status_code == 400 and b"paused" in paused.content
    assert client.post("/accounts/login/", senco, REMOTE_ADDR="198.51.100.10").status_code == 302


def test_weasyprint_is_68_or_newer():
    """SECURITY.md 21: the fetcher rules rest on WeasyPrint 68's URL handling; an older
    install (a stale image, a hand-made venv) fails here rather than in production."""
    import weasyprint

    major = int(weasyprint.__version__.split(".")[0])
    assert major >= 68, weasyprint.__version__
