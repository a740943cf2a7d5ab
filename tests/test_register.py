"""The SEN register in the browser: the list's filters, search, sort and paging; a pupil's page;
the forms that add and change a record, its one-page profile, outcomes and scores."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pupils.demo import make_upn
from pupils.models import AssessmentScore, OnePageProfile, OutcomeRecord, Pupil, SenStatusChange
from schools.models import AuditEvent
from tests.conftest import sign_in
from tests.factories import PupilFactory

ROW_NAME = re.compile(r'<a href="/pupils/\d+/">([^<,]+),')


def shown(response) -> list[str]:
    """Surnames in the register's table, in the order shown."""
    assert response.status_code == 200, response.content.decode()[:2000]
    return ROW_NAME.findall(response.content.decode())


def events(as_school, school, **filters) -> list[AuditEvent]:
    with as_school(school):
        return list(AuditEvent.objects.filter(**filters).order_by("id"))


def this_academic_year() -> int:
    today = timezone.localdate()
    return today.year if today.month >= 9 else today.year - 1


@pytest.fixture
def register(tenant):
    """A small register beside the fixture's three AlphaPupils (year 5, no SEN)."""
    s = tenant.school
    return {
        "Ahmed": PupilFactory(
            school=s,
            last_name="Ahmed",
            nc_year=3,
            sen_status="K",
            primary_need="SEMH",
            secondary_need="SLCN",
            fsm=True,
            upn=make_upn("909", "3001", 2025, 101),
        ),
        "Brown": PupilFactory(
            school=s, last_name="Brown", nc_year=5, sen_status="E", primary_need="ASD", pupil_premium=True
        ),
        "Carter": PupilFactory(school=s, last_name="Carter", nc_year=6, looked_after=True),
        "Davies": PupilFactory(school=s, last_name="Davies", nc_year=-1, sen_status="K", primary_need="SPLD"),
        "Evans": PupilFactory(
            school=s,
            last_name="Evans",
            nc_year=6,
            sen_status="K",
            primary_need="MLD",
            is_active=False,
            left_on=date(2025, 7, 20),
        ),
    }


@pytest.fixture
def senco(client, tenant):
    return sign_in(client, tenant.users["senco"], tenant.memberships["senco"])


ALPHAS = {"AlphaPupil0", "AlphaPupil1", "AlphaPupil2"}


# --- the list ----------------------------------------------------------------------------


def test_register_shows_active_pupils_and_hides_leavers_unless_asked(senco, register):
    names = shown(senco.get("/pupils/"))
    assert set(names) == ALPHAS | {"Ahmed", "Brown", "Carter", "Davies"}
    body = senco.post("/pupils/", {"include_leavers": "on"}).content.decode()
    assert "Evans" in body and ">Left<" in body


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"year": "5"}, ALPHAS | {"Brown"}),
        ({"year": "-1"}, {"Davies"}),
        ({"sen_status": "E"}, {"Brown"}),
        ({"sen_status": "K"}, {"Ahmed", "Davies"}),
        ({"sen_status": "N"}, ALPHAS | {"Carter"}),
        ({"need": "ASD"}, {"Brown"}),
        ({"need": "SLCN"}, {"Ahmed"}),  # a secondary need counts
        ({"area": "communication"}, {"Brown"}),  # the area is the primary need's
        ({"area": "cognition"}, {"Davies"}),
        ({"fsm": "yes"}, {"Ahmed"}),
        ({"fsm": "no"}, ALPHAS | {"Brown", "Carter", "Davies"}),
        ({"pupil_premium": "yes"}, {"Brown"}),
        ({"looked_after": "yes"}, {"Carter"}),
        ({"looked_after": "no", "year": "6"}, set()),
        ({"sen_status": "K", "include_leavers": "on"}, {"Ahmed", "Davies", "Evans"}),
        ({"year": "6", "include_leavers": "on", "looked_after": "no"}, {"Evans"}),
    ],
)
def test_each_filter_narrows_the_register(senco, register, data, expected):
    assert set(shown(senco.post("/pupils/", data))) == expected


