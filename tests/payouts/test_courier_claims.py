"""Delivery performance protection in payouts (issue 21): a buyer's "not received" claim on a
protected order whose parcels have the courier's POD does not hold the seller's payout beyond
the claim window; it goes to the courier-claim queue (finance and CS) instead."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.errors import ApplicationError
from payouts import services
from payouts.models import CourierClaim, PayoutEvent
from sellers.models import OrderProtection
from tests.payouts.factories import CourierPodFactory, DeliveredShipmentFactory, OrderFactory
from tests.tracking.factories import cs_agent
from tracking.models import ProofOfDelivery

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")
# A parcel delivered on Monday 1 March 2027 at 10:00 (Paris); a 14-day claim window.
DELIVERED = datetime(2027, 3, 1, 10, 0, tzinfo=PARIS)
WINDOW_ENDS = DELIVERED + timedelta(days=14)
CLAIMED = DELIVERED + timedelta(days=3)


def _order(*, protected: bool, pod_source=ProofOfDelivery.Source.CARRIER):
    order = OrderFactory(destination_postcode="75011")
    shipment = DeliveredShipmentFactory(order=order, delivered_at=DELIVERED, carrier="laposte")
    review = (ProofOfDelivery.Review.NOT_REQUIRED if pod_source == ProofOfDelivery.Source.CARRIER
              else ProofOfDelivery.Review.APPROVED)  # fmt: skip
    CourierPodFactory(shipment=shipment, source=pod_source, review=review)
    # the stored judgement, as sellers.protection writes it (its rule is tested there)
    OrderProtection.objects.create(
        order=order, seller=order.seller, protected=protected,
        reasons=[] if protected else ["handed_over_late"],
    )  # fmt: skip
    payout, _ = services.payout_open_for_order(order=order, actor=None, now=DELIVERED)
    return payout, shipment


def test_not_received_claim_on_a_protected_order_goes_to_the_courier_and_does_not_hold():
    # given a protected order delivered with the courier's POD, its payout in the claim window
    payout, shipment = _order(protected=True)
    # when the buyer says it never came, three days after delivery
    payout = services.payout_claim_open(
        payout=payout, kind="claim", reference="CLM-1", reason="never arrived",
        reason_code="not_received", actor=None, now=CLAIMED,
    )  # fmt: skip
    # then the payout is not on hold: it waits for the claim window only
    assert payout.status == "held"
    assert payout.claim_kind == ""
    assert payout.release_due_at == WINDOW_ENDS
    # and the claim is in the courier-claim queue, for that parcel and its courier and lane
    claim = CourierClaim.objects.get()
    assert (claim.shipment_id, claim.carrier, claim.destination_country,
            claim.destination_region, claim.status) == (shipment.id, "laposte", "FR", "75",
                                                        "open")  # fmt: skip
    assert PayoutEvent.objects.filter(payout=payout, action="courier_claim").count() == 1
    # when the window ends (a minute before: still held), then it is eligible, claim open or not
    before = services.payout_evaluate(payout=payout, now=WINDOW_ENDS - timedelta(minutes=1))
    assert before.status == "held"
    assert services.payout_evaluate(payout=payout, now=WINDOW_ENDS).status == "eligible"
    released = services.payout_release(payout=payout, actor=None, now=WINDOW_ENDS)
    assert released.status == "released"
    # and the same claim sent again changes nothing
    services.payout_claim_open(payout=payout, kind="claim", reference="CLM-1", actor=None,
                               reason_code="not_received", now=WINDOW_ENDS)  # fmt: skip
    assert CourierClaim.objects.count() == 1


def test_not_received_claim_on_an_unprotected_order_holds_the_payout():
    payout, _shipment = _order(protected=False)
    payout = services.payout_claim_open(
        payout=payout,
        kind="claim",
        reference="CLM-2",
        reason_code="not_received",
        actor=None,
        now=CLAIMED,
    )
    assert (payout.status, payout.hold_reason) == ("on_hold", "claim")
    assert services.payout_evaluate(payout=payout, now=WINDOW_ENDS).status == "on_hold"
    assert not CourierClaim.objects.exists()


def test_not_received_claim_without_the_couriers_pod_holds_the_payout():
    # given a protected order whose only proof is the seller's upload (approved by finance)
    payout, _shipment = _order(protected=True, pod_source=ProofOfDelivery.Source.SELLER_UPLOAD)
    payout = services.payout_claim_open(
        payout=payout,
        kind="claim",
        reference="CLM-3",
        reason_code="not_received",
        actor=None,
        now=CLAIMED,
    )
    # then the courier has not proven anything: the claim holds the seller's payout
    assert (payout.status, payout.hold_reason) == ("on_hold", "claim")
    assert not CourierClaim.objects.exists()


def test_other_claims_on_a_protected_order_hold_the_payout():
    payout, _shipment = _order(protected=True)
    payout = services.payout_claim_open(payout=payout, kind="claim", reference="CLM-4",
                                        reason="item broken", actor=None, now=CLAIMED)  # fmt: skip
    assert (payout.status, payout.hold_reason) == ("on_hold", "claim")
    disputed, _ = _order(protected=True)
    disputed = services.payout_claim_open(
        payout=disputed,
        kind="dispute",
        reference="CB-1",
        reason_code="not_received",
        actor=None,
        now=CLAIMED,
    )
    assert (disputed.status, disputed.hold_reason) == ("on_hold", "dispute")


def test_claims_routing_to_the_courier_is_the_marketplaces_choice(settings):
    # given the marketplace turned the effect off
    settings.SELLER_PROTECTION = {**settings.SELLER_PROTECTION, "claims_to_courier": False}
    payout, _shipment = _order(protected=True)
    payout = services.payout_claim_open(
        payout=payout,
        kind="claim",
        reference="CLM-5",
        reason_code="not_received",
        actor=None,
        now=CLAIMED,
    )
    # then a protected order's claim holds like any other
    assert (payout.status, payout.hold_reason) == ("on_hold", "claim")
    assert not CourierClaim.objects.exists()


def test_closing_a_courier_claim_ends_it_in_the_queue_even_after_release():
    payout, _shipment = _order(protected=True)
    services.payout_claim_open(
        payout=payout,
        kind="claim",
        reference="CLM-6",
        reason_code="not_received",
        actor=None,
        now=CLAIMED,
    )
    payout = services.payout_release(payout=payout, actor=None, now=WINDOW_ENDS)
    # when the courier answers after the seller was paid
    services.payout_claim_close(payout=payout, reference="CLM-6", resolution="courier refunds",
                                actor=None, now=WINDOW_ENDS + timedelta(days=2))  # fmt: skip
    # then the claim is closed with its resolution, the payout untouched, the step audited
    claim = CourierClaim.objects.get()
    assert (claim.status, claim.resolution) == ("closed", "courier refunds")
    payout.refresh_from_db()
    assert payout.status == "released"
    assert PayoutEvent.objects.filter(payout=payout, action="courier_claim_end").count() == 1
    # and closing it again is refused (no open claim with that reference)
    with pytest.raises(ApplicationError):
        services.payout_claim_close(payout=payout, reference="CLM-6", actor=None)


def test_api_not_received_claim_on_a_protected_order_is_routed(marketplace_api):
    payout, _shipment = _order(protected=True)
    response = marketplace_api.post(
        f"/api/v1/payouts/orders/{payout.order_id}/claims/",
        {"kind": "claim", "reference": "CLM-7", "reason_code": "not_received"}, format="json",
    )  # fmt: skip
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "held"
    assert CourierClaim.objects.filter(reference="CLM-7").count() == 1
    # and the CRM API lists the queue
    queue = marketplace_api.get("/api/v1/cs/courier-claims/").json()
    assert [(c["reference"], c["carrier"], c["status"]) for c in queue["results"]] == [
        ("CLM-7", "laposte", "open")
    ]
    bad = marketplace_api.post(
        f"/api/v1/payouts/orders/{payout.order_id}/claims/",
        {"kind": "claim", "reference": "CLM-8", "reason_code": "lost?"}, format="json",
    )  # fmt: skip
    assert bad.status_code == 400


def test_courier_claim_queue_pages_for_finance_and_cs(client, finance):
    payout, shipment = _order(protected=True)
    services.payout_claim_open(
        payout=payout,
        kind="claim",
        reference="CLM-9",
        reason_code="not_received",
        actor=None,
        now=CLAIMED,
    )
    client.force_login(finance)
    page = client.get("/finance/courier-claims/")
    assert page.status_code == 200
    assert "CLM-9" in page.content.decode() and shipment.tracking_number in page.content.decode()
    client.force_login(cs_agent())
    page = client.get("/cs/courier-claims/")
    assert page.status_code == 200
    assert "CLM-9" in page.content.decode()
    assert client.get("/cs/courier-claims/?status=closed").content.decode().count("CLM-9") == 0
