"""Events in, derived shipment state out.

    events_ingest(updates)
      -> lock the shipments (id order)
      -> INSERT events … ON CONFLICT (dedupe_key) DO NOTHING RETURNING the ones that are new
      -> per shipment: nothing new: state unchanged; every new event later than the last one
         stored: fold them onto the stored state; otherwise (an older event arrived late):
         read every stored event back and derive from scratch
      -> one UPDATE of the shipments, upsert POD
      -> status_changes_recorded (same transaction: receivers write rows, queue jobs on commit)

Guarantees: an event is stored once whatever the number of deliveries; the state depends only
on the set of stored events (never on arrival order: derive_state); ingesting the same thing
twice is a no-op. Written in SQL with arrays on PostgreSQL (production, where volume is), with
the ORM elsewhere: both paths run the whole test suite.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time

from django.db import connection, transaction
from django.utils import timezone

from sellers.models import Order
from tracking import cadence
from tracking.carriers.base import CarrierEvent, PodData, TrackingResult
from tracking.models import ProofOfDelivery, Shipment, ShipmentAudit, TrackingEvent
from tracking.proof import delivery_predates_order
from tracking.signals import StatusChange, status_changes_recorded
from tracking.status import DerivedState, Status, StatusPoint, derive_state, pod_standing

# Rows per INSERT on the portable path: 13 parameters a row stays under SQLite's 32,766.
EVENT_INSERT_BATCH = 2000

EVENT_COLUMNS = (
    "shipment_id", "occurred_at", "carrier_code", "message", "city", "postcode", "country",
    "status", "substatus", "source", "dedupe_key", "raw_payload_id", "received_at",
)  # fmt: skip
# PostgreSQL array types of EVENT_COLUMNS, for INSERT … SELECT FROM unnest(…).
EVENT_COLUMN_TYPES = (
    "bigint", "timestamptz", "text", "text", "text", "text", "text",
    "text", "text", "text", "text", "bigint", "timestamptz",
)  # fmt: skip
SHIPMENT_STATE_FIELDS = (
    "status", "substatus", "last_event_at", "delivered_at", "estimated_delivery_at",
    "estimated_delivery_end_at", "last_synced_at", "sync_error_count", "last_sync_error",
    "next_sync_at", "updated_at",
)  # fmt: skip
SHIPMENT_STATE_TYPES = (
    "text", "text", "timestamptz", "timestamptz", "timestamptz",
    "timestamptz", "timestamptz", "integer", "text",
    "timestamptz", "timestamptz",
)  # fmt: skip


@dataclass(frozen=True)
class ShipmentUpdate:
    """What one courier answer says about one of our shipments."""

    shipment_id: int
    result: TrackingResult
    raw_payload_id: int | None = None


@dataclass(frozen=True)
class IngestSummary:
    shipments: int
    events_received: int
    events_stored: int
    status_changes: list[StatusChange]


def event_dedupe_key(shipment_id: int, event: CarrierEvent) -> str:
    """Same scan, same key: the shipment, the instant (in UTC), the courier's code and words."""
    message = " ".join(event.message.split()).casefold()
    instant = event.occurred_at.astimezone(UTC).isoformat()
    raw = "|".join(
        [str(shipment_id), instant, event.code, event.status, event.substatus or "", message,
         event.location.postcode, event.location.city.casefold()]
    )  # fmt: skip
    return hashlib.sha256(raw.encode()).hexdigest()


