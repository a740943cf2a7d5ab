"""Every demo user signs in through the real form and sees their role's navigation.

Each page a test visits is checked with axe-core; a violation of impact "serious" or
"critical" fails the test. Keyboard-only journeys cover the skip link and the membership
switcher.
"""

from __future__ import annotations

import base64
import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from django_otp.oath import totp
from playwright.sync_api import Page, expect

from schools.models import Role
from schools.roles import NAVIGATION

pytestmark = pytest.mark.browser

BLOCKING_IMPACTS = {"serious", "critical"}
# Every demo user the seed creates, with the role of their first (active on sign-in) membership.
DEMO_USERS = {
    "senco": Role.SENCO,
    "practitioner": Role.PRACTITIONER,
    "headteacher": Role.HEADTEACHER,
    "provision-lead": Role.PROVISION_LEAD,
    "partnership-lead": Role.PARTNERSHIP_LEAD,
    "la-officer": Role.LA_OFFICER,
    "la-admin": Role.LA_ADMIN,
    "platform-admin": Role.PLATFORM_ADMIN,
    "senco-and-lead": Role.SENCO,
}

_axe = Axe()


# --- helpers ------------------------------------------------------------------------------


def assert_accessible(page: Page) -> None:
    """Run axe-core on the page as it stands; fail on any serious or critical violation.

    Axe is injected with page.evaluate(), which goes through the DevTools protocol and is not
    subject to the page's Content-Security-Policy (script-src 'self'), so the policy stays on.
    """
    results = _axe.run(page)
    blocking = [v for v in results.response["violations"] if v.get("impact") in BLOCKING_IMPACTS]
    report = "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']}\n"
        + "\n".join(f"    {', '.join(map(str, n['target']))}: {n['html'][:160]}" for n in v["nodes"])
        for v in blocking
    )
    assert not blocking, f"axe found serious or critical violations on {page.url}:\n{report}"


def current_code(secret: str) -> str:
    """The authenticator app's current six-digit code for a base32 TOTP secret."""
    return f"{totp(base64.b32decode(secret)):06d}"


def credentials_for(credentials: list[dict], username: str) -> list[dict]:
    rows = [row for row in credentials if row["username"] == username]
    assert rows, f"the seed printed no credentials for {username}"
    return rows


def nav_labels(page: Page) -> list[str]:
    return [text.strip() for text in page.locator("nav[aria-label=Main] a").all_inner_texts()]


def expected_labels(role: str) -> list[str]:
    return [label for label, _ in NAVIGATION[role]]


def sign_in(page: Page, row: dict) -> None:
    """Sign in through the real form (and the two-factor page when the user has a device)."""
    page.goto("/accounts/login/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    assert_accessible(page)
    page.get_by_label("Username").fill(row["username"])
    page.get_by_label("Password").fill(row["password"])
    page.get_by_role("button", name="Sign in").click()
    if row["totp_secret"]:
        expect(page).to_have_url(re.compile(r"/accounts/two-factor/$"))
        expect(page.get_by_role("heading", level=1)).to_have_text("Enter your sign-in code")
        assert_accessible(page)
        page.get_by_label("Six-digit code from your authenticator app").fill(current_code(row["totp_secret"]))
        page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(re.compile(r"^http://[^/]+/$"))
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()


def sign_out(page: Page) -> None:
    page.locator("header").get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    expect(page.get_by_role("navigation", name="Main")).to_have_count(0)
    expect(page.locator("header").get_by_role("button", name="Sign out")).to_have_count(0)


def tab_until(page: Page, selector: str, limit: int = 25) -> int:
    """Press Tab until the element matching `selector` has focus; return how many presses it took."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement?.matches(s) ?? false", selector):
            return presses
    raise AssertionError(f"{selector} was not reached within {limit} Tab presses on {page.url}")


# --- tests ----------------------------------------------------------------------------------


def test_axe_runs_under_the_sites_content_security_policy(page: Page):
    """The check can fail: a page with a known violation is caught despite script-src 'self'."""
    response = page.goto("/accounts/login/")
    assert response is not None
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert_accessible(page)
    page.evaluate("""document.querySelector("main").insertAdjacentHTML("beforeend", '<img src="data:,">')""")
    with pytest.raises(AssertionError, match="image-alt"):
        assert_accessible(page)


def test_demo_users_are_all_covered(demo_credentials):
    """The parametrised list below is the seed's list: a new demo user cannot be skipped."""
    assert {row["username"] for row in demo_credentials} == set(DEMO_USERS)
    for username, role in DEMO_USERS.items():
        assert credentials_for(demo_credentials, username)[0]["role"] == role


@pytest.mark.parametrize("username", list(DEMO_USERS))
def test_demo_user_signs_in_and_sees_role_navigation(page: Page, demo_credentials, username):
    row = credentials_for(demo_credentials, username)[0]
    role = DEMO_USERS[username]
    sign_in(page, row)

    expected = expected_labels(role)
    assert nav_labels(page) == expected
    header = page.locator("header")
    if len(credentials_for(demo_credentials, username)) == 1:
        expect(header.locator(".current-role")).to_contain_text(row["scope_name"])
    assert_accessible(page)

    home = page.url
    for label in expected:
        link = page.get_by_role("navigation", name="Main").get_by_role("link", name=label, exact=True)
        with page.expect_navigation() as navigation:
            link.click()
        response = navigation.value
        assert response is not None
        assert response.status == 200, f"{label} answered {response.status} at {page.url}"
        if label == "Administration":
            # Django's admin has its own layout: no site navigation, but it must admit the
            # verified platform administrator and pass the same accessibility check.
            expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
            assert_accessible(page)
            page.goto(home)
            continue
        assert nav_labels(page) == expected, f"navigation changed on {page.url}"
        current = page.locator("nav[aria-label=Main] a[aria-current=page]")
        expect(current).to_have_text(label)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert_accessible(page)

    sign_out(page)
    assert_accessible(page)
    # Signed out means signed out: home sends the browser back to the sign-in form.
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))


