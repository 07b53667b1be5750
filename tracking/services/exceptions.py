"""CS exceptions: opened from the couriers' statuses at ingestion and from the clock by a job.

    events_ingest -> status_changes_recorded (same transaction)
      -> exceptions_record_for_changes: open the status kinds (failed attempt, address, customs,
         returning, lost/damaged, courier-declared delay): one INSERT, only when there are any
    tracking.detect_exceptions (schedule, every 15 min) -> exceptions_detect:
      close those that no longer hold (the parcel moved, was scanned, was delivered),
      open delayed / stuck / no first scan
      -> exceptions_opened (same transaction) -> notifications outbox (by its rules)

At most one open exception per parcel and kind: a partial unique constraint, and every insert
is ON CONFLICT DO NOTHING, so the job and ingestion may run at once, or twice, safely.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from core.business_days import FRANCE, business_days_ago, is_business_day, next_business_day
from tracking.models import OTHER_CARRIER, ExceptionKind, Shipment, ShipmentException
from tracking.signals import ExceptionOpened, StatusChange, exceptions_opened
from tracking.status import Status, Substatus

Resolution = ShipmentException.Resolution

# How many business days without a scan make a parcel "stuck", per status. A parcel out for
# delivery should be delivered or failed the same day; one at a pickup point waits for the
# buyer (the point sends it back after about ten days).
STUCK_AFTER_BUSINESS_DAYS = {
    Status.INFO_RECEIVED: 3,
    Status.IN_TRANSIT: 3,
    Status.OUT_FOR_DELIVERY: 1,
    Status.FAILED_ATTEMPT: 2,
    Status.AVAILABLE_FOR_PICKUP: 8,
    Status.EXCEPTION: 3,
}
NO_FIRST_SCAN_AFTER_HOURS = 48
# Parcels opened per kind and run: a backlog (first deploy on a large base) drains over a few
# runs instead of one long transaction.
DETECT_BATCH = 5000

_SUBSTATUS_KINDS = {
    Substatus.EXCEPTION_ADDRESS_ISSUE: ExceptionKind.ADDRESS_ISSUE,
    Substatus.EXCEPTION_CUSTOMS: ExceptionKind.CUSTOMS,
    Substatus.EXCEPTION_RETURNING_TO_SENDER: ExceptionKind.RETURNING,
    Substatus.EXCEPTION_RETURNED_TO_SENDER: ExceptionKind.RETURNING,
    Substatus.DELIVERED_TO_SENDER: ExceptionKind.RETURNING,
    Substatus.EXCEPTION_LOST: ExceptionKind.LOST_DAMAGED,
    Substatus.EXCEPTION_DAMAGED: ExceptionKind.LOST_DAMAGED,
    Substatus.EXCEPTION_DELAYED: ExceptionKind.DELAYED,
}
# What a delivery to the buyer settles (a damaged or returned parcel stays an incident).
_SETTLED_BY_DELIVERY = [
    ExceptionKind.DELAYED, ExceptionKind.STUCK, ExceptionKind.NO_FIRST_SCAN,
    ExceptionKind.FAILED_ATTEMPT, ExceptionKind.ADDRESS_ISSUE, ExceptionKind.CUSTOMS,
]  # fmt: skip
# Statuses after which nobody waits for the parcel to move any more.
_DONE = [Status.DELIVERED, Status.EXPIRED]


def exception_kind_for(*, status: str, substatus: str) -> str | None:
    """The exception a courier status opens, or None."""
    kind = _SUBSTATUS_KINDS.get(substatus)
    if kind is not None:
        return kind
    if status == Status.FAILED_ATTEMPT:
        return ExceptionKind.FAILED_ATTEMPT
    return None


def exceptions_record_for_changes(*, changes: Sequence[StatusChange], now: datetime | None = None):
    """Open the exceptions these status changes announce.

    Runs inside the ingest transaction (from status_changes_recorded), the measured hot path:
    nothing but one INSERT … ON CONFLICT DO NOTHING, and only when a change announces an
    exception (most do not). Closing what a delivery or a new scan settles is the detection
    job's (_resolve_stale, every run), not ingestion's. Idempotent."""
    now = now or timezone.now()
    opened = []
    for change in changes:
        kind = exception_kind_for(status=change.status, substatus=change.substatus)
        if kind is not None:
            opened.append(
                ShipmentException(
                    shipment_id=change.shipment_id, kind=kind, opened_at=change.occurred_at or now,
                    detail=f"Courier status {change.substatus or change.status}",
                )
            )  # fmt: skip
    if opened:
        ShipmentException.objects.bulk_create(opened, ignore_conflicts=True)


@dataclass(frozen=True)
class DetectionSummary:
    opened: dict[str, int]
    resolved: int


@transaction.atomic
def exceptions_detect(*, now: datetime | None = None) -> DetectionSummary:
    """The clock's exceptions: parcels past their estimated (or, without one, promised) date,
    parcels without a scan for STUCK_AFTER_BUSINESS_DAYS of their status, parcels the courier
    has not seen NO_FIRST_SCAN_AFTER_HOURS after upload. Closes those that no longer hold (the
    parcel moved or arrived). Safe to run twice at once (ON CONFLICT DO NOTHING); the openings
    are announced by exceptions_opened in the same transaction."""
    now = now or timezone.now()
    resolved = _resolve_stale(now)
    candidates = {
        ExceptionKind.NO_FIRST_SCAN: _no_first_scan(now),
        ExceptionKind.STUCK: _stuck(now),
        ExceptionKind.DELAYED: _delayed(now),
    }
    opened: dict[str, int] = {}
    openings: list[ExceptionOpened] = []
    for kind, rows in candidates.items():
        wanted = {shipment_id: detail for shipment_id, detail in rows}
        if not wanted:
            opened[kind] = 0
            continue
        ShipmentException.objects.bulk_create(
            [
                ShipmentException(shipment_id=sid, kind=kind, detail=detail, opened_at=now)
                for sid, detail in wanted.items()
            ],
            ignore_conflicts=True,
        )
        # ignore_conflicts leaves no keys: read back the ones this run opened.
        new = ShipmentException.objects.filter(
            kind=kind, opened_at=now, resolved_at=None, shipment_id__in=list(wanted)
        ).values_list("id", "shipment_id")
        openings += [ExceptionOpened(eid, sid, kind, now) for eid, sid in new]
        opened[kind] = len(new)
    if openings:
        exceptions_opened.send(sender=ShipmentException, openings=openings)
    return DetectionSummary(opened=opened, resolved=resolved)


def _open(kind: str):
    return Exists(
        ShipmentException.objects.filter(shipment_id=OuterRef("pk"), kind=kind, resolved_at=None)
    )


def _no_first_scan(now: datetime) -> list[tuple[int, str]]:
    cutoff = now - timedelta(hours=NO_FIRST_SCAN_AFTER_HOURS)
    ids = (
        Shipment.objects.live()
        .filter(last_event_at__isnull=True, created_at__lt=cutoff, status=Status.PENDING)
        .exclude(carrier=OTHER_CARRIER)
        .filter(~_open(ExceptionKind.NO_FIRST_SCAN))
        .values_list("id", flat=True)[:DETECT_BATCH]
    )
    detail = f"No courier scan {NO_FIRST_SCAN_AFTER_HOURS} h after upload: check the number"
    return [(sid, detail) for sid in ids]


def stuck_cutoff(now: datetime, days: int) -> datetime:
    """The last scan before which a parcel is stuck at ``now``: ``days`` business days ago.

    Only business time counts. On a business day that is the same local time ``days`` business
    days back. On a weekend or holiday the business clock stands still at the end of the last
    business day, so the cutoff is the start of the business day after the one ``days + 1``
    business days back: a parcel scanned on Friday morning is not stuck for "one business
    day" on Saturday, and one scanned on Friday evening is not stuck all weekend long."""
    local = timezone.localtime(now)
    today = local.date()
    if is_business_day(today, country=FRANCE):
        day, at = business_days_ago(today, days, country=FRANCE), local.time().replace(tzinfo=None)
    else:
        day, at = (
            next_business_day(business_days_ago(today, days + 1, country=FRANCE), country=FRANCE),
            time.min,
        )
    return datetime.combine(day, at, tzinfo=local.tzinfo)