def events_ingest(
    *,
    updates: Sequence[ShipmentUpdate],
    source: str = TrackingEvent.Source.POLL,
    now: datetime | None = None,
) -> IngestSummary:
    """Store the courier's events for these shipments and re-derive each one's state.

    Idempotent. Locks the shipments' rows (in id order, so concurrent ingests cannot deadlock)
    so that a push and a poll for the same parcel serialise instead of overwriting each other.
    Updates for shipments that no longer exist are ignored.
    """
    now = now or timezone.now()
    by_shipment: dict[int, list[ShipmentUpdate]] = defaultdict(list)
    for update in updates:
        by_shipment[update.shipment_id].append(update)
    if not by_shipment:
        return IngestSummary(0, 0, 0, [])
    shipments = {
        s.id: s
        for s in Shipment.objects.select_for_update().filter(id__in=by_shipment).order_by("id")
    }

    rows = [
        (
            shipment_id,
            event.occurred_at,
            event.code[:40],
            event.message[:500],
            event.location.city[:120],
            event.location.postcode[:20],
            event.location.country[:2],
            str(event.status),
            str(event.substatus or ""),
            source,
            event_dedupe_key(shipment_id, event),
            update.raw_payload_id,
            now,
        )  # fmt: skip
        for shipment_id, shipment_updates in by_shipment.items()
        if shipment_id in shipments
        for update in shipment_updates
        for event in update.result.events
    ]
    new_points: dict[int, list[StatusPoint]] = defaultdict(list)
    # The delivery events just stored, by (shipment, instant): their POD points at them.
    new_deliveries: dict[tuple[int, float], int] = {}
    for shipment_id, occurred_at, status, substatus, event_id in _insert_new_events(rows):
        new_points[shipment_id].append(StatusPoint(occurred_at, status, substatus or None))
        if status == Status.DELIVERED:
            new_deliveries[(shipment_id, occurred_at.timestamp())] = event_id
    states = _derive_states(shipments, new_points)

    changes: list[StatusChange] = []
    pods: list[tuple[Shipment, PodData]] = []
    for shipment_id, shipment in shipments.items():
        previous = (shipment.status, shipment.substatus)
        state = states.get(shipment_id)
        if state is not None:
            shipment.status = state.status
            shipment.substatus = state.substatus or ""
            shipment.last_event_at = state.last_event_at
            shipment.delivered_at = state.delivered_at
        for update in by_shipment[shipment_id]:
            eta, eta_end = _estimated_delivery(update.result)
            if eta is not None:
                shipment.estimated_delivery_at, shipment.estimated_delivery_end_at = eta, eta_end
            # Ingest alone decides whether the courier's POD counts: for the delivery that
            # stands once every stored event is taken into account.
            pod = pod_standing(update.result.pod, _stored_state(shipment))
            if pod is not None:
                pods.append((shipment, pod))
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
                    direction=shipment.direction,
                )
            )
    _save_shipment_states(list(shipments.values()))
    _store_pods(pods, new_deliveries)

    status_changes_announce(changes=changes)
    stored = sum(len(points) for points in new_points.values())
    return IngestSummary(len(shipments), len(rows), stored, changes)


def status_changes_announce(*, changes: Sequence[StatusChange]) -> None:
    """Tell the other apps about these status changes, inside the caller's transaction (the
    one way a status change reaches them: core/fanout.py). Every writer of a shipment's status
    calls it: the ingest and the expiry."""
    if changes:
        status_changes_recorded.send(sender=Shipment, changes=list(changes))


def _derive_states(
    shipments: dict[int, Shipment], new_points: dict[int, list[StatusPoint]]
) -> dict[int, DerivedState]:
    """The new state of each shipment that got new events (the others did not change)."""
    states: dict[int, DerivedState] = {}
    late: list[int] = []
    for shipment_id, points in new_points.items():
        shipment = shipments[shipment_id]
        last = shipment.last_event_at
        if last is None or all(p.occurred_at.timestamp() > last.timestamp() for p in points):
            stored = DerivedState(
                shipment.status, shipment.substatus or None, last, shipment.delivered_at
            )
            if last is None:
                stored = None  # the first events: derive from nothing
            states[shipment_id] = derive_state(points, since=stored)
        else:
            late.append(shipment_id)  # an older scan arrived late: the order must be redone
    if late:
        every_point: dict[int, list[StatusPoint]] = defaultdict(list)
        for shipment_id, occurred_at, status, substatus in TrackingEvent.objects.filter(
            shipment_id__in=late
        ).values_list("shipment_id", "occurred_at", "status", "substatus"):
            every_point[shipment_id].append(StatusPoint(occurred_at, status, substatus or None))
        for shipment_id in late:
            states[shipment_id] = derive_state(every_point[shipment_id])
    return states


