"""Asking couriers about our parcels, on django-q2.

    schedule "tracking.dispatch_due_syncs" (every minute)
      -> sync_dispatch_due(): expire stale parcels (a status change: audited, announced);
         per courier not backing off, claim due
         shipments (SELECT … FOR UPDATE SKIP LOCKED), lease them, enqueue batch jobs
      -> task sync_carrier_batch(carrier, ids) -> carrier_batch_sync()
         -> adapter.fetch_and_parse(numbers) -> raw payloads kept -> events_ingest()
            | per-number errors | courier back-off

No shipment is ever dropped: a claimed shipment is leased (next_sync_at pushed by CLAIM_LEASE),
so if its job dies it is dispatched again when the lease ends; a courier fault moves the
batch's shipments to the end of the courier's back-off.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from tracking import cadence, carriers
from tracking.budgets import courier_budget
from tracking.carriers.base import (
    CarrierFault,
    TrackingError,
    choose_our_parcels,
    not_returned_errors,
)
from tracking.carriers.http import CarrierHttpClient
from tracking.models import CarrierSyncState, Shipment, ShipmentAudit
from tracking.services.ingest import ShipmentUpdate, events_ingest, status_changes_announce
from tracking.services.payloads import raw_payloads_store_answers
from tracking.signals import StatusChange
from tracking.status import Status

# A claimed shipment is not claimed again for this long: longer than any batch job runs
# (django-q2's timeout is 120 s), short enough that a crashed job's parcels come back soon.
CLAIM_LEASE = timedelta(minutes=10)
# Courier requests one job makes: keeps a job to a few seconds so workers stay responsive.
REQUESTS_PER_JOB = 20
# The dispatcher runs every minute; it hands out at most one minute of each courier's quota.
DISPATCH_PERIOD_SECONDS = 60
# Upper bound per courier per tick whatever the quota, so one tick's transaction stays short.
MAX_CLAIM_PER_CARRIER = 20_000


# Parcels expired per transaction: each is one updated row, one audit row and its listeners'
# rows (a webhook event at most), so a backlog after an outage clears in short transactions.
EXPIRE_BATCH = 500

# Carrier sync state error code of a courier whose API credentials are not configured.
NOT_CONFIGURED = "not_configured"
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BatchOutcome:
    carrier: str
    synced: int
    number_errors: int
    fault: str = ""


def carrier_capacity(adapter: carriers.CarrierAdapter) -> int:
    """Tracking numbers the courier lets us ask about in one dispatch period."""
    requests = max(1, int(adapter.requests_per_second * DISPATCH_PERIOD_SECONDS))
    return min(MAX_CLAIM_PER_CARRIER, requests * adapter.batch_size)


def shipments_expire_stale(*, now: datetime | None = None) -> int:
    """Parcels with no news for TRACKING_EXPIRE_AFTER_DAYS become ``expired``; returns how many.

    A status change like any other: per batch of EXPIRE_BATCH, in one transaction, the
    shipments are locked (SKIP LOCKED: one an ingest or another dispatcher holds is left for
    the next run), set expired, audited (``ShipmentAudit`` "expired", actor None) and announced
    with status_changes_recorded, so every app reacts to it as to a courier's status. Safe to
    run twice at once."""
    now = now or timezone.now()
    expired = 0
    while True:
        count = _expire_batch(cutoff=cadence.expiry_cutoff(now), now=now)
        expired += count
        if count < EXPIRE_BATCH:
            return expired


@transaction.atomic
def _expire_batch(*, cutoff: datetime, now: datetime) -> int:
    shipments = list(
        Shipment.objects.annotate(last_news_at=Coalesce("last_event_at", "created_at"))
        .filter(last_news_at__lt=cutoff)
        .exclude(status__in=[Status.DELIVERED, Status.EXPIRED])
        .exclude(substatus__in=list(cadence.TERMINAL_SUBSTATUSES))
        .order_by("id")
        .select_for_update(skip_locked=True)
        .only("id", "order_id", "status", "substatus", "direction")[:EXPIRE_BATCH]
    )
    if not shipments:
        return 0
    Shipment.objects.filter(id__in=[s.id for s in shipments]).update(
        status=Status.EXPIRED, substatus="", next_sync_at=None, updated_at=now
    )
    ShipmentAudit.objects.bulk_create(
        ShipmentAudit(
            shipment_id=s.id,
            actor=None,
            action="expired",
            created_at=now,
            detail={
                "previous_status": s.status,
                "previous_substatus": s.substatus,
                "no_news_since": s.last_news_at.isoformat(),
            },
        )  # fmt: skip
        for s in shipments
    )
    status_changes_announce(
        changes=[
            StatusChange(
                shipment_id=s.id,
                order_id=s.order_id,
                previous_status=s.status,
                previous_substatus=s.substatus,
                status=Status.EXPIRED,
                substatus="",
                occurred_at=now,
                direction=s.direction,
            )  # fmt: skip
            for s in shipments
        ]
    )
    return len(shipments)


def sync_dispatch_due(*, now: datetime | None = None) -> list[tuple[str, list[int]]]:
    """Claim the shipments due for a sync and enqueue one job per courier batch.

    Safe to run twice at once: claims use SKIP LOCKED on PostgreSQL and a lease, so two
    dispatchers never hand out the same shipment. Returns the (carrier, ids) jobs enqueued.
    """
    now = now or timezone.now()
    shipments_expire_stale(now=now)
    jobs: list[tuple[str, list[int]]] = []
    backing_off = set(
        CarrierSyncState.objects.filter(backoff_until__gt=now).values_list("carrier", flat=True)
    )
    for adapter in carriers.all_adapters():
        if adapter.slug in backing_off:
            continue
        if adapter.missing_credentials:
            # Not polled: its parcels stay due (nothing dropped) until the credentials are set.
            carrier_not_configured_record(adapter=adapter, now=now)
            continue
        ids = _claim_due(adapter.slug, limit=carrier_capacity(adapter), now=now)
        job_size = adapter.batch_size * REQUESTS_PER_JOB
        jobs.extend(
            (adapter.slug, ids[start : start + job_size]) for start in range(0, len(ids), job_size)
        )
    sync_jobs_enqueue(jobs)
    return jobs


def carrier_not_configured_record(*, adapter: carriers.CarrierAdapter, now: datetime) -> None:
    """Show operators (carrier sync state, log) that a courier lacks its API credentials."""
    prefix = carriers.env_prefix(adapter.slug)
    variables = ", ".join(f"{prefix}_{name.upper()}" for name in adapter.missing_credentials)
    message = f"{variables} not set: the courier is not polled"
    logger.warning("%s: %s", adapter.slug, message, extra={"carrier": adapter.slug})
    CarrierSyncState.objects.update_or_create(
        carrier=adapter.slug,
        defaults={
            "last_error_code": NOT_CONFIGURED,
            "last_error_message": message,
            "last_failure_at": now,
        },
    )


@transaction.atomic
def _claim_due(carrier: str, *, limit: int, now: datetime) -> list[int]:
    ids = list(
        Shipment.objects.filter(carrier=carrier, next_sync_at__lte=now)
        .order_by("next_sync_at", "id")
        .select_for_update(skip_locked=True)
        .values_list("id", flat=True)[:limit]
    )
    if ids:
        Shipment.objects.filter(id__in=ids).update(next_sync_at=now + CLAIM_LEASE)
    return ids


def sync_jobs_enqueue(jobs: Sequence[tuple[str, list[int]]]) -> None:
    """Enqueue the batch jobs once the claim is committed (a rolled-back claim enqueues none)."""
    from django_q.tasks import async_task

    def enqueue() -> None:
        for carrier, ids in jobs:
            if ids:
                async_task(
                    "tracking.tasks.sync_carrier_batch", carrier, ids, group=f"sync:{carrier}"
                )

    transaction.on_commit(enqueue)


def carrier_batch_sync(
    *,
    carrier: str,
    shipment_ids: Sequence[int],
    client: CarrierHttpClient | None = None,
    now: datetime | None = None,
    respect_backoff: bool = True,
) -> BatchOutcome:
    """Ask the courier about these shipments and ingest what it says.

    Courier faults stop the batch, back the courier off and reschedule every remaining
    shipment at the end of the back-off. Per-number errors (unknown number) back off that
    shipment only. Never raises for courier behaviour; raises UnknownCarrier for a bad slug.
    """
    adapter = carriers.get_adapter(carrier)
    now = now or timezone.now()
    if respect_backoff:
        backoff_until = (
            CarrierSyncState.objects.filter(carrier=carrier, backoff_until__gt=now)
            .values_list("backoff_until", flat=True)
            .first()
        )
        if backoff_until is not None:  # the courier failed after this job was enqueued
            Shipment.objects.filter(id__in=shipment_ids).update(next_sync_at=backoff_until)
            return BatchOutcome(carrier, 0, 0, fault="backing_off")
    if adapter.missing_credentials:  # enqueued before the credentials went missing
        return BatchOutcome(carrier, 0, 0, fault=NOT_CONFIGURED)
    client = client or carriers.make_client(adapter, budget=courier_budget(adapter))
    shipments = list(
        Shipment.objects.filter(id__in=shipment_ids, carrier=carrier)
        .select_related("order")
        .only("id", "tracking_number", "sync_error_count", "created_at", "order__created_at")
    )
    by_number: dict[str, list[Shipment]] = defaultdict(list)
    for shipment in shipments:
        by_number[shipment.tracking_number].append(shipment)
    numbers = sorted(by_number)
    ours_since = _ours_since(by_number)

    synced = number_errors = 0
    updates: list[ShipmentUpdate] = []
    errors: list[TrackingError] = []
    fault: CarrierFault | None = None
    for start in range(0, len(numbers), adapter.batch_size):
        chunk = numbers[start : start + adapter.batch_size]
        try:
            answers = adapter.fetch_and_parse(chunk, client=client)
        except CarrierFault as exc:
            fault, unsynced = exc, numbers[start:]
            break
        results = [
            choose_our_parcels(a.result, courier=adapter.name, ours_since=ours_since)
            for a in answers
        ]
        payloads = raw_payloads_store_answers(
            carrier=carrier,
            responses=[a.response for a in answers],
            notes=["\n".join(r.notes) for r in results],
            now=now,
        )
        for payload, result in zip(payloads, results, strict=True):
            updates.extend(
                ShipmentUpdate(shipment.id, tracking, raw_payload_id=payload.id)
                for tracking in result.shipments
                for shipment in by_number.get(tracking.tracking_number, [])
            )
            errors.extend(result.errors)
        errors.extend(not_returned_errors(chunk, results))

    # What the courier did answer is ingested even when a later request failed.
    events_ingest(updates=updates, now=now)
    synced = len(updates)
    for error in errors:
        for shipment in by_number.get(error.tracking_number, []):
            shipment_sync_error_record(
                shipment=shipment, code=error.code, message=error.message, now=now
            )
            number_errors += 1
    if fault is not None:
        remaining = [s.id for n in unsynced for s in by_number[n]]
        backoff_until = carrier_fault_record(carrier=carrier, fault=fault, now=now)
        Shipment.objects.filter(id__in=remaining).update(next_sync_at=backoff_until)
        return BatchOutcome(carrier, synced, number_errors, fault=fault.code)
    requests = max(1, -(-len(numbers) // adapter.batch_size))
    carrier_success_record(carrier=carrier, requests=requests, now=now)
    return BatchOutcome(carrier, synced, number_errors)


def _ours_since(by_number: dict[str, list[Shipment]]) -> dict[str, date]:
    """Per number, the earliest of our order and registration dates: a courier result shipped
    before it is another parcel that had the number first (``choose_our_parcels``)."""
    return {
        number: min(min(s.created_at, s.order.created_at).astimezone(UTC).date() for s in shipments)
        for number, shipments in by_number.items()
    }


def shipment_sync_error_record(
    *, shipment: Shipment, code: str, message: str, now: datetime | None = None
) -> None:
    """The courier answered but not about this parcel (unknown/invalid number): retry later,
    spacing the attempts out; expiry eventually ends it if the courier never knows it."""
    now = now or timezone.now()
    errors = shipment.sync_error_count + 1
    Shipment.objects.filter(pk=shipment.pk).update(
        sync_error_count=F("sync_error_count") + 1,
        last_sync_error=f"{code}: {message}"[:300],
        last_synced_at=now,
        next_sync_at=cadence.number_error_retry_at(error_count=errors, now=now),
    )


@transaction.atomic
def carrier_fault_record(
    *, carrier: str, fault: CarrierFault, now: datetime | None = None
) -> datetime:
    """Count a courier failure and return until when every job for it waits."""
    now = now or timezone.now()
    state, _ = CarrierSyncState.objects.select_for_update().get_or_create(carrier=carrier)
    state.consecutive_failures += 1
    state.failures_total += 1
    state.requests_total += 1
    state.last_failure_at = now
    state.last_error_code = fault.code
    state.last_error_message = str(fault)[:500]
    state.backoff_until = now + cadence.carrier_backoff(
        consecutive_failures=state.consecutive_failures,
        retry_after_seconds=fault.retry_after_seconds,
    )
    state.save()
    return state.backoff_until


def carrier_success_record(*, carrier: str, requests: int, now: datetime | None = None) -> None:
    now = now or timezone.now()
    updated = CarrierSyncState.objects.filter(carrier=carrier).update(
        consecutive_failures=0,
        backoff_until=None,
        last_success_at=now,
        requests_total=F("requests_total") + requests,
    )
    if not updated:
        CarrierSyncState.objects.get_or_create(
            carrier=carrier, defaults={"last_success_at": now, "requests_total": requests}
        )


def shipment_sync_now(
    *, shipment: Shipment, client: CarrierHttpClient | None = None
) -> BatchOutcome:
    """Sync one parcel in this process (operators' `tracking sync`), ignoring back-off."""
    return carrier_batch_sync(
        carrier=shipment.carrier, shipment_ids=[shipment.id], client=client, respect_backoff=False
    )
