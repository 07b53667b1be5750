"""Status changes the way production makes them: courier events through events_ingest."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from tracking.carriers.base import CarrierEvent, Location, TrackingResult
from tracking.models import Shipment
from tracking.services import ShipmentUpdate, events_ingest


def scan(status: str, *, hours_ago: float = 1, substatus: str | None = None, code: str = "X"):
    """A courier scan in Lyon, ``hours_ago`` before now."""
    return CarrierEvent(
        occurred_at=timezone.now() - timedelta(hours=hours_ago),
        status=status,
        substatus=substatus,
        code=code,
        message=f"{status} scan",
        location=Location(city="Lyon", postcode="69003", country="FR"),
    )


def courier_says(shipment: Shipment, *events: CarrierEvent):
    """Ingest these courier events for the shipment (the production path)."""
    return events_ingest(
        updates=[
            ShipmentUpdate(
                shipment.id, TrackingResult(tracking_number=shipment.tracking_number, events=events)
            )
        ]
    )


def deliver_return_parcel(shipment: Shipment, when: datetime) -> None:
    """The return parcel's courier reports it delivered back to the seller at ``when``."""
    courier_says(
        shipment,
        CarrierEvent(when - timedelta(days=1), "in_transit", None, "PC1", "Pris"),
        CarrierEvent(when, "delivered", "delivered.signed", "DI1", "Livré"),
    )
