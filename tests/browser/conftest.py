"""Browser tests: Playwright driving Debian's Chromium (/usr/bin/chromium), no browser download.

Skipped, with the reason, where /usr/bin/chromium is absent. Screenshots go to
test-artifacts/screenshots/ (gitignored) for people to look at.
"""

import os
from pathlib import Path

import pytest

from tests.support.browser import PHONE
from tests.support.services import require_service

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


# Per module, not per session: Playwright's sync API allows one instance at a time, and other
# browser tests (tests/payouts) start their own.
@pytest.fixture(scope="module")
def browser():
    require_service(
        "Chromium", available=CHROMIUM.exists(), detail=f"apt-get install chromium: {CHROMIUM}"
    )
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the tests' own ORM calls (seeding
    # data, ingesting an event) are synchronous and safe: tell Django so.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def open_page(browser):
    """open_page(url, viewport, locale) -> a Playwright page; console errors (a CSP violation
    shows there) are collected in page.console_errors."""
    contexts = []

    def _open(url, *, viewport=PHONE, locale="fr-FR"):
        context = browser.new_context(viewport=viewport, locale=locale)
        contexts.append(context)
        page = context.new_page()
        page.console_errors = []
        page.on(
            "console",
            lambda message: (
                page.console_errors.append(message.text) if message.type == "error" else None
            ),
        )
        page.goto(url)
        return page

    yield _open
    for context in contexts:
        context.close()
