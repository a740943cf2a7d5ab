"""/api/v1/pupils/: filters, create, update, SEN history, outcomes and scores."""

from __future__ import annotations

import pytest

from pupils.codes import SenStatus
from pupils.models import Pupil
from schools.models import AuditEvent
from tests.conftest import sign_in
from tests.factories import PupilFactory

NEW = {
    "upn": "B801200005001",
    "first_name": "Ada",
    "last_name": "Lovelace",
    "date_of_birth": "2016-05-01",
    "nc_year": 4,
    "sen_status": "K",
    "primary_need": "SEMH",
}


def post(client, url, data):
    return client.post(url, data, content_type="application/json")


def test_filters_match_only_in_scope_rows(client, tenant, other):
    PupilFactory(school=tenant.school, last_name="Semh", sen_status="K", primary_need="SEMH", nc_year=3)
    PupilFactory(school=tenant.school, last_name="Plan", sen_status="E", primary_need="ASD", nc_year=6)
    sign_in(client, tenant.users["senco"])

    def names(**params):
        return sorted(p["last_name"] for p in client.get("/api/v1/pupils/", params).json()["results"])

    assert names(sen_status="K") == ["Semh"]
    assert names(primary_need="ASD") == ["Plan"]
    assert names(year=3) == ["Semh"]
    assert names(search="plan") == ["Plan"]
    assert names(school=tenant.school.pk) == names()
    assert names(school=other.school.pk) == []  # a foreign school filters to nothing
    assert client.get("/api/v1/pupils/", {"sen_status": "Z"}).status_code == 400
    assert client.get("/api/v1/pupils/", {"year": "abc"}).status_code == 400


def test_create_takes_the_school_from_the_membership(client, tenant, as_school):
    sign_in(client, tenant.users["senco"])
    response = post(client, "/api/v1/pupils/", NEW)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["school"] == tenant.school.pk and body["area_of_need"] == "semh"
    history = client.get(f"/api/v1/pupils/{body['id']}/sen-history/").json()
    assert [(h["status"], h["primary_need"], h["source"]) for h in history] == [("K", "SEMH", "api")]


def test_a_school_in_the_body_is_refused(client, tenant, other):
    sign_in(client, tenant.users["senco"])
    response = post(client, "/api/v1/pupils/", {**NEW, "school": other.school.pk})
    assert response.status_code == 400
    assert "school" in response.json()


def test_duplicate_upn_in_the_same_school_is_a_clear_400(client, tenant):
    sign_in(client, tenant.users["senco"])
    assert post(client, "/api/v1/pupils/", NEW).status_code == 201
    response = post(client, "/api/v1/pupils/", NEW)
    assert response.status_code == 400
    assert "already" in response.json()["upn"][0]


def test_a_upn_held_by_another_school_reveals_nothing(client, tenant, other, as_school):
    with as_school(other.school):
        Pupil.objects.create(school=other.school, **{**NEW, "date_of_birth": "2016-05-01"})
    sign_in(client, tenant.users["senco"])
    response = post(client, "/api/v1/pupils/", NEW)
    assert response.status_code == 201
    assert other.school.name not in response.content.decode()


def test_bad_input_gets_field_messages(client, tenant):
    sign_in(client, tenant.users["senco"])
    response = post(client, "/api/v1/pupils/", {**NEW, "upn": "A801200005001", "sen_status": "N"})
    assert response.status_code == 400
    body = response.json()
    assert "upn" in body
    response = post(client, "/api/v1/pupils/", {**NEW, "date_of_birth": "2015-02-31"})
    assert response.status_code == 400 and "date_of_birth" in response.json()


