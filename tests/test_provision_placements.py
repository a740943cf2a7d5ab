"""Placements in behaviour provisions through the pages and the API: the home school refers
and withdraws; either side starts, records progress and ends; the provision names a pupil
only while the placement runs; the rules' messages reach the user beside the field;
reads and changes are audited; the list's queries do not grow with the placements."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from interventions.models import ProvisionPlacement
from interventions.placements import placement_end, placement_refer, placement_start
from pupils.codes import SenStatus
from pupils.models import Pupil
from schools.models import AuditEvent
from schools.tenancy import TenantScope, tenant_scope
from tests.conftest import sign_in
from tests.factories import ProvisionFactory, PupilFactory

TODAY = timezone.localdate()
CLOSED = "Record closed (placement ended)"


def _as_school(school):
    return tenant_scope(TenantScope.for_school(school.pk, la_id=school.local_authority_id))


def _refer(tenant, pupil, **extra) -> ProvisionPlacement:
    values = {
        "provision": tenant.provision,
        "referred_on": TODAY - timedelta(days=30),
        "referral_reason": "Suspended twice this half term despite a step 4 plan.",
        "consent_on": TODAY - timedelta(days=31),
        "consent_note": "Mother, signed form",
        "pattern": "part_time",
        "days_per_week": Decimal(2),
    }
    values.update(extra)
    with transaction.atomic(), _as_school(pupil.school):
        return placement_refer(None, pupil, **values)


def _start(placement, days_ago: int = 20) -> None:
    with transaction.atomic(), _as_school(placement.school):
        placement_start(None, placement, TODAY - timedelta(days=days_ago))


def _end(placement, days_ago: int = 2, outcome: str = "returned") -> None:
    with transaction.atomic(), _as_school(placement.school):
        placement.refresh_from_db()
        placement_end(None, placement, ends_on=TODAY - timedelta(days=days_ago), exit_outcome=outcome)


def _reload(placement) -> ProvisionPlacement:
    with transaction.atomic(), _as_school(placement.school):
        return ProvisionPlacement.objects.get(pk=placement.pk)


def _audit_rows(school, **filters) -> list[AuditEvent]:
    with transaction.atomic(), _as_school(school):
        return list(AuditEvent.objects.filter(**filters).order_by("id"))


def _referral_form(tenant, **extra) -> dict:
    body = {
        "provision": tenant.provision.pk,
        "referred_on": (TODAY - timedelta(days=3)).isoformat(),
        "referral_reason": "Refusing lessons most days; mentoring and a key adult tried for a term.",
        "consent_on": (TODAY - timedelta(days=4)).isoformat(),
        "consent_note": "Father, signed form",
        "pattern": "part_time",
        "days_per_week": "2",
    }
    body.update(extra)
    return body


@pytest.fixture
def senco(client, tenant):
    return sign_in(client, tenant.users["senco"])


@pytest.fixture
def lead(tenant):
    from django.test import Client

    return sign_in(Client(), tenant.users["provision_lead"])


# --- referring through the page ---------------------------------------------------------------


def test_senco_refers_a_pupil_and_lands_on_the_placement(senco, tenant):
    pupil = tenant.pupils[0]
    page = senco.get(f"/placements/refer/{pupil.pk}/")
    assert page.status_code == 200
    assert tenant.provision.name in page.content.decode()
    response = senco.post(f"/placements/refer/{pupil.pk}/", _referral_form(tenant))
    assert response.status_code == 302
    with transaction.atomic(), _as_school(tenant.school):
        placement = ProvisionPlacement.objects.get(pupil=pupil)
    assert response["Location"] == f"/placements/{placement.pk}/"
    assert placement.status == "referred" and placement.school_id == tenant.school.pk
    created = _audit_rows(tenant.school, action="create", object_type="interventions.provisionplacement")
    assert [(e.object_id, e.detail["event"]) for e in created] == [(str(placement.pk), "referred")]
    detail = senco.get(response["Location"]).content.decode()
    assert "Referral to" in detail and pupil.last_name in detail


def test_missing_consent_is_explained_beside_the_field_and_nothing_is_saved(senco, tenant):
    pupil = tenant.pupils[0]
    response = senco.post(
        f"/placements/refer/{pupil.pk}/", _referral_form(tenant, consent_on="", consent_note="")
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "Record the day parents or carers gave consent" in text
    assert 'id="id_consent_on_error"' in text and 'id="id_consent_note_error"' in text
    with transaction.atomic(), _as_school(tenant.school):
        assert not ProvisionPlacement.objects.exists()


def test_outside_key_stage_needs_a_meeting_first_and_is_flagged(senco, tenant):
    tenant.provision.key_stages = "KS3,KS4"
    tenant.provision.save()
    pupil = tenant.pupils[0]  # year 5
    url = f"/placements/refer/{pupil.pk}/"
    page = senco.get(url).content.decode()
    assert "Before you refer" in page and "takes KS3, KS4" in page
    refused = senco.post(url, _referral_form(tenant))
    assert refused.status_code == 400
    assert "record the multidisciplinary meeting" in refused.content.decode()
    with transaction.atomic(), _as_school(tenant.school):
        assert not ProvisionPlacement.objects.exists()
    meeting = {"mdt_meeting_on": (TODAY - timedelta(days=5)).isoformat(), "mdt_note": "Panel agreed a term."}
    assert senco.post(url, _referral_form(tenant, **meeting)).status_code == 302
    with transaction.atomic(), _as_school(tenant.school):
        assert ProvisionPlacement.objects.get(pupil=pupil).outside_key_stage is True
    assert "Outside key stage" in senco.get("/placements/").content.decode()


def test_pupil_with_an_ehc_plan_needs_a_recorded_exception(senco, tenant):
    pupil = tenant.pupils[1]
    with transaction.atomic(), _as_school(tenant.school):
        Pupil.objects.filter(pk=pupil.pk).update(sen_status=SenStatus.EHC_PLAN, primary_need="SEMH")
    url = f"/placements/refer/{pupil.pk}/"
    assert "has an <strong>EHC plan</strong>" in senco.get(url).content.decode()
    refused = senco.post(url, _referral_form(tenant))
    assert refused.status_code == 400 and "The pupil has an EHC plan" in refused.content.decode()
    assert (
        senco.post(url, _referral_form(tenant, ehc_exception="Emergency review agreed it.")).status_code
        == 302
    )
    assert "EHC exception" in senco.get("/placements/").content.decode()


def test_a_provision_of_another_partnership_or_la_in_the_form_is_a_400(senco, tenant, other):
    elsewhere = ProvisionFactory(
        host_school=tenant.neighbour, partnership=tenant.neighbour.partnership, name="Elsewhere Base"
    )
    pupil = tenant.pupils[0]
    for provision in (elsewhere, other.provision):
        response = senco.post(
            f"/placements/refer/{pupil.pk}/", _referral_form(tenant, provision=provision.pk)
        )
        assert response.status_code == 400
        assert "does not take pupils from this school" in response.content.decode()
    with transaction.atomic(), _as_school(tenant.school):
        assert not ProvisionPlacement.objects.exists()
    denied = _audit_rows(tenant.school, action="denied", object_type="schools.behaviourprovision")
    assert {e.object_id for e in denied} == {str(elsewhere.pk), str(other.provision.pk)}


def test_only_the_home_school_opens_the_referral_page(client, tenant, other):
    sign_in(client, tenant.users["senco"])
    assert client.get(f"/placements/refer/{tenant.sibling_pupils[0].pk}/").status_code == 404
    assert client.get(f"/placements/refer/{other.pupils[0].pk}/").status_code == 404
    sign_in(client, tenant.users["provision_lead"])
    assert client.get(f"/placements/refer/{tenant.pupils[0].pk}/").status_code == 403


# --- the placement's life through the pages -----------------------------------------------------


def test_provision_lead_starts_records_and_ends_and_names_the_pupil_only_meanwhile(lead, senco, tenant):
    pupil = tenant.pupils[0]
    placement = _refer(tenant, pupil)
    url = f"/placements/{placement.pk}/"

    # Waiting: the provision sees the referral and the home school, not the name.
    page = lead.get(url).content.decode()
    assert pupil.last_name not in page and "Name shown from the first day" in page
    assert tenant.school.name in page and "Withdraw the referral" not in page

    started = lead.post(f"{url}start/", {"start-starts_on": (TODAY - timedelta(days=20)).isoformat()})
    assert started.status_code == 302 and started["Location"] == url
    listing = lead.get("/placements/").content.decode()
    assert pupil.last_name in listing and f"/pupils/{pupil.pk}/" in listing

    progress = {"progress-attendance_percent": "87.5", "progress-suspensions": "1"}
    assert lead.post(f"{url}progress/", progress).status_code == 302
    assert _reload(placement).attendance_percent == Decimal("87.5")

    ending = {"end-ends_on": (TODAY - timedelta(days=1)).isoformat(), "end-exit_outcome": "returned"}
    assert lead.post(f"{url}end/", ending).status_code == 302
    ended = _reload(placement)
    assert ended.status == "ended" and ended.exit_outcome == "returned" and ended.suspensions == 1

    # After the end: the placement stays with the provision, without the pupil's name.
    for text in (lead.get("/placements/").content.decode(), lead.get(url).content.decode()):
        assert pupil.last_name not in text and CLOSED in text and tenant.school.name in text
    assert lead.get(f"/pupils/{pupil.pk}/").status_code == 404
    # The home school always names its pupil.
    assert pupil.last_name in senco.get("/placements/?status=ended").content.decode()
    events = [e.detail["event"] for e in _audit_rows(tenant.school, action="update")]
    assert events == ["started", "progress", "ended"]


def test_bad_dates_come_back_beside_the_field_and_change_nothing(lead, tenant):
    placement = _refer(tenant, tenant.pupils[0])
    url = f"/placements/{placement.pk}/"
    early = (placement.referred_on - timedelta(days=1)).isoformat()
    response = lead.post(f"{url}start/", {"start-starts_on": early})
    assert response.status_code == 400
    assert "cannot start before the referral" in response.content.decode()
    assert _reload(placement).status == "referred"
    future = (TODAY + timedelta(days=3)).isoformat()
    assert lead.post(f"{url}start/", {"start-starts_on": future}).status_code == 400


def test_home_school_withdraws_a_referral_the_provision_cannot(lead, senco, tenant):
    placement = _refer(tenant, tenant.pupils[0])
    url = f"/placements/{placement.pk}/withdraw/"
    assert lead.post(url, {"withdraw-note": "No"}).status_code == 403
    assert _reload(placement).status == "referred"
    assert "Withdraw the referral" in senco.get(f"/placements/{placement.pk}/").content.decode()
    assert senco.post(url, {"withdraw-note": "Family moved away."}).status_code == 302
    withdrawn = _reload(placement)
    assert withdrawn.status == "withdrawn" and withdrawn.exit_note == "Family moved away."
    assert "Referral withdrawn" in senco.get(f"/placements/{placement.pk}/").content.decode()


def test_other_schools_get_404_and_figure_roles_get_403(client, tenant, other):
    placement = _refer(tenant, tenant.pupils[0])
    url = f"/placements/{placement.pk}/"
    sibling_senco = _senco_of(tenant.sibling)
    sign_in(client, sibling_senco)
    assert client.get(url).status_code == 404
    assert client.get(f"/api/v1/placements/{placement.pk}/").status_code == 404
    sign_in(client, other.users["senco"])
    assert client.get(url).status_code == 404
    sign_in(client, other.users["provision_lead"])
    assert client.get(url).status_code == 404
    assert client.post(f"{url}start/", {"start-starts_on": TODAY.isoformat()}).status_code == 404
    for role in ("partnership_lead", "la_officer", "practitioner"):
        sign_in(client, tenant.users[role])
        for page in ("/placements/", url, f"/placements/refer/{tenant.pupils[0].pk}/"):
            assert client.get(page).status_code == 403, (role, page)
        assert client.get("/api/v1/placements/").status_code == 403, role
        assert client.get(f"/api/v1/placements/{placement.pk}/").status_code == 403, role
    assert _reload(placement).status == "referred"


def _senco_of(school):
    from tests.factories import MembershipFactory, UserFactory

    user = UserFactory(username=f"senco-{school.pk}")
    MembershipFactory(user=user, role="senco", school=school)
    return user


# --- the pupil's page and timeline --------------------------------------------------------------


def test_pupil_page_lists_placements_and_offers_a_referral(senco, tenant):
    pupil = tenant.pupils[0]
    page = senco.get(f"/pupils/{pupil.pk}/").content.decode()
    assert "Behaviour provision placements" in page and f"/placements/refer/{pupil.pk}/" in page
    placement = _refer(tenant, pupil)
    _start(placement)
    page = senco.get(f"/pupils/{pupil.pk}/").content.decode()
    assert f"/placements/{placement.pk}/" in page
    assert f"/placements/refer/{pupil.pk}/" not in page  # one current placement at a time
    timeline = senco.get(f"/pupils/{pupil.pk}/timeline/").content.decode()
    assert f"Referred to the behaviour provision {tenant.provision.name}" in timeline
    assert f"Placement at {tenant.provision.name} started" in timeline


# --- the API ------------------------------------------------------------------------------------


def _api_referral(tenant, pupil, **extra) -> dict:
    body = _referral_form(tenant, pupil=pupil.pk)
    body.update(extra)
    return body


def test_api_refer_start_progress_end_and_names(senco, lead, tenant):
    pupil = tenant.pupils[0]
    made = senco.post("/api/v1/placements/", _api_referral(tenant, pupil), content_type="application/json")
    assert made.status_code == 201, made.content
    pk = made.json()["id"]
    assert made.json()["pupil_name"] == f"{pupil.first_name} {pupil.last_name}"

    waiting = lead.get(f"/api/v1/placements/{pk}/").json()
    assert waiting["pupil"] == pupil.pk and waiting["pupil_name"] is None
    assert waiting["school_name"] == tenant.school.name

    start = {"starts_on": (TODAY - timedelta(days=2)).isoformat()}
    started = lead.post(f"/api/v1/placements/{pk}/start/", start, content_type="application/json")
    assert started.status_code == 200 and started.json()["status"] == "active"
    assert (
        lead.get(f"/api/v1/placements/{pk}/").json()["pupil_name"] == f"{pupil.first_name} {pupil.last_name}"
    )

    figures = {"attendance_percent": "92.0", "suspensions": 0}
    progressed = lead.post(f"/api/v1/placements/{pk}/progress/", figures, content_type="application/json")
    assert progressed.status_code == 200 and progressed.json()["attendance_percent"] == "92.0"

    ending = {"ends_on": (TODAY - timedelta(days=1)).isoformat(), "exit_outcome": "managed_move"}
    ended = lead.post(f"/api/v1/placements/{pk}/end/", ending, content_type="application/json")
    assert ended.status_code == 200
    assert ended.json()["status"] == "ended" and ended.json()["pupil_name"] is None
    assert lead.get(f"/api/v1/placements/{pk}/").json()["pupil_name"] is None
    listed = lead.get("/api/v1/placements/").json()["results"]
    assert [(r["id"], r["pupil_name"]) for r in listed] == [(pk, None)]
    assert (
        senco.get(f"/api/v1/placements/{pk}/").json()["pupil_name"] == f"{pupil.first_name} {pupil.last_name}"
    )


def test_api_validation_messages_and_foreign_ids(senco, tenant, other):
    tenant.provision.key_stages = "KS3"
    tenant.provision.save()
    pupil = tenant.pupils[0]

    def post(**extra):
        return senco.post(
            "/api/v1/placements/", _api_referral(tenant, pupil, **extra), content_type="application/json"
        )

    no_consent = post(consent_on=None)
    assert no_consent.status_code == 400
    body = no_consent.json()
    assert "consent" in body["consent_on"][0] and "multidisciplinary meeting" in body["mdt_meeting_on"][0]
    foreign = post(provision=other.provision.pk)
    assert foreign.status_code == 400
    assert "takes pupils from this school's partnership" in foreign.json()["provision"][0]
    stranger = senco.post(
        "/api/v1/placements/", _api_referral(tenant, other.pupils[0]), content_type="application/json"
    )
    assert stranger.status_code == 400 and "pupil" in stranger.json()
    sibling = senco.post(
        "/api/v1/placements/",
        _api_referral(tenant, tenant.sibling_pupils[0]),
        content_type="application/json",
    )
    assert sibling.status_code == 400 and "pupil" in sibling.json()
    with transaction.atomic(), _as_school(tenant.school):
        assert not ProvisionPlacement.objects.exists()


def test_api_roles_that_may_not_act_get_403(lead, senco, tenant):
    pupil = tenant.pupils[0]
    refused = lead.post("/api/v1/placements/", _api_referral(tenant, pupil), content_type="application/json")
    assert refused.status_code == 403
    placement = _refer(tenant, pupil)
    withdraw = lead.post(f"/api/v1/placements/{placement.pk}/withdraw/", {}, content_type="application/json")
    assert withdraw.status_code == 403 and "home school" in withdraw.json()["detail"]
    done = senco.post(
        f"/api/v1/placements/{placement.pk}/withdraw/", {"note": "Moved"}, content_type="application/json"
    )
    assert done.status_code == 200 and done.json()["status"] == "withdrawn"
    again = senco.post(f"/api/v1/placements/{placement.pk}/start/", {"starts_on": TODAY.isoformat()})
    assert again.status_code == 400 and "waiting" in again.json()["detail"][0]


def test_api_filters_and_audit(senco, tenant):
    first, second = tenant.pupils[0], tenant.pupils[1]
    ended = _refer(tenant, first, referred_on=TODAY - timedelta(days=60))
    _start(ended, days_ago=50)
    _end(ended, days_ago=10)
    current = _refer(tenant, second)

    def ids(query: str) -> list[int]:
        return [r["id"] for r in senco.get(f"/api/v1/placements/{query}").json()["results"]]

    assert ids("") == [current.pk, ended.pk]  # current ones first
    assert ids("?status=current") == [current.pk]
    assert ids("?status=ended") == [ended.pk]
    assert ids(f"?pupil={first.pk}") == [ended.pk]
    assert ids(f"?provision={tenant.provision.pk}") == [current.pk, ended.pk]
    assert ids("?provision=999999") == []
    assert senco.get("/api/v1/placements/?status=nonsense").status_code == 400
    senco.get(f"/api/v1/placements/{current.pk}/")
    listed = _audit_rows(tenant.school, action="list", object_type="interventions.provisionplacement")
    assert listed[0].detail["pupils"] == sorted([first.pk, second.pk])
    viewed = _audit_rows(tenant.school, action="view", object_type="interventions.provisionplacement")
    assert [(v.object_id, v.detail["pupil"]) for v in viewed] == [(str(current.pk), second.pk)]


def test_list_page_audits_what_it_shows(lead, senco, tenant):
    placement = _refer(tenant, tenant.pupils[0])
    _start(placement)
    waiting = _refer(tenant, tenant.pupils[1])
    assert lead.get("/placements/?status=current").status_code == 200
    # The provision reads across schools: a row per placement, in the home school's log.
    rows = _audit_rows(tenant.school, action="list", object_type="interventions.provisionplacement")
    assert sorted((r.object_id, r.detail["named"]) for r in rows) == sorted(
        [(str(placement.pk), True), (str(waiting.pk), False)]
    )
    assert {r.role for r in rows} == {"provision_lead"}
    assert senco.get("/placements/").status_code == 200
    [own] = _audit_rows(tenant.school, action="list", role="senco")
    assert own.detail["pupils"] == sorted([tenant.pupils[0].pk, tenant.pupils[1].pk])


# --- query counts -------------------------------------------------------------------------------


def _queries(client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return [q["sql"] for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]]


@pytest.mark.parametrize("who", ["senco", "provision_lead"])
@pytest.mark.parametrize("url", ["/placements/", "/api/v1/placements/"])
def test_list_queries_do_not_grow_with_the_placements(client, tenant, who, url):
    sign_in(client, tenant.users[who])
    first = _refer(tenant, tenant.pupils[0])
    _start(first)
    _queries(client, url)  # warm up
    few = len(_queries(client, url))
    for i in range(12):
        pupil = PupilFactory(school=tenant.school, last_name=f"Placed{i}")
        placement = _refer(tenant, pupil)
        if i % 3:
            _start(placement)
        if i % 3 == 2:
            _end(placement)
    assert len(_queries(client, url)) == few


def test_list_page_query_count_is_pinned(lead, tenant):
    """The queries behind /placements/ for a provision lead (savepoints left out):
    1 switch to the app role; 2 session; 3 user; 4 the user's two-factor device;
    5 memberships with their scope objects and grants; 6 tenant settings; 7 placements
    count (pager); 8 placements page with provision and home school; 9 the names of the
    pupils the scope may read; 10 audit insert (one, however many rows); 11 settings back
    to no tenant as the scope ends; 12 role back as the request ends.
    """
    placement = _refer(tenant, tenant.pupils[0])
    _start(placement)
    _queries(lead, "/placements/")
    queries = _queries(lead, "/placements/")
    assert len(queries) == 12, "\n".join(q[:150] for q in queries)


# --- demo data ----------------------------------------------------------------------------------


def test_demo_placements_cover_the_cases_and_are_made_once(db):
    import io

    from django.core.management import call_command

    from interventions.demo_placements import seed_provision_placements
    from schools.models import BehaviourProvision, School

    call_command("seed_demo", "--json", stdout=io.StringIO())
    provision = BehaviourProvision.objects.get(name="The Bridge")
    assert seed_provision_placements(provision) == 0
    schools = list(School.objects.filter(partnership=provision.partnership).values_list("pk", flat=True))
    with transaction.atomic(), tenant_scope(TenantScope.system(schools=schools)):
        rows = list(ProvisionPlacement.objects.filter(provision=provision))
        grants = {g.source_id for g in _grants(provision)}
    assert 12 <= len(rows) <= 20
    by_status = {s: [r for r in rows if r.status == s] for s in ("referred", "active", "ended", "withdrawn")}
    assert len(by_status["referred"]) == 1 and len(by_status["withdrawn"]) == 1
    assert len(by_status["active"]) >= 3 and len(by_status["ended"]) >= 5
    assert len({r.exit_outcome for r in by_status["ended"]}) >= 3
    assert any(r.outside_key_stage and r.mdt_meeting_on for r in rows)
    assert any(r.ehc_exception for r in rows)
    assert all(r.ends_on < TODAY for r in by_status["ended"])
    assert min(r.referred_on for r in rows).year >= TODAY.year - 2
    assert grants == {r.pk for r in rows if r.starts_on}


def _grants(provision):
    from schools.models import PupilGrant

    return PupilGrant.objects.filter(provision=provision, reason="placement")