def test_an_empty_result_says_so(senco, register):
    body = senco.post("/pupils/", {"sen_status": "E", "year": "3"}).content.decode()
    assert "No pupil matches these filters." in body
    assert "<table" not in body


def test_search_by_name_or_upn_is_posted_and_audited_without_the_text(senco, tenant, register, as_school):
    assert shown(senco.post("/pupils/", {"q": "brow"})) == ["Brown"]
    assert shown(senco.post("/pupils/", {"q": register["Davies"].upn.lower()})) == ["Davies"]
    assert shown(senco.post("/pupils/", {"q": "  ahmed  ", "sen_status": "E"})) == []
    # The address is never read for a search: a name in a URL finds nothing special.
    assert set(shown(senco.get("/pupils/?q=Brown"))) == ALPHAS | {"Ahmed", "Brown", "Carter", "Davies"}
    rows = events(as_school, tenant.school, object_type="pupils.pupil")
    assert [e.action for e in rows] == ["search", "search", "search", "list"]
    assert all("brow" not in str(e.detail).lower() and "ahmed" not in str(e.detail).lower() for e in rows)
    assert rows[2].detail["filters"] == {"sen_status": "E"}


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("name", ["Ahmed", "AlphaPupil0", "AlphaPupil1", "AlphaPupil2", "Brown", "Carter", "Davies"]),
        ("-name", ["Davies", "Carter", "Brown", "AlphaPupil2", "AlphaPupil1", "AlphaPupil0", "Ahmed"]),
        ("year", ["Davies", "Ahmed", "AlphaPupil0", "AlphaPupil1", "AlphaPupil2", "Brown", "Carter"]),
        ("-year", ["Carter", "AlphaPupil0", "AlphaPupil1", "AlphaPupil2", "Brown", "Ahmed", "Davies"]),
        ("sen", ["Brown", "Ahmed", "Davies", "AlphaPupil0", "AlphaPupil1", "AlphaPupil2", "Carter"]),
    ],
)
def test_sorting(senco, register, sort, expected):
    response = senco.post("/pupils/", {"sort": sort})
    assert shown(response) == expected


def test_sort_by_need_and_upn_and_the_sorted_column_is_marked(senco, tenant, register):
    names = shown(senco.post("/pupils/", {"sort": "need", "sen_status": "K"}))
    assert names == ["Ahmed", "Davies"]  # SEMH before SPLD
    on_roll = [*tenant.pupils, *(p for p in register.values() if p.is_active)]
    by_upn = [p.last_name for p in sorted(on_roll, key=lambda p: p.upn)]
    assert shown(senco.post("/pupils/", {"sort": "upn"})) == by_upn
    body = senco.post("/pupils/", {"sort": "-year"}).content.decode()
    assert re.search(r'<th scope="col" aria-sort="descending">Year</th>', body)


def test_paging_keeps_the_filters_and_counts(senco, tenant, as_school):
    with as_school(tenant.school):
        Pupil.objects.bulk_create(
            Pupil(
                school=tenant.school,
                upn=make_upn("909", "4444", 2024, i),
                first_name="Page",
                last_name=f"Paged{i:03d}",
                date_of_birth=date(2016, 1, 1),
                nc_year=4,
            )
            for i in range(120)
        )
    first = senco.post("/pupils/", {"year": "4"}).content.decode()
    assert "Showing 1–50 of 120 pupils matching" in first
    assert 'form="register-filters" name="page" value="2"' in first
    third = senco.post("/pupils/", {"year": "4", "page": "3"})
    assert shown(third) == [f"Paged{i:03d}" for i in range(100, 120)]
    assert "Showing 101–120 of 120 pupils matching" in third.content.decode()
    # A page past the end shows the last page rather than an error.
    assert "Showing 101–120" in senco.post("/pupils/", {"year": "4", "page": "99"}).content.decode()


