"""The payouts API of the marketplace's payment system."""

import pytest

from payouts.models import Payout
from tests.payouts.factories import OrderFactory, proven_parcel

pytestmark = pytest.mark.django_db


def test_api_open_payout_with_marketplace_token(marketplace_api, seller):
    # given an order of the seller with a proven parcel delivered 20 days ago
    order = OrderFactory(seller=seller, total_amount=4990)
    proven_parcel(order)
    # when the payment system records the payment
    response = marketplace_api.post(
        "/api/v1/payouts/",
        {"order": order.pk, "payment_reference": "PSP-1", "amount": 4990, "currency": "EUR"},
        format="json",
    )
    # then the payout is opened, and a second call returns it unchanged
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["status"], body["gross_amount"], body["net_amount"]) == ("eligible", 4990, 4391)
    again = marketplace_api.post("/api/v1/payouts/", {"order": order.pk}, format="json")
    assert (again.status_code, again.json()["id"]) == (200, body["id"])


def test_api_open_payout_rejects_a_wrong_amount(marketplace_api):
    order = OrderFactory(total_amount=4990)
    response = marketplace_api.post(
        "/api/v1/payouts/", {"order": order.pk, "amount": 100}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "amount_mismatch"


def test_api_seller_token_cannot_write(seller_api, seller):
    order = OrderFactory(seller=seller)
    assert (
        seller_api.post("/api/v1/payouts/", {"order": order.pk}, format="json").status_code == 403
    )
    assert Payout.objects.count() == 0


def test_api_seller_reads_its_own_payouts_only(marketplace_api, seller_api, seller, other_seller):
    own, foreign = OrderFactory(seller=seller), OrderFactory(seller=other_seller)
    for order in (own, foreign):
        marketplace_api.post("/api/v1/payouts/", {"order": order.pk}, format="json")
    assert seller_api.get(f"/api/v1/payouts/orders/{own.pk}/").json()["order"] == own.pk
    assert seller_api.get(f"/api/v1/payouts/orders/{foreign.pk}/").status_code == 404
    listed = seller_api.get("/api/v1/payouts/").json()["results"]
    assert [p["order"] for p in listed] == [own.pk]
    write = seller_api.post(f"/api/v1/payouts/orders/{own.pk}/receipt-confirmed/")
    assert write.status_code == 403


def test_api_receipt_confirmation_and_claims(marketplace_api):
    # given a payout whose parcel was delivered 2 days ago (window not passed)
    order = OrderFactory()
    proven_parcel(order, days_ago=2)
    marketplace_api.post("/api/v1/payouts/", {"order": order.pk}, format="json")
    base = f"/api/v1/payouts/orders/{order.pk}"
    assert marketplace_api.get(f"{base}/").json()["status"] == "held"
    # when a claim opens, the buyer confirms, then the claim closes
    claim = marketplace_api.post(
        f"{base}/claims/", {"kind": "claim", "reference": "CLM-9", "reason": "broken"},
        format="json",
    )  # fmt: skip
    assert (claim.json()["status"], claim.json()["hold_reason"]) == ("on_hold", "claim")
    confirmed = marketplace_api.post(f"{base}/receipt-confirmed/")
    assert confirmed.json()["status"] == "on_hold"
    wrong = marketplace_api.post(f"{base}/claims/close/", {"reference": "NOPE"}, format="json")
    assert (wrong.status_code, wrong.json()["code"]) == (400, "no_claim")
    closed = marketplace_api.post(
        f"{base}/claims/close/", {"reference": "CLM-9", "resolution": "refused"}, format="json"
    )
    # then it is eligible: proof complete and receipt confirmed
    assert closed.json()["status"] == "eligible"


def test_api_cancel_refunds_the_buyer(marketplace_api):
    order = OrderFactory()
    marketplace_api.post("/api/v1/payouts/", {"order": order.pk}, format="json")
    response = marketplace_api.post(
        f"/api/v1/payouts/orders/{order.pk}/cancel/", {"reason": "buyer cancelled"}, format="json"
    )
    assert response.json()["status"] == "cancelled"
    again = marketplace_api.post(f"/api/v1/payouts/orders/{order.pk}/cancel/", format="json")
    assert (again.status_code, again.json()["code"]) == (400, "payout_cancelled")


def test_api_unknown_order_is_404(marketplace_api):
    assert marketplace_api.get("/api/v1/payouts/orders/999999/").status_code == 404
