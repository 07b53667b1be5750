"""Issue 14, item 1: one delivered parcel must not prove delivery for several orders.

Each test replays the attack through HTTP: a tracking number already attached to another
order's live parcel is registered again through one entry point (core API, seller API, the
buyer's return form, the CS courier correction, the admin), and a delivery scanned before the
order existed is offered as the order's proof.
"""

import json
from datetime import datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from payouts.models import Payout
from payouts.services import payout_open_for_order, payouts_evaluate
from returns.services import ItemChoice, return_request_accept, return_request_create
from sellers.models import Order
from tests.payouts.factories import OrderFactory, proven_parcel
from tests.returns.factories import delivered_order
from tests.sellers.factories import SellerMemberFactory
from tests.support.images import photo
from tests.tracking.factories import ShipmentFactory, cs_agent
from tracking.models import ProofOfDelivery, RawPayload, Shipment, ShipmentAudit
from tracking.services.push import push_process

pytestmark = pytest.mark.django_db

DELIVERED_NUMBER = "3318810025"  # a DHL parcel already delivered to another buyer


def delivered_elsewhere(**order_fields) -> Shipment:
    """Another order's parcel, delivered with the courier's proof."""
    return proven_parcel(OrderFactory(**order_fields), carrier="dhl",
                         tracking_number=DELIVERED_NUMBER)  # fmt: skip


def test_api_register_refuses_another_sellers_delivered_number(seller, seller_api):
    # given a parcel of another seller, delivered, and an order of ours
    delivered_elsewhere()
    order = OrderFactory(seller=seller)
    # when we register its number (spaced, as typed) on our order
    response = seller_api.post("/api/v1/shipments/", {
        "order": order.id, "carrier": "dhl", "tracking_number": "3318 8100 25",
    }, format="json")  # fmt: skip
    # then it is refused with a machine-readable code, and our order has no parcel
    assert response.status_code == 400
    assert response.json()["code"] == "duplicate_tracking_number"
    assert "another order" in response.json()["message"]
    assert not Shipment.objects.filter(order=order).exists()


def test_api_register_refuses_it_on_two_more_orders_of_the_same_seller(seller, marketplace_api):
    # given one of our delivered parcels (the attack: register it on two more orders)
    original = delivered_elsewhere(seller=seller, reference="ORD-1")
    second, third = OrderFactory(seller=seller), OrderFactory(seller=seller)
    # when
    answers = [
        marketplace_api.post(
            "/api/v1/shipments/",
            {
                "order": order.id,
                "carrier": "dhl",
                "tracking_number": DELIVERED_NUMBER,
            },
            format="json",
        )  # fmt: skip
        for order in (second, third)
    ]
    # then both are refused, naming our own order that has it; only the original remains
    assert [a.status_code for a in answers] == [400, 400]
    assert "(ORD-1)" in answers[0].json()["message"]
    assert list(Shipment.objects.filter(tracking_number=DELIVERED_NUMBER)) == [original]


def test_api_register_again_on_the_same_order_stays_idempotent(seller, seller_api):
    order = OrderFactory(seller=seller)
    body = {"order": order.id, "carrier": "dhl", "tracking_number": DELIVERED_NUMBER}
    first = seller_api.post("/api/v1/shipments/", body, format="json")
    again = seller_api.post("/api/v1/shipments/", body, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]


def test_seller_api_confirm_refuses_another_sellers_number(seller, seller_api):
    delivered_elsewhere()
    order = OrderFactory(seller=seller, reference="MINE-1")
    response = seller_api.post("/api/v1/sellers/shipments/", {
        "order_reference": "MINE-1", "carrier": "dhl", "tracking_number": DELIVERED_NUMBER,
    }, format="json")  # fmt: skip
    assert (response.status_code, response.json()["code"]) == (400, "duplicate_tracking_number")
    assert not Shipment.objects.filter(order=order).exists()


