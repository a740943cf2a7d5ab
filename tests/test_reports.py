"""Reports in the browser and over the API, the schedule, and PDFs that fetch nothing.

Builds run in this process (`run_build`) with a stand-in builder (tests/
report_builders_for_tests.py); tests/test_report_tasks.py runs them on real workers.
"""

from __future__ import annotations

import json
import socket
from datetime import date
from types import SimpleNamespace

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from reports import pdf as report_pdf
from reports.models import ReportKind, ReportRequest
from reports.schedule import schedule_due
from reports.services import request_report
from reports.tasks import la_sweep_scope, run_build, schedule_reports
from schools.audit import Action
from schools.models import AuditEvent, TermDates
from schools.scopes import scope_for_membership
from schools.tenancy import tenant_scope
from tests import report_builders_for_tests as stand_in
from tests.conftest import sign_in

Status = ReportRequest.Status
ALL_KINDS = tuple(ReportKind.values)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def kinds():
    """Make exactly the given kinds buildable (by the stand-in): `kinds("school_termly")`."""
    saved: list[dict] = []

    def only(*names: str) -> None:
        saved.append(stand_in.install(names or ALL_KINDS, only=True))

    only()
    yield only
    stand_in.restore(saved[0])


def la_rows(t):
    """Every report row of a tenant's LA (the sweep's scope), newest first."""
    with transaction.atomic(), tenant_scope(la_sweep_scope(t.la.pk)):
        return list(ReportRequest.objects.order_by("-id"))


def ask(t, role: str = "senco", **fields) -> ReportRequest:
    membership = t.memberships[role]
    asker = SimpleNamespace(membership=membership, user=membership.user)
    fields.setdefault("kind", "school_termly")
    fields.setdefault("scope_type", "school")
    fields.setdefault("scope_id", t.school.pk)
    fields.setdefault("period", "2024-25-summer")
    with transaction.atomic(), tenant_scope(scope_for_membership(membership)):
        return request_report(asker, queue=False, **fields)


def build(t, row: ReportRequest, role: str = "senco") -> ReportRequest:
    scope = scope_for_membership(t.memberships[role])
    assert run_build(row.pk, scope) == "done"
    with transaction.atomic(), tenant_scope(scope):
        return ReportRequest.objects.get(pk=row.pk)


def options(response) -> list[str]:
    return [value for value, _ in response.context["form"].fields["report"].choices]


# --- the browser ------------------------------------------------------------------------------


def test_reports_are_in_the_navigation_of_the_roles_that_read_them(client, tenant, kinds):
    for role in ("senco", "headteacher", "provision_lead", "partnership_lead", "la_officer"):
        sign_in(client, tenant.users[role], tenant.memberships[role])
        assert b'href="/reports/"' in client.get("/").content, role
    sign_in(client, tenant.users["practitioner"], tenant.memberships["practitioner"])
    assert b'href="/reports/"' not in client.get("/").content
    assert client.get("/reports/").status_code == 403


def test_each_role_is_offered_the_reports_it_may_ask_for(client, tenant, kinds):
    t = tenant
    expected = {
        "senco": [f"school_termly:{t.school.pk}"],
        "headteacher": [f"school_termly:{t.school.pk}"],
        "provision_lead": [f"provision_termly:{t.provision.pk}"],
        "partnership_lead": [
            f"provision_termly:{t.provision.pk}",
            f"partnership_annual:{t.partnership.pk}",
            f"financial_quarterly:{t.partnership.pk}",
        ],
        "la_officer": [f"la_overview:{t.la.pk}"],
    }
    for role, values in expected.items():
        sign_in(client, t.users[role], t.memberships[role])
        assert options(client.get("/reports/")) == values, role


def test_kinds_that_cannot_be_built_yet_are_not_offered(client, tenant, kinds):
    kinds("school_termly")
    sign_in(client, tenant.users["partnership_lead"], tenant.memberships["partnership_lead"])
    page = client.get("/reports/")
    assert options(page) == [] and b"Ask for a report" not in page.content
    assert (
        client.post("/reports/", {"report": f"partnership_annual:{tenant.partnership.pk}"}).status_code == 400
    )


