"""The seller portal in a real browser: log in, read the dashboard, compare couriers on a lane,
upload a CSV of tracking numbers and watch it finish."""

from datetime import timedelta

import pytest
from django.utils import timezone

from sellers.rollups import rollups_refresh
from tests.sellers.factories import OrderFactory, SellerMemberFactory, shipped_parcel
from tests.support.browser import DESKTOP, screenshot
from tracking.models import Shipment

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DELIVERED = [(4, "in_transit", ""), (28, "delivered", "delivered.signed")]
SLOW = [(30, "in_transit", ""), (150, "delivered", "delivered.signed")]


def test_seller_logs_in_compares_couriers_and_uploads_a_csv(
    live_server, open_page, django_q_sync, tmp_path
):
    # given a seller with parcels on two couriers to Paris, rollups built
    member = SellerMemberFactory(user__username="atelier-browser")
    shipped = timezone.now() - timedelta(days=10)
    for i in range(6):
        shipped_parcel(seller=member.seller, shipped_at=shipped, carrier="laposte",
                       postcode="75011", events=DELIVERED)  # fmt: skip
        shipped_parcel(seller=member.seller, shipped_at=shipped, carrier="dhl", postcode="75011",
                       events=SLOW if i % 2 else DELIVERED)  # fmt: skip
    rollups_refresh()
    OrderFactory(seller=member.seller, reference="WEB-1")
    OrderFactory(seller=member.seller, reference="WEB-2")

    # when the seller logs in
    page = open_page(f"{live_server.url}/seller/login/", viewport=DESKTOP)
    page.fill("input[name=username]", "atelier-browser")
    page.fill("input[name=password]", "correct-horse-battery")
    page.click("button[type=submit]")
    # then the dashboard shows both couriers and the transit chart
    page.locator("#couriers").wait_for()
    assert page.url.endswith("/seller/performance/")
    couriers = page.locator("#couriers tbody tr").all_inner_texts()
    assert len(couriers) == 2
    assert page.locator("svg.chart").count() == 1

    # when they compare couriers on the Paris lane
    page.select_option("select[name=destination]", "FR-75")
    page.click("text=Compare")
    page.locator("#couriers").wait_for()
    assert "destination=FR-75" in page.url
    rows = page.locator("#couriers tbody tr").all_inner_texts()
    # then each courier's row carries its own figures: six parcels each, all delivered, DHL's
    # slow half showing in a longer p90 (business days: their count moves with the hour the
    # parcels were shipped, not their order), couriers by name
    cells = [row.split("\t") for row in rows]
    assert [row[:3] for row in cells] == [["dhl", "6", "100.0 %"], ["laposte", "6", "100.0 %"]]
    dhl_p90, laposte_p90 = (int(row[4].removesuffix(" d")) for row in cells)
    assert dhl_p90 > laposte_p90
    screenshot(page, "seller-portal-performance")

    # and open the SLA, whose valid tracking rate is explained one click away
    page.click("nav >> text=SLA")
    page.locator("#sla-valid_tracking_rate").wait_for()
    # four figures, the on-time rate twice (as measured, and with protected lateness left out)
    assert page.locator("svg.chart").count() == 5
    assert page.locator("#sla-on_time_delivery_rate_protected").count() == 1
    page.click("#sla-delivery_rate .big a")
    page.locator("#shipments").wait_for()
    assert "parcels confirmed" in page.inner_text("main")

    # and upload a CSV with one bad line
    csv_file = tmp_path / "tracking.csv"
    csv_file.write_text(
        "order;carrier;tracking_number\nWEB-1;laposte;6A55555555555\nWEB-2;ups;12345\n",
        encoding="cp1252",
    )
    page.click("text=Tracking upload")
    page.set_input_files("input[name=file]", str(csv_file))
    page.click("button[name=upload]")
    # then the progress ends with the applied line and the bad one explained
    page.locator("#upload-errors").wait_for(timeout=15_000)
    assert "1 applied" in page.locator("#upload-progress").inner_text()
    assert "WEB-2" in page.locator("#upload-errors").inner_text()
    screenshot(page, "seller-portal-upload")
    assert Shipment.objects.filter(order__reference="WEB-1").count() == 1
    assert not page.console_errors