def test_switcher_changes_role_with_keyboard_only(page: Page, demo_credentials):
    rows = credentials_for(demo_credentials, "senco-and-lead")
    assert [row["role"] for row in rows] == [Role.SENCO, Role.PARTNERSHIP_LEAD]
    sign_in(page, rows[0])
    assert nav_labels(page) == expected_labels(Role.SENCO)
    switcher = page.get_by_label("Acting as")
    expect(switcher.locator("option:checked")).to_contain_text(rows[0]["scope_name"])
    assert_accessible(page)

    # Keyboard only from here: Tab to the select, arrow to the other role, Tab to Switch, Enter.
    tab_until(page, "#membership-switch")
    page.keyboard.press("ArrowDown")
    expect(switcher.locator("option:checked")).to_contain_text("Partnership lead")
    tab_until(page, "form.switcher button[type=submit]", limit=1)
    with page.expect_navigation() as navigation:
        page.keyboard.press("Enter")
    assert navigation.value is not None and navigation.value.status == 200

    expect(page).to_have_url(re.compile(r"^http://[^/]+/$"))
    assert nav_labels(page) == expected_labels(Role.PARTNERSHIP_LEAD)
    expect(page.get_by_label("Acting as").locator("option:checked")).to_contain_text(rows[1]["scope_name"])
    expect(page.get_by_role("main")).to_contain_text("Partnership lead")
    assert_accessible(page)
    # The new role's pages open, and the choice holds across requests.
    with page.expect_navigation() as navigation:
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Provision", exact=True).click()
    assert navigation.value is not None and navigation.value.status == 200
    assert nav_labels(page) == expected_labels(Role.PARTNERSHIP_LEAD)
    assert_accessible(page)
    sign_out(page)


def _assert_skip_link_first(page: Page) -> None:
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    # It is on screen once focused, so a sighted keyboard user can see where they are.
    box = skip.bounding_box()
    viewport = page.viewport_size
    assert box is not None and viewport is not None
    assert box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= viewport["width"]
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()
    expect(page).to_have_url(re.compile(r"#main$"))


def test_skip_link_is_first_tab_stop_and_focuses_main(page: Page, demo_credentials):
    # Signed out, on a page without an autofocused field.
    page.goto("/accessibility/")
    assert_accessible(page)
    _assert_skip_link_first(page)

    # Signed in, where the header holds more controls before the content.
    sign_in(page, credentials_for(demo_credentials, "senco")[0])
    page.goto("/pupils/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Pupils")
    assert_accessible(page)
    _assert_skip_link_first(page)
    # The next Tab continues from main's content, not from the top of the page.
    page.keyboard.press("Tab")
    expect(page.get_by_label("Search by name or UPN")).to_be_focused()
    sign_out(page)


