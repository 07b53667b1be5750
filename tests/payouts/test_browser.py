"""The finance console in a real browser: Debian's Chromium driven by Playwright."""

from pathlib import Path

import pytest
from django.conf import settings

from payouts.models import JournalEntry, Payout
from tests.support.services import require_service

CHROMIUM = Path("/usr/bin/chromium")
HTMX = Path(settings.BASE_DIR) / "static" / "vendor" / "htmx.min.js"
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip


@pytest.mark.skipif(not HTMX.is_file() or HTMX.stat().st_size == 0,
                    reason="static/vendor/htmx.min.js is not vendored yet")  # fmt: skip
@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_console_batch_release_of_two_payouts(
    live_server, client, finance, open_payout, django_q_sync, monkeypatch
):
    require_service("Chromium", available=CHROMIUM.exists(), detail=str(CHROMIUM))
    playwright_api = pytest.importorskip("playwright.sync_api")
    # Playwright's sync API runs an event loop in this thread; the ORM calls below are plain
    # synchronous calls made before and after it, never concurrently with it.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    # given two eligible payouts, one still in its claim window, and finance logged in
    first, second = open_payout(), open_payout()
    waiting = open_payout(days_ago=1)
    client.force_login(finance)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value

    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context()
            context.add_cookies(
                [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
            )
            page = context.new_page()
            # when they open the eligible queue, tick both payouts and release the selection
            page.goto(f"{live_server.url}/finance/?queue=eligible")
            page.check(f"input[name=payout][value='{first.pk}']")
            page.check(f"input[name=payout][value='{second.pk}']")
            page.click("#release-selected")
            # then the batch's progress ends in its summary
            summary = page.locator("#batch-summary")
            summary.wait_for(timeout=15_000)
            assert "2 released, 0 refused" in summary.inner_text()
            # and the released queue (loaded by htmx) lists them
            page.click("text=Released")
            page.locator(f"#payout-{first.pk}").wait_for(timeout=10_000)
            assert page.locator(f"#payout-{second.pk}").is_visible()
        finally:
            browser.close()

    statuses = dict(Payout.objects.values_list("pk", "status"))
    assert (statuses[first.pk], statuses[second.pk], statuses[waiting.pk]) == (
        "released", "released", "held"
    )  # fmt: skip
    assert JournalEntry.objects.filter(kind="release").count() == 2