def test_htmx_gets_only_the_results_with_the_count_out_of_band(senco, register):
    response = senco.post("/pupils/", {"sen_status": "E"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert 'id="register-status" hx-swap-oob="innerHTML"' in body
    assert "Showing 1–1 of 1 pupil matching" in body
    # The download form beside the results carries the applied filters, nothing else.
    assert '<input type="hidden" name="sen_status" value="E">' in body
    assert 'name="page"' not in body.split("<table")[0]


def test_the_page_offers_the_whole_filter_form(senco):
    body = senco.get("/pupils/").content.decode()
    for label in (
        "Search by name or UPN",
        "Year",
        "SEN provision",
        "Type of need",
        "Area of need",
        "Free school meals",
        "Pupil premium",
        "Looked after",
        "Include leavers",
        "Sort by",
    ):
        assert f">{label}</label>" in body, label
    assert ">Nursery 2</option>" in body and ">Reception</option>" in body
    assert 'hx-post="/pupils/"' in body and "hx-get" not in body


@pytest.mark.parametrize(
    "data",
    [
        {"year": "15"},
        {"year": "five"},
        {"sen_status": "X"},
        {"need": "BAD"},
        {"area": "elsewhere"},
        {"fsm": "maybe"},
        {"sort": "password"},
        {"page": "0"},
        {"page": "abc"},
        {"q": "Ad\x00a"},
        {"q": "x" * 101},
    ],
)
def test_bad_filter_input_is_a_400_with_an_error_summary(senco, register, data):
    response = senco.post("/pupils/", data)
    assert response.status_code == 400
    assert "There is a problem" in response.content.decode()
    fragment = senco.post("/pupils/", data, HTTP_HX_REQUEST="true")
    assert fragment.status_code == 400 and b"<html" not in fragment.content


def test_register_query_count_is_the_same_for_10_and_500_pupils(senco, tenant, as_school):
    """Queries for a SENCO's register (GET, and a filtered POST): the request's role switch,
    session, user, memberships, tenant settings, the count for the pager, the page of pupils,
    the audit insert, and the settings and role put back. None of them repeats per pupil."""

    def add(n: int, start: int) -> None:
        with as_school(tenant.school):
            Pupil.objects.bulk_create(
                Pupil(
                    school=tenant.school,
                    upn=make_upn("909", "5555", 2023, start + i),
                    first_name="Count",
                    last_name=f"Counted{start + i:03d}",
                    date_of_birth=date(2016, 1, 1),
                    nc_year=4,
                    sen_status="K" if i % 3 else "N",
                    primary_need="SEMH" if i % 3 else "",
                    fsm=bool(i % 2),
                )
                for i in range(n)
            )

    def measure() -> tuple[int, int]:
        counts = []
        for send in (
            lambda: senco.get("/pupils/"),
            lambda: senco.post("/pupils/", {"sen_status": "K", "fsm": "yes", "sort": "-year", "q": "count"}),
        ):
            with CaptureQueriesContext(connection) as ctx:
                assert send().status_code == 200
            counts.append(len([q for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]]))
        return counts[0], counts[1]

    add(10, 0)
    senco.get("/pupils/")  # warm up: the first request of a session writes it
    small = measure()
    add(490, 10)
    assert measure() == small
    assert small == (10, 10)


def test_practitioner_sees_an_empty_register_and_no_add_or_download(client, tenant, register):
    sign_in(client, tenant.users["practitioner"])
    body = client.get("/pupils/").content.decode()
    assert shown(client.get("/pupils/")) == []
    assert "Add a pupil" not in body and "Download CSV" not in body


# --- a pupil's page ----------------------------------------------------------------------


def test_pupil_page_shows_record_history_profile_outcomes_and_scores(senco, tenant, register, as_school):
    pupil = register["Ahmed"]
    with as_school(tenant.school):
        SenStatusChange.objects.create(
            school=tenant.school, pupil=pupil, status="N", start_date=date(2022, 9, 1)
        )
        SenStatusChange.objects.create(
            school=tenant.school, pupil=pupil, status="K", primary_need="SEMH", start_date=date(2024, 1, 8)
        )
        OnePageProfile.objects.create(school=tenant.school, pupil=pupil, strengths="Builds amazing Lego")
        OutcomeRecord.objects.create(
            school=tenant.school, pupil=pupil, academic_year=2024, term="autumn", attendance_pct="88.5"
        )
        OutcomeRecord.objects.create(
            school=tenant.school,
            pupil=pupil,
            academic_year=2024,
            term="summer",
            suspensions=1,
            suspension_days="1.5",
        )
        AssessmentScore.objects.create(
            school=tenant.school, pupil=pupil, measure="sdq_total", assessed_on=date(2025, 3, 3), score=17
        )
    response = senco.get(f"/pupils/{pupil.pk}/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Social, emotional and mental health (SEMH)" in body
    assert "Speech, language and communication needs (SLCN)" in body
    assert "Year 3" in body and pupil.upn in body
    # The register's history, newest first, with its dates.
    assert body.index("8 Jan 2024") < body.index("1 Sep 2022")
    assert "Builds amazing Lego" in body
    # Terms latest first, whatever order they were recorded in.
    assert body.index("Summer 2024/25") < body.index("Autumn 2024/25")
    assert "88.5%" in body and "SDQ total difficulties" in body
    assert f'action="/pupils/{pupil.pk}/outcomes/"' in body
    assert f'action="/pupils/{pupil.pk}/scores/"' in body
    assert [e.action for e in events(as_school, tenant.school, object_id=str(pupil.pk))] == ["view"]


def test_print_view_is_audited_as_a_print_and_has_no_forms(senco, tenant, register, as_school):
    pupil = register["Brown"]
    body = senco.get(f"/pupils/{pupil.pk}/print/").content.decode()
    assert "Autistic spectrum disorder" in body and "Confidential" in body
    assert 'action="/pupils/' not in body
    assert [e.action for e in events(as_school, tenant.school, object_id=str(pupil.pk))] == ["print"]


def test_leavers_pages_still_open(senco, register):
    body = senco.get(f"/pupils/{register['Evans'].pk}/").content.decode()
    assert "No, left on 20 July 2025" in body


# --- adding and editing a pupil ----------------------------------------------------------


def record(**overrides) -> dict:
    data = {
        "upn": "b801200005001",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "preferred_name": "",
        "date_of_birth": "2016-05-01",
        "gender": "F",
        "ethnicity": "WBRI",
        "nc_year": "4",
        "sen_status": "K",
        "primary_need": "SEMH",
        "secondary_need": "",
        "fsm": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_senco_adds_a_pupil_and_lands_on_their_page(senco, tenant, as_school):
    response = senco.post("/pupils/new/", record())
    with as_school(tenant.school):
        pupil = Pupil.objects.get(last_name="Lovelace")
        assert (pupil.upn, pupil.school_id, pupil.fsm, pupil.nc_year) == (
            "B801200005001",
            tenant.school.pk,
            True,
            4,
        )
        assert list(pupil.sen_history.values_list("status", "primary_need")) == [("K", "SEMH")]
    assert response.status_code == 302 and response["Location"] == f"/pupils/{pupil.pk}/"
    page = senco.get(response["Location"]).content.decode()
    assert "Pupil added to the register." in page
    assert [e.action for e in events(as_school, tenant.school, object_id=str(pupil.pk))] == ["create", "view"]


def test_the_school_is_never_taken_from_the_form(senco, tenant, other, as_school):
    senco.post("/pupils/new/", record(school=str(other.school.pk)))
    with as_school(tenant.school):
        assert Pupil.objects.get(last_name="Lovelace").school_id == tenant.school.pk


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"upn": "A801200005001"}, "is not a valid UPN"),
        ({"upn": ""}, "This field is required."),
        ({"sen_status": "N", "primary_need": "SEMH"}, "only for pupils on SEN support or with an EHC plan"),
        ({"sen_status": "E", "primary_need": ""}, "Give the primary type of need"),
        ({"secondary_need": "SEMH"}, "The secondary need must differ from the primary need."),
        ({"nc_year": "15"}, "Select a valid choice."),
        ({"date_of_birth": "2999-01-01"}, "The date of birth cannot be in the future."),
        ({"first_name": "Ad\x00a"}, "Null characters are not allowed."),
        ({"primary_need": "XYZ"}, "Select a valid choice."),
    ],
)
def test_add_form_explains_what_is_wrong_and_saves_nothing(senco, tenant, as_school, overrides, message):
    response = senco.post("/pupils/new/", record(**overrides))
    body = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in body and message in body
    with as_school(tenant.school):
        assert not Pupil.objects.filter(last_name="Lovelace").exists()


