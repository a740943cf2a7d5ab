"""Support plans as APDR cycles: making a plan at the pupil's step, SMART targets, strategies
from the step's catalogue, reviews with an outcome per target, reviews falling due in school
weeks on the LA's term dates, the SENCO's overdue list, the timeline, the API, audit and
isolation."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from graduated_response.models import PlanReview, Step, StrategyTried, SupportPlan
from graduated_response.placements import step_place
from graduated_response.plans import review_due_after
from graduated_response.selectors import reviews_due
from schools.models import AuditEvent, TermDates
from schools.tenancy import TenantScope
from tests.conftest import sign_in
from tests.test_placements import nw, school_scope  # noqa: F401  (fixture)

TODAY = date.today()
LONG_AGO = TODAY - timedelta(days=120)


def on_step(t, pupil, step: Step, placed_on: date = LONG_AGO):
    with transaction.atomic(), school_scope(t):
        step_place(request=None, pupil=pupil, step=step, reason="Concerns", placed_on=placed_on)


@pytest.fixture
def gr(tenant, nw):  # noqa: F811
    """The NW six-step steps by number, each with its catalogue read in."""
    with transaction.atomic(), school_scope(tenant):
        for step in nw.values():
            step.catalogue = list(step.strategies.order_by("order", "id"))
    return nw


@pytest.fixture
def senco(client, tenant):
    return sign_in(client, tenant.users["senco"], tenant.memberships["senco"])


def plan_body(pupil, step, **extra):
    return {
        "pupil": pupil.pk,
        "title": "Calmer lunchtimes",
        "concerns": "Leaves the dining hall",
        "starts_on": LONG_AGO.isoformat(),
        "targets": [
            {
                "description": "Stays at the table for 15 minutes",
                "success_criteria": "4 days of 5, over 2 weeks",
            },
            {
                "description": "Asks for a break using the card",
                "success_criteria": "Uses the card 3 times a week",
            },
        ],
        "strategies": [{"strategy": s.pk, "how": "Daily, by the TA"} for s in step.catalogue[:2]],
        **extra,
    }


def make_plan(client, pupil, step, **extra):
    response = client.post(
        "/api/v1/support-plans/", plan_body(pupil, step, **extra), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    return response.json()


def review(client, plan, decision="continue", **extra):
    body = {
        "reviewed_on": TODAY.isoformat(),
        "decision": decision,
        "pupil_views": "Likes the card",
        "outcomes": [{"target": t["id"], "rating": "achieved"} for t in plan["targets"]],
        **extra,
    }
    return client.post(f"/api/v1/support-plans/{plan['id']}/reviews/", body, content_type="application/json")


# --- making a plan -------------------------------------------------------------------------


def test_a_plan_is_made_at_the_current_step_with_targets_and_catalogue_strategies(senco, tenant, gr):
    pupil = tenant.pupils[0]
    on_step(tenant, pupil, gr[2])
    with transaction.atomic(), school_scope(tenant):
        catalogue = list(gr[2].strategies.order_by("order", "id"))
    body = plan_body(pupil, gr[2])
    body["strategies"] = [{"strategy": s.pk, "how": "Daily"} for s in catalogue[:2]] + [
        {"name": "Meet and greet"}
    ]
    response = senco.post("/api/v1/support-plans/", body, content_type="application/json")
    assert response.status_code == 201, response.content
    plan = response.json()
    assert plan["step_number"] == 2 and plan["status"] == "open"
    assert plan["targets"][0]["description"] == "Stays at the table for 15 minutes"
    assert {s["name"] for s in plan["strategies"]} == {catalogue[0].name, catalogue[1].name, "Meet and greet"}
    # The plan's strategies are strategies tried at step 2, not yet reviewed.
    with transaction.atomic(), school_scope(tenant):
        tried = StrategyTried.objects.filter(pupil=pupil, step=gr[2])
        assert tried.count() == 3 and not tried.filter(reviewed_on__isnull=False).exists()
        # The first review falls due six school weeks on (no term dates: weekdays).
        assert plan["review_due"] == review_due_after(pupil.school, LONG_AGO).isoformat()
    assert date.fromisoformat(plan["review_due"]) - LONG_AGO == timedelta(weeks=6)
    assert plan["overdue"] is True
    with transaction.atomic(), school_scope(tenant):
        made = AuditEvent.objects.get(action="create", object_id=str(pupil.pk))
    assert made.detail["event"] == "plan made" and "Calmer" not in str(made.detail)


def test_a_plan_needs_a_step_targets_and_criteria_and_nothing_is_saved_otherwise(senco, tenant, gr):
    pupil = tenant.pupils[0]
    response = senco.post("/api/v1/support-plans/", plan_body(pupil, gr[2]), content_type="application/json")
    assert response.status_code == 400 and "step" in response.content.decode()
    on_step(tenant, pupil, gr[2])
    for targets in ([], [{"description": "Sits for 5 minutes", "success_criteria": " "}]):
        body = plan_body(pupil, gr[2], targets=targets)
        response = senco.post("/api/v1/support-plans/", body, content_type="application/json")
        assert response.status_code == 400, response.content
    with transaction.atomic(), school_scope(tenant):
        step3 = list(gr[3].strategies.all())
    body = plan_body(pupil, gr[2], strategies=[{"strategy": step3[0].pk}])
    response = senco.post("/api/v1/support-plans/", body, content_type="application/json")
    assert response.status_code == 400 and "catalogue" in response.content.decode()
    future = plan_body(pupil, gr[2], starts_on=(TODAY + timedelta(days=3)).isoformat())
    assert senco.post("/api/v1/support-plans/", future, content_type="application/json").status_code == 400
    with transaction.atomic(), school_scope(tenant):
        assert not SupportPlan.objects.exists() and not StrategyTried.objects.exists()


def test_making_a_plan_in_the_browser(senco, tenant, gr):
    pupil = tenant.pupils[0]
    on_step(tenant, pupil, gr[2])
    url = f"/pupils/{pupil.pk}/plans/new/"
    page = senco.get(url)
    assert page.status_code == 200 and b"Strategies from the step" in page.content
    with transaction.atomic(), school_scope(tenant):
        strategy = gr[2].strategies.order_by("order", "id").first()
    form = {
        "title": "Settling after lunch",
        "kind": "ibp",
        "starts_on": LONG_AGO.isoformat(),
        "strategies": [strategy.pk],
        "targets-TOTAL_FORMS": "3",
        "targets-INITIAL_FORMS": "0",
        "targets-0-description": "Returns to class on the bell",
        "targets-0-success_criteria": "",
    }
    bad = senco.post(url, form)
    assert bad.status_code == 400 and b"success criteria" in bad.content
    form["targets-0-success_criteria"] = "4 days out of 5"
    good = senco.post(url, form)
    assert good.status_code == 302
    with transaction.atomic(), school_scope(tenant):
        plan = SupportPlan.objects.get()
        assert plan.kind == "ibp" and plan.targets.count() == 1
    detail = senco.get(good["Location"])
    assert b"Settling after lunch" in detail.content and b"Returns to class on the bell" in detail.content
    assert b"Overdue" in detail.content  # six school weeks after 120 days ago
    assert b"Settling after lunch" in senco.get(f"/pupils/{pupil.pk}/").content


# --- reviews ---------------------------------------------------------------------------------


def test_a_review_rates_every_target_and_reviews_the_plans_strategies(senco, tenant, gr):
    """Step 2's rule needs two strategies tried and reviewed: a plan with two catalogue
    strategies, once reviewed, lets the pupil move up to step 3."""
    pupil = tenant.pupils[0]
    on_step(tenant, pupil, gr[2])
    plan = make_plan(senco, pupil, gr[2])
    move = {"step": gr[3].pk, "reason": "Review", "placed_on": TODAY.isoformat()}
    refused = senco.post(f"/api/v1/pupils/{pupil.pk}/steps/", move, content_type="application/json")
    assert refused.status_code == 400 and "0 distinct strategies" in refused.content.decode()

    missing = review(senco, plan, outcomes=[{"target": plan["targets"][0]["id"], "rating": "achieved"}])
    assert missing.status_code == 400 and "every target" in missing.content.decode()
    done = review(senco, plan, decision="step_up")
    assert done.status_code == 201, done.content
    assert done.json()["next_review_due"] is None
    after = senco.get(f"/api/v1/support-plans/{plan['id']}/").json()
    assert after["status"] == "closed" and after["closed_on"] == TODAY.isoformat()
    assert all(s["reviewed_on"] == TODAY.isoformat() for s in after["strategies"])
    moved = senco.post(f"/api/v1/pupils/{pupil.pk}/steps/", move, content_type="application/json")
    assert moved.status_code == 201, moved.content
    assert moved.json()["override"] is False
    # A closed plan is not reviewed again.
    assert review(senco, plan).status_code == 400


def test_continuing_sets_the_next_review_in_school_weeks(senco, tenant, gr):
    pupil = tenant.pupils[0]
    on_step(tenant, pupil, gr[2])
    plan = make_plan(senco, pupil, gr[2])
    foreign = review(senco, plan, outcomes=[{"target": 999999, "rating": "achieved"}])
    assert foreign.status_code == 400
    response = review(senco, plan, decision="continue", reviewed_on=(TODAY - timedelta(days=7)).isoformat())
    assert response.status_code == 201, response.content
    with transaction.atomic(), school_scope(tenant):
        expected = review_due_after(pupil.school, TODAY - timedelta(days=7))
    assert response.json()["next_review_due"] == expected.isoformat()
    after = senco.get(f"/api/v1/support-plans/{plan['id']}/").json()
    assert after["review_due"] == expected.isoformat() and after["status"] == "open"
    before_last = review(senco, plan, reviewed_on=(TODAY - timedelta(days=8)).isoformat())
    assert before_last.status_code == 400 and "last reviewed" in before_last.content.decode()


def test_reviewing_in_the_browser(senco, tenant, gr):
    pupil = tenant.pupils[0]
    on_step(tenant, pupil, gr[2])
    plan = make_plan(senco, pupil, gr[2])
    url = f"/pupils/{pupil.pk}/plans/{plan['id']}/review/"
    assert senco.get(url).status_code == 200
    first, second = (t["id"] for t in plan["targets"])
    form = {"reviewed_on": TODAY.isoformat(), "decision": "close", f"rating_{first}": "achieved"}
    assert senco.post(url, form).status_code == 400
    form[f"rating_{second}"] = "partly"
    assert senco.post(url, form).status_code == 302
    with transaction.atomic(), school_scope(tenant):
        saved = PlanReview.objects.get()
        assert saved.decision == "close" and saved.outcomes.count() == 2
        assert SupportPlan.objects.get().status == "closed"


# --- reviews due and overdue ------------------------------------------------------------------


def test_overdue_counts_school_weeks_across_a_holiday(senco, tenant, gr):
    """A plan made on 1 December 2025, with the LA's 2025-26 term dates entered, falls due six
    school weeks on: 26 January 2026, not 12 January as calendar weeks would have it. So on
    20 January it is not overdue, and on 27 January it is."""
    pupil, other_pupil = tenant.pupils[0], tenant.pupils[1]
    for row in (
        {"term": "autumn", "starts_on": date(2025, 9, 3), "ends_on": date(2025, 12, 19)},
        {"term": "spring", "starts_on": date(2026, 1, 5), "ends_on": date(2026, 3, 27)},
        {"term": "summer", "starts_on": date(2026, 4, 13), "ends_on": date(2026, 7, 22)},
    ):
        TermDates.objects.create(local_authority=tenant.la, academic_year=2025, **row)
    for p in (pupil, other_pupil):
        on_step(tenant, p, gr[2], placed_on=date(2025, 11, 3))
    made = make_plan(senco, pupil, gr[2], starts_on="2025-12-01")
    assert made["review_due"] == "2026-01-26"
    with transaction.atomic(), school_scope(tenant):
        plan = SupportPlan.objects.get(pk=made["id"])
        assert not plan.is_overdue(date(2026, 1, 20)) and plan.is_overdue(date(2026, 1, 27))
        scope = TenantScope.for_school(tenant.school.pk, la_id=tenant.la.pk)
        assert list(reviews_due(scope, today=date(2026, 1, 20), within_days=0)) == []
        assert list(reviews_due(scope, today=date(2026, 1, 27), within_days=0)) == [plan]
    # The browser list and the API's overdue filter agree with today's date.
    late = make_plan(
        senco, other_pupil, gr[2], title="Late one", review_due=(TODAY - timedelta(days=1)).isoformat()
    )
    assert late["overdue"] is True
    page = senco.get("/pupils/reviews/")
    assert page.status_code == 200
    assert b"Late one" in page.content and b"Overdue" in page.content
    listed = senco.get("/api/v1/support-plans/?overdue=true").json()
    assert {p["id"] for p in listed["results"]} == {late["id"], made["id"]}
    soon = senco.get(f"/api/v1/support-plans/?due_before={(TODAY - timedelta(days=2)).isoformat()}").json()
    assert [p["id"] for p in soon["results"]] == [made["id"]]


# --- timeline ---------------------------------------------------------------------------------


def test_the_timeline_puts_steps_plans_and_reviews_in_order(senco, tenant, gr):
    pupil = tenant.pupils[0]
    on_step(tenant, pupil, gr[2])
    plan = make_plan(senco, pupil, gr[2])
    review(senco, plan, decision="continue")
    page = senco.get(f"/pupils/{pupil.pk}/timeline/")
    assert page.status_code == 200
    text = page.content.decode()
    assert text.index("Plan reviewed") < text.index("SEN support plan made") < text.index("Placed on step 2")
    printed = senco.get(f"/pupils/{pupil.pk}/timeline/?print=1")
    assert printed.status_code == 200 and b"Printed" in printed.content
    with transaction.atomic(), school_scope(tenant):
        assert AuditEvent.objects.filter(action="print", object_id=str(pupil.pk)).exists()


def _count(client, url):
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_query_counts_do_not_grow_with_plans(senco, tenant, gr):
    pupil = tenant.pupils[0]
    on_step(tenant, pupil, gr[2])
    # The baseline has a reviewed plan, so every prefetch already runs.
    review(senco, make_plan(senco, pupil, gr[2]), decision="continue")
    urls = [
        f"/pupils/{pupil.pk}/timeline/",
        f"/pupils/{pupil.pk}/",
        "/pupils/reviews/",
        "/api/v1/support-plans/",
        f"/api/v1/pupils/{pupil.pk}/steps/",
    ]
    before = {url: _count(senco, url) for url in urls}
    for p in tenant.pupils[1:]:
        on_step(tenant, p, gr[2])
    for n in range(3):
        plan = make_plan(senco, tenant.pupils[n % len(tenant.pupils)], gr[2], title=f"Plan {n}")
        review(senco, plan, decision="continue")
    assert {url: _count(senco, url) for url in urls} == before


# --- who may ----------------------------------------------------------------------------------


def test_other_schools_and_other_roles_cannot_reach_a_plan(client, senco, tenant, other, gr):
    pupil = tenant.pupils[0]
    on_step(tenant, pupil, gr[2])
    plan = make_plan(senco, pupil, gr[2])
    outsider = sign_in(client, other.users["senco"], other.memberships["senco"])
    assert outsider.get(f"/api/v1/support-plans/{plan['id']}/").status_code == 404
    assert outsider.get(f"/pupils/{pupil.pk}/plans/{plan['id']}/").status_code == 404
    assert outsider.get("/api/v1/support-plans/").json()["count"] == 0
    assert review(outsider, plan).status_code == 404
    # Naming another school's pupil in a new plan's body is a 400 (SECURITY.md 2), saving nothing.
    foreign = outsider.post(
        "/api/v1/support-plans/", plan_body(pupil, gr[2]), content_type="application/json"
    )
    assert foreign.status_code == 400 and "pupil" in foreign.json()
    with transaction.atomic(), school_scope(tenant):
        assert SupportPlan.objects.count() == 1
    for role in ("la_officer", "partnership_lead"):
        member = sign_in(client, tenant.users[role], tenant.memberships[role])
        assert member.get(f"/pupils/{pupil.pk}/plans/{plan['id']}/").status_code in (403, 404)
        assert member.get(f"/api/v1/support-plans/{plan['id']}/").status_code in (403, 404)
    head = sign_in(client, tenant.users["headteacher"], tenant.memberships["headteacher"])
    assert head.get(f"/pupils/{pupil.pk}/plans/{plan['id']}/").status_code == 200


def test_a_plan_cannot_start_before_its_step_and_strategies_added_later_start_that_day(senco, tenant, gr):
    pupil = tenant.pupils[0]
    on_step(tenant, pupil, gr[2])
    early = plan_body(pupil, gr[2], starts_on="0001-01-01")
    response = senco.post("/api/v1/support-plans/", early, content_type="application/json")
    assert response.status_code == 400 and "starts_on" in response.json()
    plan = make_plan(senco, pupil, gr[2], strategies=[])
    added = [{"strategy": s.pk} for s in gr[2].catalogue[:2]]
    patched = senco.patch(
        f"/api/v1/support-plans/{plan['id']}/", {"strategies": added}, content_type="application/json"
    )
    assert patched.status_code == 200, patched.content
    assert {s["started_on"] for s in patched.json()["strategies"]} == {TODAY.isoformat()}
    # A review dated before they started does not count them as reviewed.
    yesterday = (TODAY - timedelta(days=1)).isoformat()
    assert review(senco, plan, reviewed_on=yesterday).status_code == 201
    after = senco.get(f"/api/v1/support-plans/{plan['id']}/").json()
    assert all(s["reviewed_on"] is None for s in after["strategies"])


def test_a_review_names_each_target_once(senco, tenant, gr):
    pupil = tenant.pupils[0]
    on_step(tenant, pupil, gr[2])
    plan = make_plan(senco, pupil, gr[2])
    first = plan["targets"][0]["id"]
    twice = [{"target": first, "rating": "achieved"}, {"target": first, "rating": "partly"}]
    assert review(senco, plan, outcomes=twice).status_code == 400


def test_same_day_events_show_the_latest_recorded_first(senco, tenant, gr):
    pupil = tenant.pupils[0]
    on_step(tenant, pupil, gr[2], placed_on=TODAY)
    plan = make_plan(senco, pupil, gr[2], starts_on=TODAY.isoformat())
    review(senco, plan, decision="close")
    text = senco.get(f"/pupils/{pupil.pk}/timeline/").content.decode()
    assert text.index("Plan reviewed") < text.index("SEN support plan made") < text.index("Placed on step 2")
