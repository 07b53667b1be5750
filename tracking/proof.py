"""When a delivery can be an order's proof of delivery: the one definition (issue 14).

A parcel delivered before its order existed cannot be the parcel the buyer ordered: it is some
other parcel's number (a replay of an old delivered number, or a typo that happens to match).
Its courier POD is not stored, so the payout gate never sees a proof; a seller upload dated
before the order is refused.

The bound is the order's creation, not the parcel's registration: sellers often confirm their
numbers after handing the parcels over, sometimes after delivery, and an honest late
confirmation must still pay; reuse of a number already in Parcelle is stopped by the
uniqueness rule (tracking_number_claim_check) instead.
"""

from __future__ import annotations

from datetime import datetime, timedelta

# Couriers' clocks and their local-time conversions are not exact: a scan a little "before"
# the order is skew, not fraud. Two hours covers clocks off by minutes and a mislabelled
# daylight-saving or neighbouring zone, and is far below the days a real replay is off by.
DELIVERY_CLOCK_SKEW = timedelta(hours=2)


def delivery_predates_order(*, delivered_at: datetime, order_created_at: datetime) -> bool:
    """True when a delivery at ``delivered_at`` is too early to prove this order's delivery."""
    return delivered_at < order_created_at - DELIVERY_CLOCK_SKEW
