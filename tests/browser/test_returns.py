"""A buyer's return in a real browser: from the tracking page to the return form (items,
reason, a photo), then the seller accepting it in the portal and registering the return parcel.
Screenshots in test-artifacts/screenshots/."""

import pytest
from django.core.cache import cache

from payouts.models import Payout
from returns.models import ReturnRequest
from tests.returns.factories import delivered_order
from tests.sellers.factories import SellerMemberFactory
from tests.support.browser import DESKTOP, screenshot
from tests.support.images import photo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PNG = photo("PNG")  # a real image: uploads are decoded


def test_buyer_requests_a_return_and_the_seller_accepts_it(
    live_server, open_page, client, settings, tmp_path
):
    # given an order delivered three days ago, and the seller's staff logged in
    cache.clear()
    settings.MEDIA_ROOT = tmp_path
    member = SellerMemberFactory()
    order, lamp, _shade = delivered_order(seller=member.seller)
    photo = tmp_path / "lampe.png"
    photo.write_bytes(PNG)

    # when the buyer follows "Return an item" from the tracking page
    page = open_page(f"{live_server.url}/t/{order.public_token}/")
    page.click("text=Retourner un article")
    page.wait_for_url(f"**/t/{order.public_token}/return/")
    # and returns one lamp, too big, with a photo
    page.select_option(f"#quantity-{lamp.id}", "1")
    page.select_option(f"#condition-{lamp.id}", "like_new")
    page.select_option("#reason", "wrong_size")
    page.select_option("#resolution", "refund")
    page.fill("#description", "Trop grande pour ma table de chevet.")
    page.set_input_files("#photos", str(photo))
    screenshot(page, "return-buyer-form")
    page.click("#send-return")
    # then the page follows the request, waiting for the seller
    request = ReturnRequest.objects.get(order=order)
    status = page.locator(f"#return-{request.pk}-status")
    status.wait_for(timeout=10_000)
    assert "En attente de la réponse du vendeur" in status.inner_text()
    assert page.console_errors == []
    screenshot(page, "return-buyer-requested")

    # when the seller opens the portal's returns, accepts, and registers the return parcel
    client.force_login(member.user)
    seller = open_page(f"{live_server.url}/seller/returns/", viewport=DESKTOP)
    seller.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME,
                                 "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                                 "url": live_server.url}])  # fmt: skip
    seller.goto(f"{live_server.url}/seller/returns/")
    seller.click(f"text={request.reference}")
    assert "Lampe Arco" in seller.inner_text("main")
    seller.click("#accept")
    assert "Accepted" in seller.inner_text("#return-status")
    seller.fill("#id_tracking_number", "6A12345678901")
    seller.click("text=Register the return parcel")
    assert "on its way back" in seller.inner_text("#return-status")
    screenshot(seller, "return-seller-accepted")

    # then the buyer sees the return parcel, and the payout waits for the return
    page.reload()
    assert "En retour vers le vendeur" in page.inner_text(f"#return-{request.pk}-status")
    request.refresh_from_db()
    assert (request.status, request.return_shipment.direction) == ("shipped", "return")
    payout = Payout.objects.get(order=order)
    assert (payout.status, payout.hold_reason) == ("on_hold", "return")