def test_a_upn_already_on_this_schools_register_is_a_clear_error(senco, tenant, as_school):
    taken = tenant.pupils[0].upn
    response = senco.post("/pupils/new/", record(upn=taken.lower()))
    assert "already on your school&#x27;s register" in response.content.decode()
    with as_school(tenant.school):
        assert Pupil.objects.filter(upn=taken).count() == 1


def test_a_upn_another_school_holds_reveals_nothing_and_simply_creates(senco, tenant, other, as_school):
    for school_pupil in (other.pupils[0], tenant.sibling_pupils[0]):
        response = senco.post("/pupils/new/", record(upn=school_pupil.upn, last_name=f"New{school_pupil.pk}"))
        assert response.status_code == 302
        page = senco.get(response["Location"]).content.decode()
        for secret in (school_pupil.last_name, other.marker, tenant.sibling.name, "already"):
            assert secret not in page
    with as_school(tenant.school):
        assert Pupil.objects.filter(upn__in=[other.pupils[0].upn, tenant.sibling_pupils[0].upn]).count() == 2


def test_editing_sen_status_appends_to_the_history_from_the_date_given(senco, tenant, as_school):
    senco.post("/pupils/new/", record())
    with as_school(tenant.school):
        pupil = Pupil.objects.get(last_name="Lovelace")
    effective = timezone.localdate() - timedelta(days=0)
    response = senco.post(
        f"/pupils/{pupil.pk}/edit/",
        record(
            sen_status="E",
            primary_need="ASD",
            secondary_need="SEMH",
            is_active="on",
            sen_change_date=effective.isoformat(),
        ),
    )
    assert response.status_code == 302
    with as_school(tenant.school):
        history = list(pupil.sen_history.order_by("id").values_list("status", "primary_need", "start_date"))
        assert history[-1] == ("E", "ASD", effective)
        assert len(history) == 2
        update = AuditEvent.objects.get(action="update", object_id=str(pupil.pk))
        assert set(update.detail["fields"]) == {"sen_status", "primary_need", "secondary_need"}
    page = senco.get(f"/pupils/{pupil.pk}/").content.decode()
    assert "Changes saved." in page
    assert page.index("EHC plan</td>") < page.index("SEN support</td>")


