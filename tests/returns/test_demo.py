from datetime import timedelta

import pytest
from django.utils import timezone

from devtools.demo.marketplace import seed_demo
from devtools.demo.returns import DEMO_RETURN_ORDER, demo_return_number
from payouts.models import JournalEntry, Payout
from payouts.rules import commission_split
from payouts.services import ledger_check
from returns.services import (
    ItemChoice,
    return_request_accept,
    return_request_create,
    return_shipment_add,
)
from sellers.models import Order
from tests.support.ingest import deliver_return_parcel

pytestmark = pytest.mark.django_db


def test_seed_demo_gives_a_returnable_order_and_the_story_plays_to_the_refund(
    django_capture_on_commit_callbacks, django_q_sync
):
    # given the demo, seeded twice
    seed_demo()
    seed_demo()
    order = Order.objects.get(reference=DEMO_RETURN_ORDER)
    (parcel,) = order.shipments.all()
    assert (parcel.status, parcel.pod.source, order.items.count()) == ("delivered", "carrier", 2)
    # when the buyer returns one lamp, the seller accepts, the return parcel comes back
    lamp = order.items.get(sku="LUM-ARCO")
    request = return_request_create(
        order=order, items=[ItemChoice(lamp.id, 1, "unopened")], reason="changed_mind",
        resolution="refund",
    )  # fmt: skip
    return_request_accept(request=request, actor=None)
    request = return_shipment_add(request=request, tracking_number=demo_return_number(),
                                  actor=None)  # fmt: skip
    assert request.return_shipment.carrier == "laposte"
    with django_capture_on_commit_callbacks(execute=True):
        deliver_return_parcel(request.return_shipment, timezone.now() - timedelta(minutes=1))
    # then 45.00 is refunded, and the seller's payout is the rest minus commission on it
    request.refresh_from_db()
    payout = Payout.objects.get(order=order)
    assert (request.status, payout.returned_amount) == ("received", 4500)
    assert (payout.commission_amount, payout.net_amount) == commission_split(
        11990 - 4500, payout.commission_rate
    )
    assert JournalEntry.objects.filter(payout=payout, kind="return_refund").count() == 1
    ledger_check()
