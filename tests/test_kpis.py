"""Behaviour provision KPIs: actuals worked out from placements made through the services,
the partnership's targets set and cleared, who sees what (exact for the provision's own
lead, suppressed for the partnership lead and LA officer), the page and the API."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from interventions.placements import (
    kpi_actuals,
    placement_end,
    placement_progress,
    placement_refer,
    placement_start,
    provision_kpis,
)
from schools.models import AuditEvent, Kpi, KpiTarget
from schools.scopes import scope_for_membership
from schools.tenancy import TenantScope, tenant_scope
from schools.terms import academic_year_of
from tests.conftest import sign_in
from tests.factories import ProvisionFactory, PupilFactory

TODAY = timezone.localdate()
THIS = academic_year_of(TODAY)
Y = THIS - 1  # last school year: every day of it is past, so placements can end in it


def _as_school(school):
    return tenant_scope(TenantScope.for_school(school.pk, la_id=school.local_authority_id))


def place(
    provision,
    pupil,
    *,
    start: date,
    weeks: int | None = None,
    end: date | None = None,
    outcome: str = "returned",
    attendance: str | None = None,
    suspensions: int = 0,
):
    """A placement through the services: referred, started, and ended if given an end."""
    if weeks is not None:
        end = start + timedelta(days=7 * weeks - 1)
    attendance_percent = Decimal(attendance) if attendance is not None else None
    with transaction.atomic(), _as_school(pupil.school):
        placement = placement_refer(
            None,
            pupil,
            provision=provision,
            referred_on=start - timedelta(days=7),
            referral_reason="Step 4 plan reviewed twice without enough progress.",
            consent_on=start - timedelta(days=8),
            consent_note="Father, signed form",
            pattern="full_time",
            days_per_week=Decimal(5),
        )
        placement_start(None, placement, start)
        if end is None:
            placement_progress(
                None,
                placement,
                attendance_percent=attendance_percent,
                suspensions=suspensions,
                planned_end_on=None,
            )
        else:
            placement_end(
                None,
                placement,
                ends_on=end,
                exit_outcome=outcome,
                attendance_percent=attendance_percent,
                suspensions=suspensions,
            )
    return placement


@pytest.fixture
def history(tenant):
    """Five placements at the partnership's provision, from both its schools:
    three ended last school year, one ended on 31 August the year before, one still running
    since June of last school year (so it counts in last year and this one)."""
    a, s = tenant.pupils, tenant.sibling_pupils
    prov = tenant.provision
    place(prov, a[0], start=date(Y, 9, 15), weeks=6, attendance="90", suspensions=1)
    place(prov, a[1], start=date(Y, 10, 1), weeks=10, outcome="managed_move", attendance="70")
    place(prov, s[0], start=date(Y, 11, 1), weeks=20, attendance="80", suspensions=2)
    place(prov, a[2], start=date(Y, 3, 1), end=date(Y, 8, 31), outcome="pru", attendance="50", suspensions=4)
    place(prov, s[1], start=date(Y + 1, 6, 1), attendance="60", suspensions=3)
    return tenant


def system(tenant):
    """As the partnership lead: its selectors count the provision's placements in counting()."""
    return tenant_scope(scope_for_membership(tenant.memberships["partnership_lead"]))


def actuals(tenant, year):
    with transaction.atomic(), system(tenant):
        return kpi_actuals(tenant.provision, year)


def test_actuals_are_worked_out_from_the_placements_of_the_school_year(history):
    assert actuals(history, Y) == {
        Kpi.PUPILS_PLACED: (Decimal(4), 4),
        Kpi.SCHOOLS_SERVED: (Decimal(2), 4),
        Kpi.REINTEGRATION_RATE: (Decimal("66.7"), 3),  # 2 of the 3 that ended went home
        Kpi.AVERAGE_STAY_WEEKS: (Decimal("12.0"), 3),  # (6 + 10 + 20) / 3
        Kpi.ATTENDANCE_RATE: (Decimal("75.0"), 4),  # (90 + 70 + 80 + 60) / 4
        Kpi.SUSPENSIONS: (Decimal(6), 4),
    }


