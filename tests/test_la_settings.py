"""An LA administrator's settings: the review interval and each school year's term dates.
Only the administrator of the LA changes them; a bad value is a 400 and saves nothing."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction

from schools.models import AuditEvent, LocalAuthority, TermDates
from schools.scopes import scope_for_membership
from schools.services_la import review_interval_set
from schools.tenancy import tenant_scope
from schools.terms import typical_terms
from tests.conftest import sign_in

YEAR = 2025


def terms_body(year: int = YEAR, **changes) -> dict:
    """A typical year's three terms as the form posts them, with `changes` (e.g. autumn-ends_on)."""
    body = {}
    for term in typical_terms(year):
        for field in ("starts_on", "ends_on", "half_term_starts_on", "half_term_ends_on"):
            body[f"{term['term']}-{field}"] = term[field].isoformat()
    body.update(changes)
    return body


def saved_terms(la) -> list[tuple]:
    return list(
        TermDates.objects.filter(local_authority=la)
        .order_by("academic_year", "starts_on")
        .values_list(
            "academic_year", "term", "starts_on", "ends_on", "half_term_starts_on", "half_term_ends_on"
        )
    )


def la_audit(t, **filters) -> list[AuditEvent]:
    with transaction.atomic(), tenant_scope(scope_for_membership(t.memberships["la_admin"])):
        return list(AuditEvent._base_manager.filter(**filters).order_by("at", "id"))


@pytest.fixture
def admin(client, tenant):
    return sign_in(client, tenant.users["la_admin"], tenant.memberships["la_admin"])


# --- the review interval --------------------------------------------------------------------------


def test_la_admin_sets_the_review_interval(admin, tenant, other):
    page = admin.get("/schools/la/")
    assert page.status_code == 200
    body = page.content.decode()
    assert tenant.la.name in body and other.marker not in body and 'value="6"' in body
    response = admin.post("/schools/la/", {"review_interval_weeks": "8"})
    assert response.status_code == 302
    tenant.la.refresh_from_db()
    other.la.refresh_from_db()
    assert (tenant.la.review_interval_weeks, other.la.review_interval_weeks) == (8, 6)
    [row] = la_audit(tenant, object_type="schools.localauthority", action="update")
    assert row.detail == {"fields": ["review_interval_weeks"], "from": 6, "to": 8}
    assert row.user_id == tenant.users["la_admin"].pk


@pytest.mark.parametrize(
    ("value", "message"),
    [("0", "at least 1 week"), ("53", "at most 52 weeks"), ("six", "whole number"), ("", "Give the number")],
)
def test_a_bad_review_interval_is_a_400_and_saves_nothing(admin, tenant, value, message):
    response = admin.post("/schools/la/", {"review_interval_weeks": value})
    assert response.status_code == 400
    assert message in response.content.decode()
    tenant.la.refresh_from_db()
    assert tenant.la.review_interval_weeks == 6


def test_the_service_refuses_a_scope_that_cannot_write_the_la(tenant, other):
    for scope in (
        scope_for_membership(tenant.memberships["la_officer"]),
        scope_for_membership(tenant.memberships["senco"]),
        scope_for_membership(other.memberships["la_admin"]),
    ):
        with transaction.atomic(), tenant_scope(scope), pytest.raises(PermissionDenied):
            review_interval_set(request=None, la=LocalAuthority.objects.get(pk=tenant.la.pk), weeks=9)
    tenant.la.refresh_from_db()
    assert tenant.la.review_interval_weeks == 6


# --- term dates ---------------------------------------------------------------------------------------


