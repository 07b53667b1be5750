"""Events in, derived shipment state out.

    events_ingest(updates) -> lock shipments -> bulk INSERT events (dedupe key, ON CONFLICT
    DO NOTHING) -> read back every event of those shipments -> derive_state -> bulk UPDATE
    shipments + upsert POD -> on commit: shipment_status_changed

Guarantees: an event is stored once whatever the number of deliveries; the state depends only
on the set of stored events (never on arrival order); ingesting the same thing twice is a no-op.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time

from django.db import transaction
from django.utils import timezone

from tracking import cadence
from tracking.carriers.base import CarrierEvent, PodData, TrackingResult
from tracking.models import ProofOfDelivery, Shipment, TrackingEvent
from tracking.signals import StatusChange, shipment_status_changed
from tracking.status import Status, StatusPoint, derive_state

# Rows per INSERT statement: large enough to amortise round trips, small enough to keep each
# statement's parameters well under PostgreSQL's 65,535 bind-parameter limit (13 per row).
EVENT_INSERT_BATCH = 2000


@dataclass(frozen=True)
class ShipmentUpdate:
    """What one courier answer says about one of our shipments."""

    shipment_id: int
    result: TrackingResult


@dataclass(frozen=True)
class IngestSummary:
    shipments: int
    events_received: int
    status_changes: list[StatusChange]


def event_dedupe_key(shipment_id: int, event: CarrierEvent) -> str:
    """Same scan, same key: the shipment, the instant (in UTC), the courier's code and words."""
    message = " ".join(event.message.split()).casefold()
    instant = event.occurred_at.astimezone(UTC).isoformat()
    raw = "|".join(
        [
            str(shipment_id),
            instant,
            event.code,
            event.status,
            event.substatus or "",
            message,
            event.location.postcode,
            event.location.city.casefold(),
        ]
    )
    return hashlib.sha256(raw.encode()).hexdigest()


def _estimated_delivery(result: TrackingResult) -> tuple[datetime | None, datetime | None]:
    value = result.estimated_delivery
    if value is None:
        return None, result.estimated_delivery_end
    if not isinstance(value, datetime):  # a date: the whole day, local time
        value = timezone.make_aware(datetime.combine(value, time.min))
    return value, result.estimated_delivery_end


@transaction.atomic
def events_ingest(
    *,
    updates: Sequence[ShipmentUpdate],
    source: str = TrackingEvent.Source.POLL,
    now: datetime | None = None,
) -> IngestSummary:
    """Store the courier's events for these shipments and re-derive each one's state.

    Idempotent. Locks the shipments' rows (in id order, so concurrent ingests cannot deadlock)
    so that a push and a poll for the same parcel serialise instead of overwriting each other.
    """
    now = now or timezone.now()
    by_shipment: dict[int, list[TrackingResult]] = defaultdict(list)
    for update in updates:
        by_shipment[update.shipment_id].append(update.result)
    if not by_shipment:
        return IngestSummary(0, 0, [])

    shipments = {
        s.id: s
        for s in Shipment.objects.select_for_update().filter(id__in=by_shipment).order_by("id")
    }

    rows = []
    for shipment_id, results in by_shipment.items():
        if shipment_id not in shipments:
            continue
        for result in results:
            for event in result.events:
                rows.append(
                    TrackingEvent(
                        shipment_id=shipment_id,
                        occurred_at=event.occurred_at,
                        carrier_code=event.code[:40],
                        message=event.message[:500],
                        city=event.location.city[:120],
                        postcode=event.location.postcode[:20],
                        country=event.location.country[:2],
                        status=event.status,
                        substatus=event.substatus or "",
                        source=source,
                        dedupe_key=event_dedupe_key(shipment_id, event),
                        received_at=now,
                    )
                )
    TrackingEvent.objects.bulk_create(rows, batch_size=EVENT_INSERT_BATCH, ignore_conflicts=True)

    points: dict[int, list[StatusPoint]] = defaultdict(list)
    for shipment_id, occurred_at, status, substatus in (
        TrackingEvent.objects.filter(shipment_id__in=shipments)
        .values_list("shipment_id", "occurred_at", "status", "substatus")
        .iterator(chunk_size=5000)
    ):
        points[shipment_id].append(StatusPoint(occurred_at, status, substatus or None))

    changes: list[StatusChange] = []
    pods: list[tuple[Shipment, PodData]] = []
    for shipment_id, shipment in shipments.items():
        state = derive_state(points[shipment_id])
        previous = (shipment.status, shipment.substatus)
        if points[shipment_id]:
            shipment.status = state.status
            shipment.substatus = state.substatus or ""
            shipment.last_event_at = state.last_event_at
            shipment.delivered_at = state.delivered_at
        for result in by_shipment[shipment_id]:
            eta, eta_end = _estimated_delivery(result)
            if eta is not None:
                shipment.estimated_delivery_at, shipment.estimated_delivery_end_at = eta, eta_end
            if result.pod is not None and shipment.status == Status.DELIVERED:
                pods.append((shipment, result.pod))
        shipment.last_synced_at = now
        shipment.sync_error_count = 0
        shipment.last_sync_error = ""
        shipment.next_sync_at = cadence.next_sync_at(
            status=shipment.status, substatus=shipment.substatus or None, now=now
        )
        shipment.updated_at = now
        if previous != (shipment.status, shipment.substatus):
            changes.append(
                StatusChange(
                    shipment_id=shipment.id,
                    order_id=shipment.order_id,
                    previous_status=previous[0],
                    previous_substatus=previous[1],
                    status=shipment.status,
                    substatus=shipment.substatus,
                    occurred_at=shipment.last_event_at,
                )
            )

    Shipment.objects.bulk_update(
        shipments.values(),
        [
            "status",
            "substatus",
            "last_event_at",
            "delivered_at",
            "estimated_delivery_at",
            "estimated_delivery_end_at",
            "last_synced_at",
            "sync_error_count",
            "last_sync_error",
            "next_sync_at",
            "updated_at",
        ],
        batch_size=1000,
    )
    _store_pods(pods)

    if changes:
        transaction.on_commit(
            lambda: shipment_status_changed.send(sender=Shipment, changes=changes)
        )
    return IngestSummary(len(shipments), len(rows), changes)


def _store_pods(pods: Sequence[tuple[Shipment, PodData]]) -> None:
    """Upsert the courier's POD; a seller-uploaded proof is never overwritten by courier data."""
    if not pods:
        return
    existing = {
        p.shipment_id: p
        for p in ProofOfDelivery.objects.filter(shipment_id__in=[s.id for s, _ in pods])
    }
    delivered_events = {
        (e.shipment_id, e.occurred_at): e.id
        for e in TrackingEvent.objects.filter(
            shipment_id__in=[s.id for s, _ in pods], status=Status.DELIVERED
        ).only("id", "shipment_id", "occurred_at")
    }
    for shipment, data in pods:
        delivered_at = data.delivered_at or shipment.delivered_at
        values = {
            "delivered_at": delivered_at,
            "signed_by": data.signed_by[:200],
            "location_type": data.location_type[:40],
            "documents": list(data.documents),
            "source_event_id": delivered_events.get((shipment.id, shipment.delivered_at)),
        }
        pod = existing.get(shipment.id)
        if pod is None:
            ProofOfDelivery.objects.create(
                shipment=shipment, source=ProofOfDelivery.Source.CARRIER, **values
            )
        elif pod.source == ProofOfDelivery.Source.CARRIER:
            for field, value in values.items():
                setattr(pod, field, value)
            pod.save()
