"""Interventions: the LA library and a school's catalogue, groups with their staff and dates,
enrolments with entry and exit results, interventions counting as strategies tried, what a
practitioner may see, the API, the timeline, audit, and query counts."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from graduated_response.models import StrategyTried
from interventions import services
from interventions.library import TYPICAL_PROVISIONS
from interventions.models import Enrolment, GroupStaff, InterventionGroup, LibraryProvision, Provision
from schools.models import AuditEvent, LocalAuthority, StaffRole, TermDates
from schools.tenancy import TenantScope, tenant_scope
from schools.terms import academic_year_of
from tests.conftest import sign_in
from tests.factories import PupilFactory
from tests.test_placements import move, nw, place, school_scope  # noqa: F401  (nw is a fixture)

TODAY = date.today()
YEAR = academic_year_of(TODAY)


# --- helpers shared with test_sessions ------------------------------------------------------


def la_scope(la):
    return tenant_scope(TenantScope.system(local_authorities=[la.pk]))


def load_library(t) -> None:
    with transaction.atomic(), la_scope(t.la):
        from interventions.library import library_load_for_la

        library_load_for_la(t.la)


def make_provision(t, name="Social skills group", **fields) -> Provision:
    data = {"name": name, "group_size": 6, "session_minutes": 45, "sessions_per_week": Decimal(2), **fields}
    with transaction.atomic(), school_scope(t):
        return services.provision_create(request=None, school=t.school, data=data)


def make_group(t, provision=None, *, starts=None, ends=None, staff=(), name="", **data) -> InterventionGroup:
    provision = provision or make_provision(t)
    starts = starts or TODAY - timedelta(days=28)
    ends = ends or TODAY + timedelta(days=28)
    body = {
        "starts_on": starts,
        "ends_on": ends,
        "academic_year": academic_year_of(starts),
        "name": name,
        **data,
    }
    with transaction.atomic(), school_scope(t):
        return services.group_create(
            request=None, school=t.school, provision=provision, data=body, staff_ids=[u.pk for u in staff]
        )


def enrol(t, group, pupil, **kwargs) -> Enrolment:
    with transaction.atomic(), school_scope(t):
        return services.enrolment_create(request=None, group=group, pupil=pupil, **kwargs)


def post(client, url, data):
    return client.post(url, data, content_type="application/json")


def patch(client, url, data):
    return client.patch(url, data, content_type="application/json")


@pytest.fixture
def senco(client, tenant):
    return sign_in(client, tenant.users["senco"], tenant.memberships["senco"])


@pytest.fixture
def practitioner(client, tenant):
    return sign_in(client, tenant.users["practitioner"], tenant.memberships["practitioner"])


# --- the library and the catalogue ----------------------------------------------------------


def test_the_library_loads_typical_provisions_and_framework_strategies_once(tenant, nw):  # noqa: F811
    out = io.StringIO()
    call_command("load_provision_library", la=tenant.la.code, stdout=out)
    assert "added to the library" in out.getvalue()
    with transaction.atomic(), la_scope(tenant.la):
        count = LibraryProvision.objects.count()
        assert count > len(TYPICAL_PROVISIONS)
        sdq = LibraryProvision.objects.get(name="1:1 counselling")
        assert (sdq.measure, sdq.higher_is_better) == ("sdq_total", False)
        reading = LibraryProvision.objects.get(name="Targeted reading group")
        assert (reading.measure, reading.higher_is_better, reading.area_of_need) == (
            "reading_age_months",
            True,
            "cognition",
        )
        strategy = LibraryProvision.objects.filter(source="nw-six-step", step_number=2).first()
        assert strategy is not None and strategy.area_of_need == "semh"
        assert all(8 <= item.typical_weeks <= 20 for item in LibraryProvision.objects.all())
    call_command("load_provision_library", la=tenant.la.code, stdout=io.StringIO())
    with transaction.atomic(), la_scope(tenant.la):
        assert LibraryProvision.objects.count() == count


def test_a_senco_adds_from_the_library_and_from_scratch_with_names_unique(senco, tenant, other):
    load_library(tenant)
    load_library(other)
    with transaction.atomic(), la_scope(tenant.la):
        item = LibraryProvision.objects.get(name="Social skills group")
    page = senco.get("/interventions/provisions/")
    assert page.status_code == 200 and b"Social skills group" in page.content
    response = senco.post("/interventions/provisions/add/", {"library_item": item.pk})
    assert response.status_code == 302
    with transaction.atomic(), school_scope(tenant):
        copy = Provision.objects.get(name="Social skills group")
        assert (copy.library_item_id, copy.group_size, copy.measure) == (item.pk, 6, "boxall_developmental")
    # Added again, or written with the same name in other letters: refused, in words.
    again = senco.post("/interventions/provisions/add/", {"library_item": item.pk}, follow=True)
    assert "already has a provision called" in again.content.decode()
    body = {
        "name": "SOCIAL SKILLS GROUP",
        "area_of_need": "semh",
        "staff_kind": "ta",
        "staff_count": 1,
        "group_size": 4,
        "session_minutes": 30,
        "sessions_per_week": "1",
        "typical_weeks": 10,
        "is_active": "on",
    }
    refused = senco.post("/interventions/provisions/new/", body)
    assert refused.status_code == 400 and "already has a provision called" in refused.content.decode()
    assert senco.post("/interventions/provisions/new/", {**body, "name": "Lego therapy"}).status_code == 302
    # Another LA's library entry is not there to add.
    with transaction.atomic(), la_scope(other.la):
        foreign = LibraryProvision.objects.get(name="Nurture group")
    assert senco.post("/interventions/provisions/add/", {"library_item": foreign.pk}).status_code == 400
    assert senco.post("/interventions/provisions/add/", {"library_item": "9" * 40}).status_code == 400
    with transaction.atomic(), school_scope(tenant):
        assert sorted(Provision.objects.values_list("name", flat=True)) == [
            "Lego therapy",
            "Social skills group",
        ]


def test_the_catalogue_api_lists_adds_copies_and_edits(senco, tenant):
    load_library(tenant)
    with transaction.atomic(), la_scope(tenant.la):
        item = LibraryProvision.objects.get(name="Nurture group")
    made = post(senco, "/api/v1/provisions/", {"library_item": item.pk, "typical_weeks": 16})
    assert made.status_code == 201, made.content
    body = made.json()
    assert (body["name"], body["typical_weeks"], body["ratio"], body["library_item"]) == (
        "Nurture group",
        16,
        "2:10",
        item.pk,
    )
    assert post(senco, "/api/v1/provisions/", {"library_item": item.pk}).status_code == 400
    own = post(senco, "/api/v1/provisions/", {"name": "Lego therapy", "group_size": 3, "step_number": 2})
    assert own.status_code == 201, own.content
    assert post(senco, "/api/v1/provisions/", {"name": "Huge", "group_size": 10**9}).status_code == 400
    assert post(senco, "/api/v1/provisions/", {}).status_code == 400
    changed = patch(
        senco, f"/api/v1/provisions/{own.json()['id']}/", {"session_minutes": 40, "is_active": False}
    )
    assert changed.status_code == 200 and changed.json()["session_minutes"] == 40
    names = [p["name"] for p in senco.get("/api/v1/provisions/", {"active": "true"}).json()["results"]]
    assert names == ["Nurture group"]
    assert "hourly" not in made.content.decode() and "cost" not in made.content.decode()


# --- groups ---------------------------------------------------------------------------------


def add_term(t, start: date, end: date, term: str = "autumn", half: tuple[date, date] | None = None) -> None:
    TermDates.objects.create(
        local_authority=t.la,
        academic_year=academic_year_of(start),
        term=term,
        starts_on=start,
        ends_on=end,
        half_term_starts_on=half[0] if half else None,
        half_term_ends_on=half[1] if half else None,
    )


def _monday(day: date) -> date:
    return day + timedelta(days=(7 - day.weekday()) % 7)


def add_school_year(t, year: int) -> list[tuple[date, date]]:
    """Terms of 16, 12 and 14 weeks, each with a week's half-term: 15 + 11 + 13 = 39 school
    weeks. Returns each term's (first day, last day)."""
    spans = []
    for term, first, weeks, half_after in (
        ("autumn", date(year, 9, 1), 16, 8),
        ("spring", date(year + 1, 1, 3), 12, 6),
        ("summer", date(year + 1, 4, 15), 14, 7),
    ):
        start = _monday(first)
        end = start + timedelta(weeks=weeks, days=-3)  # the Friday of the last week
        half = (start + timedelta(weeks=half_after), start + timedelta(weeks=half_after, days=4))
        add_term(t, start, end, term=term, half=half)
        spans.append((start, end))
    return spans