def test_an_edit_without_sen_changes_adds_no_history(senco, tenant, register, as_school):
    pupil = register["Davies"]
    data = record(
        upn=pupil.upn,
        last_name="Davies",
        first_name=pupil.first_name,
        nc_year="-1",
        sen_status="K",
        primary_need="SPLD",
        preferred_name="Dai",
        is_active="on",
        fsm=None,
    )
    assert senco.post(f"/pupils/{pupil.pk}/edit/", data).status_code == 302
    with as_school(tenant.school):
        pupil.refresh_from_db()
        assert pupil.preferred_name == "Dai"
        assert not pupil.sen_history.exists()


@pytest.mark.parametrize(
    ("when", "message"),
    [
        (date(2999, 1, 1), "The SEN change cannot be in the future."),
        (date(2020, 1, 1), "before the register&#x27;s latest entry"),
    ],
)
def test_a_sen_change_date_is_checked(senco, tenant, as_school, when, message):
    senco.post("/pupils/new/", record())
    with as_school(tenant.school):
        pupil = Pupil.objects.get(last_name="Lovelace")
    response = senco.post(
        f"/pupils/{pupil.pk}/edit/",
        record(sen_status="E", is_active="on", sen_change_date=when.isoformat()),
    )
    assert response.status_code == 200 and message in response.content.decode()
    with as_school(tenant.school):
        assert pupil.sen_history.count() == 1


