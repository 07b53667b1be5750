"""The returns part of the demo (called by devtools.demo.marketplace.seed_demo): an order of
Atelier Lumière delivered two days ago, with two lines, whose buyer can return an item.

Idempotent: the order is looked up by its reference. Its parcel's delivery (with the courier's
POD) is ingested at once, so the order is returnable from the first minute; the return parcel
number below is one the sandbox courier delivers within minutes, so the whole story (request,
acceptance, return parcel tracked back, refund in the ledger) plays in the demo.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from devtools.sandbox.numbers import number_for_scenario
from payouts.services import payout_open_for_order
from sellers.models import Order, Seller
from sellers.services import order_create
from tracking.carriers.base import CarrierEvent, Location, PodData, TrackingResult
from tracking.services import ShipmentUpdate, events_ingest, shipment_register

DEMO_RETURN_ORDER = "ATE-RETOUR-1"
DEMO_RETURN_POSTCODE = "69003"


# Numbers the sandbox plays: the outbound parcel, and the buyer's return parcel (delivered).
# Functions, not constants: importing this module computes nothing of the sandbox's.
def demo_outbound_number() -> str:
    return number_for_scenario("laposte", "delivered_signed", index=980)


def demo_return_number() -> str:
    return number_for_scenario("laposte", "delivered_signed", index=990)


ITEMS = [
    {"sku": "LUM-ARCO", "name": "Lampe Arco", "quantity": 2, "unit_amount": 4500},
    {"sku": "LUM-LIN", "name": "Abat-jour lin", "quantity": 1, "unit_amount": 2500},
]


def seed_returns_demo(seller: Seller) -> Order:
    order = Order.objects.filter(seller=seller, reference=DEMO_RETURN_ORDER).first()
    if order is None:
        order = order_create(
            seller=seller, reference=DEMO_RETURN_ORDER, total_amount=11990,  # + 4.90 shipping
            buyer_name="Camille Martin", buyer_email="camille.martin@example.fr",
            buyer_locale="fr", destination_postcode=DEMO_RETURN_POSTCODE,
            destination_country="FR", items=ITEMS,
        )  # fmt: skip
        # The story began a week ago: the order must predate its delivery to be proven by it.
        Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(days=7))
        order.refresh_from_db()
    payout_open_for_order(order=order, actor=None)
    shipment, created = shipment_register(
        order=order, carrier="laposte", tracking_number=demo_outbound_number()
    )
    if created:
        delivered_at = timezone.now() - timedelta(days=2)
        place = Location(city="Lyon", postcode=DEMO_RETURN_POSTCODE, country="FR")
        events = (
            CarrierEvent(delivered_at - timedelta(days=1), "in_transit", None, "PC1",
                         "Votre colis est pris en charge", place),
            CarrierEvent(delivered_at, "delivered", "delivered.signed", "DI1",
                         "Votre colis est livré", place),
        )  # fmt: skip
        events_ingest(
            updates=[
                ShipmentUpdate(
                    shipment_id=shipment.id,
                    result=TrackingResult(
                        tracking_number=shipment.tracking_number,
                        events=events,
                        pod=PodData(delivered_at=delivered_at, signed_by="C. MARTIN"),
                    ),  # fmt: skip
                )
            ]
        )
    return order