def _stuck_cutoffs(now: datetime) -> dict[str, datetime]:
    """Per status, the last scan before which a parcel is stuck (see stuck_cutoff)."""
    return {status: stuck_cutoff(now, days) for status, days in STUCK_AFTER_BUSINESS_DAYS.items()}


def _stuck(now: datetime) -> list[tuple[int, str]]:
    rows: list[tuple[int, str]] = []
    for status, cutoff in _stuck_cutoffs(now).items():
        days = STUCK_AFTER_BUSINESS_DAYS[status]
        ids = (
            Shipment.objects.live()
            .filter(status=status, last_event_at__lt=cutoff)
            .filter(~_open(ExceptionKind.STUCK))
            .values_list("id", flat=True)[:DETECT_BATCH]
        )
        rows += [(sid, f"No scan for {days} business days while {status}") for sid in ids]
    return rows


def _delayed(now: datetime) -> list[tuple[int, str]]:
    """Past the courier's estimate (its window's end when it gives one) or, without an estimate,
    past the date the marketplace promised the buyer."""
    today = timezone.localdate(now)
    # A voided parcel (cancelled or replaced) is nobody's exception.
    active = Shipment.objects.live().exclude(status__in=[*_DONE, Status.PENDING]).exclude(
        substatus__in=[
            Substatus.EXCEPTION_RETURNING_TO_SENDER, Substatus.EXCEPTION_RETURNED_TO_SENDER,
        ]
    )  # fmt: skip
    late = Q(estimated_delivery_end_at__lt=now) | Q(
        estimated_delivery_end_at__isnull=True, estimated_delivery_at__lt=now - _one_day()
    )
    # The promised date is the buyer's: a return parcel is late only against its courier.
    promised = Q(
        estimated_delivery_at__isnull=True,
        order__promised_delivery_date__lt=today,
        direction=Shipment.Direction.OUTBOUND,
    )
    rows = (
        active.filter(late | promised)
        .filter(~_open(ExceptionKind.DELAYED))
        .values_list("id", "estimated_delivery_at", "order__promised_delivery_date")[:DETECT_BATCH]
    )
    out = []
    for sid, estimated, promised_date in rows:
        if estimated is not None:
            out.append((sid, f"Courier estimate {timezone.localdate(estimated)} passed"))
        else:
            out.append((sid, f"Promised date {promised_date} passed"))
    return out


def _one_day() -> timedelta:
    # A date-only estimate is stored at midnight: late once that whole day has passed.
    return timedelta(days=1)


def _resolve_stale(now: datetime) -> int:
    """Close clock exceptions that no longer hold: a stuck parcel scanned since (it is no longer
    past its status's threshold), a first scan at last, a delivery."""
    still_stuck = Q(pk__in=[])
    for status, cutoff in _stuck_cutoffs(now).items():
        still_stuck |= Q(shipment__status=status, shipment__last_event_at__lt=cutoff)
    settled = ShipmentException.objects.filter(resolved_at=None).filter(
        Q(kind=ExceptionKind.STUCK) & ~still_stuck
        | Q(kind=ExceptionKind.NO_FIRST_SCAN, shipment__last_event_at__isnull=False)
        | Q(kind__in=_SETTLED_BY_DELIVERY, shipment__status=Status.DELIVERED)
    )
    ids = list(settled.values_list("id", flat=True)[:DETECT_BATCH])
    return ShipmentException.objects.filter(pk__in=ids, resolved_at=None).update(
        resolved_at=now, resolution=Resolution.COURIER_RESOLVED
    )