def test_edit_refuses_a_upn_another_pupil_here_holds(senco, tenant, as_school):
    pupil = tenant.pupils[0]
    response = senco.post(
        f"/pupils/{pupil.pk}/edit/",
        record(upn=tenant.pupils[1].upn, sen_status="N", primary_need="", is_active="on"),
    )
    assert "already on your school&#x27;s register" in response.content.decode()


def test_marking_a_leaver_takes_them_off_the_list(senco, tenant, as_school):
    pupil = tenant.pupils[0]
    data = record(
        upn=pupil.upn,
        last_name=pupil.last_name,
        first_name=pupil.first_name,
        nc_year="5",
        sen_status="N",
        primary_need="",
        fsm=None,
        left_on="2025-07-18",
    )
    assert senco.post(f"/pupils/{pupil.pk}/edit/", data).status_code == 302
    assert pupil.last_name not in shown(senco.get("/pupils/"))


def test_headteacher_may_add_and_edit_too(client, tenant):
    sign_in(client, tenant.users["headteacher"])
    assert client.get("/pupils/new/").status_code == 200
    assert client.get(f"/pupils/{tenant.pupils[0].pk}/edit/").status_code == 200
    assert client.post("/pupils/new/", record()).status_code == 302


@pytest.mark.parametrize(
    "role", ["practitioner", "provision_lead", "partnership_lead", "la_officer", "la_admin"]
)
def test_other_roles_may_not_change_records(client, tenant, role, as_school):
    sign_in(client, tenant.users[role], tenant.memberships[role])
    pk = tenant.pupils[0].pk
    for url in (
        "/pupils/new/",
        f"/pupils/{pk}/edit/",
        f"/pupils/{pk}/profile/",
        f"/pupils/{pk}/outcomes/",
        f"/pupils/{pk}/scores/",
    ):
        assert client.get(url).status_code == 403, url
        assert client.post(url, record()).status_code == 403, url
    with as_school(tenant.school):
        assert not Pupil.objects.filter(last_name="Lovelace").exists()
        assert not OnePageProfile.objects.exists()


def test_refusals_by_role_are_audited(client, tenant, as_school):
    sign_in(client, tenant.users["practitioner"])
    client.post("/pupils/new/", record())
    with as_school(tenant.school):
        denied = AuditEvent.objects.filter(action="denied", user=tenant.users["practitioner"])
        assert [(e.object_type, e.path) for e in denied] == [("route", "/pupils/new/")]


# --- profile, outcomes and scores --------------------------------------------------------


def test_one_page_profile_is_written_shown_and_audited(senco, tenant, as_school):
    pupil = tenant.pupils[0]
    assert senco.get(f"/pupils/{pupil.pk}/profile/").status_code == 200
    data = {
        "strengths": "Kind to younger pupils",
        "what_helps": "A visual timetable\nA quiet space",
        "what_does_not_help": "",
        "pupil_voice": "I like maths",
        "parent_voice": "",
    }
    response = senco.post(f"/pupils/{pupil.pk}/profile/", data)
    assert response.status_code == 302 and response["Location"].endswith("#profile")
    page = senco.get(f"/pupils/{pupil.pk}/").content.decode()
    assert "A visual timetable<br>A quiet space" in page and "One-page profile saved." in page
    with as_school(tenant.school):
        update = AuditEvent.objects.get(action="update", object_id=str(pupil.pk))
        assert update.detail["fields"] == ["profile.strengths", "profile.what_helps", "profile.pupil_voice"]
        assert "Kind" not in str(update.detail)


def test_profile_refuses_nul_and_overlong_text(senco, tenant, as_school):
    pupil = tenant.pupils[0]
    for text, message in (("a\x00b", "Null characters are not allowed."), ("x" * 4001, "at most 4000")):
        response = senco.post(f"/pupils/{pupil.pk}/profile/", {"strengths": text})
        assert response.status_code == 200 and message in response.content.decode()
    with as_school(tenant.school):
        assert not OnePageProfile.objects.exists()