def _insert_new_events(rows: list[tuple]) -> list[tuple[int, datetime, str, str, int]]:
    """Insert the rows, skipping events already stored; return (shipment_id, occurred_at,
    status, substatus, event id) of those that were new."""
    if not rows:
        return []
    table = TrackingEvent._meta.db_table
    columns = ", ".join(EVENT_COLUMNS)
    if connection.vendor == "postgresql":
        # One statement whatever the number of rows: 13 typed arrays, unnested server-side.
        # Only the keys come back: the rest of each new row is already here.
        arrays = ", ".join(f"%b::{kind}[]" for kind in EVENT_COLUMN_TYPES)
        with _binary_cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({columns}) SELECT * FROM unnest({arrays}) "  # noqa: S608
                "ON CONFLICT (dedupe_key) DO NOTHING RETURNING id, dedupe_key",
                [list(column) for column in zip(*rows, strict=True)],
            )
            new_ids = {key: event_id for event_id, key in cursor.fetchall()}
        return [
            (row[0], row[1], row[7], row[8], new_ids[row[10]]) for row in rows if row[10] in new_ids
        ]

    inserted = []
    placeholders = "(" + ", ".join(["%s"] * len(EVENT_COLUMNS)) + ")"
    adapt = connection.ops.adapt_datetimefield_value  # raw SQL skips the field's conversion
    by_key = {row[10]: row for row in rows}
    with connection.cursor() as cursor:
        for start in range(0, len(rows), EVENT_INSERT_BATCH):
            batch = [
                (*row[:1], adapt(row[1]), *row[2:12], adapt(row[12]))
                for row in rows[start : start + EVENT_INSERT_BATCH]
            ]
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES "  # noqa: S608 - constants
                + ", ".join([placeholders] * len(batch))
                + " ON CONFLICT (dedupe_key) DO NOTHING RETURNING id, dedupe_key",
                [value for row in batch for value in row],
            )
            inserted.extend((by_key[key], event_id) for event_id, key in cursor.fetchall())
    return [(row[0], row[1], row[7], row[8], event_id) for row, event_id in inserted]


def _binary_cursor():
    """A psycopg cursor with server-side binding on Django's connection (same transaction):
    typed arrays travel in binary instead of being quoted into the SQL text, which was most of
    the ingest time."""
    import psycopg

    connection.ensure_connection()
    return psycopg.Cursor(connection.connection)


def _save_shipment_states(shipments: list[Shipment]) -> None:
    if connection.vendor != "postgresql":
        Shipment.objects.bulk_update(shipments, SHIPMENT_STATE_FIELDS, batch_size=500)
        return
    # bulk_update's CASE WHEN per field and row dominated the ingest time: one UPDATE … FROM
    # unnest(arrays) does the same in a single statement.
    values = [[getattr(s, field) for s in shipments] for field in SHIPMENT_STATE_FIELDS]
    arrays = ", ".join(f"%b::{kind}[]" for kind in ("bigint", *SHIPMENT_STATE_TYPES))
    assignments = ", ".join(f"{field} = v.{field}" for field in SHIPMENT_STATE_FIELDS)
    with _binary_cursor() as cursor:
        cursor.execute(
            f"UPDATE {Shipment._meta.db_table} AS s SET {assignments} "  # noqa: S608 - constants
            f"FROM unnest({arrays}) AS v(id, {', '.join(SHIPMENT_STATE_FIELDS)}) "
            "WHERE s.id = v.id",
            [[s.id for s in shipments], *values],
        )


