"""The buyer tracking page in a real browser: languages, branding, phone and desktop, the live
refresh through htmx after a courier event, an exception. Screenshots in
test-artifacts/screenshots/."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import expect

from sellers.models import SellerBranding
from tests.sellers.factories import OrderFactory
from tests.support.browser import DESKTOP, PHONE, screenshot
from tests.tracking.factories import ShipmentFactory, TrackingEventFactory
from tracking.carriers.base import CarrierEvent, Location, TrackingResult
from tracking.models import ProofOfDelivery
from tracking.services import ShipmentUpdate, events_ingest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def ago(hours: float) -> datetime:
    return timezone.now() - timedelta(hours=hours)


def add_event(shipment, when, status, substatus="", city="Corbas"):
    return TrackingEventFactory(
        shipment=shipment, occurred_at=when, status=status, substatus=substatus, city=city,
        country="FR",
    )  # fmt: skip


def branded_order():
    order = OrderFactory(reference="CMD-2026-0042", buyer_locale="fr")
    order.seller.name = "Atelier Lumière"
    order.seller.save()
    SellerBranding.objects.create(
        seller=order.seller,
        primary_color="#0B3D2E",
        accent_color="#F5C542",
        message="Merci pour votre commande ! Chaque pièce est emballée à la main à Lyon.",
        store_url="https://atelier-lumiere.example/",
        contact_url="https://atelier-lumiere.example/contact",
        returns_url="https://atelier-lumiere.example/retours",
    )
    moving = ShipmentFactory(order=order, tracking_number="6A00000000001")
    add_event(moving, ago(30), "info_received", city="Wissous")
    add_event(moving, ago(20), "in_transit", city="Chilly-Mazarin")
    add_event(moving, ago(5), "in_transit", city="Corbas")
    moving.status = "in_transit"
    moving.estimated_delivery_at = timezone.now() + timedelta(days=1)
    moving.save()
    delivered = ShipmentFactory(order=order, tracking_number="6A00000000002")
    add_event(delivered, ago(50), "in_transit")
    add_event(delivered, ago(28), "out_for_delivery", city="Lyon")
    proof = add_event(delivered, ago(26), "delivered", "delivered.mailbox", city="Lyon")
    ProofOfDelivery.objects.create(
        shipment=delivered, delivered_at=proof.occurred_at, location_type="mailbox",
        signed_by="Camille Martin", source_event=proof,
    )  # fmt: skip
    delivered.status, delivered.substatus = "delivered", "delivered.mailbox"
    delivered.delivered_at = proof.occurred_at
    delivered.save()
    return order, moving


def test_branded_order_page_in_french_on_a_phone(live_server, open_page):
    # given a branded seller's order with a moving and a delivered parcel
    order, _moving = branded_order()

    # when the buyer opens it on a phone (order locale: French)
    page = open_page(f"{live_server.url}/t/{order.public_token}/", viewport=PHONE)

    # then the page is in French, in the seller's colours, fits the screen, and nothing
    # (inline script or style) was blocked by the Content-Security-Policy
    expect(page.locator("h1")).to_have_text("Commande CMD-2026-0042")
    expect(page.get_by_text("Votre colis est en route.")).to_be_visible()
    expect(page.get_by_text("Votre colis a été livré.")).to_be_visible()
    header = page.locator(".brand-bar")
    expect(header).to_have_css("background-color", "rgb(11, 61, 46)")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert page.console_errors == []
    screenshot(page, "order-fr-phone-branded")


def test_order_page_in_german_on_a_desktop_via_url(live_server, open_page):
    order, _moving = branded_order()

    page = open_page(f"{live_server.url}/t/{order.public_token}/?lang=de", viewport=DESKTOP)

    expect(page.locator("h1")).to_have_text("Bestellung CMD-2026-0042")
    expect(page.get_by_text("Ihr Paket ist unterwegs.")).to_be_visible()
    expect(page.get_by_text("In Ihren Briefkasten gelegt")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "de")
    screenshot(page, "order-de-desktop-branded")


def test_language_switcher_changes_the_language_and_remembers_it(live_server, open_page):
    order, _moving = branded_order()
    page = open_page(f"{live_server.url}/t/{order.public_token}/", viewport=DESKTOP)

    # when the buyer picks Italiano and confirms
    page.select_option("#lang-select", "it")
    page.get_by_role("button", name="Changer").click()

    # then the page comes back in Italian, and stays so on the next visit
    expect(page.locator("h1")).to_have_text("Ordine CMD-2026-0042")
    page.goto(f"{live_server.url}/t/{order.public_token}/")
    expect(page.get_by_text("Il tuo pacco è in viaggio.")).to_be_visible()


def test_timeline_shows_a_new_courier_event_without_reloading(live_server, open_page, settings):
    # given the page open on a parcel in transit, refreshing every second
    settings.TRACKING_PAGE_POLL_SECONDS = 1
    order, moving = branded_order()
    page = open_page(f"{live_server.url}/t/{order.public_token}/?lang=en", viewport=PHONE)
    expect(page.get_by_text("Your parcel is on its way.")).to_be_visible()
    page.evaluate("window.pageWasNotReloaded = true")

    # when the courier reports it out for delivery
    events_ingest(
        updates=[
            ShipmentUpdate(
                shipment_id=moving.id,
                result=TrackingResult(
                    tracking_number=moving.tracking_number,
                    events=(
                        CarrierEvent(
                            occurred_at=datetime.now(UTC) - timedelta(minutes=1),
                            status="out_for_delivery",
                            substatus=None,
                            code="MD2",
                            message="Votre colis est en cours de livraison",
                            location=Location(city="Lyon", postcode="69003", country="FR"),
                        ),
                    ),
                ),
            )
        ]
    )

    # then the open page shows it by itself, newest first, without a reload
    first_parcel = page.locator("article.parcel").first
    expect(first_parcel.locator(".headline")).to_have_text(
        "Your parcel is out for delivery today.", timeout=10_000
    )
    expect(first_parcel.locator(".event").first.locator(".event-label")).to_have_text(
        "Out for delivery"
    )
    assert page.evaluate("window.pageWasNotReloaded") is True
    assert page.console_errors == []
    screenshot(page, "order-en-phone-after-live-update")


def test_address_problem_says_what_to_do_on_a_desktop(live_server, open_page):
    # given a parcel the courier cannot deliver for an address problem
    order, moving = branded_order()
    add_event(moving, ago(1), "exception", "exception.address_issue", city="Lyon")
    moving.status, moving.substatus = "exception", "exception.address_issue"
    moving.save()

    page = open_page(f"{live_server.url}/t/s/{moving.public_token}/?lang=es", viewport=DESKTOP)

    # then it says what happened, what to do, and links to the seller's contact page
    expect(page.get_by_text("El transportista tiene un problema con la dirección")).to_be_visible()
    advice = page.locator(".advice")
    expect(advice).to_contain_text("Contacta con el vendedor lo antes posible")
    expect(advice.get_by_role("link", name="Contactar con el vendedor")).to_have_attribute(
        "href", "https://atelier-lumiere.example/contact"
    )
    expect(page.locator(".step-problem")).to_have_count(1)
    screenshot(page, "shipment-es-desktop-address-problem")


def test_lookup_form_finds_the_order_in_a_real_browser(live_server, open_page):
    # given an order the buyer knows by its reference and postcode
    order = OrderFactory(reference="CMD-2026-0777", destination_postcode="69003")
    ShipmentFactory(order=order)
    page = open_page(f"{live_server.url}/track/?lang=en", viewport=PHONE)
    # when the buyer fills in the form and sends it (the browser's own POST, with its Origin)
    page.get_by_label("Order reference").fill("CMD-2026-0777")
    page.get_by_label("Delivery postcode or email address").fill("69003")
    page.get_by_role("button").last.click()
    # then they land on the order's page, not on a CSRF refusal
    page.wait_for_url(f"**/t/{order.public_token}/**")
    expect(page.locator("h1")).to_contain_text("CMD-2026-0777")
    screenshot(page, "lookup-found-phone")
