import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from payouts.models import JournalEntry, Payout
from returns.models import ReturnPolicy, ReturnRequest
from returns.services import (
    ItemChoice,
    return_request_accept,
    return_request_create,
    return_request_refuse,
)
from tests.returns.factories import OrderItemFactory, delivered_order
from tests.sellers.factories import SellerMemberFactory
from tests.support.images import photo

pytestmark = pytest.mark.django_db

PNG = photo("PNG")  # a real image, with EXIF and GPS: uploads are decoded


@pytest.fixture
def member():
    return SellerMemberFactory()


@pytest.fixture
def seller_client(client, member):
    client.force_login(member.user)
    return client


def a_request(order, lamp, **kwargs):
    fields = {"items": [ItemChoice(lamp.id, 1, "like_new")], "reason": "wrong_size",
              "resolution": "refund", **kwargs}  # fmt: skip
    return return_request_create(order=order, **fields)


def test_tracking_page_offers_a_return_once_delivered(client):
    # given a delivered order
    order, _lamp, _shade = delivered_order()
    # when the buyer opens the tracking page
    page = client.get(f"/t/{order.public_token}/")
    # then it links to the return form
    assert f'href="/t/{order.public_token}/return/"' in page.content.decode()


def test_buyer_return_page_shows_the_policy_and_the_items(client):
    # given a delivered order
    order, _lamp, _shade = delivered_order()
    # when the buyer opens the return page (in the order's language, or in English)
    page = client.get(f"/t/{order.public_token}/return/")
    english = client.get(f"/t/{order.public_token}/return/?lang=en").content.decode()
    # then the rules and the items are there, with the tracking pages' protections
    html = page.content.decode()
    assert page.status_code == 200
    assert "reprend les articles dans les 14 jours suivant la livraison" in html
    assert "takes items back within 14 days of delivery" in english
    assert "Lampe Arco" in html and "Abat-jour lin" in html
    assert page["Referrer-Policy"] == "same-origin"
    assert "default-src 'none'" in page["Content-Security-Policy"]


def test_buyer_return_page_posts_a_request_with_a_photo(client, settings, tmp_path):
    # given a delivered order
    settings.MEDIA_ROOT = tmp_path
    order, lamp, _shade = delivered_order()
    # when the buyer returns one lamp with a photo
    response = client.post(f"/t/{order.public_token}/return/", {
        "action": "request", f"quantity_{lamp.id}": "1", f"condition_{lamp.id}": "like_new",
        "reason": "wrong_size", "resolution": "refund", "description": "Trop grande",
        "photos": [SimpleUploadedFile("lampe.png", PNG, content_type="image/png")],
    })  # fmt: skip
    # then the request exists, the payout is held, and the page follows it
    assert response.status_code == 302
    request = ReturnRequest.objects.get(order=order)
    assert (request.refund_amount, request.photos.count()) == (1500, 1)
    assert Payout.objects.get(order=order).hold_reason == "return"
    page = client.get(response["Location"])
    assert "En attente de la réponse du vendeur" in page.content.decode()


def test_buyer_return_page_shows_the_refusal_reason_and_stores_nothing(client):
    # given an order delivered 20 days ago (default window: 14 days)
    order, lamp, _shade = delivered_order(days_ago=20)
    # when the buyer posts a request (the page in English)
    response = client.post(f"/t/{order.public_token}/return/?lang=en", {
        "action": "request", f"quantity_{lamp.id}": "1", f"condition_{lamp.id}": "like_new",
        "reason": "wrong_size", "resolution": "refund",
    })  # fmt: skip
    # then the page says why, with a 400, and nothing is stored
    assert response.status_code == 400
    assert "within 14 days of delivery" in response.content.decode()
    assert not ReturnRequest.objects.exists()
    # and the French buyer reads it in French
    french = client.post(f"/t/{order.public_token}/return/", {
        "action": "request", f"quantity_{lamp.id}": "1", f"condition_{lamp.id}": "like_new",
        "reason": "wrong_size", "resolution": "refund",
    })  # fmt: skip
    assert "acceptés dans les 14 jours suivant la livraison" in french.content.decode()


def test_buyer_return_page_enters_the_return_tracking_number(client):
    # given an accepted return
    order, lamp, _shade = delivered_order()
    request = return_request_accept(request=a_request(order, lamp), actor=None)
    # when the buyer enters the return parcel's number
    response = client.post(f"/t/{order.public_token}/return/", {
        "action": "tracking", "return": request.pk, "tracking_number": "6A12345678901",
    })  # fmt: skip
    # then the return parcel is tracked
    assert response.status_code == 302
    request.refresh_from_db()
    assert (request.status, request.return_shipment.direction) == ("shipped", "return")
    # and the audit trail names the buyer, not the system
    shipped = request.events.get(to_status="shipped")
    assert (shipped.actor, shipped.actor_label) == (None, "buyer")


