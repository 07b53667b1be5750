"""The CS console's part of the demo seed (called by devtools.demo.marketplace.seed_demo):
parcels in trouble for every exception queue, then the exception job and the delivery estimates
run once, so the console has work to show from the first minute.

Runs after devtools.demo.history, whose delivered parcels the estimates learn from. Each
parcel goes through the real services (order_create, shipment_register, events_ingest), as a
courier's answers would; deterministic and idempotent: each order is looked up by its
reference first.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.utils import timezone

from core.business_days import FRANCE, business_days_ago
from payouts.services import payout_open_for_order
from sellers.models import Order, Seller
from sellers.services import order_create
from tracking.carriers.base import CarrierEvent, Location, TrackingResult
from tracking.models import Shipment
from tracking.services import ShipmentUpdate, events_ingest, shipment_register
from tracking.services.edd import estimates_refresh
from tracking.services.exceptions import exceptions_detect


def _at(day, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def _event(when, status, substatus, code, message, city) -> CarrierEvent:
    return CarrierEvent(
        occurred_at=when, status=status, substatus=substatus, code=code, message=message,
        location=Location(city=city, country="FR"),
    )  # fmt: skip


def _parcel(seller: Seller, reference: str, carrier: str, postcode: str, **order_fields):
    """The order and its one parcel, registered through the services; None when it exists."""
    if Order.objects.filter(seller=seller, reference=reference).exists():
        return None
    order = order_create(
        seller=seller, reference=reference, total_amount=2490, destination_postcode=postcode,
        **order_fields,
    )  # fmt: skip
    payout_open_for_order(order=order, actor=None)  # every demo buyer paid
    number = "HIS" + "".join(ch for ch in reference if ch.isdigit()).rjust(9, "0")
    shipment, _ = shipment_register(order=order, carrier=carrier, tracking_number=number)
    return shipment


def _backdate(shipment: Shipment, registered_at: datetime) -> None:
    # Demo only: the parcel was uploaded in the past and the sandbox is not asked about it.
    Shipment.objects.filter(pk=shipment.pk).update(created_at=registered_at, next_sync_at=None)


def seed_cs_demo(sellers: list[Seller]) -> dict[str, int]:
    today = timezone.localdate()
    updates: list[ShipmentUpdate] = []
    trouble = _seed_trouble(sellers, today, updates)
    if updates:
        events_ingest(updates=updates)
    # The demo's trouble is frozen in time: the sandbox does not know these numbers.
    Shipment.objects.filter(tracking_number__startswith="HIS").update(next_sync_at=None)
    opened = exceptions_detect()
    estimates = estimates_refresh()
    return {
        "trouble_parcels": trouble,
        "exceptions_opened": sum(opened.opened.values()),
        "estimates": estimates,
    }


def _seed_trouble(sellers, today, updates) -> int:
    """Parcels for each exception queue: stuck, failed attempt, address problem, customs, late
    against the promised date, and one the courier never scanned."""
    seller = sellers[0]
    cases = [
        ("stuck", "laposte", [("in_transit", None, "ET1", "En cours d'acheminement", 6)]),
        ("stuck", "dpd", [("info_received", None, "PC1", "Colis pris en charge", 5)]),
        ("failed", "chronopost", [("in_transit", None, "ET1", "En transit", 2),
                                  ("failed_attempt", "failed_attempt.recipient_absent", "AA1",
                                   "Destinataire absent, avis de passage", 1)]),
        ("address", "gls", [("in_transit", None, "ET1", "En transit", 2),
                            ("exception", "exception.address_issue", "AD1",
                             "Adresse incomplète", 1)]),
        ("customs", "dhl", [("in_transit", None, "ET1", "In transit", 3),
                            ("exception", "exception.customs", "CU1", "Held by customs", 1)]),
        ("late", "ups", [("in_transit", None, "ET1", "In transit", 1)]),
    ]  # fmt: skip
    count = 0
    for n, (label, carrier, journey) in enumerate(cases, start=1):
        promised = today - timedelta(days=2) if label == "late" else today + timedelta(days=2)
        shipment = _parcel(
            seller, f"HIS-9{n:04d}", carrier, "69003", buyer_name=f"Client en souci {n}",
            buyer_email=f"souci{n}@example.fr", buyer_phone=f"06 12 34 56 {n:02d}",
            promised_delivery_date=promised,
        )  # fmt: skip
        if shipment is None:
            continue
        first = _at(business_days_ago(today, journey[0][4], country=FRANCE), 10)
        _backdate(shipment, first - timedelta(hours=3))
        events = tuple(
            _event(
                _at(business_days_ago(today, ago, country=FRANCE), 10 + i),
                status,
                sub,
                code,
                message,
                "Lyon",
            )
            for i, (status, sub, code, message, ago) in enumerate(journey)
        )
        updates.append(
            ShipmentUpdate(shipment.id, TrackingResult(shipment.tracking_number, events))
        )
        count += 1
    never = _parcel(
        seller, "HIS-99999", "laposte", "75011", buyer_name="Client sans scan",
        buyer_email="sansscan@example.fr",
    )  # fmt: skip
    if never is not None:
        _backdate(never, timezone.now() - timedelta(days=3))
    return count