def test_asking_in_the_browser_then_following_the_progress_and_downloading(client, tenant, kinds):
    sign_in(client, tenant.users["senco"], tenant.memberships["senco"])
    response = client.post("/reports/", {"report": f"school_termly:{tenant.school.pk}", "period": ""})
    [row] = la_rows(tenant)
    assert response.status_code == 302 and response["Location"] == f"/reports/{row.pk}/"
    assert (row.status, row.requested_by_id, row.membership_id) == (
        Status.QUEUED,
        tenant.users["senco"].pk,
        tenant.memberships["senco"].pk,
    )
    assert row.period  # empty asks for the latest complete term
    page = client.get(f"/reports/{row.pk}/")
    assert b'aria-live="polite"' in page.content and b'hx-trigger="every 2s"' in page.content
    fragment = client.get(f"/reports/{row.pk}/", HTTP_HX_REQUEST="true")
    assert b"<html" not in fragment.content and b'hx-trigger="every 2s"' in fragment.content
    assert b'hx-get="/reports/%d/?seen=queued-0"' % row.pk in fragment.content
    # Asked again with nothing changed: no content, nothing swapped, nothing read out again.
    assert client.get(f"/reports/{row.pk}/?seen=queued-0", HTTP_HX_REQUEST="true").status_code == 204
    build(tenant, row)
    done = client.get(f"/reports/{row.pk}/?seen=queued-0", HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in done  # finished: the polling stops
    assert f"/reports/{row.pk}/pdf/" in done and "Build again" in done
    listed = client.get("/reports/").content.decode()
    assert f"/reports/{row.pk}/pdf/" in listed and "Ready" in listed
    download = client.get(f"/reports/{row.pk}/pdf/")
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["Cache-Control"] == "no-store"
    assert b"".join(download.streaming_content).startswith(b"%PDF-")
    snapshot = client.get(f"/reports/{row.pk}/snapshot/")
    assert json.loads(b"".join(snapshot.streaming_content))["school"] == tenant.school.pk


def test_downloads_are_audited_by_ids_only(client, tenant, kinds, as_school):
    row = build(tenant, ask(tenant))
    sign_in(client, tenant.users["headteacher"], tenant.memberships["headteacher"])
    assert client.get(f"/reports/{row.pk}/pdf/").status_code == 200
    assert client.get(f"/api/v1/reports/{row.pk}/snapshot/").status_code == 200
    with as_school(tenant.school):
        events = list(AuditEvent.objects.filter(action=Action.DOWNLOAD).order_by("id"))
    assert [(e.object_type, e.object_id, e.user_id, e.detail) for e in events] == [
        (
            "reports.reportrequest",
            str(row.pk),
            tenant.users["headteacher"].pk,
            {"file": f, "kind": row.kind, "version": 1},
        )
        for f in ("pdf", "snapshot")
    ]


def test_a_report_not_yet_built_cannot_be_downloaded(client, tenant, kinds):
    row = ask(tenant)
    sign_in(client, tenant.users["senco"], tenant.memberships["senco"])
    for path in ("pdf", "snapshot"):
        assert client.get(f"/reports/{row.pk}/{path}/").status_code == 404
        assert client.get(f"/api/v1/reports/{row.pk}/{path}/").status_code == 404


def test_a_failed_report_says_why_and_can_be_built_again(client, tenant, kinds, caplog):
    row = ask(tenant)
    stand_in.set_mode(row.pk, "boom")
    assert run_build(row.pk, scope_for_membership(tenant.memberships["senco"])) == "failed"
    # The log says where it failed, never what the exception said (it may quote a record).
    assert "ValueError at report_builders_for_tests.py" in caplog.text
    assert stand_in.SECRET not in caplog.text
    sign_in(client, tenant.users["senco"], tenant.memberships["senco"])
    page = client.get(f"/reports/{row.pk}/").content.decode()
    assert "could not be built" in page and stand_in.SECRET not in page and "hx-trigger" not in page
    again = client.post(f"/reports/{row.pk}/again/")
    newer = la_rows(tenant)[0]
    assert again["Location"] == f"/reports/{newer.pk}/"
    assert (newer.version, newer.period, newer.status) == (2, row.period, Status.QUEUED)


def test_bad_input_in_the_form_is_a_clear_400_and_saves_nothing(client, tenant, other, kinds):
    sign_in(client, tenant.users["senco"], tenant.memberships["senco"])
    for body in (
        {"report": f"school_termly:{tenant.school.pk}", "period": "autumn 2025"},
        {"report": f"school_termly:{tenant.school.pk}", "period": "2025-27-autumn"},
        {"report": f"school_termly:{other.school.pk}", "period": ""},
        {"report": f"school_termly:{tenant.sibling.pk}", "period": ""},
        {"report": "nonsense", "period": ""},
    ):
        response = client.post("/reports/", body)
        assert response.status_code == 400, body
        assert b"There is a problem" in response.content
    assert la_rows(tenant) == [] and la_rows(other) == []


def test_a_pupils_reports_are_asked_for_from_the_pupils_page(client, tenant, kinds, as_school):
    pupil = tenant.pupils[0]
    sign_in(client, tenant.users["senco"], tenant.memberships["senco"])
    assert f'href="/reports/pupil/{pupil.pk}/"'.encode() in client.get(f"/pupils/{pupil.pk}/").content
    page = client.get(f"/reports/pupil/{pupil.pk}/")
    assert options(page) == [
        f"{k}:{pupil.pk}" for k in ("pupil_provision_map", "pupil_profile", "transition_record")
    ]
    response = client.post(
        f"/reports/pupil/{pupil.pk}/", {"report": f"pupil_profile:{pupil.pk}", "period": ""}
    )
    [row] = la_rows(tenant)
    assert response["Location"] == f"/reports/{row.pk}/"
    assert (row.kind, row.pupil_id, row.school_id, row.period) == (
        "pupil_profile",
        pupil.pk,
        tenant.school.pk,
        "",
    )
    # A profile is of the record as it stands: a period is refused in words.
    refused = client.post(
        f"/reports/pupil/{pupil.pk}/", {"report": f"pupil_profile:{pupil.pk}", "period": "2025-26"}
    )
    assert refused.status_code == 400 and b"give no period" in refused.content
    # Pupils' reports stay off the general list, which is not a pupil page.
    assert f"/reports/{row.pk}/" not in client.get("/reports/").content.decode()
    assert f"/reports/{row.pk}/" in client.get(f"/reports/pupil/{pupil.pk}/").content.decode()
    with as_school(tenant.school):
        assert AuditEvent.objects.filter(action=Action.VIEW, object_id=str(pupil.pk)).exists()


def test_another_tenants_reports_are_not_found(client, tenant, other, kinds):
    theirs = build(other, ask(other))
    sign_in(client, tenant.users["senco"], tenant.memberships["senco"])
    for path in ("", "pdf/", "snapshot/"):
        assert client.get(f"/reports/{theirs.pk}/{path}").status_code == 404
        assert client.get(f"/api/v1/reports/{theirs.pk}/{path}").status_code == 404
    assert client.post(f"/reports/{theirs.pk}/again/").status_code == 404
    assert f"/reports/{theirs.pk}/" not in client.get("/reports/").content.decode()
    assert client.get("/api/v1/reports/").json()["count"] == 0
    assert client.get(f"/reports/pupil/{other.pupils[0].pk}/").status_code == 404


def test_the_list_costs_the_same_queries_however_many_reports(client, tenant, kinds):
    sign_in(client, tenant.users["senco"], tenant.memberships["senco"])

    def queries() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as page:
            assert client.get("/reports/").status_code == 200
        with CaptureQueriesContext(connection) as api:
            assert client.get("/api/v1/reports/").status_code == 200
        return len(page), len(api)

    ask(tenant)
    few = queries()
    for _ in range(5):
        ask(tenant)
    assert queries() == few


# --- the API ----------------------------------------------------------------------------------


def test_api_ask_poll_and_download(client, tenant, kinds):
    sign_in(client, tenant.users["senco"], tenant.memberships["senco"])
    body = {
        "kind": "school_termly",
        "scope_type": "school",
        "scope_id": tenant.school.pk,
        "period": "2024-25-autumn",
    }
    response = client.post("/api/v1/reports/", body, content_type="application/json")
    assert response.status_code == 202
    data = response.json()
    assert set(data) == {"id", "url", "status"} and data["status"] == "queued"
    assert response["Location"] == data["url"] and data["url"].endswith(f"/api/v1/reports/{data['id']}/")
    polled = client.get(data["url"]).json()
    assert (polled["status"], polled["period"], polled["pdf"], polled["scope_id"]) == (
        "queued",
        "2024-25-autumn",
        None,
        tenant.school.pk,
    )
    [row] = la_rows(tenant)
    build(tenant, row)
    polled = client.get(data["url"]).json()
    assert polled["status"] == "done" and polled["finished_at"] and polled["error"] == ""
    pdf = client.get(polled["pdf"])
    assert pdf.status_code == 200 and pdf["Content-Disposition"].startswith("attachment;")
    assert b"".join(pdf.streaming_content).startswith(b"%PDF-")
    listed = client.get("/api/v1/reports/?status=done&kind=school_termly").json()
    assert [r["id"] for r in listed["results"]] == [row.pk]
    assert client.get("/api/v1/reports/?status=failed").json()["count"] == 0
    assert client.get("/api/v1/reports/?status=nonsense").status_code == 400


def test_api_bad_requests_are_400s_on_the_field(client, tenant, other, kinds):
    sign_in(client, tenant.users["senco"], tenant.memberships["senco"])
    good = {"kind": "school_termly", "scope_type": "school", "scope_id": tenant.school.pk, "period": ""}
    cases = [
        ({"kind": "weekly_gossip"}, "kind"),
        ({"scope_type": "partnership"}, "scope_type"),
        ({"period": "2025-26-winter"}, "period"),
        ({"period": "2025/26"}, "period"),
        ({"scope_id": other.school.pk}, "scope_id"),
        ({"scope_id": tenant.sibling.pk}, "scope_id"),
        ({"scope_id": 2**70}, "scope_id"),
        ({"scope_id": "twelve"}, "scope_id"),
        ({"kind": "pupil_profile", "scope_type": "pupil", "scope_id": other.pupils[0].pk}, "scope_id"),
    ]
    for change, field in cases:
        response = client.post("/api/v1/reports/", {**good, **change}, content_type="application/json")
        assert response.status_code == 400, change
        assert field in response.json(), (change, response.json())
    kinds("pupil_profile")
    response = client.post("/api/v1/reports/", good, content_type="application/json")
    assert response.status_code == 400 and "kind" in response.json()
    assert la_rows(tenant) == [] and la_rows(other) == []


def test_api_roles_that_may_not_ask_are_refused(client, tenant, kinds):
    sign_in(client, tenant.users["practitioner"], tenant.memberships["practitioner"])
    assert client.get("/api/v1/reports/").status_code == 403
    # An LA officer reads the LA's partnership reports but asks for the LA overview only.
    sign_in(client, tenant.users["la_officer"], tenant.memberships["la_officer"])
    body = {"kind": "partnership_annual", "scope_type": "partnership", "scope_id": tenant.partnership.pk}
    assert client.post("/api/v1/reports/", body, content_type="application/json").status_code == 400
    body = {"kind": "la_overview", "scope_type": "local_authority", "scope_id": tenant.la.pk}
    assert client.post("/api/v1/reports/", body, content_type="application/json").status_code == 202


def test_partnership_reports_are_read_by_the_partnership_and_its_la_not_by_schools(client, tenant, kinds):
    row = ask(
        tenant,
        "partnership_lead",
        kind="partnership_annual",
        scope_type="partnership",
        scope_id=tenant.partnership.pk,
        period="2024-25",
    )
    for role, seen in (("la_officer", True), ("partnership_lead", True), ("senco", False)):
        sign_in(client, tenant.users[role], tenant.memberships[role])
        ids = [r["id"] for r in client.get("/api/v1/reports/").json()["results"]]
        assert (row.pk in ids) is seen, role
        assert client.get(f"/api/v1/reports/{row.pk}/").status_code == (200 if seen else 404), role


# --- the schedule -----------------------------------------------------------------------------


def _autumn(t, ends_on: date) -> None:
    TermDates.objects.create(
        local_authority=t.la, academic_year=2025, term="autumn", starts_on=date(2025, 9, 3), ends_on=ends_on
    )


def _asked(rows) -> set[tuple]:
    return {(r.kind, r.scope_id, r.period, r.scheduled) for r in rows}


def test_the_day_after_a_term_ends_its_termly_reports_are_asked_for_once(
    tenant, other, kinds, django_capture_on_commit_callbacks
):
    _autumn(tenant, date(2025, 12, 19))
    with django_capture_on_commit_callbacks() as queued:
        made = schedule_due(date(2025, 12, 20))
    t = tenant
    code = "2025-26-autumn"
    assert _asked(made) == {
        ("school_termly", t.school.pk, code, True),
        ("school_termly", t.sibling.pk, code, True),
        ("school_termly", t.neighbour.pk, code, True),
        ("provision_termly", t.provision.pk, code, True),
    }
    assert len(queued) == len(made)  # each build queued after its own commit
    assert all(r.membership_id is None and r.requested_by_id is None for r in made)
    # Run again (the next day, or twice the same day): nothing is asked for twice.
    assert schedule_due(date(2025, 12, 20)) == [] and schedule_due(date(2025, 12, 23)) == []
    assert schedule_due(date(2025, 12, 10)) == []


def test_a_term_end_beat_missed_is_made_up_within_the_week(tenant, kinds):
    _autumn(tenant, date(2025, 12, 19))
    assert len(schedule_due(date(2025, 12, 26))) == 4
    assert schedule_due(date(2025, 12, 27)) == []  # and only once


def test_a_term_end_more_than_a_week_ago_is_left_alone(tenant, kinds):
    _autumn(tenant, date(2025, 12, 19))
    assert schedule_due(date(2025, 12, 28)) == []


def test_the_school_year_end_asks_for_annual_and_la_reports(tenant, other, kinds):
    made = schedule_due(date(2026, 9, 1))
    code = "2025-26"
    expected = set()
    for t in (tenant, other):
        for partnership in t.la.partnerships.all():
            expected.add(("partnership_annual", partnership.pk, code, True))
        expected.add(("la_overview", t.la.pk, code, True))
    assert _asked(made) == expected
    assert schedule_due(date(2026, 9, 2)) == []


@pytest.mark.parametrize(
    ("today", "code"),
    [
        (date(2025, 7, 1), "2025-26-q1"),
        (date(2025, 10, 1), "2025-26-q2"),
        (date(2026, 1, 1), "2025-26-q3"),
        (date(2026, 4, 1), "2025-26-q4"),
    ],
)
def test_a_financial_quarter_end_asks_for_the_quarterly_reports(tenant, kinds, today, code):
    made = schedule_due(today)
    assert {(r.kind, r.period) for r in made} == {("financial_quarterly", code)}
    assert {r.scope_id for r in made} == set(tenant.la.partnerships.values_list("pk", flat=True))


def test_the_schedule_asks_only_for_kinds_that_can_be_built(tenant, kinds):
    kinds("school_termly")
    _autumn(tenant, date(2025, 12, 19))
    assert {r.kind for r in schedule_due(date(2025, 12, 20))} == {"school_termly"}
    assert schedule_due(date(2026, 9, 1)) == []


def test_a_scheduled_build_runs_under_a_scope_naming_only_its_school(tenant, kinds):
    from reports.services import build_payload

    _autumn(tenant, date(2025, 12, 19))
    row = next(r for r in schedule_due(date(2025, 12, 20)) if r.school_id == tenant.school.pk)
    payload = build_payload(row)
    assert payload == {"system": {"schools": [tenant.school.pk], "local_authorities": [tenant.la.pk]}}


def test_the_schedule_task_takes_a_date_and_no_tenant(tenant, kinds):
    _autumn(tenant, date(2025, 12, 19))
    assert schedule_reports.apply(kwargs={"today": "2025-12-20"}).get() == 4
    refused = schedule_reports.apply(kwargs={"tenant": {"system": {"schools": [tenant.school.pk]}}})
    assert refused.failed() and isinstance(refused.result, TypeError)


def test_beat_runs_the_schedule_daily_and_the_sweep(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"reports.schedule_reports", "reports.sweep_reports"} <= tasks


# --- PDFs fetch nothing but the project's static files (SECURITY.md 21) -----------------------

STATIC = f"https://{report_pdf.STATIC_HOST}"


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "http://127.0.0.1/",
        "http://127.0.0.1:6379/",
        "https://127.0.0.1:6379/",
        "http://169.254.169.254/latest/meta-data/",
        "http://localhost/static/css/report.css",
        f"{STATIC}@127.0.0.1/css/report.css",
        f"{STATIC}:6379/css/report.css",
        f"{STATIC}/static/css/report.css?next=http://127.0.0.1/",
        f"{STATIC}/redirect?to=file:///etc/passwd",
        f"{STATIC}/static/../../../../etc/passwd",
        f"{STATIC}/static/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        f"{STATIC}/static/css/..%2f..%2f..%2fsettings.py",
        f"{STATIC}//etc/passwd",
        "data:text/css,body{}",
        "ftp://127.0.0.1/x",
    ],
)
def test_the_fetcher_refuses_anything_but_our_static_files(url):
    fetcher = report_pdf.static_only_fetcher()
    for fetch in (fetcher.fetch, fetcher, fetcher.open):
        with pytest.raises(report_pdf.RefusedResource):
            fetch(url)