def test_senco_filters_the_register_with_the_keyboard_and_opens_a_pupil(page: Page, demo_credentials):
    sign_in(page, credentials_for(demo_credentials, "senco")[0])
    page.goto("/pupils/")
    assert_accessible(page)
    status = page.locator("#register-status")
    expect(status).to_contain_text("Showing 1–")

    # Keyboard only: Tab to "SEN provision", arrow past "Any" and "EHC plan" to "SEN support";
    # the change alone (htmx) brings the matching pupils in, with no page load.
    tab_until(page, "#register-sen_status", limit=40)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(page.get_by_label("SEN provision").locator("option:checked")).to_have_text("SEN support")
    expect(status).to_contain_text("matching")
    # Each arrow key sends its own request: wait for the last one's rows, not the first's.
    cells = page.locator("#register-results tbody tr td:nth-child(4)")
    expect(cells.filter(has_text="EHC plan")).to_have_count(0)
    expect(cells.first).to_have_text("SEN support")
    provisions = cells.all_inner_texts()
    assert provisions and set(provisions) == {"SEN support"}
    assert "?" not in page.url  # the filters travel in the request body, not the address
    assert_accessible(page)

    tab_until(page, "#register-results tbody a", limit=40)
    name = page.evaluate("document.activeElement.textContent")
    with page.expect_navigation() as navigation:
        page.keyboard.press("Enter")
    assert navigation.value is not None and navigation.value.status == 200
    expect(page).to_have_url(re.compile(r"/pupils/\d+/$"))
    surname, forename = (part.strip() for part in name.split(",", 1))
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"{forename} {surname}")
    expect(page.get_by_role("heading", name="SEN register history")).to_be_visible()
    assert_accessible(page)

    with page.expect_navigation():
        page.get_by_role("link", name="Edit record").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Edit")
    expect(page.get_by_label("SEN change effective from")).to_be_visible()
    assert_accessible(page)
    sign_out(page)


def test_paging_the_register_with_the_keyboard_keeps_the_focus_in_the_results(page: Page, demo_credentials):
    sign_in(page, credentials_for(demo_credentials, "senco")[0])
    page.goto("/pupils/")
    next_page = page.get_by_role("button", name="Next page")
    next_page.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#register-status")).to_contain_text("Showing 51–")
    # The pager was replaced with the results; focus went to the new results, not the page.
    assert page.evaluate("document.activeElement !== document.body")
    assert page.evaluate("document.getElementById('register-results').contains(document.activeElement)")
    assert_accessible(page)
    sign_out(page)


def test_an_error_summary_takes_the_focus(page: Page, demo_credentials):
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("nobody-here")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".error-summary")).to_be_visible()
    assert page.evaluate("document.activeElement.classList.contains('error-summary')")


def test_la_admin_framework_editor_and_term_dates_pass_axe(page: Page, demo_credentials):
    """The LA administrator's pages: a framework in use offers a new version, a free one opens
    its step editor (with an error summary on a bad save), and an empty school year is filled
    with a typical year and saved."""
    from datetime import date

    from graduated_response.templates_data import TEMPLATES
    from schools.terms import academic_year_label, academic_year_of

    sign_in(page, credentials_for(demo_credentials, "la-admin")[0])
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Frameworks", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Graduated-response frameworks")
    assert_accessible(page)

    # The demo's pupils stand on the NW six-step: it is kept as it is for them.
    page.get_by_role("link", name=TEMPLATES["nw-six-step"].name, exact=True).click()
    expect(page.get_by_role("button", name="Make a new version to edit")).to_be_visible()
    expect(page.get_by_role("link", name="Edit step 1")).to_have_count(0)
    assert_accessible(page)

    page.goto("/frameworks/")
    page.get_by_role("link", name=TEMPLATES["four-tier"].name, exact=True).click()
    page.get_by_role("link", name="Edit step 1").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Edit step 1")
    assert_accessible(page)
    page.get_by_label("Tier label").fill("")
    page.get_by_role("button", name="Save step 1").click()
    expect(page.locator(".error-summary")).to_be_visible()
    assert_accessible(page)

    nav.get_by_role("link", name="LA settings", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Settings for")
    assert_accessible(page)
    year = academic_year_of(date.today()) + 2  # the demo enters last, this and next year
    page.goto(f"/schools/la/terms/?year={year}")
    page.get_by_role("button", name="Fill with a typical year").click()
    expect(page.locator("#id_autumn-starts_on")).not_to_have_value("")
    assert_accessible(page)
    page.get_by_role("button", name=f"Save term dates for {academic_year_label(year)}").click()
    expect(page.get_by_role("row", name=academic_year_label(year))).to_contain_text("3 of 3")
    assert_accessible(page)
    sign_out(page)
