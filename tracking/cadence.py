"""How often to ask a courier about a parcel, by where the parcel is. Pure rules, no I/O.

A parcel out for delivery changes within the hour; one in transit changes a few times a day;
a delivered or returned one never again. Operators can speed the clock up for demos with
TRACKING_SYNC_INTERVAL_DIVISOR (make run does, so the sandbox journeys move visibly).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings

from tracking.status import Status, Substatus

SYNC_INTERVALS: dict[str, timedelta] = {
    Status.PENDING: timedelta(hours=2),  # the first scan often comes hours after the label
    Status.INFO_RECEIVED: timedelta(hours=6),
    Status.IN_TRANSIT: timedelta(hours=4),
    Status.OUT_FOR_DELIVERY: timedelta(minutes=15),
    Status.FAILED_ATTEMPT: timedelta(hours=2),
    Status.AVAILABLE_FOR_PICKUP: timedelta(hours=4),
    Status.EXCEPTION: timedelta(hours=6),
}

# Terminal: nothing the courier can say would change what we do with the parcel.
TERMINAL_SUBSTATUSES = frozenset({Substatus.EXCEPTION_RETURNED_TO_SENDER})
TERMINAL_STATUSES = frozenset({Status.DELIVERED, Status.EXPIRED})

# Per-shipment back-off when the courier does not know the number yet (or says it is invalid).
NUMBER_ERROR_BASE = timedelta(hours=1)
NUMBER_ERROR_MAX = timedelta(hours=12)

# Per-courier back-off when the courier itself fails (timeouts, 5xx, 429, bad payloads).
CARRIER_BACKOFF_BASE = timedelta(seconds=30)
CARRIER_BACKOFF_MAX = timedelta(minutes=30)


def _scaled(interval: timedelta) -> timedelta:
    return interval / max(1, settings.TRACKING_SYNC_INTERVAL_DIVISOR)


def is_terminal(status: str, substatus: str | None) -> bool:
    return status in TERMINAL_STATUSES or substatus in TERMINAL_SUBSTATUSES


def next_sync_at(*, status: str, substatus: str | None, now: datetime) -> datetime | None:
    """When to ask again; None when the parcel's story is over."""
    if is_terminal(status, substatus):
        return None
    return now + _scaled(SYNC_INTERVALS.get(status, timedelta(hours=4)))


def number_error_retry_at(*, error_count: int, now: datetime) -> datetime:
    delay = min(NUMBER_ERROR_BASE * (2 ** max(0, error_count - 1)), NUMBER_ERROR_MAX)
    return now + _scaled(delay)


def carrier_backoff(*, consecutive_failures: int, retry_after_seconds: float | None) -> timedelta:
    delay = min(CARRIER_BACKOFF_BASE * (2 ** max(0, consecutive_failures - 1)), CARRIER_BACKOFF_MAX)
    if retry_after_seconds is not None:
        delay = max(delay, timedelta(seconds=retry_after_seconds))
    return delay


def expiry_cutoff(now: datetime) -> datetime:
    """Parcels with no news since before this are ``expired`` (no news for N days)."""
    return now - timedelta(days=settings.TRACKING_EXPIRE_AFTER_DAYS)