def test_the_year_boundary_is_the_first_of_september(history):
    # Ended on 31 August: the school year before only.
    days = (date(Y, 8, 31) - date(Y, 3, 1)).days + 1
    assert actuals(history, Y - 1) == {
        Kpi.PUPILS_PLACED: (Decimal(1), 1),
        Kpi.SCHOOLS_SERVED: (Decimal(1), 1),
        Kpi.REINTEGRATION_RATE: (Decimal("0.0"), 1),
        Kpi.AVERAGE_STAY_WEEKS: ((Decimal(days) / 7).quantize(Decimal("0.1")), 1),
        Kpi.ATTENDANCE_RATE: (Decimal("50.0"), 1),
        Kpi.SUSPENSIONS: (Decimal(4), 1),
    }
    # Running across 31 August: placed in both years; nothing ended yet this year.
    this_year = actuals(history, THIS)
    assert this_year[Kpi.PUPILS_PLACED] == (Decimal(1), 1)
    assert this_year[Kpi.REINTEGRATION_RATE] == (None, 0)
    assert this_year[Kpi.AVERAGE_STAY_WEEKS] == (None, 0)
    assert this_year[Kpi.ATTENDANCE_RATE] == (Decimal("60.0"), 1)


def test_nothing_placed_means_nothing_measured(tenant):
    rows = _rows(tenant, THIS, suppress=True)
    assert rows[Kpi.PUPILS_PLACED].shown == "0"
    assert rows[Kpi.REINTEGRATION_RATE].shown == "–"
    assert rows[Kpi.REINTEGRATION_RATE].met_label == "No target set"


def _rows(tenant, year, *, suppress):
    with transaction.atomic(), system(tenant):
        return {row.kpi: row for row in provision_kpis(tenant.provision, year, suppress=suppress)}


def test_suppressed_figures_hide_small_counts_and_what_rests_on_few(history):
    rows = _rows(history, Y, suppress=True)
    shown = {kpi: row.shown for kpi, row in rows.items()}
    assert shown == {
        Kpi.PUPILS_PLACED: "<5",
        Kpi.SCHOOLS_SERVED: "not shown",
        Kpi.REINTEGRATION_RATE: "not shown",
        Kpi.AVERAGE_STAY_WEEKS: "not shown",
        Kpi.ATTENDANCE_RATE: "not shown",
        Kpi.SUSPENSIONS: "6",
    }
    assert all(rows[k].actual is None for k in shown if k != Kpi.SUSPENSIONS)
    assert all(row.basis is None for row in rows.values())
    assert rows[Kpi.PUPILS_PLACED].basis_shown == "<5 pupils placed"
    assert rows[Kpi.REINTEGRATION_RATE].basis_shown == "fewer than 5 placements ended"
    exact = _rows(history, Y, suppress=False)
    assert exact[Kpi.REINTEGRATION_RATE].shown == "66.7"
    assert exact[Kpi.REINTEGRATION_RATE].basis_shown == "3 placements ended"


@pytest.mark.parametrize(("returned", "shown"), [(5, "not shown"), (6, "100")])
def test_a_reintegration_rate_is_hidden_when_it_would_count_a_few_pupils(tenant, returned, shown):
    # Six placements ended: 5 returned and 1 did not (a count of one, hidden), or all 6 returned.
    pupils = [PupilFactory(school=tenant.school, last_name=f"Extra{i}") for i in range(6)]
    for i, pupil in enumerate(pupils):
        outcome = "returned" if i < returned else "managed_move"
        place(tenant.provision, pupil, start=date(Y, 9, 10) + timedelta(days=7 * i), weeks=4, outcome=outcome)
    rows = _rows(tenant, Y, suppress=True)
    assert rows[Kpi.REINTEGRATION_RATE].shown == shown
    assert rows[Kpi.PUPILS_PLACED].shown == "6"
    assert rows[Kpi.AVERAGE_STAY_WEEKS].shown == "4"
    assert rows[Kpi.REINTEGRATION_RATE].basis_shown == "5 or more placements ended"


# --- the page ---------------------------------------------------------------------------------


def lead(client, tenant, role="partnership_lead"):
    return sign_in(client, tenant.users[role], tenant.memberships[role])


def test_partnership_lead_sees_suppressed_figures_and_the_provision_lead_its_own_exactly(client, history):
    lead(client, history)
    page = client.get(f"/partnership/kpis/?year={Y}").content.decode()
    assert "&lt;5" in page and "not shown" in page and "66.7" not in page
    assert "Set targets for" in page
    lead(client, history, "provision_lead")
    page = client.get(f"/partnership/kpis/?year={Y}").content.decode()
    assert "66.7" in page and "75" in page and "&lt;5" not in page
    assert "Set targets for" not in page  # the provision lead reads targets, never sets them