def _stored_state(shipment: Shipment) -> DerivedState:
    return DerivedState(
        shipment.status, shipment.substatus or None, shipment.last_event_at, shipment.delivered_at
    )


def _estimated_delivery(result: TrackingResult) -> tuple[datetime | None, datetime | None]:
    value = result.estimated_delivery
    if value is None:
        return None, result.estimated_delivery_end
    if not isinstance(value, datetime):  # a date: the whole day, local time
        value = timezone.make_aware(datetime.combine(value, time.min))
    return value, result.estimated_delivery_end


def _store_pods(
    pods: Sequence[tuple[Shipment, PodData]], new_deliveries: dict[tuple[int, float], int]
) -> None:
    """Upsert the courier's POD; a seller-uploaded proof is never overwritten by courier data,
    and a delivery from before the order existed is no POD of it (tracking.proof)."""
    if not pods:
        return
    latest = {shipment.id: (shipment, data) for shipment, data in pods}  # last answer wins
    existing = {p.shipment_id: p for p in ProofOfDelivery.objects.filter(shipment_id__in=latest)}
    # The standing delivery's event: usually one this ingest just stored; read the others.
    delivered_events = dict(new_deliveries)
    older = [
        shipment.id
        for shipment, _data in latest.values()
        if (shipment.id, shipment.delivered_at.timestamp()) not in new_deliveries
    ]
    if older:
        delivered_events.update(
            ((shipment_id, occurred_at.timestamp()), event_id)
            for event_id, shipment_id, occurred_at in TrackingEvent.objects.filter(
                shipment_id__in=older, status=Status.DELIVERED
            ).values_list("id", "shipment_id", "occurred_at")
        )
    order_created = dict(
        Order.objects.filter(id__in={s.order_id for s, _data in latest.values()}).values_list(
            "id", "created_at"
        )
    )
    to_create, to_update, refused = [], [], []
    for shipment, data in latest.values():
        delivered_at = data.delivered_at or shipment.delivered_at
        if delivery_predates_order(
            delivered_at=delivered_at, order_created_at=order_created[shipment.order_id]
        ):
            # Another parcel's delivery, not this order's: no POD, so no payout on it.
            if (shipment.id, shipment.delivered_at.timestamp()) in new_deliveries:
                refused.append(shipment)
            continue
        values = {
            "delivered_at": data.delivered_at,
            "signed_by": data.signed_by[:200],
            "location_type": data.location_type[:40],
            "documents": list(data.documents),
            "source_event_id": delivered_events.get(
                (shipment.id, shipment.delivered_at.timestamp())
            ),
        }
        pod = existing.get(shipment.id)
        if pod is None:
            to_create.append(
                ProofOfDelivery(shipment=shipment, source=ProofOfDelivery.Source.CARRIER, **values)
            )
        elif pod.source == ProofOfDelivery.Source.CARRIER:
            for field, value in values.items():
                setattr(pod, field, value)
            pod.updated_at = timezone.now()  # bulk_update does not apply auto_now
            to_update.append(pod)
    ProofOfDelivery.objects.bulk_create(to_create)
    ShipmentAudit.objects.bulk_create(
        ShipmentAudit(
            shipment=shipment,
            actor=None,
            action="pod_refused",
            detail={
                "reason": "delivered before the order existed",
                "delivered_at": shipment.delivered_at.isoformat(),
            },
        )  # fmt: skip
        for shipment in refused
    )
    if to_update:
        ProofOfDelivery.objects.bulk_update(
            to_update, ["delivered_at", "signed_by", "location_type", "documents",
                        "source_event_id", "updated_at"]
        )  # fmt: skip


# Wrapped here rather than with @transaction.atomic above the def: mutmut (`make mutate`) does not
# mutate decorated functions, and these are the ones whose wrong answer moves money or hides a
# parcel. Same behaviour: each call runs in one transaction.
events_ingest = transaction.atomic(events_ingest)
