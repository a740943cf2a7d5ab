"""The API root, /me, the schema and its documentation page."""

from __future__ import annotations

from tests.conftest import sign_in


def test_me_lists_memberships_with_their_scopes(client, tenant):
    user = tenant.users["senco"]
    sign_in(client, user)
    data = client.get("/api/v1/me/").json()
    assert data["username"] == user.username
    assert data["memberships"] == [
        {
            "id": tenant.memberships["senco"].pk,
            "role": "senco",
            "scope": {
                "type": "school",
                "id": tenant.school.pk,
                "name": tenant.school.name,
                "urn": tenant.school.urn,
            },
        }
    ]
    assert data["active_membership_id"] == tenant.memberships["senco"].pk


def test_me_for_an_la_role_has_no_urn(client, tenant):
    sign_in(client, tenant.users["la_officer"])
    [m] = client.get("/api/v1/me/").json()["memberships"]
    assert m["scope"] == {"type": "local_authority", "id": tenant.la.pk, "name": tenant.la.name}


def test_the_header_chooses_among_the_users_memberships(client, tenant):
    from schools.models import Membership

    user = tenant.users["senco"]
    second = Membership.objects.create(user=user, role="headteacher", school=tenant.sibling)
    sign_in(client, user)
    data = client.get("/api/v1/me/", HTTP_X_MEMBERSHIP_ID=str(second.pk)).json()
    assert data["active_membership_id"] == second.pk
    names = [
        p["last_name"]
        for p in client.get("/api/v1/pupils/", HTTP_X_MEMBERSHIP_ID=str(second.pk)).json()["results"]
    ]
    assert names == sorted(p.last_name for p in tenant.sibling_pupils)


def test_membership_switcher_in_the_browser(client, tenant):
    from schools.models import Membership

    user = tenant.users["senco"]
    second = Membership.objects.create(user=user, role="headteacher", school=tenant.sibling)
    sign_in(client, user)
    home = client.get("/").content.decode()
    assert 'id="membership-switch"' in home
    assert client.post("/membership/switch/", {"membership": second.pk})["Location"] == "/"
    assert "Audit log" in client.get("/").content.decode()


def test_api_answers_json_only_never_the_browsable_page(client, tenant):
    sign_in(client, tenant.users["senco"])
    response = client.get("/api/v1/pupils/", HTTP_ACCEPT="text/html")
    assert response["Content-Type"].startswith("application/json")


def test_api_root_lists_entry_points(client, tenant):
    sign_in(client, tenant.users["senco"])
    data = client.get("/api/v1/").json()
    assert set(data) >= {"me", "pupils", "schools", "schema", "docs"}


def test_signed_out_api_is_refused(client, db):
    assert client.get("/api/v1/me/").status_code in (401, 403)


def test_schema_is_openapi_3_and_documents_the_stable_interfaces(client, db):
    response = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json() if response["Content-Type"].startswith("application/json") else None
    if schema is None:
        import yaml

        schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    for path in ("/api/v1/me/", "/api/v1/auth/token/", "/api/v1/pupils/", "/api/v1/pupils/{id}/"):
        assert path in schema["paths"], path


def test_documentation_page_renders_from_the_schema(client, db):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    assert b"/api/v1/auth/token/" in response.content


def test_pupil_list_is_paged(client, tenant):
    sign_in(client, tenant.users["senco"])
    data = client.get("/api/v1/pupils/").json()
    assert data["count"] == 3 and {"next", "previous", "results"} <= set(data)


def test_health_check(client, db):
    assert client.get("/healthz").json() == {"status": "ok", "database": "ok", "redis": "ok"}


def test_pupil_search_is_a_post_with_the_text_in_the_body(client, tenant, other):
    sign_in(client, tenant.users["senco"])
    target = tenant.pupils[1]
    data = client.post(
        "/api/v1/pupils/search/", {"q": target.last_name}, content_type="application/json"
    ).json()
    assert (data["count"], data["page"], data["pages"]) == (1, 1, 1)
    assert [p["id"] for p in data["results"]] == [target.pk]
    by_upn = client.post("/api/v1/pupils/search/", {"q": target.upn}, content_type="application/json").json()
    assert [p["id"] for p in by_upn["results"]] == [target.pk]
    # Another LA's pupil is not found by name.
    foreign = client.post(
        "/api/v1/pupils/search/", {"q": other.pupils[0].last_name}, content_type="application/json"
    ).json()
    assert foreign["count"] == 0


def test_bad_search_input_is_a_clear_400(client, tenant):
    sign_in(client, tenant.users["senco"])
    for body in ({"q": "a\x00b"}, {"q": "x" * 500}, {}, {"q": "Smith", "page": 0}):
        response = client.post("/api/v1/pupils/search/", body, content_type="application/json")
        assert response.status_code == 400, body
    page = client.post("/pupils/", {"q": "a\x00b"})
    assert page.status_code == 400
    assert b"There is a problem" in page.content


def test_huge_ids_answer_404_not_500(client, tenant):
    sign_in(client, tenant.users["la_officer"])
    huge = "9" * 60
    assert client.get(f"/schools/{huge}/").status_code == 404
    assert client.get(f"/api/v1/schools/{huge}/").status_code == 404


def test_schema_generates_without_warnings(db):
    from django.core.management import call_command

    # Fails on any warning: an undocumented field or parameter shows up here first.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")