def test_the_fetcher_serves_our_static_files():
    fetcher = report_pdf.static_only_fetcher()
    for url in (f"{STATIC}/css/report.css", f"{STATIC}/static/css/report.css"):
        response = fetcher.fetch(url)
        assert response.read().strip() and response.headers.get_content_type() == "text/css"


class Recording:
    """Wraps the fetcher the renderer uses, noting what was asked for and what was refused."""

    def __init__(self, monkeypatch) -> None:
        self.asked: list[str] = []
        self.refused: list[str] = []
        real = report_pdf.static_only_fetcher

        def make():
            inner = real()
            recording = self

            class Wrapped(type(inner)):
                def fetch(self, url, headers=None):
                    recording.asked.append(url)
                    try:
                        return super().fetch(url, headers)
                    except report_pdf.RefusedResource:
                        recording.refused.append(url)
                        raise

            return Wrapped()

        monkeypatch.setattr(report_pdf, "static_only_fetcher", make)


@pytest.fixture
def listener():
    """A local port that would see any connection the renderer made."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.settimeout(0.3)
    yield sock
    sock.close()


def _no_connection(sock) -> bool:
    try:
        conn, _ = sock.accept()
    except TimeoutError:
        return True
    conn.close()
    return False


def test_hostile_markup_in_a_report_fetches_nothing(monkeypatch, listener):
    port = listener.getsockname()[1]
    hostile = [
        '<img src="file:///etc/passwd">',
        f'<link rel="stylesheet" href="http://127.0.0.1:{port}/x.css">',
        f'<img src="http://127.0.0.1:{port}/pixel.png">',
        f'<div style="background: url(http://127.0.0.1:{port}/bg.png)">x</div>',
        f"<style>@import url(http://127.0.0.1:{port}/i.css); @font-face {{font-family: x; src: url(http://127.0.0.1:{port}/f.woff)}}</style>",
        '<img src="http://169.254.169.254/latest/meta-data/">',
        '<img src="../../../../etc/passwd">',
    ]
    recording = Recording(monkeypatch)
    head = "<!doctype html><html lang='en'><head><title>A plan</title></head>"
    html = f"{head}<body><h1>Plan</h1>{''.join(hostile)}</body></html>"
    pdf, pages = report_pdf.html_to_pdf(html)
    assert pdf.startswith(b"%PDF-") and pages == 1
    assert _no_connection(listener)
    assert recording.asked and recording.refused == recording.asked  # every fetch was refused
    assert any("etc/passwd" in url for url in recording.asked)
    assert any(f":{port}/" in url for url in recording.asked)


def test_user_text_in_a_built_report_reaches_the_pdf_as_text(tenant, kinds, monkeypatch, listener):
    """The whole build, with a pupil's plan text carrying markup: the template escapes it, so
    the only thing fetched is the report's own stylesheet."""
    port = listener.getsockname()[1]
    text = f'<img src="file:///etc/passwd"><link rel="stylesheet" href="http://127.0.0.1:{port}/x.css">'

    def hostile_builder(row):
        figures, template, context = stand_in.build_for_tests(row)
        return {**figures, "narrative": text}, template, {**context, "title": text, "scope_name": text}

    from reports import builders

    builders.register("school_termly")(hostile_builder)  # the `kinds` fixture puts the registry back
    recording = Recording(monkeypatch)
    row = build(tenant, ask(tenant))
    assert row.status == Status.DONE
    assert _no_connection(listener)
    assert recording.asked == [f"{STATIC}/css/report.css"] and recording.refused == []
    assert json.loads(row.snapshot.open("rb").read())["narrative"] == text


def test_build_report_command_builds_one_report_now(tenant, kinds):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command(
        "build_report",
        kind="school_termly",
        scope_type="school",
        scope_id=tenant.school.pk,
        period="2024-25-summer",
        stdout=out,
    )
    [row] = la_rows(tenant)
    assert (
        row.status == Status.DONE
        and f"report {row.pk} (school_termly 2024-25-summer v1): done" in out.getvalue()
    )
