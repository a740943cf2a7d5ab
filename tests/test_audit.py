"""The audit log: every read and change of pupil data, append-only (SECURITY.md 12)."""

from __future__ import annotations

from schools.models import AuditEvent
from tests.conftest import sign_in


def events(as_school, school, **filters):
    with as_school(school):
        return list(AuditEvent.objects.filter(**filters).order_by("id"))


def test_viewing_a_pupil_writes_one_row_naming_who_and_which_membership(client, tenant, as_school):
    senco = tenant.users["senco"]
    sign_in(client, senco)
    pupil = tenant.pupils[0]
    assert client.get(f"/pupils/{pupil.pk}/").status_code == 200
    [event] = events(as_school, tenant.school, action="view")
    assert (event.user_id, event.membership_id, event.role) == (
        senco.pk,
        tenant.memberships["senco"].pk,
        "senco",
    )
    assert (event.school_id, event.local_authority_id) == (tenant.school.pk, tenant.la.pk)
    assert (event.object_type, event.object_id) == ("pupils.pupil", str(pupil.pk))
    assert event.at is not None


def test_list_and_search_are_audited_without_the_search_text(client, tenant, as_school):
    sign_in(client, tenant.users["senco"])
    client.get("/pupils/")
    response = client.post("/pupils/", {"q": tenant.pupils[1].last_name})
    assert tenant.pupils[1].last_name in response.content.decode()
    rows = events(as_school, tenant.school, object_type="pupils.pupil")
    assert [e.action for e in rows] == ["list", "search"]
    assert tenant.pupils[1].last_name not in str(rows[1].detail)


def test_api_reads_are_audited_too(client, tenant, as_school):
    sign_in(client, tenant.users["senco"])
    client.get(f"/api/v1/pupils/{tenant.pupils[0].pk}/")
    client.get("/api/v1/pupils/")
    assert [e.action for e in events(as_school, tenant.school, object_type="pupils.pupil")] == [
        "view",
        "list",
    ]


def test_headteacher_reads_the_schools_log_and_nobody_elses(client, tenant, other, as_school):
    sign_in(client, other.users["senco"])
    client.get(f"/pupils/{other.pupils[0].pk}/")  # an event in another LA
    client.logout()
    sign_in(client, tenant.users["senco"])
    client.get(f"/pupils/{tenant.pupils[0].pk}/")
    client.logout()
    sign_in(client, tenant.users["headteacher"])
    page = client.get("/schools/audit/")
    assert page.status_code == 200
    body = page.content.decode()
    assert f"pupils.pupil {tenant.pupils[0].pk}" in body
    assert f"pupils.pupil {other.pupils[0].pk}" not in body
    fragment = client.get("/schools/audit/", {"action": "view"}, HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200 and b"<html" not in fragment.content


def test_only_headteachers_open_the_log(client, tenant):
    for role in ("senco", "practitioner", "la_officer"):
        sign_in(client, tenant.users[role])
        assert client.get("/schools/audit/").status_code == 403, role
        client.logout()


def test_pupil_pages_are_not_cached(client, tenant):
    sign_in(client, tenant.users["senco"])
    response = client.get(f"/pupils/{tenant.pupils[0].pk}/")
    assert response["Cache-Control"] == "no-store"


def test_search_text_stays_out_of_urls_and_error_reports(client, tenant, rf):
    from provisionmap.logging import PupilDataExceptionReporterFilter, ScrubSensitiveFilter

    sign_in(client, tenant.users["senco"])
    page = client.get("/pupils/").content.decode()
    assert 'method="post"' in page and 'name="q"' in page  # the search form posts
    request = rf.post("/pupils/", {"q": "Jayden Smith"})
    cleansed = PupilDataExceptionReporterFilter().get_post_parameters(request)
    assert "Jayden" not in str(dict(cleansed))
    import logging

    record = logging.LogRecord(
        "x", logging.INFO, "", 0, '"GET /api/v1/pupils/?q=Smith HTTP/1.1" %s', ("200",), None
    )
    ScrubSensitiveFilter().filter(record)
    assert "Smith" not in record.getMessage()


def test_refused_api_calls_are_audited(client, tenant):
    from django.db import transaction

    from schools.scopes import scope_for_membership
    from schools.tenancy import tenant_scope

    sign_in(client, tenant.users["la_officer"])
    assert client.get("/api/v1/pupils/").status_code == 403
    # A refusal by an LA role names no school; the LA's administrator reads such rows.
    with transaction.atomic(), tenant_scope(scope_for_membership(tenant.memberships["la_admin"])):
        rows = list(
            AuditEvent._base_manager.filter(action="denied", user=tenant.users["la_officer"]).values_list(
                "path", "local_authority_id"
            )
        )
    assert rows == [("/api/v1/pupils/", tenant.la.pk)]