def test_a_group_takes_the_provisions_figures_and_the_terms_dates_and_school_weeks(senco, tenant):
    provision = make_provision(tenant, staff_kind="mentor", session_minutes=45, group_size=6)
    year = YEAR
    (start, end), _spring, (_, summer_end) = add_school_year(tenant, year)
    response = post(
        senco,
        "/api/v1/groups/",
        {
            "provision": provision.pk,
            "academic_year": year,
            "term": "autumn",
            "staff": [tenant.users["senco"].pk],
        },
    )
    assert response.status_code == 201, response.content
    group = response.json()
    assert (group["starts_on"], group["ends_on"]) == (start.isoformat(), end.isoformat())
    assert group["weeks"] == "15.0"  # sixteen weeks less the week of half-term
    assert (group["staff_kind"], group["session_minutes"], group["group_size"], group["ratio"]) == (
        "mentor",
        45,
        6,
        "1:6",
    )
    assert group["name"] == f"Social skills group (Autumn {year}-{(year + 1) % 100:02d})"
    assert [s["id"] for s in group["staff"]] == [tenant.users["senco"].pk]
    # The whole year's 39 school weeks are capped at the LA's costing year (38 by default).
    whole = {"provision": provision.pk, "name": "All year", "academic_year": year}
    response = post(senco, "/api/v1/groups/", whole)
    assert response.status_code == 201, response.content
    assert (response.json()["starts_on"], response.json()["ends_on"]) == (
        start.isoformat(),
        summer_end.isoformat(),
    )
    assert response.json()["weeks"] == "38.0"
    LocalAuthority.objects.filter(pk=tenant.la.pk).update(costing_weeks=Decimal("39"))
    response = post(senco, "/api/v1/groups/", {**whole, "name": "All year again"})
    assert response.json()["weeks"] == "39.0"