def test_the_provision_lead_sees_its_own_provision_only_and_the_la_officer_every_one(client, tenant):
    second = ProvisionFactory(
        host_school=tenant.school, partnership=tenant.partnership, name="Alpha Second Base"
    )
    lead(client, tenant, "provision_lead")
    page = client.get("/partnership/kpis/").content.decode()
    assert tenant.provision.name in page and second.name not in page
    lead(client, tenant, "la_officer")
    page = client.get("/partnership/kpis/").content.decode()
    assert tenant.provision.name in page and second.name in page and tenant.partnership.name in page


@pytest.mark.parametrize("role", ["senco", "headteacher", "practitioner", "la_admin", "platform_admin"])
def test_other_roles_are_refused_the_page_and_the_api(client, tenant, role):
    lead(client, tenant, role)
    assert client.get("/partnership/kpis/").status_code == 403
    assert client.get(f"/api/v1/partnerships/{tenant.partnership.pk}/kpis/").status_code == 403


def _form(tenant, year=Y, **values):
    body = {"year": str(year)}
    body.update({f"p{tenant.provision.pk}-{kpi}": "" for kpi in Kpi.values})
    body.update({f"p{tenant.provision.pk}-{k}": v for k, v in values.items()})
    return body


def _targets(tenant, year=Y):
    with transaction.atomic(), system(tenant):
        return dict(
            KpiTarget.objects.filter(provision=tenant.provision, academic_year=year).values_list(
                "kpi", "target"
            )
        )


def test_the_lead_sets_and_clears_targets_in_the_page(client, history):
    lead(client, history)
    url = f"/partnership/kpis/provisions/{history.provision.pk}/targets/"
    response = client.post(
        url, _form(history, pupils_placed="3", reintegration_rate="60", attendance_rate="90")
    )
    assert response.status_code == 302
    assert response["Location"] == f"/partnership/kpis/?year={Y}#provision-{history.provision.pk}"
    assert _targets(history) == {
        "pupils_placed": Decimal(3),
        "reintegration_rate": Decimal(60),
        "attendance_rate": Decimal(90),
    }
    page = client.get(response["Location"]).content.decode()
    assert "are saved" in page
    # Suppressed actuals never say whether a target is met (that would give the figure away).
    assert "Cannot be shown" in page and "Not met" not in page
    # A blank clears a target; the others stay as sent.
    client.post(url, _form(history, pupils_placed="3"))
    assert _targets(history) == {"pupils_placed": Decimal(3)}


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"attendance_rate": "150"}, "at most 100"),
        ({"suspensions": "-1"}, "cannot be negative"),
        ({"pupils_placed": "2.5"}, "whole number"),
        ({"average_stay_weeks": "many"}, "Enter a number"),
        ({"average_stay_weeks": "12.25"}, "one decimal place"),
    ],
)
def test_bad_targets_get_a_clear_message_and_change_nothing(client, tenant, values, message):
    lead(client, tenant)
    url = f"/partnership/kpis/provisions/{tenant.provision.pk}/targets/"
    client.post(url, _form(tenant, pupils_placed="4"))
    response = client.post(url, _form(tenant, **{"pupils_placed": "8", **values}))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert _targets(tenant) == {"pupils_placed": Decimal(4)}


def test_only_the_lead_posts_targets_and_only_for_its_own_provisions(client, tenant, other):
    url = f"/partnership/kpis/provisions/{tenant.provision.pk}/targets/"
    for role in ("la_officer", "provision_lead"):
        lead(client, tenant, role)
        assert client.post(url, _form(tenant, pupils_placed="4")).status_code == 403
    lead(client, tenant)
    foreign = f"/partnership/kpis/provisions/{other.provision.pk}/targets/"
    assert client.post(foreign, _form(other, pupils_placed="4")).status_code == 404
    assert client.get(url).status_code == 405
    assert _targets(tenant) == {}


# --- the API ----------------------------------------------------------------------------------


def api(tenant) -> str:
    return f"/api/v1/partnerships/{tenant.partnership.pk}/kpis/"


def test_api_lists_each_provisions_kpis_suppressed_for_the_lead(client, history):
    lead(client, history)
    data = client.get(f"{api(history)}?year={Y}").json()
    assert data["year"] == Y and data["partnership"] == history.partnership.pk
    [provision] = data["provisions"]
    assert provision["id"] == history.provision.pk and provision["suppressed"] is True
    rows = {row["kpi"]: row for row in provision["kpis"]}
    assert rows["pupils_placed"]["actual"] is None and rows["pupils_placed"]["shown"] == "<5"
    assert rows["suspensions"]["actual"] == "6.0"
    assert all(row["basis"] is None for row in rows.values())
    assert rows["average_stay_weeks"]["lower_is_better"] is True


