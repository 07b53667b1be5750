"""The seller's protection page in a real browser: the share of protected orders, and each
unprotected one with what happened and what to do. Fixed dates (the page reads a stated
period): nothing depends on the day the suite runs."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from sellers.models import Order
from sellers.protection import order_protections_refresh
from tests.sellers.factories import SellerMemberFactory, shipped_parcel
from tests.support.browser import DESKTOP, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PARIS = ZoneInfo("Europe/Paris")
CONFIRMED = datetime(2026, 11, 23, 18, 0, tzinfo=PARIS)
SHIP, PROMISED = date(2026, 11, 24), date(2026, 11, 26)


def test_seller_reads_why_orders_are_not_protected(live_server, open_page):
    # given a seller with a protected order, one handed over a day late, one with a UPS
    # number declared as La Poste, and one never scanned
    member = SellerMemberFactory(user__username="protect-browser")
    journeys = {
        "PROT-OK": ("laposte", None, [(14, "in_transit", ""), (112, "delivered", "")]),
        "PROT-LATE": ("laposte", None, [(40, "in_transit", ""), (112, "delivered", "")]),
        "PROT-COURIER": ("laposte", "1Z999AA10123456784", [(14, "in_transit", "")]),
        "PROT-NOSCAN": ("laposte", None, []),
    }
    for reference, (carrier, number, events) in journeys.items():
        parcel = shipped_parcel(seller=member.seller, shipped_at=CONFIRMED, carrier=carrier,
                                promised=PROMISED, expected_ship=SHIP, events=events,
                                tracking_number=number)  # fmt: skip
        Order.objects.filter(pk=parcel.order_id).update(reference=reference, created_at=CONFIRMED)
    order_protections_refresh(order_ids=list(Order.objects.values_list("id", flat=True)))

    # when the seller logs in and opens the protection page for November
    page = open_page(f"{live_server.url}/seller/login/", viewport=DESKTOP)
    page.fill("input[name=username]", "protect-browser")
    page.fill("input[name=password]", "correct-horse-battery")
    page.click("button[type=submit]")
    page.locator("#couriers, main").first.wait_for()
    page.goto(f"{live_server.url}/seller/protection/?from=2026-11-01&to=2026-11-30")
    page.locator("#protection-share").wait_for()

    # then a quarter of the orders are protected
    assert "25.0 %" in page.locator("#protection-share").inner_text()
    assert "1 of 4 orders" in page.locator("#protection-share").inner_text()
    # and the three others are listed, each with its reason and the advice
    rows = {
        row.split("\t")[0]: row for row in page.locator("#unprotected tbody tr").all_inner_texts()
    }
    assert sorted(rows) == ["PROT-COURIER", "PROT-LATE", "PROT-NOSCAN"]
    assert "Handed to the courier after the ship date" in rows["PROT-LATE"]
    assert "1 day(s) after the ship date 2026-11-24" in rows["PROT-LATE"]
    assert "Check the courier" in rows["PROT-COURIER"]
    assert "not a laposte number (it looks like ups)" in rows["PROT-COURIER"]
    assert "No courier scan" in rows["PROT-NOSCAN"]
    # and the portal's navigation leads here
    assert page.locator("nav a", has_text="Protection").count() == 1
    assert page.console_errors == []
    screenshot(page, "seller-portal-protection")