def test_recording_a_terms_outcomes_and_correcting_it(senco, tenant, as_school):
    pupil = tenant.pupils[0]
    year = this_academic_year()
    data = {
        "outcome-academic_year": year,
        "outcome-term": "spring",
        "outcome-attendance_pct": "93.4",
        "outcome-suspensions": "1",
        "outcome-suspension_days": "2.5",
    }
    response = senco.post(f"/pupils/{pupil.pk}/outcomes/", data)
    assert response.status_code == 302 and response["Location"].endswith("#outcomes")
    senco.post(f"/pupils/{pupil.pk}/outcomes/", {**data, "outcome-attendance_pct": "94"})
    with as_school(tenant.school):
        [outcome] = OutcomeRecord.objects.filter(pupil=pupil)
        assert (outcome.attendance_pct, outcome.suspensions, outcome.term) == (94, 1, "spring")
        updates = AuditEvent.objects.filter(action="update", object_id=str(pupil.pk))
        assert [e.detail["fields"] for e in updates] == [["outcomes"], ["outcomes"]]
    page = senco.get(f"/pupils/{pupil.pk}/").content.decode()
    assert f"Spring {year}/{(year + 1) % 100:02d}" in page and "94%" in page


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"outcome-attendance_pct": "120"}, "less than or equal to 100"),
        ({"outcome-term": "winter"}, "Select a valid choice."),
        ({"outcome-academic_year": "1990"}, "Select a valid choice."),
        ({"outcome-suspensions": "0", "outcome-suspension_days": "3"}, "need at least one suspension"),
        ({"outcome-suspensions": "-1"}, "greater than or equal to 0"),
    ],
)
def test_outcome_mistakes_come_back_with_the_reason(senco, tenant, as_school, change, message):
    pupil = tenant.pupils[0]
    data = {
        "outcome-academic_year": this_academic_year(),
        "outcome-term": "autumn",
        "outcome-suspensions": "0",
        "outcome-suspension_days": "0",
        **change,
    }
    response = senco.post(f"/pupils/{pupil.pk}/outcomes/", data)
    assert response.status_code == 200 and message in response.content.decode()
    with as_school(tenant.school):
        assert not OutcomeRecord.objects.exists()


def test_recording_assessment_scores(senco, tenant, as_school):
    pupil = tenant.pupils[0]
    day = timezone.localdate().isoformat()
    ok = senco.post(
        f"/pupils/{pupil.pk}/scores/",
        {"score-measure": "sdq_total", "score-assessed_on": day, "score-score": "21"},
    )
    assert ok.status_code == 302 and ok["Location"].endswith("#scores")
    other = senco.post(
        f"/pupils/{pupil.pk}/scores/",
        {
            "score-measure": "other",
            "score-measure_name": "Vernon spelling",
            "score-assessed_on": day,
            "score-score": "96",
        },
    )
    assert other.status_code == 302
    for data, message in (
        ({"score-measure": "sdq_total", "score-score": "41"}, "runs from 0 to 40"),
        ({"score-measure": "other", "score-score": "3"}, "Say what was measured."),
        ({"score-measure": "reading_age_months", "score-score": "0"}, "above 0"),
        (
            {"score-measure": "sdq_total", "score-score": "10", "score-assessed_on": "2999-01-01"},
            "cannot be in the future",
        ),
    ):
        response = senco.post(f"/pupils/{pupil.pk}/scores/", {"score-assessed_on": day, **data})
        assert response.status_code == 200 and message in response.content.decode(), message
    with as_school(tenant.school):
        assert sorted(AssessmentScore.objects.values_list("measure", "score")) == [
            ("other", 96),
            ("sdq_total", 21),
        ]
        assert AuditEvent.objects.filter(action="update", object_id=str(pupil.pk)).count() == 2
    page = senco.get(f"/pupils/{pupil.pk}/").content.decode()
    assert "Other measure: Vernon spelling" in page


def test_writers_find_the_import_from_the_register(senco):
    page = senco.get("/pupils/").content.decode()
    assert 'href="/pupils/import/"' in page