def test_api_gives_the_provision_lead_exact_figures(client, history):
    lead(client, history, "provision_lead")
    data = client.get(f"{api(history)}?year={Y}").json()
    rows = {row["kpi"]: row for row in data["provisions"][0]["kpis"]}
    assert data["provisions"][0]["suppressed"] is False
    assert rows["reintegration_rate"]["actual"] == "66.7" and rows["reintegration_rate"]["basis"] == 3


def _kpi(response, kpi: str) -> dict:
    [provision] = response.json()["provisions"]
    return {row["kpi"]: row for row in provision["kpis"]}[kpi]


def test_api_sets_and_clears_a_target_and_says_whether_it_is_met(client, history):
    lead(client, history)
    body = {"provision": history.provision.pk, "year": Y, "kpi": "suspensions", "target": "8"}
    response = client.put(api(history), body, content_type="application/json")
    assert response.status_code == 200
    row = _kpi(response, "suspensions")
    assert row["target"] == "8.0" and row["met"] is True and row["met_label"] == "Met"  # 6 <= 8
    body["target"] = "5"
    row = _kpi(client.post(api(history), body, content_type="application/json"), "suspensions")
    assert row["met"] is False and row["met_label"] == "Not met"
    body["target"] = None
    assert client.put(api(history), body, content_type="application/json").status_code == 200
    assert _targets(history) == {}
    # Rows that name no school (a partnership's records) are read with the LA's scope.
    with transaction.atomic(), tenant_scope(scope_for_membership(history.memberships["la_admin"])):
        logged = list(
            AuditEvent._base_manager.filter(object_type="schools.kpitarget")
            .order_by("at", "id")
            .values_list("action", "detail")
        )
    expected_detail = {"provision": history.provision.pk, "year": Y, "kpi": "suspensions"}
    assert [a for a, _ in logged] == ["create", "update", "delete"]
    assert all(d == expected_detail for _, d in logged)


def test_api_refuses_bad_targets_and_foreign_provisions(client, tenant, other):
    lead(client, tenant)
    base = {"provision": tenant.provision.pk, "year": Y, "kpi": "attendance_rate", "target": "101"}
    response = client.put(api(tenant), base, content_type="application/json")
    assert response.status_code == 400 and "at most 100" in response.content.decode()
    for provision in (other.provision.pk, 999999999):
        body = {**base, "provision": provision, "target": "90"}
        response = client.put(api(tenant), body, content_type="application/json")
        assert response.status_code == 400 and "provision" in response.json()
    body = {**base, "kpi": "happiness", "target": "90"}
    assert client.put(api(tenant), body, content_type="application/json").status_code == 400
    assert client.get(f"{api(tenant)}?year=soon").status_code == 400
    assert _targets(tenant) == {}


def test_api_answers_404_for_another_partnership_and_403_for_writes_by_readers(client, tenant, other):
    lead(client, tenant)
    assert client.get(api(other)).status_code == 404
    neighbour = tenant.neighbour.partnership_id
    assert client.get(f"/api/v1/partnerships/{neighbour}/kpis/").status_code == 404
    body = {"provision": tenant.provision.pk, "year": Y, "kpi": "pupils_placed", "target": "4"}
    for role in ("la_officer", "provision_lead"):
        lead(client, tenant, role)
        assert client.get(api(tenant)).status_code == 200
        assert client.put(api(tenant), body, content_type="application/json").status_code == 403
    lead(client, tenant, "la_officer")
    assert client.get(f"/api/v1/partnerships/{neighbour}/kpis/").status_code == 200
    assert client.get(api(other)).status_code == 404


def test_api_query_count_does_not_grow_with_provisions_or_placements(client, tenant):
    lead(client, tenant, "la_officer")

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"{api(tenant)}?year={Y}").status_code == 200
        return len(ctx.captured_queries)

    before = count()
    for i in range(2):
        ProvisionFactory(host_school=tenant.school, partnership=tenant.partnership, name=f"More {i}")
    place(tenant.provision, tenant.pupils[0], start=date(Y, 9, 15), weeks=3)
    place(tenant.provision, tenant.sibling_pupils[0], start=date(Y, 9, 15), weeks=3)
    assert count() == before


def test_the_schema_documents_the_kpi_route(client, db):
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    assert {"get", "put", "post"} <= set(schema["paths"]["/api/v1/partnerships/{id}/kpis/"])