def test_group_dates_and_numbers_are_checked_and_nothing_is_saved(senco, tenant):
    provision = make_provision(tenant)
    base = {"provision": provision.pk, "starts_on": TODAY.isoformat(), "ends_on": TODAY.isoformat()}
    cases = [
        ({"ends_on": (TODAY - timedelta(days=1)).isoformat()}, "cannot end before it starts"),
        ({"academic_year": YEAR - 1}, "school year"),
        ({"ends_on": (TODAY + timedelta(days=400)).isoformat()}, "a school year at most"),
        ({"staff_count": 10**9}, "staff_count"),
        ({"weeks": "1e9"}, "weeks"),
        ({"term": "winter"}, "term"),
    ]
    for change, message in cases:
        response = post(senco, "/api/v1/groups/", {**base, **change})
        assert response.status_code == 400, change
        assert message in response.content.decode(), (change, response.content)
    # No term dates entered and no dates given: the SENCO is told to give them.
    no_dates = post(
        senco, "/api/v1/groups/", {"provision": provision.pk, "academic_year": YEAR, "term": "spring"}
    )
    assert no_dates.status_code == 400 and "no term dates" in no_dates.content.decode()
    assert post(senco, "/api/v1/groups/", {**base, "provision": 10**15}).status_code == 400
    patch(senco, f"/api/v1/provisions/{provision.pk}/", {"is_active": False})
    retired = post(senco, "/api/v1/groups/", base)
    assert retired.status_code == 400 and "not offered now" in retired.content.decode()
    with transaction.atomic(), school_scope(tenant):
        assert not InterventionGroup.objects.exists()


def test_group_staff_come_from_the_school_and_the_lead_runs_it(senco, tenant, other):
    provision = make_provision(tenant)
    base = {"provision": provision.pk, "starts_on": TODAY.isoformat(), "ends_on": TODAY.isoformat()}
    for outsider in (other.users["senco"], tenant.users["la_officer"], tenant.users["partnership_lead"]):
        refused = post(senco, "/api/v1/groups/", {**base, "staff": [outsider.pk]})
        assert refused.status_code == 400 and "role at the school" in refused.content.decode()
        assert post(senco, "/api/v1/groups/", {**base, "lead": outsider.pk}).status_code == 400
    made = post(senco, "/api/v1/groups/", {**base, "lead": tenant.users["headteacher"].pk})
    assert made.status_code == 201
    group = made.json()
    assert group["lead"] == tenant.users["headteacher"].pk
    assert [s["id"] for s in group["staff"]] == [tenant.users["headteacher"].pk]
    changed = patch(senco, f"/api/v1/groups/{group['id']}/", {"staff": [tenant.users["practitioner"].pk]})
    assert changed.status_code == 200
    assert {s["id"] for s in changed.json()["staff"]} == {
        tenant.users["practitioner"].pk,
        tenant.users["headteacher"].pk,
    }
    # The browser's choice of staff offers the school's people only.
    page = senco.get(f"/interventions/groups/{group['id']}/edit/").content.decode()
    assert str(tenant.users["practitioner"]) in page and str(other.users["senco"]) not in page


