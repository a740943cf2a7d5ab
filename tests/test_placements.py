"""Step placements on the graduated response: the escalation rule, overrides and their
approval, moves down and exit, audit, the register's step filter, and isolation."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from graduated_response.models import Framework, Step, StepPlacement, Strategy, StrategyTried
from graduated_response.placements import step_place
from graduated_response.services import frameworks_load_for_la
from schools.models import AuditEvent
from schools.tenancy import TenantScope, tenant_scope
from tests.conftest import sign_in

TODAY = date.today()
EARLIER = TODAY - timedelta(days=60)


def la_scope(*las):
    return tenant_scope(TenantScope.system(local_authorities=[la.pk for la in las]))


@pytest.fixture
def nw(tenant) -> dict[int, Step]:
    """The tenant's LA with the NW six-step framework: its steps by number."""
    with transaction.atomic(), la_scope(tenant.la):
        frameworks_load_for_la(la=tenant.la, template_keys=["nw-six-step"])
        framework = Framework.objects.get(slug="nw-six-step")
        return {s.number: s for s in Step.objects.filter(framework=framework)}


def school_scope(t):
    return tenant_scope(TenantScope.for_school(t.school.pk, la_id=t.la.pk))


def post(client, url, data):
    return client.post(url, data, content_type="application/json")


def place(client, pupil, step, **extra):
    body = {"step": step.pk, "reason": "Concerns raised", "placed_on": EARLIER.isoformat(), **extra}
    return post(client, f"/api/v1/pupils/{pupil.pk}/steps/", body)


def move(client, pupil, step, **extra):
    body = {"step": step.pk, "reason": "Review decision", "placed_on": TODAY.isoformat(), **extra}
    return post(client, f"/api/v1/pupils/{pupil.pk}/steps/", body)


def tried(t, pupil, step, *, n: int, reviewed: bool = True, same: bool = False, names=None):
    """`n` strategies tried at `step`, from the catalogue (or the first one `n` times)."""
    with transaction.atomic(), school_scope(t):
        catalogue = list(Strategy.objects.filter(step=step).order_by("order", "id"))
        for i in range(n):
            StrategyTried.objects.create(
                school=t.school,
                pupil=pupil,
                step=step,
                strategy=None if names else catalogue[0 if same else i],
                name=names[i] if names else "",
                started_on=EARLIER,
                reviewed_on=TODAY if reviewed else None,
            )


@pytest.fixture
def senco(client, tenant):
    return sign_in(client, tenant.users["senco"], tenant.memberships["senco"])


def current(client, pupil):
    rows = client.get(f"/api/v1/pupils/{pupil.pk}/steps/").json()
    return [(r["step_number"], r["kind"], r["status"]) for r in rows]


def test_first_placement_makes_the_current_step(senco, tenant, nw):
    pupil = tenant.pupils[0]
    response = place(senco, pupil, nw[2])
    assert response.status_code == 201, response.json()
    assert current(senco, pupil) == [(2, "start", "active")]
    # A second first placement is refused: the pupil is moved instead.
    page = senco.get(f"/pupils/{pupil.pk}/")
    assert "Graduated response" in page.content.decode() and "Universal Plus" in page.content.decode()


def test_moving_up_needs_the_rule_met_at_each_nw_step(senco, tenant, nw):
    pupil = tenant.pupils[0]
    assert place(senco, pupil, nw[2]).status_code == 201
    tried(tenant, pupil, nw[2], n=1)
    refused = move(senco, pupil, nw[3])
    assert refused.status_code == 400
    message = " ".join(refused.json()["detail"])
    assert "1 distinct strategy has been tried and reviewed at step 2" in message
    assert "needs at least 2" in message
    tried(tenant, pupil, nw[2], n=2)  # the first again and a second: two distinct
    assert move(senco, pupil, nw[3]).status_code == 201
    assert current(senco, pupil)[0] == (3, "up", "active")

    tried(tenant, pupil, nw[3], n=2)
    assert "needs at least 3" in " ".join(move(senco, pupil, nw[4]).json()["detail"])
    tried(tenant, pupil, nw[3], n=3)
    assert move(senco, pupil, nw[4]).status_code == 201

    tried(tenant, pupil, nw[4], n=4)
    assert "needs at least 5" in " ".join(move(senco, pupil, nw[5]).json()["detail"])
    tried(tenant, pupil, nw[4], n=5)
    assert move(senco, pupil, nw[5]).status_code == 201
    assert [row[0] for row in current(senco, pupil)] == [5, 4, 3, 2]


