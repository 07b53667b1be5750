"""Return parcels are followed like any parcel but told apart from the parcels sent to the buyer:
never proof of delivery, shown as a return, not news for the buyer's parcel notifications."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from notifications.models import Notification
from payouts.models import Account, Payout
from payouts.rules import commission_split
from payouts.services import payout_evaluate
from payouts.services.returns import return_refund_lines
from returns.services import (
    ItemChoice,
    return_request_accept,
    return_request_create,
    return_shipment_add,
)
from tests.payouts.factories import DeliveredShipmentFactory
from tests.returns.factories import delivered_order
from tests.sellers.factories import OrderFactory
from tests.support.ingest import deliver_return_parcel
from tests.tracking.factories import ShipmentFactory

pytestmark = pytest.mark.django_db


def shipped_return(order, lamp):
    request = return_request_create(
        order=order, items=[ItemChoice(lamp.id, 1, "like_new")], reason="wrong_size",
        resolution="refund",
    )  # fmt: skip
    request = return_request_accept(request=request, actor=None)
    return return_shipment_add(request=request, tracking_number="6A12345678901", actor=None)


def test_a_delivered_return_parcel_is_no_proof_of_delivery_for_the_payout():
    # given an order whose only parcel to the buyer is still travelling, and a return parcel
    # of that order delivered (with POD) to the seller
    order = OrderFactory()
    ShipmentFactory(order=order, status="in_transit")
    DeliveredShipmentFactory(order=order, direction="return", tracking_number="6A99999999999")
    from payouts.services import payout_open_for_order

    payout, _ = payout_open_for_order(order=order, actor=None)
    # when the payout is evaluated
    payout = payout_evaluate(payout=payout)
    # then it still waits for the buyer's parcel
    assert (payout.pod_complete, payout.status) == (False, "held")


def test_order_page_shows_the_return_parcel_as_a_return(client):
    # given an order delivered and its return parcel on its way back
    order, lamp, _shade = delivered_order()
    shipped_return(order, lamp)
    # when the buyer opens the order page
    html = client.get(f"/t/{order.public_token}/").content.decode()
    # then one parcel was sent, and the other is the return
    assert "1 colis envoyé par" in html  # the buyer's locale is French
    assert "Votre retour au vendeur" in html
    assert "Votre retour attend le transporteur." in html
    assert html.count("Retourner un article") == 1  # offered on the delivered parcel only


def test_return_parcel_moves_send_no_parcel_notification_to_the_buyer(
    django_capture_on_commit_callbacks, django_q_sync
):
    # given a return parcel on its way back
    order, lamp, _shade = delivered_order()
    request = shipped_return(order, lamp)
    # when the courier reports it delivered to the seller
    with django_capture_on_commit_callbacks(execute=True):
        deliver_return_parcel(request.return_shipment, timezone.now() - timedelta(hours=1))
    # then the buyer hears of the return's steps, never of the return parcel's own statuses
    notes = Notification.objects.filter(order=order)
    assert not notes.filter(shipment=request.return_shipment).exists()
    assert set(notes.values_list("trigger", flat=True)) == {
        "return_requested", "return_accepted", "return_received",
    }  # fmt: skip


@given(
    gross=st.integers(min_value=1, max_value=10**9),
    returned_share=st.floats(min_value=0, max_value=1),
    amount_share=st.floats(min_value=0, max_value=1),
    rate=st.decimals(min_value=0, max_value=1, places=4),
    released=st.booleans(),
)
def test_return_refund_lines_always_balance_and_split_what_is_kept(
    gross, returned_share, amount_share, rate, released
):
    # given any payout, part of it already returned, and a further return
    returned = int(gross * returned_share * 0.9)
    kept_before = gross - returned
    amount = max(1, int(kept_before * amount_share))
    if amount > kept_before:
        return
    commission, net = commission_split(kept_before, Decimal(rate))
    payout = Payout(gross_amount=gross, returned_amount=returned, commission_rate=Decimal(rate),
                    commission_amount=commission, net_amount=net,
                    status="released" if released else "held")  # fmt: skip
    # when the refund lines are built
    lines, new_commission, new_net = return_refund_lines(payout, amount)
    # then they balance, credit the buyer the amount, never push a share below zero, and the
    # new split adds up to what the buyer keeps
    assert sum(value for _account, value in lines) == 0
    assert dict(lines)[Account.BUYER_REFUND_PAYABLE] == -amount
    assert all(value >= 0 for account, value in lines if account != Account.BUYER_REFUND_PAYABLE)
    assert new_commission + new_net == gross - returned - amount
    assert new_commission >= 0 and new_net >= 0


def test_return_parcel_followed_on_the_sandbox_courier_refunds_when_it_arrives(
    sandbox, carrier_client, django_capture_on_commit_callbacks, django_q_sync
):
    # given the demo's return number, registered on an accepted return (over real HTTP to the
    # sandbox courier, like the demo)
    from devtools.demo.returns import demo_return_number
    from payouts.services import ledger_check
    from tests.support.sandbox import JOURNEY_DONE
    from tracking.services import carrier_batch_sync

    order, lamp, _shade = delivered_order()
    request = return_request_create(
        order=order, items=[ItemChoice(lamp.id, 1, "like_new")], reason="wrong_size",
        resolution="refund",
    )  # fmt: skip
    request = return_request_accept(request=request, actor=None)
    request = return_shipment_add(request=request, tracking_number=demo_return_number(),
                                  actor=None)  # fmt: skip
    parcel = request.return_shipment
    carrier_batch_sync(carrier=parcel.carrier, shipment_ids=[parcel.id], client=carrier_client)
    sandbox.advance(JOURNEY_DONE)
    # when the sync job asks the courier again, after the journey's end
    with django_capture_on_commit_callbacks(execute=True):
        carrier_batch_sync(carrier=parcel.carrier, shipment_ids=[parcel.id], client=carrier_client)
    # then the parcel is delivered back, the return received and refunded, the ledger sound
    parcel.refresh_from_db()
    request.refresh_from_db()
    assert (parcel.status, request.status) == ("delivered", "received")
    assert Payout.objects.get(order=order).returned_amount == 1500
    ledger_check()