def test_update_appends_history_with_the_given_date(client, tenant):
    sign_in(client, tenant.users["senco"])
    pupil_id = post(client, "/api/v1/pupils/", {**NEW, "sen_change_date": "2025-09-01"}).json()["id"]
    response = client.patch(
        f"/api/v1/pupils/{pupil_id}/",
        {"sen_status": "E", "sen_change_date": "2026-01-05"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.json()
    history = client.get(f"/api/v1/pupils/{pupil_id}/sen-history/").json()
    assert (SenStatus.EHC_PLAN, "2026-01-05") in [(h["status"], h["start_date"]) for h in history]


def test_outcomes_and_scores(client, tenant):
    sign_in(client, tenant.users["senco"])
    pupil = tenant.pupils[0]
    term = {"academic_year": 2025, "term": "autumn", "attendance_pct": "91.5", "suspensions": 1}
    assert post(client, f"/api/v1/pupils/{pupil.pk}/outcomes/", term).status_code == 201
    # Recording the same term again corrects it.
    assert (
        post(client, f"/api/v1/pupils/{pupil.pk}/outcomes/", {**term, "attendance_pct": "92"}).status_code
        == 201
    )
    outcomes = client.get(f"/api/v1/pupils/{pupil.pk}/outcomes/").json()
    assert [(o["term"], o["attendance_pct"]) for o in outcomes] == [("autumn", "92.00")]
    assert (
        post(client, f"/api/v1/pupils/{pupil.pk}/outcomes/", {**term, "attendance_pct": "120"}).status_code
        == 400
    )
    score = {"measure": "sdq_total", "assessed_on": "2025-10-01", "score": "21"}
    assert post(client, f"/api/v1/pupils/{pupil.pk}/scores/", score).status_code == 201
    assert client.get(f"/api/v1/pupils/{pupil.pk}/scores/").json()[0]["measure"] == "sdq_total"


def test_only_senco_and_headteacher_change_records(client, tenant, as_school):
    sign_in(client, tenant.users["practitioner"])
    assert post(client, "/api/v1/pupils/", NEW).status_code == 403
    with as_school(tenant.school):
        assert AuditEvent.objects.filter(action="denied", user=tenant.users["practitioner"]).exists()
    client.logout()
    sign_in(client, tenant.users["headteacher"])
    assert post(client, "/api/v1/pupils/", NEW).status_code == 201


def test_reads_of_history_and_outcomes_are_audited(client, tenant, as_school):
    sign_in(client, tenant.users["senco"])
    pupil = tenant.pupils[0]
    client.get(f"/api/v1/pupils/{pupil.pk}/sen-history/")
    client.get(f"/api/v1/pupils/{pupil.pk}/outcomes/")
    with as_school(tenant.school):
        parts = [
            e.detail.get("part") for e in AuditEvent.objects.filter(action="view", object_id=str(pupil.pk))
        ]
    assert sorted(parts) == ["outcomes", "sen_history"]


def test_a_lower_case_copy_of_a_upn_is_the_same_pupil(client, tenant):
    sign_in(client, tenant.users["senco"])
    assert post(client, "/api/v1/pupils/", NEW).status_code == 201
    response = post(client, "/api/v1/pupils/", {**NEW, "upn": NEW["upn"].lower()})
    assert response.status_code == 400 and "upn" in response.json()


@pytest.mark.parametrize(
    ("url_part", "body"),
    [
        ("scores", {"measure": "sdq_total", "assessed_on": "2025-10-01", "score": "99"}),
        ("scores", {"measure": "other", "assessed_on": "2025-10-01", "score": "3"}),
        ("scores", {"measure": "sdq_total", "assessed_on": "2099-10-01", "score": "9"}),
        ("outcomes", {"academic_year": 32000, "term": "autumn"}),
        ("outcomes", {"academic_year": 2025, "term": "autumn", "suspensions": 0, "suspension_days": "4"}),
    ],
)
def test_the_api_applies_the_same_rules_as_the_forms(client, tenant, url_part, body):
    sign_in(client, tenant.users["senco"])
    response = post(client, f"/api/v1/pupils/{tenant.pupils[0].pk}/{url_part}/", body)
    assert response.status_code == 400, response.json()


def test_an_update_that_changes_nothing_is_audited_as_a_read(client, tenant, as_school):
    sign_in(client, tenant.users["senco"])
    pupil = tenant.pupils[0]
    assert client.patch(f"/api/v1/pupils/{pupil.pk}/", {}, content_type="application/json").status_code == 200
    with as_school(tenant.school):
        assert AuditEvent.objects.filter(action="view", object_id=str(pupil.pk)).count() == 1