def test_changing_a_groups_dates_recounts_weeks_and_keeps_enrolments_inside(senco, tenant):
    group = make_group(tenant)
    enrol(tenant, group, tenant.pupils[0])
    weeks = Decimal(group.weeks)
    url = f"/interventions/groups/{group.pk}/edit/"
    # The form comes filled in; a SENCO changes what they need to.
    form = {"academic_year": group.academic_year, "starts_on": group.starts_on, "ends_on": group.ends_on}
    later = group.starts_on + timedelta(days=7)
    refused = senco.post(url, {**form, "starts_on": later})
    assert refused.status_code == 400 and "outside the new dates" in refused.content.decode()
    # Emptied dates come from the term's: with no term dates entered, the SENCO is told so.
    emptied = senco.post(url, {**form, "starts_on": ""})
    assert emptied.status_code == 400 and "no term dates" in emptied.content.decode()
    longer = group.ends_on + timedelta(days=14)
    response = senco.post(url, {**form, "ends_on": longer, "name": "Renamed"})
    assert response.status_code == 302
    with transaction.atomic(), school_scope(tenant):
        group.refresh_from_db()
    assert group.name == "Renamed" and group.weeks == weeks + 2


# --- enrolments -----------------------------------------------------------------------------


def test_enrolments_are_checked_and_refusals_save_nothing(senco, tenant, other):
    group = make_group(tenant)
    own = tenant.pupils[0]
    url = "/api/v1/enrolments/"
    assert post(senco, url, {"group": group.pk, "pupil": tenant.sibling_pupils[0].pk}).status_code == 400
    assert post(senco, url, {"group": group.pk, "pupil": other.pupils[0].pk}).status_code == 400
    assert post(senco, url, {"group": 10**12, "pupil": own.pk}).status_code == 400
    early = (group.starts_on - timedelta(days=1)).isoformat()
    response = post(senco, url, {"group": group.pk, "pupil": own.pk, "starts_on": early})
    assert response.status_code == 400 and "cannot join before" in response.content.decode()
    late = (group.ends_on + timedelta(days=1)).isoformat()
    assert post(senco, url, {"group": group.pk, "pupil": own.pk, "ends_on": late}).status_code == 400
    assert post(senco, url, {"group": group.pk, "pupil": own.pk, "entry_score": "1e12"}).status_code == 400
    future = (TODAY + timedelta(days=3)).isoformat()
    assert (
        post(
            senco, url, {"group": group.pk, "pupil": own.pk, "entry_score": 3, "entry_on": future}
        ).status_code
        == 400
    )
    with transaction.atomic(), school_scope(tenant):
        assert not Enrolment.objects.exists()
    made = post(senco, url, {"group": group.pk, "pupil": own.pk, "entry_score": "18.5"})
    assert made.status_code == 201, made.content
    body = made.json()
    assert (body["starts_on"], body["entry_score"], body["entry_on"]) == (
        group.starts_on.isoformat(),
        "18.50",
        group.starts_on.isoformat(),
    )
    again = post(senco, url, {"group": group.pk, "pupil": own.pk})
    assert again.status_code == 400 and "already in the group" in again.content.decode()


def test_exit_results_part_term_places_and_withdrawing(senco, tenant):
    group = make_group(tenant)
    first = enrol(tenant, group, tenant.pupils[0], entry_score=Decimal(20))
    second = enrol(tenant, group, tenant.pupils[1], ends_on=group.starts_on + timedelta(days=14))
    url = f"/api/v1/enrolments/{first.pk}/"
    refused = patch(senco, url, {"outcome_rating": 3})
    assert refused.status_code == 400
    assert patch(senco, url, {"exit_on": TODAY.isoformat()}).status_code == 400  # a date with no result
    done = patch(senco, url, {"exit_score": "14", "note": "Calmer"})
    assert done.status_code == 200, done.content
    assert (done.json()["exit_score"], done.json()["exit_on"]) == ("14.00", TODAY.isoformat())
    rated = patch(senco, f"/api/v1/enrolments/{second.pk}/", {"outcome_rating": -2})
    assert rated.status_code == 200 and rated.json()["outcome_rating"] == -2
    # Withdrawing from the group page: the pupil leaves today and their record stays.
    third = enrol(tenant, group, tenant.pupils[2])
    assert senco.post(f"/interventions/enrolments/{third.pk}/withdraw/").status_code == 302
    with transaction.atomic(), school_scope(tenant):
        assert Enrolment.objects.get(pk=third.pk).ends_on == TODAY
    page = senco.get(f"/interventions/groups/{group.pk}/").content.decode()
    assert "Rated -2" in page and "Left early" in page and "<td>14 <span" in page