def test_buyer_return_page_with_another_orders_return_id_changes_nothing(client):
    # given two delivered orders, the second with an accepted return
    order, _lamp, _shade = delivered_order()
    other, other_lamp, _ = delivered_order()
    theirs = return_request_accept(request=a_request(other, other_lamp), actor=None)
    # when the first order's buyer posts the other order's return id
    response = client.post(f"/t/{order.public_token}/return/", {
        "action": "cancel", "return": theirs.pk,
    })  # fmt: skip
    # then it is refused as unknown and the other return is untouched
    assert response.status_code == 400
    theirs.refresh_from_db()
    assert theirs.status == "accepted"


def test_buyer_return_page_queries_do_not_grow_with_lines_and_returns(
    client, django_assert_max_num_queries
):
    # given a delivered order of many lines, with several finished returns
    order, lamp, _shade = delivered_order()
    for n in range(8):
        OrderItemFactory(order=order, sku=f"EXTRA-{n}", name=f"Extra item {n}", quantity=1,
                         unit_amount=500)  # fmt: skip
    for _ in range(3):
        request = a_request(order, lamp)
        return_request_refuse(request=request, actor=None, reason="not this time")
    # when the buyer opens the return page
    with django_assert_max_num_queries(10):
        page = client.get(f"/t/{order.public_token}/return/")
    # then every line is offered
    assert page.status_code == 200
    assert all(f"Extra item {n}" in page.content.decode() for n in range(8))


def test_buyer_return_page_of_an_unknown_token_is_404(client):
    assert client.get("/t/not-a-token/return/").status_code == 404


def test_seller_accepts_a_return_in_the_portal(seller_client, member):
    # given a requested return of the member's seller
    order, lamp, _shade = delivered_order(seller=member.seller)
    request = a_request(order, lamp)
    # when the seller accepts it
    response = seller_client.post(reverse("returns:accept", args=[request.pk]))
    # then it is accepted
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == "accepted"


def test_seller_refusal_without_reason_is_shown_and_changes_nothing(seller_client, member):
    # given a requested return
    order, lamp, _shade = delivered_order(seller=member.seller)
    request = a_request(order, lamp)
    # when the seller refuses without a reason
    response = seller_client.post(reverse("returns:refuse", args=[request.pk]), {"reason": ""},
                                  follow=True)  # fmt: skip
    # then the message says why and the request is still waiting
    assert "Say why the return is refused" in response.content.decode()
    request.refresh_from_db()
    assert request.status == "requested"


def test_seller_cannot_act_on_another_sellers_return(seller_client):
    # given another seller's return
    order, lamp, _shade = delivered_order()
    request = a_request(order, lamp)
    # when this seller tries to see or accept it
    # then it does not exist for them
    assert seller_client.get(reverse("returns:seller-detail", args=[request.pk])).status_code == 404
    assert seller_client.post(reverse("returns:accept", args=[request.pk])).status_code == 404
    request.refresh_from_db()
    assert request.status == "requested"


def test_seller_marks_a_return_received_and_the_buyer_is_refunded(seller_client, member):
    # given a return on its way back
    from returns.services import return_shipment_add

    order, lamp, _shade = delivered_order(seller=member.seller)
    request = return_request_accept(request=a_request(order, lamp), actor=None)
    return_shipment_add(request=request, tracking_number="6A12345678901", actor=None)
    # when the seller says it arrived
    seller_client.post(reverse("returns:received", args=[request.pk]))
    # then the refund is in the ledger
    assert JournalEntry.objects.filter(payout__order=order, kind="return_refund").exists()


def test_seller_policy_edit_saves_a_new_version_and_shows_errors(seller_client, member):
    # given the policy page
    page = seller_client.get(reverse("returns:policy"))
    assert page.status_code == 200
    form = {"accepts_returns": "on", "window_days": "30", "allowed_reasons": ["defective"],
            "allowed_conditions": ["unopened"], "shipping_paid_by": "seller", "min_photos": "1",
            "resolutions": ["refund"]}  # fmt: skip
    # when the seller saves a policy with no reason, then a valid one
    bad = seller_client.post(reverse("returns:policy"), {**form, "allowed_reasons": []})
    good = seller_client.post(reverse("returns:policy"), form)
    # then the first is refused at its field, the second is version 1
    assert "Allow at least one reason" in bad.content.decode()
    assert good.status_code == 302
    policy = ReturnPolicy.objects.get(seller=member.seller)
    assert (policy.version, policy.window_days, policy.min_photos) == (1, 30, 1)


