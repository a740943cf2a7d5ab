"""A SENCO's support-plan round in a real browser: the reviews due list, a plan, its review
form (answered with the keyboard), and the pupil's timeline; axe checks each page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_roles import assert_accessible, credentials_for, sign_in, sign_out

pytestmark = pytest.mark.browser


def test_senco_reviews_an_overdue_plan_and_reads_the_timeline(page: Page, demo_credentials):
    sign_in(page, credentials_for(demo_credentials, "senco")[0])
    page.goto("/pupils/reviews/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Support plan reviews due")
    expect(page.locator("table .tag--warning").first).to_have_text("Overdue")
    assert_accessible(page)

    # The first row is the most overdue: open its plan, then its review form.
    page.locator("tbody tr").first.locator("td a").first.click()
    expect(page).to_have_url(re.compile(r"/pupils/\d+/plans/\d+/$"))
    expect(page.get_by_role("heading", name="Assess")).to_be_visible()
    assert_accessible(page)
    title = page.get_by_role("heading", level=1).inner_text()
    page.get_by_role("link", name="Review the plan").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(title)
    assert_accessible(page)

    # Saving without rating the targets shows the error summary and saves nothing.
    page.get_by_role("button", name="Save review").click()
    expect(page.locator(".error-summary")).to_be_visible()
    assert_accessible(page)

    # Rate every target with the keyboard: focus its first choice and press Space.
    groups = page.locator("fieldset.choices[id^=id_rating_]")
    for i in range(groups.count()):
        groups.nth(i).locator("input[type=radio]").first.focus()
        page.keyboard.press("Space")
    page.get_by_label("The pupil's views").fill("Says lunchtimes feel better.")
    continue_choice = page.get_by_label("Continue the plan")
    continue_choice.focus()
    page.keyboard.press("Space")
    page.get_by_role("button", name="Save review").click()
    expect(page.locator(".messages")).to_contain_text("next is due")
    expect(page.get_by_text("Says lunchtimes feel better.")).to_be_visible()

    page.get_by_role("link", name="The pupil's timeline").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Timeline")
    expect(page.locator(".timeline li").first).to_contain_text("Plan reviewed")
    assert_accessible(page)
    page.get_by_role("link", name="Print view").click()
    expect(page.get_by_text("Confidential: special educational needs record")).to_be_visible()
    sign_out(page)
