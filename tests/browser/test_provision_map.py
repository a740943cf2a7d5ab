"""A SENCO reads the costed provision map, narrows it to a term (htmx, and the address keeps
the filter), sorts the "what works" table, and opens a pupil's map in the version for parents;
axe checks each page."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone
from playwright.sync_api import Page, expect

from interventions.models import Enrolment, InterventionGroup, Provision
from pupils.models import Pupil
from schools.models import Membership
from schools.tenancy import TenantScope, tenant_scope
from schools.terms import academic_year_of
from tests.browser.test_roles import assert_accessible, credentials_for, sign_in

pytestmark = pytest.mark.browser


def provision_this_year(username: str) -> Pupil:
    """A reading group this school year for the SENCO's school, with one pupil in it whose
    score rose: the demo data may have no groups yet, so the test brings its own."""
    school = Membership.objects.select_related("school").get(user__username=username, role="senco").school
    year = academic_year_of(timezone.localdate())
    with (
        transaction.atomic(),
        tenant_scope(TenantScope.for_school(school.pk, la_id=school.local_authority_id)),
    ):
        pupil = Pupil.objects.filter(is_active=True).order_by("pk").first()
        provision = Provision.objects.create(
            school=school,
            name="Browser reading boost",
            area_of_need="cognition",
            step_number=2,
            description="Short daily reading with an adult.",
        )
        group = InterventionGroup.objects.create(
            school=school,
            provision=provision,
            name="Reading boost A",
            staff_kind="ta",
            group_size=4,
            sessions_per_week=Decimal(3),
            session_minutes=30,
            academic_year=year,
            term="autumn",
            starts_on=dt.date(year, 9, 15),
            ends_on=dt.date(year, 12, 12),
            weeks=Decimal(12),
        )
        Enrolment.objects.create(
            school=school,
            group=group,
            pupil=pupil,
            starts_on=group.starts_on,
            entry_score=Decimal(84),
            exit_score=Decimal(90),
        )
        return pupil


def test_senco_reads_the_costed_map_what_works_and_a_parents_version(page: Page, demo_credentials):
    pupil = provision_this_year("senco")
    sign_in(page, credentials_for(demo_credentials, "senco")[0])

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Provision map").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Costed provision map")
    # 3 × 30 minutes a week with a TA at the demo LA's £19.50 an hour, for 12 weeks: £351.
    row = page.get_by_role("row", name=re.compile("Browser reading boost"))
    expect(row).to_contain_text("1.5 hours")
    expect(row).to_contain_text("£351.00")
    expect(page.get_by_role("img", name="Cost by area of need")).to_be_visible()
    assert_accessible(page)

    # A term narrows the map in place; the address keeps the choice for a bookmark or a reload.
    page.get_by_label("Term").select_option("spring")
    expect(page.locator("#map-period")).to_contain_text("Spring term")
    expect(page).to_have_url(re.compile(r"term=spring"))
    expect(page.get_by_role("row", name=re.compile("Browser reading boost"))).to_have_count(0)
    page.get_by_label("Term").select_option("autumn")
    expect(page.get_by_role("row", name=re.compile("Browser reading boost"))).to_be_visible()
    assert_accessible(page)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="What works").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("What works")
    page.get_by_role("link", name="Average improvement").click()
    expect(page.locator("th[aria-sort=descending]")).to_contain_text("Average improvement")
    expect(page.get_by_role("row", name=re.compile("Browser reading boost"))).to_contain_text("6")
    assert_accessible(page)

    page.goto(f"/pupils/{pupil.pk}/provision/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Provision map")
    assert_accessible(page)
    page.get_by_role("link", name="Version for parents and carers").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("support at school")
    expect(page.get_by_role("heading", name="Browser reading boost")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("£")
    assert_accessible(page)