def test_unreviewed_and_repeated_strategies_do_not_count(senco, tenant, nw):
    pupil = tenant.pupils[0]
    place(senco, pupil, nw[2])
    tried(tenant, pupil, nw[2], n=3, reviewed=False)
    tried(tenant, pupil, nw[2], n=3, same=True)
    assert move(senco, pupil, nw[3]).status_code == 400
    tried(tenant, pupil, nw[3], n=2)  # tried at another step: not this one's
    assert move(senco, pupil, nw[3]).status_code == 400
    tried(tenant, pupil, nw[2], n=2, names=["Buddy system", "buddy system "])  # one, by name
    assert move(senco, pupil, nw[3]).status_code == 201


def test_an_override_waits_for_a_headteacher(client, senco, tenant, nw):
    pupil = tenant.pupils[0]
    place(senco, pupil, nw[2])
    response = move(senco, pupil, nw[3], override_justification="Serious incident")
    assert response.status_code == 201
    pending = response.json()
    assert pending["status"] == "pending_approval" and pending["override"] is True
    assert [r[2] for r in current(senco, pupil)] == ["pending_approval", "active"]
    url = f"/api/v1/pupils/{pupil.pk}/steps/{pending['id']}/approve/"
    assert senco.post(url).status_code == 403  # a SENCO cannot approve
    assert senco.post(f"/pupils/{pupil.pk}/step/{pending['id']}/approve/").status_code == 403

    sign_in(client, tenant.users["headteacher"], tenant.memberships["headteacher"])
    approved = client.post(url)
    assert approved.status_code == 200, approved.json()
    assert approved.json()["status"] == "active" and approved.json()["approved_by"]
    assert current(client, pupil) == [(3, "up", "active"), (2, "start", "superseded")]
    assert client.post(url).status_code == 400  # approved once only


def test_headteacher_approves_in_the_browser(client, senco, tenant, nw):
    pupil = tenant.pupils[0]
    place(senco, pupil, nw[2])
    pending = move(senco, pupil, nw[3], override_justification="Serious incident").json()
    sign_in(client, tenant.users["headteacher"], tenant.memberships["headteacher"])
    page = client.get(f"/pupils/{pupil.pk}/").content.decode()
    assert "Approve override" in page
    response = client.post(f"/pupils/{pupil.pk}/step/{pending['id']}/approve/")
    assert response.status_code == 302
    assert current(client, pupil)[0] == (3, "up", "active")


def test_down_and_exit_are_recorded(senco, tenant, nw):
    pupil = tenant.pupils[0]
    place(senco, pupil, nw[3])
    assert move(senco, pupil, nw[2]).status_code == 201
    response = post(
        senco,
        f"/api/v1/pupils/{pupil.pk}/steps/",
        {"exit": True, "reason": "Needs met", "placed_on": TODAY.isoformat()},
    )
    assert response.status_code == 201
    assert current(senco, pupil) == [
        (2, "exit", "exited"),
        (2, "down", "superseded"),
        (3, "start", "superseded"),
    ]
    with transaction.atomic(), school_scope(tenant):
        assert not StepPlacement.objects.filter(pupil=pupil, status="active").exists()


def test_every_change_is_audited_without_free_text(senco, tenant, nw):
    pupil = tenant.pupils[0]
    place(senco, pupil, nw[2], evidence="Secret evidence text")
    move(senco, pupil, nw[3], override_justification="Secret justification")
    with transaction.atomic(), school_scope(tenant):
        rows = list(
            AuditEvent.objects.filter(object_id=str(pupil.pk), detail__fields=["step"]).order_by("at", "id")
        )
    assert [r.detail["event"] for r in rows] == ["placed", "override requested"]
    assert rows[1].detail["override"] is True and rows[1].user_id == tenant.users["senco"].pk
    assert all("Secret" not in str(r.detail) for r in rows)


