"""Recording sessions: one screen with everyone ticked, re-recording a day, part-term places,
who may record which group (browser and API), attendance rates, audit and query counts."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from interventions.models import Attendance, Session
from schools.models import AuditEvent
from tests.conftest import sign_in
from tests.factories import PupilFactory
from tests.test_interventions import TODAY, enrol, make_group, make_provision, patch, post
from tests.test_placements import school_scope


@pytest.fixture
def senco(client, tenant):
    return sign_in(client, tenant.users["senco"], tenant.memberships["senco"])


@pytest.fixture
def practitioner(client, tenant):
    return sign_in(client, tenant.users["practitioner"], tenant.memberships["practitioner"])


@pytest.fixture
def group(tenant):
    """A group the practitioner runs, with the school's three pupils in it."""
    made = make_group(tenant, staff=[tenant.users["practitioner"]])
    made.places = [enrol(tenant, made, pupil) for pupil in tenant.pupils]
    return made


def page_form(group, day=TODAY, **marks):
    """The session form as a browser posts it: ticks for present pupils, every row shown."""
    body = {"held_on": day.isoformat(), "notes": "Turn taking with the feelings cards", "shown": []}
    for place in group.places:
        body["shown"].append(place.pk)
        present, note = marks.get(str(place.pk), (True, ""))
        if present:
            body[f"present_{place.pk}"] = "1"
        body[f"note_{place.pk}"] = note
    return body


def attendance(t, session_day=TODAY):
    with transaction.atomic(), school_scope(t):
        rows = Attendance.objects.filter(session__held_on=session_day).select_related("enrolment")
        return {a.enrolment.pupil_id: (a.present, a.note) for a in rows}


def test_the_session_page_ticks_everyone_and_saves_who_came(practitioner, tenant, group):
    url = f"/interventions/groups/{group.pk}/sessions/new/"
    page = practitioner.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    for place in group.places:
        assert f'id="present_{place.pk}" name="present_{place.pk}" value="1" checked' in html
    assert f'value="{TODAY.isoformat()}"' in html
    absent = group.places[1]
    body = page_form(group, **{str(absent.pk): (False, "At the dentist")})
    response = practitioner.post(url, body)
    assert response.status_code == 302 and response["Location"].endswith(
        f"/interventions/groups/{group.pk}/#sessions"
    )
    assert attendance(tenant) == {
        tenant.pupils[0].pk: (True, ""),
        tenant.pupils[1].pk: (False, "At the dentist"),
        tenant.pupils[2].pk: (True, ""),
    }
    shown = practitioner.get(f"/interventions/groups/{group.pk}/").content.decode()
    assert "2 of 3" in shown and "At the dentist" in shown and "Turn taking" in shown


def test_recording_the_same_day_again_changes_it(practitioner, tenant, group):
    url = f"/interventions/groups/{group.pk}/sessions/new/"
    practitioner.post(url, page_form(group))
    again = practitioner.get(url, {"held_on": TODAY.isoformat()}).content.decode()
    assert "already recorded" in again and "Turn taking" in again
    first = group.places[0]
    response = practitioner.post(url, page_form(group, **{str(first.pk): (False, "")}))
    assert response.status_code == 302
    with transaction.atomic(), school_scope(tenant):
        assert Session.objects.count() == 1 and Attendance.objects.count() == 3
    assert attendance(tenant)[tenant.pupils[0].pk] == (False, "")


def test_a_part_term_pupil_is_only_on_the_days_they_are_in_the_group(senco, tenant):
    group = make_group(tenant)
    early = enrol(tenant, group, tenant.pupils[0])
    late = enrol(tenant, group, tenant.pupils[1], starts_on=TODAY - timedelta(days=3))
    day = TODAY - timedelta(days=10)
    html = senco.get(
        f"/interventions/groups/{group.pk}/sessions/new/", {"held_on": day.isoformat()}
    ).content.decode()
    assert f"present_{early.pk}" in html and f"present_{late.pk}" not in html
    # A form made for today but posted for that earlier day: shown again with that day's pupils.
    body = {"held_on": day.isoformat(), "shown": [early.pk, late.pk], f"present_{early.pk}": "1"}
    response = senco.post(f"/interventions/groups/{group.pk}/sessions/new/", body)
    assert response.status_code == 400 and "not the ones that were shown" in response.content.decode()
    body["shown"] = [early.pk]
    assert senco.post(f"/interventions/groups/{group.pk}/sessions/new/", body).status_code == 302
    assert attendance(tenant, day) == {tenant.pupils[0].pk: (True, "")}