def test_buyer_return_form_refuses_another_orders_delivered_parcel(client):
    # given an accepted return on a delivered order, and another order's delivered parcel
    order, lamp, _shade = delivered_order()
    request = return_request_create(order=order, items=[ItemChoice(lamp.id, 1, "like_new")],
                                    reason="wrong_size", resolution="refund")  # fmt: skip
    request = return_request_accept(request=request, actor=None)
    delivered_elsewhere()
    # when the buyer gives that parcel's number as the return parcel
    response = client.post(f"/t/{order.public_token}/return/?lang=en", {
        "action": "tracking", "return": request.pk, "carrier": "dhl",
        "tracking_number": DELIVERED_NUMBER,
    }, follow=True)  # fmt: skip
    # then it is refused (no return parcel that "arrives" at once, so no refund)
    request.refresh_from_db()
    assert (request.status, request.return_shipment_id) == ("accepted", None)
    assert "one parcel proves one delivery" in response.content.decode()
    assert not Shipment.objects.filter(order=order, direction="return").exists()


def test_cs_courier_correction_refuses_a_number_live_on_another_order(client):
    # given a parcel registered with the wrong courier, and another order's DHL parcel
    delivered_elsewhere()
    mistaken = ShipmentFactory(carrier="laposte", tracking_number=DELIVERED_NUMBER)
    client.force_login(cs_agent())
    # when an agent "corrects" it to DHL
    response = client.post(
        reverse("cs:carrier", args=[mistaken.id]),
        {"carrier": "dhl", "reason": "wrong"},
        follow=True,
    )
    # then it is refused and nothing changes
    assert "one parcel proves one delivery" in response.content.decode()
    mistaken.refresh_from_db()
    assert mistaken.carrier == "laposte"
    assert not ShipmentAudit.objects.filter(shipment=mistaken).exists()


def test_admin_add_refuses_a_number_live_on_another_order(admin_client):
    delivered_elsewhere()
    order = OrderFactory()
    response = admin_client.post("/admin/tracking/shipment/add/", {
        "order": order.id, "seller": order.seller_id, "carrier": "dhl",
        "direction": "outbound", "tracking_number": "3318 8100 25", "status": "pending",
        "sync_error_count": 0,
        "pod-TOTAL_FORMS": 0, "pod-INITIAL_FORMS": 0,
        "events-TOTAL_FORMS": 0, "events-INITIAL_FORMS": 0,
    })  # fmt: skip
    assert response.status_code == 200  # the form again, with the error
    assert "one parcel proves one delivery" in response.content.decode()
    assert not Shipment.objects.filter(order=order).exists()


def test_voided_parcel_frees_its_number_for_a_new_registration(admin_client, seller, seller_api):
    # given a cancelled parcel: voided from the admin
    cancelled = ShipmentFactory(carrier="dhl", tracking_number=DELIVERED_NUMBER)
    admin_client.post("/admin/tracking/shipment/", {
        "action": "void_shipments", "_selected_action": [cancelled.id],
    })  # fmt: skip
    cancelled.refresh_from_db()
    assert cancelled.voided_at is not None and cancelled.next_sync_at is None
    # when the number is registered again on another order
    order = OrderFactory(seller=seller)
    response = seller_api.post("/api/v1/shipments/", {
        "order": order.id, "carrier": "dhl", "tracking_number": DELIVERED_NUMBER,
    }, format="json")  # fmt: skip
    # then it is accepted
    assert response.status_code == 201


def test_database_refuses_a_second_live_parcel_with_the_same_number():
    from django.db import IntegrityError

    ShipmentFactory(carrier="dhl", tracking_number=DELIVERED_NUMBER)
    with pytest.raises(IntegrityError):
        ShipmentFactory(carrier="dhl", tracking_number=DELIVERED_NUMBER)


# --- a delivery scanned before the order existed --------------------------------------------

PUSH_HEADER = "X-Parcelle-Push-Token"


@pytest.fixture
def dhl_push(settings):
    settings.CARRIERS = {
        **settings.CARRIERS,
        "dhl": {**settings.CARRIERS["dhl"], "push_header": PUSH_HEADER, "push_token": "s3cret"},
    }