def test_la_admin_fills_a_typical_year_then_saves_it(admin, tenant, other):
    empty = admin.get(f"/schools/la/terms/?year={YEAR}")
    assert empty.status_code == 200 and "Fill with a typical year" in empty.content.decode()
    filled = admin.get(f"/schools/la/terms/?year={YEAR}&typical=1").content.decode()
    autumn = typical_terms(YEAR)[0]
    assert f'value="{autumn["starts_on"].isoformat()}"' in filled
    assert not TermDates.objects.exists()  # filling only suggests; saving saves

    response = admin.post(f"/schools/la/terms/?year={YEAR}", terms_body())
    assert response.status_code == 302
    rows = saved_terms(tenant.la)
    assert [(r[0], r[1]) for r in rows] == [(YEAR, "autumn"), (YEAR, "spring"), (YEAR, "summer")]
    assert rows[0][2] == autumn["starts_on"]
    assert saved_terms(other.la) == []
    assert "3 of 3" in admin.get("/schools/la/").content.decode()

    # Changing the year again updates the same three rows.
    later_end = date(YEAR, 12, 19).isoformat()
    assert (
        admin.post(f"/schools/la/terms/?year={YEAR}", terms_body(**{"autumn-ends_on": later_end})).status_code
        == 302
    )
    rows = saved_terms(tenant.la)
    assert len(rows) == 3 and rows[0][3] == date(YEAR, 12, 19)
    # A year with dates is not refilled.
    refill = admin.get(f"/schools/la/terms/?year={YEAR}&typical=1").content.decode()
    assert "only fills an empty one" in refill
    events = la_audit(tenant, object_type="schools.termdates")
    assert len(events) == 2 and events[0].detail["academic_year"] == YEAR
    assert len(events[0].detail["created"]) == 3 and events[1].detail["created"] == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        # Half-term starting before the term does.
        ({"autumn-half_term_starts_on": f"{YEAR}-08-25"}, "Half-term must fall inside the term"),
        # Half-term ending after the term does.
        ({"summer-half_term_ends_on": f"{YEAR + 1}-08-20"}, "Half-term must fall inside the term"),
        # The term ending before it starts.
        ({"spring-ends_on": f"{YEAR + 1}-01-02"}, "The term must end after it starts"),
        # Only one end of half-term.
        ({"spring-half_term_ends_on": ""}, "Give both the first and the last day of half-term"),
        # A term starting in another school year.
        ({"autumn-starts_on": f"{YEAR}-08-20"}, "must start in the 2025-26 school year"),
        # Terms overlapping.
        ({"spring-starts_on": f"{YEAR}-12-01"}, "The spring term must start after the autumn term ends"),
        ({"summer-starts_on": ""}, "Give the first day of term"),
        ({"autumn-ends_on": "31/02/2025"}, "Give a real date"),
    ],
)
def test_bad_term_dates_are_a_400_and_save_nothing(admin, tenant, changes, message):
    response = admin.post(f"/schools/la/terms/?year={YEAR}", terms_body(**changes))
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body and "nothing was saved" in body
    # The two good terms were not saved either.
    assert saved_terms(tenant.la) == []


def test_an_error_on_an_existing_year_leaves_it_as_it_was(admin, tenant):
    assert admin.post(f"/schools/la/terms/?year={YEAR}", terms_body()).status_code == 302
    before = saved_terms(tenant.la)
    bad = terms_body(**{"autumn-ends_on": f"{YEAR}-12-12", "summer-half_term_starts_on": f"{YEAR + 1}-04-01"})
    assert admin.post(f"/schools/la/terms/?year={YEAR}", bad).status_code == 400
    assert saved_terms(tenant.la) == before


def test_a_year_out_of_range_is_404(admin):
    assert admin.get("/schools/la/terms/?year=1999").status_code == 404
    assert admin.get("/schools/la/terms/?year=twenty").status_code == 404
    assert admin.get("/schools/la/terms/").status_code == 200  # the current school year


@pytest.mark.parametrize("role", ["senco", "headteacher", "la_officer", "partnership_lead", "platform_admin"])
def test_only_the_la_admin_opens_the_settings(client, tenant, role):
    sign_in(client, tenant.users[role], tenant.memberships[role])
    assert client.get("/schools/la/").status_code == 403
    assert client.post("/schools/la/", {"review_interval_weeks": "9"}).status_code == 403
    assert client.post(f"/schools/la/terms/?year={YEAR}", terms_body()).status_code == 403
    tenant.la.refresh_from_db()
    assert tenant.la.review_interval_weeks == 6 and saved_terms(tenant.la) == []


def test_another_las_admin_changes_only_their_own_la(client, tenant, other):
    sign_in(client, other.users["la_admin"], other.memberships["la_admin"])
    assert client.post("/schools/la/", {"review_interval_weeks": "10"}).status_code == 302
    assert client.post(f"/schools/la/terms/?year={YEAR}", terms_body()).status_code == 302
    tenant.la.refresh_from_db()
    other.la.refresh_from_db()
    assert (tenant.la.review_interval_weeks, other.la.review_interval_weeks) == (6, 10)
    assert saved_terms(tenant.la) == [] and len(saved_terms(other.la)) == 3
    assert tenant.la.name not in client.get("/schools/la/").content.decode()