def test_a_session_in_the_future_or_outside_the_group_is_refused(senco, tenant, group):
    url = f"/interventions/groups/{group.pk}/sessions/new/"
    for day in (TODAY + timedelta(days=1), group.starts_on - timedelta(days=1)):
        response = senco.post(url, page_form(group, day=day))
        assert response.status_code == 400, day
    assert senco.post(url, {"held_on": "not a date"}).status_code == 400
    long_note = page_form(group)
    long_note[f"note_{group.places[0].pk}"] = "x" * 501
    assert senco.post(url, long_note).status_code == 400
    with transaction.atomic(), school_scope(tenant):
        assert not Session.objects.exists() and not Attendance.objects.exists()


def test_a_practitioner_records_their_own_groups_only(client, practitioner, tenant, group):
    theirs = make_group(tenant, make_provision(tenant, name="Nurture group"), staff=[tenant.users["senco"]])
    enrol(tenant, theirs, tenant.pupils[0])
    assert practitioner.get(f"/interventions/groups/{theirs.pk}/sessions/new/").status_code == 404
    assert practitioner.post(f"/interventions/groups/{theirs.pk}/sessions/new/", {}).status_code == 404
    api = post(practitioner, "/api/v1/sessions/", {"group": theirs.pk, "held_on": TODAY.isoformat()})
    assert api.status_code == 400
    mine = post(practitioner, "/api/v1/sessions/", {"group": group.pk, "held_on": TODAY.isoformat()})
    assert mine.status_code == 201, mine.content
    with transaction.atomic(), school_scope(tenant):
        assert list(Session.objects.values_list("group_id", flat=True)) == [group.pk]
    # A SENCO or headteacher records any group of the school.
    for role in ("senco", "headteacher"):
        sign_in(client, tenant.users[role], tenant.memberships[role])
        day = TODAY - timedelta(days=1 if role == "senco" else 2)
        assert (
            post(client, "/api/v1/sessions/", {"group": theirs.pk, "held_on": day.isoformat()}).status_code
            == 201
        )
    # Roles outside the school, and the provision lead, are refused whatever the group.
    for role in ("provision_lead", "la_officer"):
        sign_in(client, tenant.users[role], tenant.memberships[role])
        response = post(client, "/api/v1/sessions/", {"group": group.pk, "held_on": TODAY.isoformat()})
        assert response.status_code in (403, 404)


def test_sessions_over_the_api(senco, tenant, other, group):
    first, second, third = tenant.pupils
    body = {
        "group": group.pk,
        "held_on": TODAY.isoformat(),
        "notes": "Board game",
        "attendance": [
            {"pupil": first.pk, "present": True, "note": "Led the game"},
            {"enrolment": group.places[1].pk, "present": True},
        ],
    }
    made = post(senco, "/api/v1/sessions/", body)
    assert made.status_code == 201, made.content
    session = made.json()
    marks = {a["pupil"]: (a["present"], a["note"]) for a in session["attendance"]}
    assert marks == {first.pk: (True, "Led the game"), second.pk: (True, ""), third.pk: (False, "")}
    # Posting the day again changes it; PATCH changes only the pupils named.
    again = post(senco, "/api/v1/sessions/", {**body, "notes": "Board game, then a walk"})
    assert again.status_code == 200 and again.json()["id"] == session["id"]
    changed = patch(
        senco, f"/api/v1/sessions/{session['id']}/", {"attendance": [{"pupil": third.pk, "present": True}]}
    )
    assert changed.status_code == 200
    marks = {a["pupil"]: a["present"] for a in changed.json()["attendance"]}
    assert marks == {first.pk: True, second.pk: True, third.pk: True}
    assert changed.json()["notes"] == "Board game, then a walk"
    # Pupils outside the group, and other schools' ids: refused, nothing changed.
    outsider = {**body, "attendance": [{"pupil": tenant.sibling_pupils[0].pk, "present": True}]}
    assert post(senco, "/api/v1/sessions/", outsider).status_code == 400
    foreign = {**body, "attendance": [{"enrolment": 10**12, "present": False}]}
    assert post(senco, "/api/v1/sessions/", foreign).status_code == 400
    assert post(senco, "/api/v1/sessions/", {**body, "attendance": [{"present": True}]}).status_code == 400
    other_group = make_group(other, make_provision(other))
    assert post(senco, "/api/v1/sessions/", {**body, "group": other_group.pk}).status_code == 400
    assert senco.get(f"/api/v1/sessions/{10**15}/").status_code == 404
    listed = senco.get("/api/v1/sessions/", {"group": group.pk, "from": TODAY.isoformat()}).json()
    assert [s["id"] for s in listed["results"]] == [session["id"]]
    assert senco.get("/api/v1/sessions/", {"from": "yesterday"}).status_code == 400
    with transaction.atomic(), school_scope(tenant):
        assert Attendance.objects.filter(present=True).count() == 3


