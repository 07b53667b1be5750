"""The normalised tracking vocabulary and the rule that derives a parcel's state from its events.

Pure Python (no models). The vocabulary itself (``Status``, ``Substatus``) lives with the courier
formats in ``tracking.carriers.vocabulary``, the one module of shared words they import; it is
re-exported here for the rest of the code.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from tracking.carriers.base import PodData, TrackingResult
from tracking.carriers.vocabulary import DELIVERY_LOCATION_TYPES, Status, Substatus

# Statuses after which a parcel no longer moves forward on its way to the buyer.
FINAL_STATUSES = frozenset({Status.DELIVERED, Status.EXPIRED})
# What counts as a return to the seller, everywhere (payouts: never proof for the buyer;
# notifications: the "returned" trigger; seller metrics: the return rate; the buyer page's tone):
# on its way back, back at the courier's depot, or handed back to the seller. A refusal by the
# buyer is an exception of its own until the courier reports the parcel going back.
RETURN_SUBSTATUSES = frozenset(
    {
        Substatus.EXCEPTION_RETURNING_TO_SENDER,
        Substatus.EXCEPTION_RETURNED_TO_SENDER,
        Substatus.DELIVERED_TO_SENDER,
    }
)

# Where each status sits in a parcel's life: breaks ties between events with the same timestamp
# (couriers often stamp "out for delivery" and "delivered" with the same minute). Intrinsic to
# the event, so the result never depends on which answer stored it first.
LIFECYCLE_RANK = {
    Status.PENDING: 0,
    Status.INFO_RECEIVED: 1,
    Status.IN_TRANSIT: 2,
    Status.OUT_FOR_DELIVERY: 3,
    Status.AVAILABLE_FOR_PICKUP: 4,
    Status.FAILED_ATTEMPT: 5,
    Status.EXCEPTION: 6,
    Status.DELIVERED: 7,
    Status.EXPIRED: 8,
}

# Scans that move a parcel towards the buyer: after a delivery they are late hub scans.
_FORWARD_STATUSES = frozenset(
    {
        Status.PENDING,
        Status.INFO_RECEIVED,
        Status.IN_TRANSIT,
        Status.OUT_FOR_DELIVERY,
        Status.AVAILABLE_FOR_PICKUP,
        Status.FAILED_ATTEMPT,
    }
)


@dataclass(frozen=True)
class StatusPoint:
    """The part of an event the derivation rule reads."""

    occurred_at: datetime
    status: str
    substatus: str | None


@dataclass(frozen=True)
class DerivedState:
    status: str
    substatus: str | None
    last_event_at: datetime | None
    delivered_at: datetime | None


def status_point_order(point: StatusPoint) -> tuple[float, int, str]:
    # The UTC instant, not the datetime: two datetimes sharing a ZoneInfo compare by wall clock,
    # which puts the repeated hour of the autumn DST change in the wrong order.
    return (
        point.occurred_at.timestamp(),
        LIFECYCLE_RANK.get(point.status, 2),
        point.substatus or "",
    )


def derive_state(
    points: Iterable[StatusPoint], *, since: DerivedState | None = None
) -> DerivedState:
    """Derive a parcel's current state from its events, whatever order they arrived in.

    The rule:
    - events are read in ``occurred_at`` order, ties broken by lifecycle rank then substatus, so
      the result never depends on arrival order;
    - the latest event wins, except that once delivered, a later forward-moving scan
      (info received, in transit, out for delivery, pickup) does not undo the delivery: couriers
      send late hub scans after the fact;
    - a return after delivery (returning/returned to sender) or a later exception is its own
      state and does replace ``delivered``;
    - ``delivered_at`` is the time of the delivery that stands, None otherwise.

    ``since`` continues from the state already derived from earlier events: the result equals
    deriving from all events only when every point here is strictly later than
    ``since.last_event_at`` (the ingest service checks that before using it).
    """
    ordered = sorted(points, key=status_point_order)
    if since is None:
        since = DerivedState(Status.PENDING, None, None, None)
    if not ordered:
        return since

    status, substatus, delivered_at = since.status, since.substatus, since.delivered_at
    has_current = since.last_event_at is not None
    for point in ordered:
        if has_current and status == Status.DELIVERED:
            if point.status == Status.DELIVERED:
                # a second delivery scan may say more (signatory, place); the time stands
                status, substatus = point.status, point.substatus
                continue
            if point.status in _FORWARD_STATUSES:
                continue
        status, substatus = point.status, point.substatus
        delivered_at = point.occurred_at if point.status == Status.DELIVERED else None
        has_current = True
    last = ordered[-1].occurred_at
    if since.last_event_at is not None and since.last_event_at.timestamp() > last.timestamp():
        last = since.last_event_at
    return DerivedState(
        status=status, substatus=substatus, last_event_at=last, delivered_at=delivered_at
    )


def result_state(result: TrackingResult) -> DerivedState:
    """The state one courier answer alone gives a parcel (what ``tracking parse`` shows)."""
    return derive_state(StatusPoint(e.occurred_at, e.status, e.substatus) for e in result.events)


def pod_standing(pod: PodData | None, state: DerivedState) -> PodData | None:
    """The courier's POD as the tracking record keeps it, for a parcel in ``state``.

    The one place that decides whether a courier's proof counts (courier formats report the
    proof of their answer's delivery scan, nothing more): only for a delivery that stands, not
    one undone by a later return or exception; dated by that delivery when the courier gives no
    time, and placed by its substatus when the courier names no place.
    """
    if pod is None or state.status != Status.DELIVERED:
        return None
    return replace(
        pod,
        delivered_at=pod.delivered_at or state.delivered_at,
        location_type=pod.location_type or DELIVERY_LOCATION_TYPES.get(state.substatus or "", ""),
    )