def test_seller_return_list_queries_do_not_grow_with_rows(
    seller_client, member, django_assert_max_num_queries
):
    # given a dozen returns
    for _ in range(12):
        order, lamp, _shade = delivered_order(seller=member.seller)
        a_request(order, lamp)
    # when the list is shown
    with django_assert_max_num_queries(8):
        page = seller_client.get(reverse("returns:seller-list"))
    # then every row is there
    assert page.content.decode().count("data-return=") == 12


def test_seller_return_stats_give_rates_per_product_and_courier(seller_client, member):
    # given two delivered orders, one with a lamp returned
    order, lamp, _shade = delivered_order(seller=member.seller)
    delivered_order(seller=member.seller)
    a_request(order, lamp)
    # when the numbers page is shown
    page = seller_client.get(reverse("returns:stats"))
    # then the rate is 1 of 2 orders, the lamp 1 of 4 units, La Poste 1 of 2
    html = page.content.decode()
    assert "Return rate: 50,0 %" in html  # French number format (LANGUAGE_CODE)
    assert "Taille ou coupe inadaptée" in html  # "Wrong size or fit"
    stats = page.context["stats"]
    lamp_row = next(r for r in stats.by_product if r.key == "LAMP-1")
    assert (lamp_row.units_sold, lamp_row.units_returned, lamp_row.rate_percent) == (4, 1, 25.0)
    (courier,) = stats.by_courier
    assert (courier.key, courier.units_sold, courier.units_returned) == ("laposte", 2, 1)
    assert [(str(label), n) for label, n in lamp_row.reasons] == [("Taille ou coupe inadaptée", 1)]
    assert [n for _label, n in courier.reasons] == [1]


def test_seller_sees_the_buyers_photo_and_nobody_else_does(client, member, settings, tmp_path):
    # given a return with a photo, of the member's seller
    from tests.returns.factories import requested_return

    settings.MEDIA_ROOT = tmp_path
    request = requested_return(seller=member.seller, photo=True)
    url = reverse("returns:photo", args=[request.pk, request.photos.get().pk])
    # when the seller, another seller and an anonymous visitor ask for it
    client.force_login(member.user)
    mine = client.get(url)
    client.force_login(SellerMemberFactory().user)
    theirs = client.get(url)
    client.logout()
    anonymous = client.get(url)
    # then only the seller gets the image
    assert (mine.status_code, mine["Content-Type"]) == (200, "image/png")
    served = Image.open(io.BytesIO(b"".join(mine.streaming_content)))
    assert (served.format, served.size, dict(served.getexif())) == ("PNG", (64, 48), {})
    assert (theirs.status_code, anonymous.status_code) == (404, 302)


def test_seller_return_stats_queries_do_not_grow_with_rows(
    seller_client, member, django_assert_max_num_queries
):
    # given many delivered orders, some returned
    for n in range(10):
        order, lamp, _shade = delivered_order(seller=member.seller)
        if n % 3 == 0:
            a_request(order, lamp)
    # when the numbers page is shown
    with django_assert_max_num_queries(14):
        page = seller_client.get(reverse("returns:stats"))
    # then the rate counts them all
    assert page.context["stats"].orders_returned == 4


def test_parcel_page_offers_the_return_too_and_its_link_works(client):
    # given a delivered order, seen from its parcel's own page
    order, _lamp, _shade = delivered_order()
    parcel = order.shipments.get()
    html = client.get(f"/t/s/{parcel.public_token}/").content.decode()
    # when the buyer follows the link
    assert f'href="/t/s/{parcel.public_token}/return/"' in html
    page = client.get(f"/t/s/{parcel.public_token}/return/")
    # then it is the order's return page
    assert page.status_code == 200
    assert "Lampe Arco" in page.content.decode()


def test_buyer_return_form_refuses_a_post_forged_by_another_site():
    # given a delivered order, and a client that enforces CSRF as a browser session would
    from django.test import Client

    order, lamp, _shade = delivered_order()
    forger = Client(enforce_csrf_checks=True)
    # when another site posts a request without the form's CSRF token
    response = forger.post(
        f"/t/{order.public_token}/return/",
        {"action": "request", f"quantity_{lamp.id}": "1", "reason": "wrong_size"},
        HTTP_ORIGIN="https://evil.example",
    )
    # then it is refused and nothing is stored
    assert response.status_code == 403
    assert not ReturnRequest.objects.exists()