def test_an_intervention_counts_as_a_strategy_and_two_reviewed_allow_step_3(senco, tenant, nw):  # noqa: F811
    pupil = tenant.pupils[0]
    assert place(senco, pupil, nw[2]).status_code == 201
    groups = [
        make_group(tenant, make_provision(tenant, name=name), starts=TODAY - timedelta(days=50))
        for name in ("Social skills group", "Emotional literacy group")
    ]
    for group in groups:
        response = post(
            senco,
            "/api/v1/enrolments/",
            {"group": group.pk, "pupil": pupil.pk, "entry_score": 22, "counts_as_strategy": True},
        )
        assert response.status_code == 201, response.content
        assert response.json()["counts_as_strategy"] is True
    with transaction.atomic(), school_scope(tenant):
        tried = list(StrategyTried.objects.filter(pupil=pupil).order_by("name"))
    assert [(t.name, t.step_id, t.reviewed_on) for t in tried] == [
        ("Emotional literacy group", nw[2].pk, None),
        ("Social skills group", nw[2].pk, None),
    ]
    assert tried[0].started_on == groups[0].starts_on
    # Not reviewed yet: the rule is not met.
    assert move(senco, pupil, nw[3]).status_code == 400
    enrolments = senco.get("/api/v1/enrolments/", {"pupil": pupil.pk}).json()["results"]
    patch(senco, f"/api/v1/enrolments/{enrolments[0]['id']}/", {"exit_score": 15})
    assert move(senco, pupil, nw[3]).status_code == 400
    patch(senco, f"/api/v1/enrolments/{enrolments[1]['id']}/", {"outcome_rating": 1})
    with transaction.atomic(), school_scope(tenant):
        assert StrategyTried.objects.filter(pupil=pupil, reviewed_on=TODAY).count() == 2
    assert move(senco, pupil, nw[3]).status_code == 201


def test_counting_as_a_strategy_needs_a_current_step_and_a_start_not_in_the_future(senco, tenant, nw):  # noqa: F811
    group = make_group(tenant, starts=TODAY - timedelta(days=5))
    pupil = tenant.pupils[0]
    body = {"group": group.pk, "pupil": pupil.pk, "counts_as_strategy": True}
    refused = post(senco, "/api/v1/enrolments/", body)
    assert refused.status_code == 400 and "no current step" in refused.content.decode()
    place(senco, pupil, nw[2])
    future = (TODAY + timedelta(days=2)).isoformat()
    later = post(senco, "/api/v1/enrolments/", {**body, "starts_on": future})
    assert later.status_code == 400 and "from that day" in later.content.decode()
    with transaction.atomic(), school_scope(tenant):
        assert not Enrolment.objects.exists() and not StrategyTried.objects.exists()
    # In the browser the option is on the enrolment form, and can be turned on later.
    plain = post(senco, "/api/v1/enrolments/", {"group": group.pk, "pupil": pupil.pk})
    form = senco.get(f"/interventions/enrolments/{plain.json()['id']}/").content.decode()
    assert "Counts as a strategy tried" in form
    turned_on = patch(senco, f"/api/v1/enrolments/{plain.json()['id']}/", {"counts_as_strategy": True})
    assert turned_on.json()["counts_as_strategy"] is True


def test_enrolling_in_the_browser(senco, tenant):
    group = make_group(tenant)
    page = senco.get(f"/interventions/groups/{group.pk}/enrol/")
    assert page.status_code == 200 and tenant.pupils[0].last_name in page.content.decode()
    assert tenant.sibling_pupils[0].last_name not in page.content.decode()
    response = senco.post(
        f"/interventions/groups/{group.pk}/enrol/", {"pupil": tenant.pupils[0].pk, "another": "1"}
    )
    assert response.status_code == 302 and response["Location"].endswith("/enrol/")
    refused = senco.post(f"/interventions/groups/{group.pk}/enrol/", {"pupil": tenant.sibling_pupils[0].pk})
    assert refused.status_code == 400
    with transaction.atomic(), school_scope(tenant):
        assert list(Enrolment.objects.values_list("pupil_id", flat=True)) == [tenant.pupils[0].pk]


# --- what a practitioner sees ---------------------------------------------------------------


@pytest.fixture
def two_groups(tenant):
    """Group A run by the practitioner (first pupil), group B not (second pupil)."""
    a = make_group(
        tenant, make_provision(tenant, name="Social skills group"), staff=[tenant.users["practitioner"]]
    )
    b = make_group(tenant, make_provision(tenant, name="Nurture group"), staff=[tenant.users["senco"]])
    enrol(tenant, a, tenant.pupils[0])
    enrol(tenant, b, tenant.pupils[1])
    return a, b


