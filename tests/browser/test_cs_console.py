"""The CS console in a real browser: an agent with only the buyer's email finds the parcel
(results through htmx as they type), opens it and resolves its exception."""

import pytest
from django.conf import settings
from playwright.sync_api import expect

from tests.sellers.factories import OrderFactory
from tests.support.browser import DESKTOP, screenshot
from tests.tracking.factories import (
    ShipmentExceptionFactory,
    ShipmentFactory,
    TrackingEventFactory,
    cs_agent,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_cs_console_search_by_email_open_the_parcel_and_resolve_its_exception(
    live_server, client, browser
):
    # given a buyer's parcel with a failed delivery attempt, another buyer's parcel, an agent
    order = OrderFactory(buyer_email="camille.martin@example.fr", buyer_name="Camille Martin",
                         reference="CMD-2026-0042")  # fmt: skip
    shipment = ShipmentFactory(order=order, tracking_number="6A00000004242")
    TrackingEventFactory(shipment=shipment, status="failed_attempt",
                         message="Destinataire absent, avis de passage")  # fmt: skip
    exception = ShipmentExceptionFactory(shipment=shipment, kind="failed_attempt")
    ShipmentFactory(order=OrderFactory(buyer_email="someone@example.fr"))
    client.force_login(cs_agent(username="lea"))
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    context = browser.new_context(viewport=DESKTOP, locale="fr-FR")
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )
    page = context.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        # when the agent types the buyer's email in the search box (no submit: htmx)
        page.goto(f"{live_server.url}/cs/")
        page.fill("#q", "Camille.Martin@example.fr")
        row = page.locator(f"#shipment-{shipment.id}")
        # then the parcel is listed, alone
        expect(row).to_be_visible(timeout=10_000)
        expect(page.locator("#results-table tbody tr")).to_have_count(1)
        assert "CMD-2026-0042" in row.inner_text()
        assert "q=Camille.Martin" in page.url  # the search is in the address bar
        screenshot(page, "cs-search")
        # when they open it
        row.get_by_role("link", name="6A00000004242").click()
        # then they see what happened and the open exception
        expect(page.locator("#timeline")).to_contain_text("Destinataire absent")
        expect(page.locator(f"#exception-{exception.id}")).to_contain_text("Failed delivery")
        # when they resolve it with a reason
        form = page.locator(f"#exception-{exception.id} form.resolve")
        form.locator("select[name=resolution]").select_option("reshipped")
        form.locator("input[name=note]").fill("New delivery booked with the buyer")
        form.get_by_role("button", name="Mark handled").click()
        # then the page says so and the exception is resolved
        expect(page.locator(".messages")).to_contain_text("Exception resolved.")
        expect(page.locator(f"#exception-{exception.id}")).to_contain_text("Parcel re-shipped")
        screenshot(page, "cs-shipment")
    finally:
        context.close()
    exception.refresh_from_db()
    assert (exception.resolution, exception.resolved_by.username) == ("reshipped", "lea")
    assert exception.resolution_note == "New delivery booked with the buyer"
    assert errors == []
