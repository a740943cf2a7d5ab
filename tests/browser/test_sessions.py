"""A practitioner records a session in a real browser, with the keyboard alone: their groups,
a group's page, the session form (everyone ticked; untick the absent, add a note, save), and
the saved session on the group's page; axe checks each page."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.db import transaction
from django.utils import timezone
from playwright.sync_api import Page, expect

from interventions.demo import seed_interventions
from interventions.models import Enrolment, InterventionGroup
from interventions.selectors import current_on
from schools.models import LocalAuthority, Membership, School
from schools.tenancy import TenantScope, tenant_scope
from tests.browser.test_roles import assert_accessible, credentials_for, sign_in, sign_out, tab_until

pytestmark = pytest.mark.browser


def practitioners_group(today: date) -> tuple[InterventionGroup, date, list[Enrolment]]:
    """A group the demo practitioner runs that has pupils on a day up to today."""
    la = LocalAuthority.objects.get(code="909")
    seed_interventions(la, list(School.objects.filter(local_authority=la).order_by("urn")), today=today)
    school = Membership.objects.get(user__username="practitioner", role="practitioner").school
    with transaction.atomic(), tenant_scope(TenantScope.for_school(school.pk, la_id=la.pk)):
        groups = InterventionGroup.objects.filter(
            staff_links__user__username="practitioner", starts_on__lte=today
        ).order_by("-starts_on", "pk")
        for group in groups:
            day = min(today, group.ends_on)
            places = list(
                current_on(group.enrolments.select_related("pupil"), day).order_by("pupil__last_name")
            )
            if places:
                return group, day, places
    raise AssertionError("the demo practitioner runs no group with pupils")


def test_practitioner_records_a_session_with_the_keyboard(page: Page, demo_credentials):
    group, day, places = practitioners_group(timezone.localdate())
    sign_in(page, credentials_for(demo_credentials, "practitioner")[0])
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My groups").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My groups")
    assert_accessible(page)

    page.get_by_role("link", name=group.name, exact=True).focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/interventions/groups/{group.pk}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(group.name)
    assert_accessible(page)

    page.goto(f"/interventions/groups/{group.pk}/sessions/new/?held_on={day.isoformat()}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Record a session")
    boxes = page.locator("input[type=checkbox][name^=present_]")
    expect(boxes).to_have_count(len(places))
    assert_accessible(page)

    # Keyboard only, from the date: tick off the first pupil, note why, then save.
    page.get_by_label("Date of the session").focus()
    first = places[0]
    tab_until(page, f"#present_{first.pk}")
    if page.locator(f"#present_{first.pk}").is_checked():
        page.keyboard.press("Space")
    expect(page.locator(f"#present_{first.pk}")).not_to_be_checked()
    page.keyboard.press("Tab")
    expect(page.locator(f"#note_{first.pk}")).to_be_focused()
    page.keyboard.type("Felt unwell and stayed in class")
    tab_until(page, "#id_notes", limit=3 * len(places) + 2)
    page.keyboard.type("Practised turn taking with the feelings cards.")
    tab_until(page, "button[type=submit]", limit=3)
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(rf"/interventions/groups/{group.pk}/#sessions$"))
    expect(page.locator(".messages")).to_contain_text(f"of {len(places)} present")
    row = page.locator("#sessions tbody tr", has=page.locator(f"time[datetime='{day.isoformat()}']"))
    expect(row).to_contain_text(first.pupil.first_name)
    expect(row).to_contain_text("Felt unwell and stayed in class")
    expect(row).to_contain_text("Practised turn taking")
    assert_accessible(page)
    sign_out(page)


def test_the_senco_pages_for_interventions_pass_axe(page: Page, demo_credentials):
    group, _day, places = practitioners_group(timezone.localdate())
    sign_in(page, credentials_for(demo_credentials, "senco")[0])
    for url, heading in (
        ("/interventions/", "Intervention groups"),
        ("/interventions/provisions/", "Catalogue of provisions"),
        ("/interventions/provisions/new/", "Add a provision"),
        (f"/interventions/groups/{group.pk}/", group.name),
        (f"/interventions/groups/{group.pk}/edit/", "Change the group"),
        (f"/interventions/groups/{group.pk}/enrol/", "Enrol a pupil"),
        (f"/interventions/enrolments/{places[0].pk}/", places[0].pupil.last_name),
    ):
        page.goto(url)
        expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
        assert_accessible(page)
    # A mistake on the enrolment form: the summary takes the focus.
    page.get_by_label("Exit assessed on").fill("2001-01-01")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".error-summary")).to_be_focused()
    assert_accessible(page)