def test_a_practitioner_sees_the_pupils_of_their_groups_and_no_others(practitioner, tenant, two_groups):
    a, b = two_groups
    mine, theirs = tenant.pupils[0], tenant.pupils[1]
    register = practitioner.get("/pupils/").content.decode()
    assert mine.last_name in register and theirs.last_name not in register
    assert practitioner.get(f"/pupils/{mine.pk}/").status_code == 200
    assert practitioner.get(f"/pupils/{theirs.pk}/").status_code == 404
    listed = [p["id"] for p in practitioner.get("/api/v1/pupils/").json()["results"]]
    assert listed == [mine.pk]
    assert practitioner.get(f"/api/v1/pupils/{theirs.pk}/").status_code == 404
    groups = practitioner.get("/interventions/").content.decode()
    assert a.name in groups and b.name not in groups and "My groups" in groups
    assert practitioner.get(f"/interventions/groups/{a.pk}/").status_code == 200
    assert practitioner.get(f"/interventions/groups/{b.pk}/").status_code == 404
    assert [g["id"] for g in practitioner.get("/api/v1/groups/").json()["results"]] == [a.pk]
    assert practitioner.get(f"/api/v1/groups/{b.pk}/").status_code == 404
    enrolments = practitioner.get("/api/v1/enrolments/").json()["results"]
    assert [e["pupil"] for e in enrolments] == [mine.pk]
    # They run groups; they do not set them up, enrol pupils or keep the catalogue.
    assert practitioner.get(f"/interventions/groups/{a.pk}/enrol/").status_code == 403
    assert practitioner.get(f"/interventions/groups/{a.pk}/edit/").status_code == 403
    assert practitioner.get("/interventions/provisions/").status_code == 403
    assert post(practitioner, "/api/v1/enrolments/", {"group": a.pk, "pupil": theirs.pk}).status_code == 403
    assert post(practitioner, "/api/v1/provisions/", {"name": "Mine"}).status_code == 403


def test_no_cost_or_hourly_rate_reaches_a_practitioner(practitioner, tenant, two_groups):
    a, _ = two_groups
    StaffRole.objects.create(local_authority=tenant.la, kind="ta", hourly_cost=Decimal("19.37"))
    pages = [
        practitioner.get("/interventions/"),
        practitioner.get(f"/interventions/groups/{a.pk}/"),
        practitioner.get(f"/interventions/groups/{a.pk}/sessions/new/"),
        practitioner.get("/api/v1/groups/"),
        practitioner.get("/api/v1/provisions/"),
        practitioner.get("/api/v1/enrolments/"),
        practitioner.get("/api/v1/sessions/"),
        practitioner.get(f"/pupils/{tenant.pupils[0].pk}/timeline/"),
    ]
    for response in pages:
        assert response.status_code == 200
        body = response.content.decode()
        assert "19.37" not in body and "£" not in body and "hourly" not in body.lower()


def test_a_senco_sees_every_group_of_the_school_current_first(senco, tenant, two_groups):
    a, b = two_groups
    old = make_group(
        tenant,
        a.provision,
        starts=TODAY - timedelta(days=120),
        ends=TODAY - timedelta(days=60),
        name="Old group",
    )
    page = senco.get("/interventions/").content.decode()
    assert page.index(a.name) < page.index("Old group") and page.index(b.name) < page.index("Old group")
    filtered = senco.get("/interventions/", {"provision": b.provision_id}).content.decode()
    assert b.name in filtered and a.name not in filtered
    period = f"{old.academic_year}-year"
    only_year = senco.get("/interventions/", {"period": period}).content.decode()
    assert "Old group" in only_year
    assert senco.get("/interventions/", {"provision": "x"}).status_code == 400
    # The API's school filter narrows what the scope reads, and never widens it.
    assert senco.get("/api/v1/groups/", {"school": tenant.school.pk}).json()["count"] == 3
    assert senco.get("/api/v1/groups/", {"school": tenant.sibling.pk}).json()["count"] == 0
    current = senco.get("/api/v1/groups/", {"current": "true"}).json()["results"]
    assert {g["id"] for g in current} == {a.pk, b.pk}


# --- timeline, audit, schema ----------------------------------------------------------------


def test_enrolments_appear_on_the_pupils_timeline(senco, tenant):
    pupil = tenant.pupils[0]
    past = make_group(
        tenant, make_provision(tenant), starts=TODAY - timedelta(days=90), ends=TODAY - timedelta(days=30)
    )
    enrolment = enrol(tenant, past, pupil, entry_score=Decimal(21))
    patch(
        senco, f"/api/v1/enrolments/{enrolment.pk}/", {"exit_score": 16, "exit_on": past.ends_on.isoformat()}
    )
    page = senco.get(f"/pupils/{pupil.pk}/timeline/").content.decode()
    assert f"Joined the group {past.name}" in page
    assert f"Finished the group {past.name}" in page
    assert "Exit score 16 (entry 21)" in page


