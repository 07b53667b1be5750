"""Writes of the tracking app: one function per business action (see each module)."""

from tracking.services.ingest import IngestSummary, ShipmentUpdate, events_ingest
from tracking.services.shipments import (
    shipment_register,
    shipment_resync_request,
    shipment_void,
    tracking_number_claim_check,
    tracking_number_normalise,
)
from tracking.services.sync import (
    BatchOutcome,
    carrier_batch_sync,
    shipment_sync_now,
    shipments_expire_stale,
    sync_dispatch_due,
)

__all__ = [
    "BatchOutcome",
    "IngestSummary",
    "ShipmentUpdate",
    "carrier_batch_sync",
    "events_ingest",
    "shipment_register",
    "shipment_resync_request",
    "shipment_sync_now",
    "shipment_void",
    "shipments_expire_stale",
    "sync_dispatch_due",
    "tracking_number_claim_check",
    "tracking_number_normalise",
]