def push_delivery(client, number: str, when: datetime):
    event = {
        "timestamp": when.isoformat(), "statusCode": "delivered", "status": "Delivered",
        "description": "The shipment has been delivered",
        "location": {"address": {"countryCode": "FR", "postalCode": "69003",
                                 "addressLocality": "Lyon"}},
    }  # fmt: skip
    body = {"shipments": [{"id": number, "service": "parcel-de", "status": event,
                           "events": [event], "details": {"proofOfDelivery": {
                               "signed": {"name": "FORGED"}}}}]}  # fmt: skip
    response = client.post(
        "/webhooks/couriers/dhl/", data=json.dumps(body).encode(),
        content_type="application/json", HTTP_X_PARCELLE_PUSH_TOKEN="s3cret",
    )  # fmt: skip
    assert response.status_code == 202
    return push_process(raw_payload_id=RawPayload.objects.latest("id").id)


def order_placed_yesterday(seller):
    order = OrderFactory(seller=seller)
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(days=1))
    order.refresh_from_db()
    return order


@pytest.mark.parametrize(
    ("delivered_before_order", "proven"),
    [(timedelta(days=3), False), (timedelta(hours=3), False), (timedelta(hours=1), True)],
)
def test_delivery_scanned_before_the_order_existed_is_not_its_proof(
    client, seller_api, seller, dhl_push, delivered_before_order, proven
):
    # given an order paid yesterday, and a number of a parcel the courier delivered before
    order = order_placed_yesterday(seller)
    payout, _ = payout_open_for_order(order=order, actor=None)
    registered = seller_api.post("/api/v1/shipments/", {
        "order": order.id, "carrier": "dhl", "tracking_number": DELIVERED_NUMBER,
    }, format="json")  # fmt: skip
    assert registered.status_code == 201
    # when the courier reports that delivery, with its POD
    push_delivery(client, DELIVERED_NUMBER, order.created_at - delivered_before_order)
    payouts_evaluate(payout_ids=[payout.id], now=timezone.now() + timedelta(days=30))
    # then the parcel shows the courier's story, but only a delivery after the order (within
    # two hours of clock skew) is this order's proof: otherwise no POD and no payout
    shipment = Shipment.objects.get(order=order)
    payout = Payout.objects.get(pk=payout.pk)
    assert shipment.status == "delivered"
    assert ProofOfDelivery.objects.filter(shipment=shipment).exists() is proven
    assert (payout.pod_complete, payout.status) == (proven, "eligible" if proven else "held")
    refused = ShipmentAudit.objects.filter(shipment=shipment, action="pod_refused").exists()
    assert refused is not proven


def test_seller_upload_dated_before_the_order_is_refused(settings, tmp_path):
    # given an order placed yesterday, its parcel with a courier Parcelle cannot query
    settings.MEDIA_ROOT = tmp_path
    member = SellerMemberFactory()
    order = order_placed_yesterday(member.seller)
    shipment = ShipmentFactory(order=order, carrier="other", carrier_name="Coursier Lyon")
    api = APIClient()
    api.force_authenticate(member.user)
    # when the seller uploads a proof of a delivery five days ago
    response = api.post(f"/api/v1/shipments/{shipment.id}/pod/", {
        "file": SimpleUploadedFile("pod.png", photo("PNG")),
        "delivered_at": (timezone.now() - timedelta(days=5)).isoformat(), "signed_by": "X",
    }, format="multipart")  # fmt: skip
    # then it is refused: no proof waits for finance
    assert response.status_code == 400
    assert response.json()["code"] == "delivery_predates_order"
    assert not ProofOfDelivery.objects.filter(shipment=shipment).exists()


def test_voided_parcel_opens_no_cs_exception():
    # given two parcels without a first scan three days after registration, one voided
    from tracking.services import shipment_void
    from tracking.services.exceptions import exceptions_detect

    live, voided = ShipmentFactory(), ShipmentFactory()
    Shipment.objects.filter(pk__in=[live.pk, voided.pk]).update(
        created_at=timezone.now() - timedelta(days=3)
    )
    shipment_void(shipment=voided, reason="replaced by another parcel")
    # when the exception job runs
    exceptions_detect()
    # then only the live one is in a queue
    assert list(live.exceptions.values_list("kind", flat=True)) == ["no_first_scan"]
    assert not voided.exceptions.exists()