def test_changes_and_pages_with_pupils_are_audited_by_id_only(senco, tenant):
    group = make_group(tenant)
    response = post(
        senco,
        "/api/v1/enrolments/",
        {"group": group.pk, "pupil": tenant.pupils[0].pk, "entry_score": 27, "note": "Private words"},
    )
    enrolment = response.json()["id"]
    senco.get(f"/interventions/groups/{group.pk}/")
    with transaction.atomic(), school_scope(tenant):
        made = AuditEvent.objects.get(action="create", object_type="pupils.pupil")
        viewed = AuditEvent.objects.get(action="view", object_type="interventions.interventiongroup")
    assert made.object_id == str(tenant.pupils[0].pk)
    assert made.detail == {
        "fields": ["enrolment"],
        "event": "enrolled",
        "enrolment": enrolment,
        "group": group.pk,
        "strategy_tried": None,
    }
    assert viewed.detail["pupils"] == [tenant.pupils[0].pk]


def test_the_schema_documents_the_intervention_endpoints(client, db):
    import yaml

    schema = yaml.safe_load(client.get("/api/v1/schema/").content)
    for path in (
        "/api/v1/provisions/",
        "/api/v1/provisions/{id}/",
        "/api/v1/groups/",
        "/api/v1/groups/{id}/",
        "/api/v1/enrolments/",
        "/api/v1/enrolments/{id}/",
        "/api/v1/sessions/",
        "/api/v1/sessions/{id}/",
        "/api/v1/behaviour-provisions/",
    ):
        assert path in schema["paths"], path


def test_behaviour_provisions_moved_to_their_own_address(client, tenant):
    sign_in(client, tenant.users["partnership_lead"], tenant.memberships["partnership_lead"])
    body = client.get("/api/v1/behaviour-provisions/").json()
    assert [p["name"] for p in body["results"]] == [tenant.provision.name]


# --- query counts ---------------------------------------------------------------------------


def _queries(client, url: str, **params) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params)
    assert response.status_code == 200, (url, response.content[:300])
    return len([q for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]])


def _grow(t, group, n: int) -> None:
    more = [PupilFactory(school=t.school, last_name=f"Extra{n}-{i}") for i in range(3)]
    for pupil in more:
        enrol(t, group, pupil, entry_score=Decimal(10))
    with transaction.atomic(), school_scope(t):
        services.session_record(
            request=None,
            group=group,
            held_on=TODAY - timedelta(days=n + 1),
            marks={},
        )


def test_lists_and_pages_cost_the_same_queries_as_data_grows(senco, tenant):
    provision = make_provision(tenant)
    group = make_group(tenant, provision, staff=[tenant.users["senco"], tenant.users["headteacher"]])
    enrol(tenant, group, tenant.pupils[0])
    _grow(tenant, group, 0)  # one session already: the prefetches run from the first
    urls = [
        "/interventions/",
        f"/interventions/groups/{group.pk}/",
        "/interventions/provisions/",
        "/api/v1/groups/",
        "/api/v1/enrolments/",
        "/api/v1/sessions/",
        "/api/v1/provisions/",
    ]
    for url in urls:
        senco.get(url)  # warm up
    before = {url: _queries(senco, url) for url in urls}
    _grow(tenant, group, 1)
    _grow(tenant, group, 2)
    for name in ("Second", "Third"):
        extra = make_group(tenant, make_provision(tenant, name=name), staff=[tenant.users["practitioner"]])
        enrol(tenant, extra, tenant.pupils[1])
    after = {url: _queries(senco, url) for url in urls}
    assert after == before


# --- demo data ------------------------------------------------------------------------------


def test_the_demo_seed_gives_each_school_a_catalogue_groups_sessions_and_results(db):
    from graduated_response.demo import seed_placements
    from interventions.demo import CATALOGUE, seed_interventions
    from pupils.demo import seed_pupils
    from schools.demo import seed_organisations, seed_term_dates, seed_users

    world = seed_organisations()
    seed_users(world)
    seed_term_dates(world.la)
    schools = world.schools[1:3]  # two primaries are plenty for the test
    seed_pupils(schools)
    call_command("load_frameworks", la=world.la.code, stdout=io.StringIO())
    seed_placements(world.la, schools)
    made = seed_interventions(world.la, schools, today=TODAY)
    assert made["groups"] >= 8 and made["sessions"] > 0
    assert seed_interventions(world.la, schools, today=TODAY) == {"groups": 0, "enrolments": 0, "sessions": 0}
    ashgrove = world.schools[1]
    la = LocalAuthority.objects.get(pk=world.la.pk)
    with transaction.atomic(), tenant_scope(TenantScope.for_school(ashgrove.pk, la_id=la.pk)):
        assert set(Provision.objects.values_list("name", flat=True)) == set(CATALOGUE)
        groups = InterventionGroup.objects.all()
        running = groups.filter(starts_on=groups.order_by("-starts_on").first().starts_on)
        assert 4 <= running.count() <= 6
        practitioner = GroupStaff.objects.filter(user__username="practitioner", group__in=running)
        assert practitioner.count() >= 2
        finished = Enrolment.objects.filter(group__ends_on__lt=TODAY)
        assert finished.exists()
        assert not finished.filter(exit_score__isnull=True, outcome_rating__isnull=True).exists()
        from interventions.models import Attendance

        marks = list(Attendance.objects.values_list("present", flat=True))
        assert 0.7 < sum(marks) / len(marks) < 0.95


