"""The delivery performance protection part of the demo (called by seed_demo): orders of
Atelier Lumière, "PROT-…", one of each kind, finished and frozen (never polled), so the portal's
/seller/protection/ page, the SLA's two on-time figures, the courier accounts and the
courier-claim queue (/finance/courier-claims/, /cs/courier-claims/) have something to show.

    protected, on time · protected, delivered late (the courier's lateness) · protected, a
    "not received" claim sent to the courier (payout still only waiting for its claim window) ·
    a long-tail courier with its tracking URL, protected · not protected: confirmed too late,
    never scanned, a UPS number declared as La Poste, handed over a day late (and one of those
    with a "not received" claim, which holds the payout)

Idempotent: each order is looked up by its reference. Then every order of the demo is judged
(the history's too), as the sellers.protections_sweep schedule would.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.utils import timezone

from devtools.sandbox.numbers import number_for_scenario
from payouts.services import payout_claim_open, payout_open_for_order
from sellers.metrics import local_tz
from sellers.models import Order, Seller
from sellers.protection import order_protections_refresh
from tracking.models import OTHER_CARRIER, ProofOfDelivery, Shipment, TrackingEvent

# kind -> (carrier, hours from the confirmation to the first scan (None: never scanned),
#          hours from the ship date's 00:00 to the confirmation, days to delivery after the
#          ship date (None: not delivered), "not received" claim)
KINDS = {
    "ONTIME": ("laposte", 14, -6, 2, False),
    "COURIER-LATE": ("laposte", 14, -6, 6, False),
    "CLAIM": ("laposte", 14, -6, 2, True),
    "OTHER-URL": (OTHER_CARRIER, 14, -6, 3, False),
    "CONFIRMED-LATE": ("laposte", -30, 38, 2, False),
    "NO-SCAN": ("laposte", None, -6, None, False),
    "WRONG-COURIER": ("laposte", 14, -6, 2, False),
    "HANDED-LATE": ("laposte", 39, -6, 3, False),
    "HANDED-LATE-CLAIM": ("laposte", 39, -6, 3, True),
}
# The delivered ones arrived after the promise when their kind says late: promised 3 days after
# the ship date.
PROMISED_AFTER_DAYS = 3


def _number(kind: str, index: int) -> str:
    if kind == "WRONG-COURIER":
        return "1Z999AA10123456784"  # a UPS number, declared as La Poste
    if kind == "OTHER-URL":
        return "CP0099887766"
    return number_for_scenario("laposte", "delivered_signed", index=30_000 + index)


def seed_protection_demo(seller: Seller) -> int:
    """Create the PROT-… orders once; judge every order of the demo. Returns orders created."""
    tz = local_tz()
    today = timezone.localdate()
    created = 0
    for index, (kind, (carrier, scan_h, confirm_h, delivered_d, claim)) in enumerate(KINDS.items()):
        reference = f"PROT-{kind}"
        if Order.objects.filter(seller=seller, reference=reference).exists():
            continue
        # claims are recent (in their claim window); the rest finished two weeks ago
        ship_day = today - timedelta(days=6 if claim else 16)
        order = Order.objects.create(
            seller=seller, reference=reference, total_amount=5990,
            destination_postcode="75011", destination_country="FR",
            expected_ship_date=ship_day,
            promised_delivery_date=ship_day + timedelta(days=PROMISED_AFTER_DAYS),
            buyer_name=f"Client protection {index}",
            buyer_email=f"protection{index}@example.fr",
        )  # fmt: skip
        confirmed_at = datetime.combine(ship_day, time.min, tzinfo=tz) + timedelta(hours=confirm_h)
        events = [(confirmed_at - timedelta(hours=1), "info_received", "", "PC1",
                   "Colis pris en charge")]  # fmt: skip
        if scan_h is not None:
            events.append((confirmed_at + timedelta(hours=scan_h), "in_transit", "", "ET1",
                           "En cours d'acheminement"))  # fmt: skip
            if scan_h < 0:  # scanned before the number was confirmed: no label event after it
                events = [events[-1]]
        delivered_at = None
        if delivered_d is not None:
            delivered_at = datetime.combine(ship_day + timedelta(days=delivered_d), time(12),
                                            tzinfo=tz)  # fmt: skip
            events.append((delivered_at, "delivered", "delivered.signed", "DI1",
                           "Votre colis est livré"))  # fmt: skip
        last = events[-1]
        shipment = Shipment.objects.create(
            order=order, seller=seller, carrier=carrier, tracking_number=_number(kind, index),
            carrier_name="Colis Privé" if carrier == OTHER_CARRIER else "",
            carrier_tracking_url=("https://www.colisprive.com/moncolis/"
                                  if carrier == OTHER_CARRIER else ""),
            status=last[1], substatus=last[2], last_event_at=last[0], delivered_at=delivered_at,
            next_sync_at=None,
        )  # fmt: skip
        TrackingEvent.objects.bulk_create(
            TrackingEvent(shipment=shipment, occurred_at=at, status=status, substatus=substatus,
                          carrier_code=code, message=message, city="Paris", postcode="75011",
                          country="FR", source=TrackingEvent.Source.MANUAL,
                          dedupe_key=f"demo-protection-{shipment.pk}-{i}")
            for i, (at, status, substatus, code, message) in enumerate(events)
        )  # fmt: skip
        Shipment.objects.filter(pk=shipment.pk).update(created_at=confirmed_at)
        Order.objects.filter(pk=order.pk).update(created_at=confirmed_at - timedelta(hours=20))
        if delivered_at is not None:
            ProofOfDelivery.objects.create(
                shipment=shipment, delivered_at=delivered_at, signed_by="C. MARTIN",
                location_type="front_door", source=ProofOfDelivery.Source.CARRIER,
            )  # fmt: skip
        created += 1
    # every order of the demo judged now (the schedule would within minutes)
    order_protections_refresh(order_ids=list(Order.objects.values_list("id", flat=True)))
    for kind, (*_rest, claim) in KINDS.items():
        # every order of the demo's present is paid (its payout in escrow)
        order = Order.objects.get(seller=seller, reference=f"PROT-{kind}")
        payout, _ = payout_open_for_order(order=order, actor=None,
                                          payment_reference=f"PSP-{order.reference}")  # fmt: skip
        if not claim:
            continue
        payout_claim_open(payout=payout, kind="claim", reference=f"CLM-{order.reference}",
                          reason="the buyer says the parcel never came",
                          reason_code="not_received", actor=None)  # fmt: skip
    return created