def test_attendance_rates_per_pupil(senco, tenant, group):
    days = [TODAY - timedelta(days=n) for n in (1, 2, 3, 4)]
    first = group.places[0]
    for n, day in enumerate(days):
        came = [{"enrolment": p.pk, "present": p != first or n == 0} for p in group.places]
        post(senco, "/api/v1/sessions/", {"group": group.pk, "held_on": day.isoformat(), "attendance": came})
    rows = {e["pupil"]: e for e in senco.get("/api/v1/enrolments/", {"group": group.pk}).json()["results"]}
    assert (rows[first.pupil_id]["sessions_attended"], rows[first.pupil_id]["sessions_recorded"]) == (1, 4)
    assert rows[first.pupil_id]["attendance_rate"] == 25.0
    assert rows[tenant.pupils[1].pk]["attendance_rate"] == 100.0
    page = senco.get(f"/interventions/groups/{group.pk}/").content.decode()
    assert '25.0% <span class="hint">(1 of 4)</span>' in page


def test_attendance_is_audited_once_per_pupil_by_id(practitioner, tenant, group):
    practitioner.post(f"/interventions/groups/{group.pk}/sessions/new/", page_form(group))
    with transaction.atomic(), school_scope(tenant):
        rows = list(AuditEvent.objects.filter(action="update", object_type="pupils.pupil"))
    assert sorted(int(r.object_id) for r in rows) == sorted(p.pk for p in tenant.pupils)
    assert all(r.detail["fields"] == ["attendance"] and "Turn" not in str(r.detail) for r in rows)
    assert {r.user_id for r in rows} == {tenant.users["practitioner"].pk}


def test_changing_the_day_brings_that_days_pupils_without_a_reload(practitioner, tenant, group):
    url = f"/interventions/groups/{group.pk}/sessions/new/"
    day = (TODAY - timedelta(days=2)).isoformat()
    partial = practitioner.get(url, {"held_on": day}, HTTP_HX_REQUEST="true")
    assert partial.status_code == 200
    html = partial.content.decode()
    assert "<html" not in html and 'name="shown"' in html and "Who came" in html


def test_the_session_page_costs_the_same_queries_with_more_pupils(senco, tenant, group):
    url = f"/interventions/groups/{group.pk}/sessions/new/"

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert senco.get(url, {"held_on": TODAY.isoformat()}).status_code == 200
        return len([q for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]])

    senco.post(url, page_form(group))
    senco.get(url)  # shows (and so clears) the saved message
    small = count()
    for i in range(5):
        enrol(tenant, group, PupilFactory(school=tenant.school, last_name=f"More{i}"), entry_score=Decimal(3))
    assert count() == small


def test_the_service_itself_refuses_a_practitioner_outside_their_groups(tenant, group):
    """Defence in depth: even called directly, recording checks who runs the group."""
    from django.core.exceptions import PermissionDenied

    from interventions import services
    from schools.scopes import scope_for_membership
    from schools.tenancy import tenant_scope

    theirs = make_group(tenant, make_provision(tenant, name="Nurture group"))
    enrol(tenant, theirs, tenant.pupils[0])
    scope = scope_for_membership(tenant.memberships["practitioner"])
    with transaction.atomic(), tenant_scope(scope):
        with pytest.raises(PermissionDenied):
            services.session_record(request=None, group=theirs, held_on=TODAY, marks={})
        session, made = services.session_record(request=None, group=group, held_on=TODAY, marks={})
        assert made and session.group_id == group.pk