def test_a_practitioners_access_ends_a_few_weeks_after_the_group(practitioner, tenant):
    long_ago = TODAY - timedelta(days=200)
    old = make_group(
        tenant,
        make_provision(tenant, name="Last year's group"),
        starts=long_ago,
        ends=long_ago + timedelta(days=40),
        staff=[tenant.users["practitioner"]],
    )
    enrol(tenant, old, tenant.pupils[2], starts_on=long_ago)
    assert practitioner.get(f"/pupils/{tenant.pupils[2].pk}/").status_code == 404
    assert practitioner.get("/api/v1/pupils/").json()["count"] == 0


def test_group_dates_weeks_and_term_must_agree(tenant):
    TermDates.objects.create(
        local_authority=tenant.la,
        academic_year=2025,
        term="autumn",
        starts_on=date(2025, 9, 3),
        ends_on=date(2025, 12, 19),
    )
    provision = make_provision(tenant)
    with pytest.raises(services.ValidationError) as err:
        make_group(
            tenant,
            provision,
            starts=date(2026, 5, 1),
            ends=date(2026, 6, 30),
            term="autumn",
            academic_year=2025,
        )
    assert "term" in err.value.message_dict or "starts_on" in err.value.message_dict
    with pytest.raises(services.ValidationError) as err:
        make_group(tenant, provision, starts=date(2025, 9, 8), ends=date(2025, 9, 12), weeks=Decimal(52))
    assert "weeks" in err.value.message_dict


def test_an_intervention_counts_at_a_step_only_from_the_day_the_step_began(senco, tenant, nw):  # noqa: F811
    pupil = tenant.pupils[0]
    group = make_group(tenant, starts=TODAY - timedelta(days=20), ends=TODAY + timedelta(days=20))
    place(senco, pupil, nw[2], placed_on=(TODAY - timedelta(days=5)).isoformat())
    enrolment = enrol(tenant, group, pupil, starts_on=TODAY - timedelta(days=20), counts_as_strategy=True)
    with transaction.atomic(), school_scope(tenant):
        tried = StrategyTried.objects.get(pk=Enrolment.objects.get(pk=enrolment.pk).strategy_tried_id)
    assert tried.started_on == TODAY - timedelta(days=5)


def test_text_typed_where_an_id_belongs_never_reaches_the_audit_log(senco, tenant):
    response = senco.post("/interventions/provisions/add/", {"library_item": "Jane Smith has ADHD"})
    assert response.status_code == 400
    with transaction.atomic(), school_scope(tenant):
        assert not AuditEvent.objects.filter(object_id__icontains="Jane").exists()
        assert AuditEvent.objects.filter(action="denied", object_id="(not an id)").exists()


def test_moving_an_enrolments_start_keeps_its_strategy_inside_the_step(senco, tenant, nw):  # noqa: F811
    pupil = tenant.pupils[0]
    group = make_group(tenant, starts=TODAY - timedelta(days=20), ends=TODAY + timedelta(days=20))
    place(senco, pupil, nw[2], placed_on=(TODAY - timedelta(days=5)).isoformat())
    enrolment = enrol(tenant, group, pupil, starts_on=TODAY - timedelta(days=2), counts_as_strategy=True)
    with transaction.atomic(), school_scope(tenant):
        services.enrolment_update(
            request=None, enrolment=enrolment, data={"starts_on": TODAY - timedelta(days=15)}
        )
        tried = StrategyTried.objects.get(pk=Enrolment.objects.get(pk=enrolment.pk).strategy_tried_id)
        assert tried.started_on == TODAY - timedelta(days=5)  # not before step 2 began
        services.enrolment_update(request=None, enrolment=enrolment, data={}, counts_as_strategy=False)
        assert not StrategyTried.objects.filter(pk=tried.pk).exists()
        events = list(
            AuditEvent.objects.filter(detail__event__startswith="strategy ").values_list(
                "detail__event", flat=True
            )
        )
    assert "strategy restarted" in events and "strategy withdrawn" in events
