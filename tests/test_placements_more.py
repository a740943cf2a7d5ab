"""Following up moves on the graduated response: the page of overrides awaiting a
headteacher's approval, and reviewing a strategy tried after the event."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from graduated_response.models import Framework, Step, StepPlacement, StrategyTried
from graduated_response.placements import escalation_shortfall, step_move, step_place
from graduated_response.services import frameworks_load_for_la
from schools.models import AuditEvent
from schools.tenancy import TenantScope, tenant_scope
from tests.conftest import sign_in

TODAY = date.today()
EARLIER = TODAY - timedelta(days=30)


@pytest.fixture
def nw(tenant) -> dict[int, Step]:
    with transaction.atomic(), tenant_scope(TenantScope.system(local_authorities=[tenant.la.pk])):
        frameworks_load_for_la(la=tenant.la, template_keys=["nw-six-step"])
        framework = Framework.objects.get(slug="nw-six-step")
        return {s.number: s for s in Step.objects.filter(framework=framework)}


def school_scope(school, t):
    return tenant_scope(TenantScope.for_school(school.pk, la_id=t.la.pk))


def ask_override(t, pupil, nw, school=None) -> StepPlacement:
    """Place the pupil on step 2 and ask to move them to step 3 before the rule is met."""
    with transaction.atomic(), school_scope(school or t.school, t):
        step_place(request=None, pupil=pupil, step=nw[2], reason="Concerns", placed_on=EARLIER)
        return step_move(
            request=None,
            pupil=pupil,
            to_step=nw[3],
            reason="Escalating incidents",
            placed_on=TODAY,
            override_justification=f"Justified for {pupil.last_name}",
        )


def try_strategy(t, pupil, step, name: str = "Visual timetable", started_on=EARLIER) -> StrategyTried:
    with transaction.atomic(), school_scope(t.school, t):
        return StrategyTried.objects.create(
            school=t.school, pupil=pupil, step=step, name=name, started_on=started_on
        )


def reload_tried(t, pk: int) -> StrategyTried:
    with transaction.atomic(), school_scope(t.school, t):
        return StrategyTried.objects.get(pk=pk)


# --- overrides awaiting approval --------------------------------------------------------------


def test_headteacher_sees_pending_overrides_and_approves_one(client, tenant, nw):
    pupil = tenant.pupils[0]
    pending = ask_override(tenant, pupil, nw)
    sibling = tenant.sibling_pupils[0]
    ask_override(tenant, sibling, nw, school=tenant.sibling)
    sign_in(client, tenant.users["headteacher"], tenant.memberships["headteacher"])

    page = client.get("/pupils/overrides/")
    assert page.status_code == 200
    body = page.content.decode()
    assert pupil.last_name in body and f"Justified for {pupil.last_name}" in body
    assert "From step 2 (Universal Plus) to step 3 (Targeted)" in body
    assert sibling.last_name not in body  # another school's override
    approve_url = f"/pupils/{pupil.pk}/step/{pending.pk}/approve/"
    assert f'action="{approve_url}"' in body
    with transaction.atomic(), school_scope(tenant.school, tenant):
        [listed] = AuditEvent.objects.filter(action="list", object_type="graduated_response.stepplacement")
        assert listed.detail == {"page": "overrides", "shown": 1}

    assert client.post(approve_url).status_code == 302
    with transaction.atomic(), school_scope(tenant.school, tenant):
        assert StepPlacement.objects.get(pk=pending.pk).status == "active"
    assert "No overrides are waiting" in client.get("/pupils/overrides/").content.decode()


def test_senco_reads_the_overrides_without_an_approve_button(client, tenant, nw):
    pupil = tenant.pupils[0]
    ask_override(tenant, pupil, nw)
    sign_in(client, tenant.users["senco"], tenant.memberships["senco"])
    body = client.get("/pupils/overrides/").content.decode()
    assert pupil.last_name in body
    assert "/approve/" not in body and "Only a headteacher can approve" in body


@pytest.mark.parametrize(
    "role", ["practitioner", "provision_lead", "la_officer", "la_admin", "partnership_lead"]
)
def test_other_roles_cannot_open_the_overrides(client, tenant, nw, role):
    ask_override(tenant, tenant.pupils[0], nw)
    sign_in(client, tenant.users[role], tenant.memberships[role])
    response = client.get("/pupils/overrides/")
    assert response.status_code == 403
    assert tenant.pupils[0].last_name not in response.content.decode()


def test_overrides_query_count_does_not_grow_with_rows(client, tenant, nw):
    sign_in(client, tenant.users["headteacher"], tenant.memberships["headteacher"])
    ask_override(tenant, tenant.pupils[0], nw)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/pupils/overrides/").status_code == 200
        return len([q for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]])

    client.get("/pupils/overrides/")
    one = count()
    for pupil in tenant.pupils[1:]:
        ask_override(tenant, pupil, nw)
    assert "Justified for" in client.get("/pupils/overrides/").content.decode()
    assert count() == one


# --- reviewing a strategy tried later ------------------------------------------------------------


@pytest.fixture
def senco(client, tenant):
    return sign_in(client, tenant.users["senco"], tenant.memberships["senco"])


def test_senco_marks_a_strategy_reviewed_and_it_counts(senco, tenant, nw):
    pupil = tenant.pupils[0]
    with transaction.atomic(), school_scope(tenant.school, tenant):
        step_place(request=None, pupil=pupil, step=nw[2], reason="Concerns", placed_on=EARLIER)
    first = try_strategy(tenant, pupil, nw[2])
    try_strategy(tenant, pupil, nw[2], name="Meet and greet")
    url = f"/pupils/{pupil.pk}/strategies/{first.pk}/review/"

    page = senco.get(f"/pupils/{pupil.pk}/").content.decode()
    assert page.count("Mark reviewed") == 2 and f'href="{url}"' in page
    assert senco.get(url).status_code == 200
    response = senco.post(
        url, {"reviewed_on": TODAY.isoformat(), "outcome": "Fewer outbursts at transitions"}
    )
    assert response.status_code == 302
    tried = reload_tried(tenant, first.pk)
    assert (tried.reviewed_on, tried.outcome) == (TODAY, "Fewer outbursts at transitions")
    page = senco.get(f"/pupils/{pupil.pk}/").content.decode()
    assert page.count("Mark reviewed") == 1 and f'href="{url}"' not in page
    with transaction.atomic(), school_scope(tenant.school, tenant):
        assert "1 distinct strategy has been tried and reviewed" in escalation_shortfall(pupil, nw[2])
        [row] = AuditEvent.objects.filter(detail__event="strategy reviewed")
        assert row.detail == {
            "fields": ["strategies_tried"],
            "event": "strategy reviewed",
            "strategy_tried": first.pk,
            "step": nw[2].pk,
        }
        assert row.object_id == str(pupil.pk) and "outbursts" not in str(row.detail)

    # Reviewed once: a second review is refused and the first one stands.
    again = senco.post(url, {"reviewed_on": TODAY.isoformat(), "outcome": "Rewritten"})
    assert again.status_code == 400 and "already reviewed" in again.content.decode()
    assert reload_tried(tenant, first.pk).outcome == "Fewer outbursts at transitions"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"reviewed_on": (TODAY + timedelta(days=1)).isoformat(), "outcome": "Early"},
            "cannot be in the future",
        ),
        (
            {"reviewed_on": (EARLIER - timedelta(days=1)).isoformat(), "outcome": "Odd"},
            "before the strategy started",
        ),
        ({"reviewed_on": TODAY.isoformat(), "outcome": "   "}, "Say what the review found"),
        ({"reviewed_on": "", "outcome": "Fine"}, "Give the date of the review"),
    ],
)
def test_a_bad_review_is_a_400_and_changes_nothing(senco, tenant, nw, body, message):
    pupil = tenant.pupils[0]
    tried = try_strategy(tenant, pupil, nw[2])
    response = senco.post(f"/pupils/{pupil.pk}/strategies/{tried.pk}/review/", body)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert reload_tried(tenant, tried.pk).reviewed_on is None


def test_another_schools_strategy_or_pupil_is_404(senco, tenant, nw):
    sibling = tenant.sibling_pupils[0]
    with transaction.atomic(), school_scope(tenant.sibling, tenant):
        theirs = StrategyTried.objects.create(
            school=tenant.sibling, pupil=sibling, step=nw[2], name="Theirs", started_on=EARLIER
        )
    own = tenant.pupils[0]
    mine = try_strategy(tenant, tenant.pupils[1], nw[2])  # another pupil's, same school
    body = {"reviewed_on": TODAY.isoformat(), "outcome": "Taken over"}
    for url in (
        f"/pupils/{sibling.pk}/strategies/{theirs.pk}/review/",
        f"/pupils/{own.pk}/strategies/{theirs.pk}/review/",
        f"/pupils/{own.pk}/strategies/{mine.pk}/review/",
    ):
        assert senco.get(url).status_code == 404, url
        assert senco.post(url, body).status_code == 404, url
    with transaction.atomic(), school_scope(tenant.sibling, tenant):
        assert StrategyTried.objects.get(pk=theirs.pk).reviewed_on is None
    assert reload_tried(tenant, mine.pk).reviewed_on is None


def test_a_practitioner_cannot_review_a_strategy(client, tenant, nw):
    tried = try_strategy(tenant, tenant.pupils[0], nw[2])
    sign_in(client, tenant.users["practitioner"], tenant.memberships["practitioner"])
    url = f"/pupils/{tenant.pupils[0].pk}/strategies/{tried.pk}/review/"
    assert client.post(url, {"reviewed_on": TODAY.isoformat(), "outcome": "x"}).status_code == 403
    assert reload_tried(tenant, tried.pk).reviewed_on is None
