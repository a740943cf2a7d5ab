"""The costed provision map, what works and a pupil's provision, as SENCOs and headteachers
see them in the browser, the downloads and the API; everyone else is refused."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from schools.models import AuditEvent
from schools.terms import academic_year_of
from tests.conftest import sign_in
from tests.test_costing import YEAR, Build

MAP_URLS = [
    "/provision-map/",
    "/provision-map/export.csv",
    "/provision-map/export.xlsx",
    "/what-works/",
    "/what-works/export.csv",
    "/what-works/export.xlsx",
    "/api/v1/provision-map/",
    "/api/v1/what-works/",
]


@pytest.fixture
def build(tenant) -> Build:
    return Build(tenant)


@pytest.fixture
def kent(build):
    """A small costed map: individual literacy (4 × 1 hour, 38 weeks, SENCO at £50 = £7,600)
    for four Year 5 pupils, and a TA-led reading group (£200) for a Year 6 pupil."""
    build.kent_rates()
    # The groups run in 2025-26; pupils have moved up a year for each school year since.
    up = academic_year_of(dt.date.today()) - YEAR
    literacy = build.provision("Individual literacy", step_number=3, area_of_need="cognition")
    pupils = [build.pupil(nc_year=5 + up, last_name=f"Literate{i}") for i in range(4)]
    for group, pupil in zip(build.groups(literacy, 4, weeks=38, staff_kind="senco"), pupils, strict=True):
        build.enrol(group, pupil, entry_score=Decimal(80), exit_score=Decimal(86))
    reading = build.provision("Reading group", step_number=2, area_of_need="cognition")
    year6 = build.pupil(nc_year=6 + up, last_name="Reader")
    build.enrol(build.group(reading, weeks=10, group_size=6), year6, outcome_rating=1)
    return [*pupils, year6]


def get(client, url: str, **extra):
    return client.get(url, {"year": YEAR, **extra})


# --- who may see costs ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "role", ["practitioner", "provision_lead", "partnership_lead", "la_officer", "la_admin"]
)
def test_only_sencos_and_headteachers_see_costs(client, tenant, role, as_school):
    sign_in(client, tenant.users[role], tenant.memberships[role])
    for url in [*MAP_URLS, f"/pupils/{tenant.pupils[0].pk}/provision/"]:
        assert client.get(url).status_code == 403, url
    if role == "practitioner":
        with as_school(tenant.school):
            assert (
                AuditEvent.objects.filter(action="denied", user=tenant.users[role]).count()
                == len(MAP_URLS) + 1
            )


@pytest.mark.parametrize("role", ["senco", "headteacher"])
def test_sencos_and_headteachers_open_every_page(client, tenant, kent, role):
    sign_in(client, tenant.users[role])
    for url in [
        *MAP_URLS,
        f"/pupils/{kent[0].pk}/provision/",
        f"/pupils/{kent[0].pk}/provision/?view=parent",
    ]:
        assert client.get(url).status_code == 200, url


def test_another_schools_pupil_or_school_is_not_found(client, tenant, other):
    sign_in(client, tenant.users["senco"])
    for pupil in (other.pupils[0], tenant.sibling_pupils[0]):
        assert client.get(f"/pupils/{pupil.pk}/provision/").status_code == 404
        assert client.get(f"/pupils/{pupil.pk}/provision/?view=parent").status_code == 404
    for school in (other.school, tenant.sibling):
        for api in ("provision-map", "what-works"):
            response = client.get(f"/api/v1/{api}/", {"school": school.pk})
            assert response.status_code == 404, (api, school)
            assert school.name not in response.content.decode()


# --- the map page ------------------------------------------------------------------------------


def test_the_map_shows_costs_subtotals_totals_and_a_chart(client, tenant, kent, as_school):
    sign_in(client, tenant.users["senco"])
    response = get(client, "/provision-map/")
    body = response.content.decode()
    assert "School year 2025-26" in body
    assert "£7,600.00" in body and "4 × 1 hour" in body and "£1,900.00" in body
    assert "£7,800.00" in body  # the total, with the reading group's £200
    assert "By wave or step" in body and "By area of need" in body
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img"' in body
    assert "Literate0" not in body  # the school's map names no child
    with as_school(tenant.school):
        event = AuditEvent.objects.filter(action="list", object_type="interventions.provision").latest("at")
    assert event.detail == {"year": YEAR, "term": "", "year_group": None, "rows": 2, "pupils": 5}


def test_filters_work_without_javascript_and_htmx_gets_the_results_only(client, tenant, kent):
    sign_in(client, tenant.users["headteacher"])
    year6 = get(client, "/provision-map/", year_group=6).content.decode()
    assert "Year 6 pupils" in year6 and "Reading group" in year6 and "Individual literacy" not in year6
    assert "<html" in year6
    fragment = client.get("/provision-map/", {"year": YEAR, "term": "spring"}, HTTP_HX_REQUEST="true")
    text = fragment.content.decode()
    assert "<html" not in text and "Spring term 2025-26" in text
    assert "export.csv?year=2025&amp;term=spring" in text


def test_bad_filters_are_a_clear_400(client, tenant):
    sign_in(client, tenant.users["senco"])
    response = client.get("/provision-map/", {"year": "1850", "term": "winter"})
    assert response.status_code == 400
    assert "There is a problem" in response.content.decode()
    assert client.get("/provision-map/export.csv", {"year_group": "99"}).status_code == 400


def test_a_missing_rate_is_named_on_the_map(client, tenant, build):
    build.rate("ta", "20")
    build.group(build.provision("Mentoring"), staff_kind="mentor", weeks=10)
    sign_in(client, tenant.users["senco"])
    body = get(client, "/provision-map/").content.decode()
    assert "No hourly rate is set for: Learning mentor" in body
    assert "Unknown" in body and "£0.00" not in body.split("<tfoot>")[0]


# --- downloads ----------------------------------------------------------------------------------


def test_map_exports_carry_the_figures_and_neutralise_formulas(client, tenant, build):
    build.kent_rates()
    sneaky = build.provision('=HYPERLINK("http://x","y")', step_number=3)
    build.groups(sneaky, 4, weeks=38, staff_kind="senco")
    sign_in(client, tenant.users["senco"])
    response = get(client, "/provision-map/export.csv")
    assert (
        response["Content-Disposition"]
        == f'attachment; filename="provision-map-{tenant.school.urn}-2025-26.csv"'
    )
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Provision", "Area of need", "Wave or step"]
    assert rows[1][0].startswith("'=HYPERLINK")
    assert rows[1][9] == "7600.00" and rows[1][5] == "4 × 1 hour"
    assert rows[-1][0] == "Total: School year 2025-26" and rows[-1][9] == "7600.00"

    sheet = load_workbook(io.BytesIO(get(client, "/provision-map/export.xlsx").content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[1][0].startswith("'=HYPERLINK")
    assert values[1][9] == 7600 and values[-1][0] == "Total: School year 2025-26"


def test_what_works_export_and_sorting(client, tenant, kent):
    sign_in(client, tenant.users["headteacher"])
    page = client.get("/what-works/", {"sort": "-average_improvement"}).content.decode()
    # Literacy has a score gain of 6; the reading group only a rating, so it sorts after.
    assert page.index("Individual literacy") < page.index("Reading group")
    assert 'aria-sort="descending"' in page
    assert 'href="?sort=average_improvement"' in page  # choosing it again reverses it
    page = client.get("/what-works/", {"sort": "cost"}).content.decode()
    assert page.index("Reading group") < page.index("Individual literacy")
    rows = list(csv.reader(io.StringIO(client.get("/what-works/export.csv").content.decode("utf-8-sig"))))
    literacy = next(r for r in rows if r[0] == "Individual literacy")
    assert literacy[8] == "6.00" and literacy[9] == "100.0" and literacy[12] == "7600.00"
    assert literacy[13] == "1900.00" and literacy[14] == "316.67"  # £7,600 ÷ 24 points gained


# --- a pupil's provision ---------------------------------------------------------------------------


def test_the_pupils_map_for_staff_and_for_parents(client, tenant, build, as_school):
    build.rate("ta", "20")
    pupil = build.pupil(first_name="Sam", preferred_name="Sammy", last_name="Child")
    classmate = build.pupil(last_name="Classmate")
    group = build.group(
        build.provision("Talk boost", description="Games for talking and listening."),
        weeks=10,
        sessions_per_week=2,
        session_minutes=45,
        group_size=4,
        name="Talk boost (7N-EN2)",
        starts_on=dt.date(2025, 9, 8),
        ends_on=dt.date(2025, 11, 14),
    )
    mine = build.enrol(group, pupil)
    build.enrol(group, classmate)
    build.attendance(group, dt.date(2025, 9, 9), {mine: True})
    sign_in(client, tenant.users["senco"])
    staff = get(client, f"/pupils/{pupil.pk}/provision/").content.decode()
    assert "£150.00" in staff and "1 of 1" in staff and "Talk boost (7N-EN2)" in staff
    parent = get(client, f"/pupils/{pupil.pk}/provision/", view="parent").content.decode()
    assert "Sammy’s support at school" in parent
    assert "twice a week, 45 minutes each time, in a small group" in parent.lower()
    assert "With a teaching assistant." in parent
    assert "£" not in parent and "Classmate" not in parent and "7N-EN2" not in parent
    with as_school(tenant.school):
        views = AuditEvent.objects.filter(action="view", object_id=str(pupil.pk)).order_by("at")
        assert [e.detail["view"] for e in views] == ["staff", "parent"]


# --- the API ---------------------------------------------------------------------------------------


def test_provision_map_api_shape(client, tenant, kent):
    sign_in(client, tenant.users["senco"])
    data = get(client, "/api/v1/provision-map/").json()
    assert data["school"] == tenant.school.pk
    assert data["period"] == {"year": YEAR, "kind": "academic", "term": "", "label": "School year 2025-26"}
    literacy = next(r for r in data["rows"] if r["name"] == "Individual literacy")
    assert literacy["cost"] == "7600.00" and literacy["per_pupil_cost"] == "1900.00"
    assert (
        literacy["ratio"] == "1:1" and literacy["weekly_time"] == "4 × 1 hour" and literacy["weeks"] == "38"
    )
    assert literacy["staff"] == [
        {
            "kind": "senco",
            "label": "SENCO",
            "groups": 4,
            "weekly_hours": "4.00",
            "weekly_time": "4 × 1 hour",
            "rate": "50.00",
            "cost": "7600.00",
        }
    ]
    assert [t["label"] for t in data["subtotals"]["by_step"]] == ["Wave or step 2", "Wave or step 3"]
    assert data["subtotals"]["by_area"][0]["cost"] == "7800.00"
    assert data["totals"]["cost"] == "7800.00" and data["totals"]["pupils"] == 5
    assert data["missing_rates"] == []
    year6 = get(client, "/api/v1/provision-map/", year_group=6, school=tenant.school.pk).json()
    assert [r["name"] for r in year6["rows"]] == ["Reading group"]
    assert get(client, "/api/v1/provision-map/", term="winter").status_code == 400


def test_what_works_api_shape(client, tenant, kent):
    sign_in(client, tenant.users["headteacher"])
    data = client.get("/api/v1/what-works/", {"sort": "-cost"}).json()
    assert data["sort"] == "-cost" and data["year"] is None
    top = data["rows"][0]
    assert top["name"] == "Individual literacy"
    assert top["average_improvement"] == "6.00" and top["improved_share"] == "1.0000"
    assert top["cost_per_improvement"] == "316.67" and top["attendance_rate"] is None


# --- constant queries --------------------------------------------------------------------------------


def _queries(client, url: str, **params) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


def test_query_counts_do_not_grow_with_groups_and_enrolments(client, tenant, build):
    build.rate("ta", "20")
    pupil = build.pupil()
    counter = iter(range(1000))

    def grow(n: int) -> None:
        for _ in range(n):
            provision = build.provision(f"Provision {next(counter)}", step_number=2)
            for term in ("", "autumn"):
                group = build.group(provision, term=term, weeks=10)
                build.enrol(group, pupil)
                build.enrol(group, build.pupil(nc_year=6))
                build.attendance(group, dt.date(2025, 9, 2 + next(counter) % 20), {})

    urls = [
        ("/provision-map/", {"year": YEAR}),
        ("/provision-map/", {"year": YEAR, "term": "autumn", "year_group": 6}),
        ("/provision-map/export.csv", {"year": YEAR}),
        ("/what-works/", {}),
        (f"/pupils/{pupil.pk}/provision/", {"year": YEAR}),
        ("/api/v1/provision-map/", {"year": YEAR}),
        ("/api/v1/what-works/", {}),
    ]
    sign_in(client, tenant.users["senco"])
    grow(1)
    for url, params in urls:
        _queries(client, url, **params)  # warm up
    small = [_queries(client, url, **params) for url, params in urls]
    grow(6)
    assert [_queries(client, url, **params) for url, params in urls] == small


def test_map_page_query_count_is_pinned(client, tenant, kent):
    """The queries behind /provision-map/ for a SENCO (savepoints left out, as the test's own
    transaction makes them): 1 switch to the app role; 2 session; 3 user; 4 memberships;
    5 tenant settings; 6 the school with its LA; 7 hourly rates; 8 groups with their
    provisions; 9 enrolments with the pupils' NC years; 10 audit insert; 11 settings back as
    the scope ends; 12 role back as the request ends. A term view adds one: the term dates."""
    sign_in(client, tenant.users["senco"])
    get(client, "/provision-map/")  # warm up
    for params, expected in (({}, 12), ({"term": "autumn"}, 13)):
        with CaptureQueriesContext(connection) as ctx:
            assert get(client, "/provision-map/", **params).status_code == 200
        queries = [q["sql"] for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]]
        assert len(queries) == expected, "\n".join(q[:150] for q in queries)
