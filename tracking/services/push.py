"""Couriers and aggregators that call us.

    POST /webhooks/couriers/<slug>/ -> push_receive(): verify (401, nothing stored) -> keep the
    raw body once per courier event id (a replay is acknowledged, not stored again; a malformed
    body is kept for operators and answered 400) -> on commit: task process_push(id)
    -> push_process(): parse -> events_ingest(source=push) on the matching shipments

The endpoint only verifies and stores, so it answers fast; the work happens in the job.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import ApplicationError
from tracking import carriers
from tracking.carriers.base import CarrierPayloadError, PushNotConfigured, choose_our_parcels
from tracking.models import RawPayload, Shipment, TrackingEvent
from tracking.services.ingest import ShipmentUpdate, events_ingest
from tracking.services.payloads import raw_payload_build


class PushMalformed(ApplicationError):
    code = "malformed_push"


@dataclass(frozen=True)
class PushReceipt:
    raw_payload_id: int
    duplicate: bool


def push_receive(
    *, carrier: str, headers: Mapping[str, str], body: bytes, now: datetime | None = None
) -> PushReceipt:
    """Accept a courier push. Raises UnknownCarrier, PushNotConfigured (the courier's push secret
    is not set: nothing stored), PushRejected (bad signature or token, stale timestamp: nothing
    stored) or PushMalformed (the body is kept, marked malformed)."""
    now = now or timezone.now()
    adapter = carriers.get_adapter(carrier)
    if adapter.missing_push_credentials:
        prefix = carriers.env_prefix(carrier)
        names = ", ".join(f"{prefix}_{name.upper()}" for name in adapter.missing_push_credentials)
        raise PushNotConfigured(f"{adapter.name}: {names} not set, pushes are refused")
    try:
        # Some couriers read their timestamp from the body once the signature holds: a
        # signed body they cannot read is authentic but malformed, and kept as such.
        adapter.verify_push(headers=headers, body=body, now=now)
        adapter.parse_push(body)
        state, note = RawPayload.State.RECEIVED, ""
    except CarrierPayloadError as exc:
        state, note = RawPayload.State.MALFORMED, str(exc)
    event_id = adapter.push_event_id(headers=headers, body=body)
    payload = raw_payload_build(
        carrier=carrier, kind=RawPayload.Kind.PUSH, body=body,
        content_type=headers.get("content-type", ""), event_id=event_id, state=state,
        note=note, now=now,
    )  # fmt: skip
    try:
        with transaction.atomic():
            payload.save()
            if state == RawPayload.State.RECEIVED:
                transaction.on_commit(lambda: _enqueue_processing(payload.id))
    except IntegrityError:  # this event id was received before: a replay or a retry
        payload = RawPayload.objects.get(
            carrier=carrier, kind=RawPayload.Kind.PUSH, event_id=event_id
        )
        if payload.state == RawPayload.State.MALFORMED:
            raise PushMalformed(payload.note) from None
        return PushReceipt(payload.id, duplicate=True)
    if state == RawPayload.State.MALFORMED:
        raise PushMalformed(note)
    return PushReceipt(payload.id, duplicate=False)


def _enqueue_processing(raw_payload_id: int) -> None:
    from django_q.tasks import async_task

    async_task("tracking.tasks.process_push", raw_payload_id, group="push")


@transaction.atomic
def push_process(*, raw_payload_id: int, now: datetime | None = None) -> int:
    """Ingest a stored push into the shipments it names; returns how many it updated.

    Idempotent: a payload is processed once (its row is locked and marked processed). Numbers
    that match no shipment are noted on the payload for operators.
    """
    now = now or timezone.now()
    payload = RawPayload.objects.select_for_update().get(pk=raw_payload_id)
    if payload.state != RawPayload.State.RECEIVED:
        return 0
    adapter = carriers.get_adapter(payload.carrier)
    result = adapter.parse_push(payload.body)
    numbers = {tracking.tracking_number for tracking in result.shipments}
    by_number: dict[str, list[int]] = {}
    ours_since: dict[str, date] = {}
    for shipment_id, number, registered_at, ordered_at in (
        Shipment.objects.live()
        .filter(carrier=payload.carrier, tracking_number__in=numbers)
        .values_list("id", "tracking_number", "created_at", "order__created_at")
    ):
        by_number.setdefault(number, []).append(shipment_id)
        since = min(registered_at, ordered_at).astimezone(UTC).date()
        ours_since[number] = min(since, ours_since.get(number, since))
    # A push naming one number with several results (AfterShip: one number at two couriers)
    # is ingested for the one that is our parcel; the choice is noted on the payload.
    result = choose_our_parcels(result, courier=adapter.name, ours_since=ours_since)
    updates = [
        ShipmentUpdate(shipment_id, tracking, raw_payload_id=payload.id)
        for tracking in result.shipments
        for shipment_id in by_number.get(tracking.tracking_number, [])
    ]
    events_ingest(updates=updates, source=TrackingEvent.Source.PUSH, now=now)
    unmatched = sorted(numbers - set(by_number))
    payload.state = RawPayload.State.PROCESSED
    payload.processed_at = now
    notes = list(result.notes)
    if unmatched:
        notes.append("No shipment for: " + ", ".join(unmatched))
    if notes:
        payload.note = "\n".join(notes)
    payload.save(update_fields=["state", "processed_at", "note"])
    return len(updates)
