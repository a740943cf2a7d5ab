"""Behaviour observations: logging in the browser and the API, refusals that change nothing,
the weekly and time-of-day figures in UK time (across clock changes), audit, roles, query
counts, and the demo data."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from graduated_response.demo_observations import seed_observations
from graduated_response.models import BehaviourObservation, SupportPlan
from graduated_response.observations import (
    observation_record,
    observations_by_time_of_day,
    observations_by_week,
)
from schools.models import AuditEvent
from schools.tenancy import TenantScope, tenant_scope
from tests.conftest import sign_in

Action = AuditEvent.Action
Setting = BehaviourObservation.Setting


def school_scope(school):
    return tenant_scope(TenantScope.for_school(school.pk, la_id=school.local_authority_id))


def observe(pupil, when: datetime, *, intensity: int = 3, setting: str = Setting.LESSON, **extra):
    with transaction.atomic(), school_scope(pupil.school):
        return BehaviourObservation.objects.create(
            school_id=pupil.school_id,
            pupil=pupil,
            observed_at=when,
            setting=setting,
            behaviour=extra.pop("behaviour", "Shouted out"),
            intensity=intensity,
            **extra,
        )


def stored(school, **filters) -> list[BehaviourObservation]:
    with transaction.atomic(), school_scope(school):
        return list(BehaviourObservation.objects.filter(**filters).order_by("observed_at", "id"))


def audit_rows(school, **filters) -> list[AuditEvent]:
    with transaction.atomic(), school_scope(school):
        return list(AuditEvent.objects.filter(**filters).order_by("at", "id"))


def local_now_text(minutes_ago: int = 10) -> str:
    return (timezone.localtime() - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M")


def page_url(pupil) -> str:
    return f"/pupils/{pupil.pk}/observations/"


def api_body(observed, **changes) -> dict:
    body = {
        "pupil": observed.pk,
        "observed_at": (timezone.now() - timedelta(minutes=30)).isoformat(),
        "setting": "unstructured",
        "antecedent": "Queue for lunch",
        "behaviour": "Pushed in and shouted",
        "consequence": "Moved to the front with an adult",
        "intensity": 4,
        "duration_minutes": 5,
    }
    body.update(changes)
    return body


@pytest.fixture
def senco(client, tenant):
    return sign_in(client, tenant.users["senco"], tenant.memberships["senco"])


# --- the browser page -----------------------------------------------------------------------


def test_senco_logs_an_observation_from_the_page(senco, tenant):
    pupil = tenant.pupils[0]
    page = senco.get(page_url(pupil))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Log an observation" in html and 'type="datetime-local"' in html
    assert html.count('type="radio"') == 5 and "<legend>Intensity</legend>" in html
    form = {
        "observed_at": local_now_text(),
        "setting": "unstructured",
        "antecedent": "Lost a game",
        "behaviour": "Threw the pieces",
        "consequence": "Tidied up with an adult",
        "intensity": "4",
        "duration_minutes": "10",
    }
    response = senco.post(page_url(pupil), form)
    assert response.status_code == 302 and response["Location"] == page_url(pupil)
    [saved] = stored(tenant.school)
    assert (saved.pupil_id, saved.school_id, saved.intensity, saved.duration_minutes) == (
        pupil.pk,
        tenant.school.pk,
        4,
        10,
    )
    assert saved.recorded_by_id == tenant.users["senco"].pk
    assert timezone.localtime(saved.observed_at).strftime("%Y-%m-%dT%H:%M") == form["observed_at"]
    shown = senco.get(page_url(pupil)).content.decode()
    assert "Observation logged." in shown and "Threw the pieces" in shown
    assert "1 observation in the period" in shown


def test_bad_input_is_a_400_with_a_summary_and_nothing_is_saved(senco, tenant):
    pupil = tenant.pupils[0]
    future = (timezone.localtime() + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    cases = [
        (
            {"observed_at": local_now_text(), "setting": "lesson", "behaviour": "x", "intensity": "6"},
            "Intensity: ",
        ),
        (
            {"observed_at": local_now_text(), "setting": "lesson", "behaviour": " ", "intensity": "2"},
            "What the pupil did: ",
        ),
        ({"observed_at": future, "setting": "lesson", "behaviour": "x", "intensity": "2"}, "in the future"),
        ({"observed_at": "yesterday", "setting": "lesson", "behaviour": "x", "intensity": "2"}, "When: "),
        ({"observed_at": local_now_text(), "setting": "roof", "behaviour": "x", "intensity": "2"}, "Where: "),
        (
            {
                "observed_at": local_now_text(),
                "setting": "lesson",
                "behaviour": "x",
                "intensity": "2",
                "duration_minutes": "601",
            },
            "How long, in minutes: ",
        ),
    ]
    for form, words in cases:
        response = senco.post(page_url(pupil), form)
        assert response.status_code == 400, form
        html = response.content.decode()
        assert "There is a problem" in html and words in html, form
    assert stored(tenant.school) == []


def test_a_bad_period_is_a_400_and_the_page_still_shows(senco, tenant):
    response = senco.get(page_url(tenant.pupils[0]) + "?from=2025-05-01&to=2025-04-01")
    assert response.status_code == 400
    assert "The start of the period must come before its end." in response.content.decode()


def test_periods_at_the_edges_of_the_calendar_are_handled(senco, tenant):
    pupil = tenant.pupils[0]
    observe(pupil, timezone.now() - timedelta(hours=1))
    future = (timezone.localdate() + timedelta(days=3)).isoformat()
    refused = senco.get(page_url(pupil) + f"?from={future}")
    assert refused.status_code == 400 and "cannot start in the future" in refused.content.decode()
    assert senco.get(page_url(pupil) + "?to=9999-12-31").status_code == 200  # ends today
    assert "(the last 12 weeks)" in senco.get(page_url(pupil) + "?from=&to=").content.decode()
    for query in ("?from=1990-01-01&to=9999-12-31", "?from=1991-06-01"):
        response = senco.get(page_url(pupil) + query)
        assert response.status_code == 200, query
        assert "The period was longer than the charts can show" in response.content.decode()
    # Dates before any school record are typing slips: refused, never a server error.
    for query in ("?from=0001-01-01&to=9999-12-31", "?to=0001-01-01", "?from=0001-01-01&to=0001-03-01"):
        assert senco.get(page_url(pupil) + query).status_code == 400, query
    api = senco.get("/api/v1/observations/?from=0001-01-01&to=9999-12-31")
    assert api.status_code == 200 and api.json()["count"] == 1
    with transaction.atomic(), school_scope(tenant.school):
        assert len(observations_by_week(pupil, weeks=3, until=date.max)) == 3


def test_the_period_narrows_the_figures_and_the_list(senco, tenant):
    pupil = tenant.pupils[0]
    observe(pupil, datetime(2025, 3, 4, 10, 0, tzinfo=UTC), behaviour="Before the plan")
    observe(pupil, datetime(2025, 3, 18, 10, 0, tzinfo=UTC), behaviour="After the plan")
    html = senco.get(page_url(pupil) + "?from=2025-03-10&to=2025-03-23").content.decode()
    assert "After the plan" in html and "Before the plan" not in html
    assert "Showing 10 March 2025 to 23 March 2025" in html
    assert "1 observation in the period" in html
    assert (
        "Observations per week, 2 weeks from 10 Mar 2025: highest 1 in the week beginning 17 Mar 2025" in html
    )


def test_the_page_draws_both_charts_beside_their_tables(senco, tenant):
    pupil = tenant.pupils[0]
    observe(pupil, timezone.now() - timedelta(hours=1), intensity=2, setting=Setting.UNSTRUCTURED)
    html = senco.get(page_url(pupil)).content.decode()
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img"') == 3
    assert 'id="chart-weeks-title"' in html and 'id="chart-day-parts-title"' in html
    assert "<caption>Observations per week, with the mean intensity (1 to 5)</caption>" in html
    assert "<caption>Observations by time of day (rows) and setting (columns)</caption>" in html
    assert "(the last 12 weeks)" in html


def test_the_pupil_page_links_to_the_observations(senco, tenant):
    pupil = tenant.pupils[0]
    html = senco.get(f"/pupils/{pupil.pk}/").content.decode()
    assert 'id="observations"' in html
    assert f'href="/pupils/{pupil.pk}/observations/"' in html
    assert html.index('id="observations"') < html.index('id="profile"')


def test_logging_is_audited_with_ids_only(senco, tenant):
    pupil = tenant.pupils[0]
    senco.post(
        page_url(pupil),
        {"observed_at": local_now_text(), "setting": "lesson", "behaviour": "Secret words", "intensity": "3"},
    )
    response = senco.post(
        "/api/v1/observations/", api_body(pupil, behaviour="Secret too"), content_type="application/json"
    )
    assert response.status_code == 201
    created = audit_rows(tenant.school, action=Action.CREATE, object_id=str(pupil.pk))
    ids = sorted(o.pk for o in stored(tenant.school))
    assert sorted(r.detail["observation"] for r in created) == ids
    assert all(r.object_type == "pupils.pupil" and r.school_id == tenant.school.pk for r in created)
    everything = audit_rows(tenant.school, object_id=str(pupil.pk))
    assert all("Secret" not in str(r.detail) for r in everything)
    before = len(audit_rows(tenant.school, action=Action.VIEW, detail__page="observations"))
    senco.get(page_url(pupil))
    assert len(audit_rows(tenant.school, action=Action.VIEW, detail__page="observations")) == before + 1


# --- the API ------------------------------------------------------------------------------


def test_api_logs_reads_and_lists(senco, tenant):
    pupil = tenant.pupils[0]
    response = senco.post("/api/v1/observations/", api_body(pupil), content_type="application/json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert (data["pupil"], data["intensity"], data["setting"], data["plan"]) == (
        pupil.pk,
        4,
        "unstructured",
        None,
    )
    detail = senco.get(f"/api/v1/observations/{data['id']}/")
    assert detail.status_code == 200 and detail.json()["behaviour"] == "Pushed in and shouted"
    listed = senco.get("/api/v1/observations/").json()
    assert listed["count"] == 1 and {"next", "previous", "results"} <= set(listed)
    assert [o["id"] for o in listed["results"]] == [data["id"]]


def test_api_filters_by_pupil_period_and_setting_in_uk_dates(senco, tenant):
    first, second = tenant.pupils[:2]
    a = observe(first, datetime(2025, 3, 30, 22, 30, tzinfo=UTC), setting=Setting.LESSON)  # Sun 23:30 BST
    b = observe(first, datetime(2025, 3, 30, 23, 30, tzinfo=UTC), setting=Setting.OTHER)  # Mon 00:30 BST
    c = observe(second, datetime(2025, 4, 2, 11, 0, tzinfo=UTC), setting=Setting.OTHER)

    def ids(query: str) -> list[int]:
        response = senco.get(f"/api/v1/observations/?{query}")
        assert response.status_code == 200, response.json()
        return [o["id"] for o in response.json()["results"]]

    assert ids("") == [c.pk, b.pk, a.pk]
    assert ids(f"pupil={first.pk}") == [b.pk, a.pk]
    assert ids("from=2025-03-31") == [c.pk, b.pk]
    assert ids("to=2025-03-30") == [a.pk]
    assert ids("setting=other") == [c.pk, b.pk]
    assert ids(f"pupil={first.pk}&setting=other&from=2025-03-31&to=2025-03-31") == [b.pk]
    assert senco.get("/api/v1/observations/?from=2025-04-02&to=2025-04-01").status_code == 400
    assert senco.get("/api/v1/observations/?setting=roof").status_code == 400


def test_api_list_reads_are_audited(senco, tenant):
    first, second = tenant.pupils[:2]
    observe(first, timezone.now() - timedelta(hours=2))
    observe(second, timezone.now() - timedelta(hours=1))
    senco.get("/api/v1/observations/")
    [listed] = audit_rows(
        tenant.school, action=Action.LIST, object_type="graduated_response.behaviourobservation"
    )
    assert listed.detail == {"shown": 2, "pupils": sorted([first.pk, second.pk]), "filters": []}
    senco.get(f"/api/v1/observations/?pupil={first.pk}&setting=lesson")
    [viewed] = audit_rows(tenant.school, action=Action.VIEW, detail__part="observations")
    assert (viewed.object_id, viewed.detail["shown"], viewed.detail["filters"]) == (
        str(first.pk),
        1,
        ["setting"],
    )


def test_api_refuses_bad_input_and_saves_nothing(senco, tenant):
    pupil = tenant.pupils[0]
    for changes in (
        {"intensity": 0},
        {"intensity": 6},
        {"intensity": "loud"},
        {"setting": "roof"},
        {"behaviour": ""},
        {"duration_minutes": 601},
        {"observed_at": (timezone.now() + timedelta(hours=1)).isoformat()},
        {"observed_at": "2001-01-01T09:00:00Z"},  # before the pupil was born
    ):
        response = senco.post(
            "/api/v1/observations/", api_body(pupil, **changes), content_type="application/json"
        )
        assert response.status_code == 400, (changes, response.json())
        field = next(iter(changes))
        assert field in response.json(), (changes, response.json())
    assert stored(tenant.school) == []


def test_api_refuses_another_schools_or_an_unknown_pupil_with_one_answer(senco, tenant, other):
    answers = []
    for pupil_id in (other.pupils[0].pk, tenant.sibling_pupils[0].pk, 10**9, 2**40):
        body = api_body(tenant.pupils[0], pupil=pupil_id)
        response = senco.post("/api/v1/observations/", body, content_type="application/json")
        assert response.status_code == 400, pupil_id  # SECURITY.md 2: a foreign id in a body
        answers.append(response.json())
    assert answers == [{"pupil": ["No pupil with this id is on your school's record."]}] * 4
    assert stored(tenant.school) == [] and stored(tenant.sibling) == [] and stored(other.school) == []
    denied = audit_rows(tenant.school, action=Action.DENIED, object_type="pupils.pupil")
    assert [r.object_id for r in denied][:2] == [str(other.pupils[0].pk), str(tenant.sibling_pupils[0].pk)]


def test_api_refuses_a_plan_of_another_pupil(senco, tenant):
    first, second = tenant.pupils[:2]
    with transaction.atomic(), school_scope(tenant.school):
        plan = SupportPlan.objects.create(
            school=tenant.school,
            pupil=second,
            title="Second's plan",
            starts_on=date(2025, 1, 6),
            review_due=date(2025, 2, 17),
        )
    response = senco.post(
        "/api/v1/observations/", api_body(first, plan=plan.pk), content_type="application/json"
    )
    assert response.status_code == 400 and "plan" in response.json()
    ok = senco.post("/api/v1/observations/", api_body(second, plan=plan.pk), content_type="application/json")
    assert ok.status_code == 201 and ok.json()["plan"] == plan.pk
    assert [o.pupil_id for o in stored(tenant.school)] == [second.pk]


def test_service_refuses_a_plan_of_another_pupil(tenant):
    first, second = tenant.pupils[:2]
    with transaction.atomic(), school_scope(tenant.school):
        plan = SupportPlan.objects.create(
            school=tenant.school,
            pupil=second,
            title="Plan",
            starts_on=date(2025, 1, 6),
            review_due=date(2025, 2, 17),
        )
        with pytest.raises(Exception, match="this pupil's support plans"):
            observation_record(
                request=None,
                pupil=first,
                observed_at=timezone.now(),
                setting="lesson",
                behaviour="x",
                intensity=2,
                plan=plan,
            )


def test_another_tenants_observation_is_a_404(senco, tenant, other):
    theirs = observe(other.pupils[0], timezone.now() - timedelta(hours=1))
    sibling = observe(tenant.sibling_pupils[0], timezone.now() - timedelta(hours=1))
    for observation in (theirs, sibling):
        assert senco.get(f"/api/v1/observations/{observation.pk}/").status_code == 404
    assert senco.get("/api/v1/observations/").json()["count"] == 0
    assert senco.get(f"/api/v1/observations/?pupil={other.pupils[0].pk}").status_code == 404
    assert senco.get(page_url(other.pupils[0])).status_code == 404


# --- roles --------------------------------------------------------------------------------


def test_headteacher_may_log_too(client, tenant):
    sign_in(client, tenant.users["headteacher"])
    pupil = tenant.pupils[0]
    assert (
        client.post("/api/v1/observations/", api_body(pupil), content_type="application/json").status_code
        == 201
    )
    form = {"observed_at": local_now_text(), "setting": "lesson", "behaviour": "x", "intensity": "1"}
    assert client.post(page_url(pupil), form).status_code == 302
    assert len(stored(tenant.school)) == 2


def test_practitioner_reaches_no_observations_and_cannot_log(client, tenant):
    pupil = tenant.pupils[0]
    mine = observe(pupil, timezone.now() - timedelta(hours=1))
    sign_in(client, tenant.users["practitioner"])
    assert client.get(page_url(pupil)).status_code == 404
    form = {"observed_at": local_now_text(), "setting": "lesson", "behaviour": "x", "intensity": "1"}
    assert client.post(page_url(pupil), form).status_code == 403
    assert client.get("/api/v1/observations/").json()["count"] == 0
    assert client.get(f"/api/v1/observations/{mine.pk}/").status_code == 404
    assert (
        client.post("/api/v1/observations/", api_body(pupil), content_type="application/json").status_code
        == 403
    )
    assert len(stored(tenant.school)) == 1


@pytest.mark.parametrize("role", ["partnership_lead", "la_officer", "la_admin", "platform_admin"])
def test_roles_without_pupil_access_are_refused(client, tenant, role):
    pupil = tenant.pupils[0]
    observation = observe(pupil, timezone.now() - timedelta(hours=1))
    sign_in(client, tenant.users[role], tenant.memberships[role])
    assert client.get(page_url(pupil)).status_code == 403
    form = {"observed_at": local_now_text(), "setting": "lesson", "behaviour": "x", "intensity": "1"}
    assert client.post(page_url(pupil), form).status_code == 403
    assert client.get("/api/v1/observations/").status_code == 403
    assert client.get(f"/api/v1/observations/{observation.pk}/").status_code == 403
    assert (
        client.post("/api/v1/observations/", api_body(pupil), content_type="application/json").status_code
        == 403
    )
    assert len(stored(tenant.school)) == 1


# --- the figures --------------------------------------------------------------------------

# Clocks went forward at 01:00 UTC on Sunday 30 March 2025. Each observation says where it
# falls in UK time; a figure computed in UTC would put D in the wrong week and E, F in the
# wrong part of the day.
SPRING = [
    # (UTC time, intensity, setting): week (Monday, UK), part of the day (UK)
    (datetime(2025, 3, 9, 12, 0, tzinfo=UTC), 1, Setting.LESSON),  # before the window
    (datetime(2025, 3, 11, 10, 0, tzinfo=UTC), 2, Setting.LESSON),  # A: 10 Mar, morning (GMT)
    (datetime(2025, 3, 12, 14, 0, tzinfo=UTC), 4, Setting.UNSTRUCTURED),  # B: 10 Mar, afternoon
    (datetime(2025, 3, 30, 0, 30, tzinfo=UTC), 5, Setting.OTHER),  # C: 24 Mar (Sun 00:30 GMT), before
    (datetime(2025, 3, 30, 23, 30, tzinfo=UTC), 1, Setting.OTHER),  # D: 31 Mar (Mon 00:30 BST), before
    (datetime(2025, 4, 2, 11, 50, tzinfo=UTC), 3, Setting.UNSTRUCTURED),  # E: 31 Mar, 12:50 BST lunch
    (datetime(2025, 4, 3, 14, 40, tzinfo=UTC), 2, Setting.TRANSITION),  # F: 31 Mar, 15:40 BST after
    (datetime(2025, 4, 7, 9, 0, tzinfo=UTC), 5, Setting.LESSON),  # after the window
]


@pytest.fixture
def spring(tenant):
    pupil = tenant.pupils[0]
    for when, intensity, setting in SPRING:
        observe(pupil, when, intensity=intensity, setting=setting)
    observe(tenant.pupils[1], datetime(2025, 3, 18, 10, 0, tzinfo=UTC))  # someone else's
    return pupil


def test_weekly_figures_include_empty_weeks_and_follow_uk_time(tenant, spring):
    with transaction.atomic(), school_scope(tenant.school):
        weeks = observations_by_week(spring, weeks=4, until=date(2025, 4, 6))
    assert [(w.week_start, w.count, w.mean_intensity) for w in weeks] == [
        (date(2025, 3, 10), 2, 3.0),
        (date(2025, 3, 17), 0, None),
        (date(2025, 3, 24), 1, 5.0),
        (date(2025, 3, 31), 3, 2.0),
    ]


def test_weekly_figures_from_a_date_count_only_days_from_it(tenant, spring):
    with transaction.atomic(), school_scope(tenant.school):
        weeks = observations_by_week(spring, since=date(2025, 3, 12), until=date(2025, 3, 30))
    # The week of 10 March is drawn but counts from Wednesday 12th: B, not A.
    assert [(w.week_start, w.count) for w in weeks] == [
        (date(2025, 3, 10), 1),
        (date(2025, 3, 17), 0),
        (date(2025, 3, 24), 1),
    ]


def test_time_of_day_figures_follow_uk_time(tenant, spring):
    with transaction.atomic(), school_scope(tenant.school):
        figures = observations_by_time_of_day(spring, since=date(2025, 3, 10), until=date(2025, 4, 6))
    assert [(p.key, p.count, p.mean_intensity) for p in figures.day_parts] == [
        ("before", 2, 3.0),
        ("morning", 1, 2.0),
        ("lunch", 1, 3.0),
        ("afternoon", 1, 4.0),
        ("after", 1, 2.0),
    ]
    assert [(s.key, s.count, s.mean_intensity) for s in figures.settings] == [
        ("lesson", 1, 2.0),
        ("unstructured", 2, 3.5),
        ("transition", 1, 2.0),
        ("other", 2, 3.0),
    ]
    assert figures.by_part_and_setting == {
        ("before", "other"): 2,
        ("morning", "lesson"): 1,
        ("lunch", "unstructured"): 1,
        ("afternoon", "unstructured"): 1,
        ("after", "transition"): 1,
    }
    assert figures.total == 6


def test_time_of_day_across_the_autumn_clock_change(tenant):
    pupil = tenant.pupils[0]
    observe(pupil, datetime(2025, 10, 24, 8, 0, tzinfo=UTC))  # Friday 09:00 BST: morning
    observe(pupil, datetime(2025, 10, 27, 8, 0, tzinfo=UTC))  # Monday 08:00 GMT: before school
    observe(pupil, datetime(2025, 10, 27, 8, 45, tzinfo=UTC))  # 08:45 GMT: morning, on the boundary
    with transaction.atomic(), school_scope(tenant.school):
        figures = observations_by_time_of_day(pupil)
        weeks = observations_by_week(pupil, weeks=2, until=date(2025, 11, 2))
    assert {p.key: p.count for p in figures.day_parts} == {
        "before": 1,
        "morning": 2,
        "lunch": 0,
        "afternoon": 0,
        "after": 0,
    }
    assert [(w.week_start, w.count) for w in weeks] == [(date(2025, 10, 20), 1), (date(2025, 10, 27), 2)]


def test_figures_for_a_pupil_with_no_observations_are_all_zero(tenant):
    with transaction.atomic(), school_scope(tenant.school):
        weeks = observations_by_week(tenant.pupils[2], weeks=12)
        figures = observations_by_time_of_day(tenant.pupils[2])
    assert len(weeks) == 12 and all(w.count == 0 and w.mean_intensity is None for w in weeks)
    assert weeks[-1].week_start == timezone.localdate() - timedelta(days=timezone.localdate().weekday())
    assert figures.total == 0 and all(p.count == 0 for p in figures.day_parts + figures.settings)


# --- query counts -------------------------------------------------------------------------


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len([q for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]])


@pytest.mark.parametrize("path", ["page", "/api/v1/observations/", "/api/v1/observations/?pupil={pk}"])
def test_query_count_does_not_grow_with_the_observations(senco, tenant, path):
    pupil = tenant.pupils[0]
    url = page_url(pupil) if path == "page" else path.format(pk=pupil.pk)
    observe(pupil, timezone.now() - timedelta(hours=1))
    count_queries(senco, url)  # warm up
    few = count_queries(senco, url)
    now = timezone.now()
    with transaction.atomic(), school_scope(tenant.school):
        BehaviourObservation.objects.bulk_create(
            BehaviourObservation(
                school=tenant.school,
                pupil=pupil,
                observed_at=now - timedelta(hours=7 * i + 2),
                setting=Setting.values[i % 4],
                behaviour=f"Event {i}",
                intensity=1 + i % 5,
                recorded_by=tenant.users["senco"],
            )
            for i in range(60)
        )
    assert count_queries(senco, url) == few


def test_observations_page_query_count_is_pinned(senco, tenant):
    """The queries behind the page for a SENCO (savepoints left out):
    1 switch to the app role; 2 session; 3 user; 4 memberships with their scope objects;
    5 tenant settings; 6 the pupil; 7 weekly figures; 8 time-of-day figures;
    9 observations count (pager); 10 observations page; 11 audit insert;
    12 the pupil's latest support plans (period links);
    13 settings back to no tenant as the scope ends; 14 role back as the request ends.
    """
    pupil = tenant.pupils[0]
    observe(pupil, timezone.now() - timedelta(hours=1))
    count_queries(senco, page_url(pupil))
    with CaptureQueriesContext(connection) as ctx:
        senco.get(page_url(pupil))
    queries = [q["sql"] for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(queries) == 14, "\n".join(q[:150] for q in queries)


# --- demo data ----------------------------------------------------------------------------


def test_demo_observations_show_the_pattern_and_are_made_once(tenant):
    today = date(2025, 11, 19)
    pupils = tenant.pupils[:2]
    scope = TenantScope.system(schools=[tenant.school.pk])
    with transaction.atomic(), tenant_scope(scope):
        made = seed_observations(pupils, rng=random.Random(7), today=today)
        again = seed_observations(pupils, rng=random.Random(7), today=today)
        rows = list(BehaviourObservation.objects.filter(pupil__in=pupils))
    assert made == len(rows) > 30 and again == 0
    assert all(timezone.localtime(r.observed_at).date() < today for r in rows)
    assert all(timezone.localtime(r.observed_at).weekday() < 5 for r in rows)
    assert all(1 <= r.intensity <= 5 and r.school_id == tenant.school.pk for r in rows)
    unstructured = sum(r.setting == Setting.UNSTRUCTURED for r in rows)
    lessons = sum(r.setting == Setting.LESSON for r in rows)
    assert unstructured > lessons * 0.8  # break and lunch are short but busy
    recent = [r.intensity for r in rows if r.observed_at >= datetime(2025, 10, 27, tzinfo=UTC)]
    early = [r.intensity for r in rows if r.observed_at < datetime(2025, 9, 29, tzinfo=UTC)]
    assert early and recent and sum(recent) / len(recent) < sum(early) / len(early)


def test_demo_observations_are_repeatable(tenant, other):
    def make(t):
        with transaction.atomic(), tenant_scope(TenantScope.system(schools=[t.school.pk])):
            seed_observations(t.pupils[:1], rng=random.Random(3), today=date(2025, 11, 19))
            return [
                (timezone.localtime(o.observed_at).isoformat(), o.setting, o.intensity)
                for o in BehaviourObservation.objects.order_by("observed_at", "id")
            ]

    assert make(tenant) == make(other)
