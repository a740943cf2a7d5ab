"""A SENCO logs a behaviour observation in a real browser: the page with its charts passes
axe, a bad entry brings the error summary into focus, a good one is listed."""

from __future__ import annotations

import random
import re

import pytest
from django.db import transaction
from django.utils import timezone
from playwright.sync_api import Page, expect

from graduated_response.demo_observations import seed_observations
from pupils.models import Pupil
from schools.models import Membership
from schools.tenancy import TenantScope, tenant_scope
from tests.browser.test_roles import assert_accessible, credentials_for, sign_in

pytestmark = pytest.mark.browser


def a_pupil_with_history(username: str) -> Pupil:
    school = Membership.objects.select_related("school").get(user__username=username, role="senco").school
    with transaction.atomic(), tenant_scope(TenantScope.for_school(school.pk)):
        pupil = Pupil.objects.filter(is_active=True).order_by("pk").first()
        seed_observations([pupil], rng=random.Random(1), today=timezone.localdate())
        return pupil


def test_senco_logs_an_observation_with_the_keyboard(page: Page, demo_credentials):
    row = credentials_for(demo_credentials, "senco")[0]
    pupil = a_pupil_with_history("senco")
    sign_in(page, row)
    page.goto(f"/pupils/{pupil.pk}/")
    page.get_by_role("link", name="Behaviour observations", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/pupils/{pupil.pk}/observations/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Behaviour observations")
    expect(page.get_by_role("img", name="Observations per week")).to_be_visible()
    expect(page.get_by_role("img", name="Observations by time of day")).to_be_visible()
    assert_accessible(page)

    # Nothing described and no intensity: refused, and the summary takes the focus.
    page.get_by_label("Where").select_option("unstructured")
    page.get_by_role("button", name="Log the observation").click()
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("What the pupil did")
    expect(summary).to_contain_text("Intensity")
    assert_accessible(page)

    # Keyboard only: follow the summary's link to the field, type, then arrow through the scale.
    page.get_by_role("link", name=re.compile("^What the pupil did")).focus()
    page.keyboard.press("Enter")
    expect(page.get_by_label("What the pupil did")).to_be_focused()
    page.keyboard.type("Ran out of the hall at lunch")
    page.get_by_label("1 – mild").focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    expect(page.get_by_label("3 – moderate")).to_be_checked()
    page.get_by_label("How long, in minutes").focus()
    page.keyboard.type("5")
    page.keyboard.press("Enter")

    expect(page.get_by_role("status")).to_contain_text("Observation logged.")
    expect(page.locator("#recent")).to_contain_text("Ran out of the hall at lunch")
    assert_accessible(page)
