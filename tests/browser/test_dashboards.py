"""Each role's dashboard at `/`, driven in Chromium: its sections, its filters and the pages
one level down.

The demo users sign in through the real form. Every page is checked with axe-core (no
"serious" or "critical" violation). The filters are a GET form that htmx submits on each
change: the figures are swapped in place, and the address keeps the choice so a reload (or a
bookmark) shows the same figures.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, Response, expect

from schools.models import Membership
from tests.browser.test_roles import assert_accessible, credentials_for, sign_in, tab_until

pytestmark = pytest.mark.browser

# Headings that only the role's own dashboard shows, one for its work or figures at least.
DASHBOARD_HEADINGS = {
    "senco": ["Today's work", "Plan reviews due and overdue", "Figures", "The SEN register"],
    "headteacher": ["Figures", "Approvals waiting", "The SEN register", "Plan reviews"],
    "provision-lead": [
        "Placements now",
        "Referrals waiting to start",
        "Figures",
        "Referrals and outcomes in the term",
    ],
    "partnership-lead": ["Figures", "The schools side by side, now", "KPIs against targets"],
    "la-officer": ["Figures", "The partnerships side by side, now", "Schools in each partnership"],
}
# Headings another role's dashboard has, which this one must not show.
NOT_SHOWN = {
    "senco": ["Approvals waiting"],
    "headteacher": ["Today's work"],
    "provision-lead": ["Today's work", "Approvals waiting"],
    "partnership-lead": ["Today's work", "The partnerships side by side, now"],
    "la-officer": ["Today's work", "The schools side by side, now"],
}
# A marker set on window before an htmx request: it survives a swap, never a page load.
MARKER = "window.__dashboardMarker"


def _sign_in_as(page: Page, credentials: list[dict], username: str) -> None:
    sign_in(page, credentials_for(credentials, username)[0])


def _is_figures_request(response: Response) -> bool:
    return response.request.headers.get("hx-request") == "true" and response.request.method == "GET"


def _status(page: Page):
    return page.locator("#figures [role=status]")


def _options(page: Page, label: str) -> list[tuple[str, str]]:
    """The (value, text) of each option of the select labelled `label`."""
    return (
        page.get_by_label(label, exact=True)
        .locator("option")
        .evaluate_all("options => options.map(o => [o.value, o.textContent.trim()])")
    )


def _another_period(page: Page) -> tuple[str, str]:
    """A period in the select other than the one the figures cover now: (code, label)."""
    shown = _status(page).inner_text()
    others = [(code, label) for code, label in _options(page, "Period") if label not in shown]
    assert others, f"no other period to choose from than {shown!r}"
    return others[0]


@pytest.mark.parametrize("username", list(DASHBOARD_HEADINGS))
def test_each_role_lands_on_its_dashboard(page: Page, demo_credentials, username):
    _sign_in_as(page, demo_credentials, username)
    main = page.get_by_role("main")
    expect(main.get_by_role("heading", level=1)).to_be_visible()
    expect(main).to_contain_text("Your dashboard as")
    for name in DASHBOARD_HEADINGS[username]:
        expect(main.get_by_role("heading", name=name, exact=False).first).to_be_visible()
    for name in NOT_SHOWN[username]:
        expect(main.get_by_role("heading", name=name, exact=True)).to_have_count(0)
    # The figures say which period they cover, and the filter form is there to change it.
    expect(_status(page)).to_contain_text(re.compile(r"\d{4}-\d{2}"))
    filters = page.get_by_role("form", name="Choose the figures")
    expect(filters.get_by_label("Period", exact=True)).to_be_visible()
    # Charts are images named by their <title>; a school's figures always draw some.
    charts = page.locator("#figures svg[role=img]")
    if username in ("senco", "headteacher"):
        expect(charts.first).to_be_visible()
    for chart in charts.all():
        expect(chart).to_have_accessible_name(re.compile(r"\S"))
    assert_accessible(page)


def test_headteacher_filters_swap_the_figures_in_place_and_survive_a_reload(page: Page, demo_credentials):
    _sign_in_as(page, demo_credentials, "headteacher")
    status = _status(page)
    before = status.inner_text()
    code, label = _another_period(page)

    page.evaluate(f"{MARKER} = 'still here'")
    with page.expect_response(_is_figures_request) as swapped:
        page.get_by_label("Period", exact=True).select_option(code)
    assert swapped.value.status == 200
    expect(status).to_contain_text(label)
    expect(status).not_to_have_text(before)
    expect(page).to_have_url(re.compile(rf"[?&]period={re.escape(code)}(&|$)"))
    assert page.evaluate(MARKER) == "still here", "choosing a period loaded the whole page"
    # The moves table names the chosen term too: the figures themselves were replaced.
    expect(page.locator("#figures caption", has_text="Moves recorded in")).to_contain_text(label)
    assert_accessible(page)

    # Narrow to one year group: the same in-place swap, the choice added to the address.
    year_value, year_label = next((v, t) for v, t in _options(page, "Year group") if v)
    with page.expect_response(_is_figures_request):
        page.get_by_label("Year group", exact=True).select_option(year_value)
    expect(status).to_contain_text(f"{label}, ")
    expect(status).to_contain_text(f"{year_label} pupils only")
    expect(page).to_have_url(re.compile(rf"[?&]year_group={year_value}(&|$)"))
    expect(page).to_have_url(re.compile(rf"[?&]period={re.escape(code)}(&|$)"))
    assert page.evaluate(MARKER) == "still here"
    assert_accessible(page)

    # A reload is a real page load (the marker is gone) and keeps the choices from the address.
    address = page.url
    response = page.reload()
    assert response is not None and response.status == 200
    assert page.url == address
    assert page.evaluate(f"typeof {MARKER}") == "undefined"
    expect(page.get_by_role("heading", name="Approvals waiting")).to_be_visible()
    expect(page.get_by_label("Period", exact=True)).to_have_value(code)
    expect(page.get_by_label("Year group", exact=True)).to_have_value(year_value)
    expect(status).to_contain_text(label)
    expect(status).to_contain_text(f"{year_label} pupils only")
    assert_accessible(page)


def test_headteacher_changes_the_period_with_the_keyboard_only(page: Page, demo_credentials):
    _sign_in_as(page, demo_credentials, "headteacher")
    status = _status(page)
    select = page.get_by_label("Period", exact=True)
    periods = _options(page, "Period")
    assert len(periods) > 1, f"only one period to choose from: {periods}"
    # The newest period comes first and is normally the one shown: the next one is older.
    index = select.evaluate("s => s.selectedIndex")
    key, index = ("ArrowDown", index + 1) if index + 1 < len(periods) else ("ArrowUp", index - 1)
    code, label = periods[index]
    expect(status).not_to_contain_text(label)
    page.evaluate(f"{MARKER} = 'still here'")

    tab_until(page, "#id_period", limit=40)
    with page.expect_response(_is_figures_request):
        page.keyboard.press(key)
    expect(select).to_have_value(code)
    expect(status).to_contain_text(label)
    expect(page).to_have_url(re.compile(rf"[?&]period={re.escape(code)}(&|$)"))
    # The swap happened beside the select, not around it: the focus stays where it was.
    expect(select).to_be_focused()
    assert page.evaluate(MARKER) == "still here"

    # On through the other filters to "Show", which submits the same choice from the keyboard.
    tab_until(page, "form.filters button[type=submit]", limit=3)
    expect(page.get_by_role("button", name="Show")).to_be_focused()
    with page.expect_response(_is_figures_request) as shown:
        page.keyboard.press("Enter")
    assert shown.value.status == 200
    expect(status).to_contain_text(label)
    assert page.evaluate(MARKER) == "still here", "Show loaded the whole page"
    assert_accessible(page)


def test_la_officer_opens_a_partnership_from_the_dashboard(page: Page, demo_credentials):
    _sign_in_as(page, demo_credentials, "la-officer")
    link = page.locator("#figures a[href^='/dashboard/partnership/']").first
    expect(link).to_be_visible()
    name = link.inner_text().split(":", 1)[0].strip()
    with page.expect_navigation() as navigation:
        link.click()
    assert navigation.value is not None and navigation.value.status == 200
    expect(page).to_have_url(re.compile(r"/dashboard/partnership/\d+/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    expect(page.get_by_role("main")).to_contain_text("Figures as your role may see them.")
    expect(page.get_by_role("heading", name="The schools side by side, now")).to_be_visible()
    assert_accessible(page)


def test_partnership_lead_opens_a_provision_and_not_the_las_page(page: Page, demo_credentials):
    _sign_in_as(page, demo_credentials, "partnership-lead")
    link = page.locator("#figures a[href^='/dashboard/provision/']").first
    expect(link).to_be_visible()
    name = link.inner_text().strip()
    with page.expect_navigation() as navigation:
        link.click()
    assert navigation.value is not None and navigation.value.status == 200
    expect(page).to_have_url(re.compile(r"/dashboard/provision/\d+/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    expect(page.get_by_role("heading", name="Referrals and outcomes in the term")).to_be_visible()
    assert_accessible(page)

    # The LA's own dashboard belongs to its officers: to a partnership lead it does not exist.
    partnership = (
        Membership.objects.select_related("partnership").get(user__username="partnership-lead").partnership
    )
    response = page.goto(f"/dashboard/local-authority/{partnership.local_authority_id}/")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    expect(page.get_by_role("main")).not_to_contain_text("side by side")
    assert_accessible(page)


def test_practitioner_home_lists_sessions_to_record(page: Page, demo_credentials):
    _sign_in_as(page, demo_credentials, "practitioner")
    main = page.get_by_role("main")
    expect(main.get_by_role("heading", level=1)).to_contain_text("Welcome")
    expect(main.get_by_role("heading", name="Sessions to record")).to_be_visible()
    # No dashboard for this role: no figures and no filters.
    expect(page.locator("#figures")).to_have_count(0)
    assert_accessible(page)
