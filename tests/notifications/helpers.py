"""Status changes the way production makes them: courier events through events_ingest."""

from datetime import timedelta

from django.utils import timezone

from tracking.carriers.base import CarrierEvent, Location, TrackingResult
from tracking.services import ShipmentUpdate, events_ingest


def scan(status: str, *, hours_ago: float = 1, substatus: str | None = None, code: str = "X"):
    return CarrierEvent(
        occurred_at=timezone.now() - timedelta(hours=hours_ago),
        status=status,
        substatus=substatus,
        code=code,
        message=f"{status} scan",
        location=Location(city="Lyon", postcode="69003", country="FR"),
    )


def courier_says(shipment, *events):
    """Ingest these courier events for the shipment (the production path)."""
    return events_ingest(
        updates=[
            ShipmentUpdate(
                shipment.id, TrackingResult(tracking_number=shipment.tracking_number, events=events)
            )
        ]
    )
