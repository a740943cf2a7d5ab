"""Browser fixtures: one Chromium per session, a fresh context per test, the demo data seeded.

Debian's Chromium is driven through Playwright's sync API; `playwright install` is never
needed (nor possible offline) because we launch /usr/bin/chromium ourselves.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator

import pytest
from django.core.management import call_command
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Long enough for a slow CI machine, short enough that a missing element fails quickly.
TIMEOUT_MS = 10_000


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """One Chromium for all the browser tests.

    Package scope, not session: Playwright's sync API keeps its asyncio loop marked as
    running on this thread for as long as Playwright is started, so Django's async-safety
    check would refuse every ORM call made from the test thread (seeding, pytest-django's
    flush). Those calls are plain synchronous code that never shares a connection with the
    loop (the live server answers in its own thread), so DJANGO_ALLOW_ASYNC_UNSAFE is set,
    but only until the last browser test ends: the rest of the suite keeps the check, and
    subprocesses it starts (`check --deploy` fails on that variable) never see it.
    """
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed")
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    try:
        yield chromium
    finally:
        chromium.close()
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def demo_credentials(transactional_db) -> list[dict]:
    """Seed the demo LA through its management command and return the printed credentials."""
    out = io.StringIO()
    call_command("seed_demo", "--json", stdout=out)
    return json.loads(out.getvalue())


@pytest.fixture
def page(browser: Browser, live_server) -> Iterator[Page]:
    # pytest-django's live server listens on http://localhost:<port>. Chromium treats
    # localhost as a secure context, so the Secure session and CSRF cookies the test
    # settings send are kept even over plain HTTP: no settings override is needed.
    context = browser.new_context(base_url=live_server.url, locale="en-GB")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()