def test_browser_refuses_a_move_up_with_the_explanation(senco, tenant, nw):
    pupil = tenant.pupils[0]
    form = {"to_step": nw[2].pk, "placed_on": EARLIER.isoformat(), "reason": "Concerns"}
    assert senco.post(f"/pupils/{pupil.pk}/step/", form).status_code == 302
    refused = senco.post(f"/pupils/{pupil.pk}/step/", {**form, "to_step": nw[3].pk})
    assert refused.status_code == 400
    assert "0 distinct strategies have been tried and reviewed at step 2" in refused.content.decode()
    added = senco.post(
        f"/pupils/{pupil.pk}/strategies/",
        {"name": "Visual timetable", "started_on": EARLIER.isoformat(), "reviewed_on": TODAY.isoformat()},
    )
    assert added.status_code == 302
    senco.post(
        f"/pupils/{pupil.pk}/strategies/",
        {"name": "Meet and greet", "started_on": EARLIER.isoformat(), "reviewed_on": TODAY.isoformat()},
    )
    moved = senco.post(f"/pupils/{pupil.pk}/step/", {**form, "to_step": nw[3].pk, "placed_on": TODAY})
    assert moved.status_code == 302
    page = senco.get(f"/pupils/{pupil.pk}/").content.decode()
    assert "Visual timetable" in page and "step 3" in page


def test_practitioner_cannot_change_a_step(client, tenant, nw):
    sign_in(client, tenant.users["practitioner"], tenant.memberships["practitioner"])
    assert client.get(f"/pupils/{tenant.pupils[0].pk}/step/").status_code == 403


def test_register_filters_by_step_in_the_browser_and_the_api(senco, tenant, nw):
    a, b, c = tenant.pupils
    place(senco, a, nw[2])
    place(senco, b, nw[3])
    page = senco.post("/pupils/", {"step": 2}).content.decode()
    assert a.last_name in page and b.last_name not in page and c.last_name not in page
    names = [p["last_name"] for p in senco.get("/api/v1/pupils/", {"step": 3}).json()["results"]]
    assert names == [b.last_name]
    assert senco.get("/api/v1/pupils/", {"step": 0}).status_code == 400


def test_frameworks_api_lists_the_las_frameworks_only(senco, tenant, other, nw):
    with transaction.atomic(), la_scope(other.la):
        frameworks_load_for_la(la=other.la, template_keys=["four-tier"])
        foreign = Framework.objects.get().pk
    body = senco.get("/api/v1/frameworks/").json()
    results = body["results"] if isinstance(body, dict) else body
    assert [f["slug"] for f in results] == ["nw-six-step"]
    steps = results[0]["steps"]
    assert [s["min_strategies_to_escalate"] for s in steps][1:4] == [2, 3, 5]
    assert steps[1]["strategies"]
    assert senco.get(f"/api/v1/frameworks/{results[0]['id']}/").status_code == 200
    assert senco.get(f"/api/v1/frameworks/{foreign}/").status_code == 404


def test_another_schools_pupil_and_placement_are_404(senco, client, tenant, nw):
    sibling = tenant.sibling_pupils[0]
    with transaction.atomic(), tenant_scope(TenantScope.for_school(tenant.sibling.pk, la_id=tenant.la.pk)):
        theirs = step_place(request=None, pupil=sibling, step=nw[2], reason="x", placed_on=EARLIER)
    own = tenant.pupils[0]
    place(senco, own, nw[2])
    assert senco.get(f"/api/v1/pupils/{sibling.pk}/steps/").status_code == 404
    assert place(senco, sibling, nw[3]).status_code == 404
    assert senco.get(f"/pupils/{sibling.pk}/step/").status_code == 404
    sign_in(client, tenant.users["headteacher"], tenant.memberships["headteacher"])
    assert client.post(f"/api/v1/pupils/{own.pk}/steps/{theirs.pk}/approve/").status_code == 404
    assert client.post(f"/pupils/{own.pk}/step/{theirs.pk}/approve/").status_code == 404


def test_register_query_count_does_not_grow_with_placements(senco, tenant, nw):
    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert senco.post("/pupils/", {"step": 2}).status_code == 200
        return len([q for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]])

    senco.get("/pupils/")
    place(senco, tenant.pupils[0], nw[2])
    small = count()
    for pupil in tenant.pupils[1:]:
        place(senco, pupil, nw[2])
    assert count() == small == 10
