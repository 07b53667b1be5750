"""The payout rules, in pure Python so they are tested exhaustively without a database.

commission_split(gross, rate)  -> (commission, net), commission + net == gross always
parcel_proven(parcel)          -> does this parcel prove delivery to the buyer?
payout_decide(...)             -> the status an open payout should have now, and why
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal

from tracking.status import RETURN_SUBSTATUSES, Status

POD_SOURCE_CARRIER = "carrier"
POD_SOURCE_SELLER_UPLOAD = "seller_upload"
POD_REVIEW_APPROVED = "approved"


def commission_split(gross_amount: int, rate: Decimal) -> tuple[int, int]:
    """Split a gross amount (integer minor units) into (commission, net).

    The rule: commission = gross × rate rounded half-up to the minor unit; the seller gets the
    rest. So commission + net == gross exactly, and a half cent goes to the marketplace.
    """
    if gross_amount < 0:
        raise ValueError("gross amount must not be negative")
    if not Decimal(0) <= rate <= Decimal(1):
        raise ValueError("commission rate must be between 0 and 1")
    commission = int((Decimal(gross_amount) * rate).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return commission, gross_amount - commission


@dataclass(frozen=True)
class ParcelFacts:
    """What the payout gate reads about one parcel of the order."""

    shipment_id: int
    status: str
    substatus: str
    delivered_at: datetime | None
    pod_source: str | None  # None: no ProofOfDelivery row
    pod_review: str | None


def parcel_returning(parcel: ParcelFacts) -> bool:
    """Going back to the seller (tracking.status.RETURN_SUBSTATUSES): never proof for the buyer."""
    return parcel.substatus in RETURN_SUBSTATUSES


def parcel_proven(parcel: ParcelFacts) -> bool:
    """Delivered to the buyer, with the courier's POD or a seller upload finance approved."""
    if parcel.status != Status.DELIVERED or parcel.delivered_at is None:
        return False
    if parcel_returning(parcel):
        return False
    if parcel.pod_source == POD_SOURCE_CARRIER:
        return True
    return parcel.pod_source == POD_SOURCE_SELLER_UPLOAD and parcel.pod_review == (
        POD_REVIEW_APPROVED
    )


@dataclass(frozen=True)
class Decision:
    status: str  # held | eligible | on_hold
    hold_reason: str  # "" unless on_hold
    pod_complete: bool
    last_delivered_at: datetime | None
    release_due_at: datetime | None
    why: str


def payout_decide(
    *,
    parcels: Iterable[ParcelFacts],
    buyer_confirmed_at: datetime | None,
    claim_kind: str,
    finance_hold: bool,
    claim_window: timedelta,
    now: datetime,
    return_open: bool = False,
    tz: tzinfo | None = None,
) -> Decision:
    """The status an open payout should have. Depends on the set of parcels, not their order.

    - on_hold when a claim or dispute is open, finance holds it, a return request is open, or
      a parcel is going back;
    - eligible when every parcel (at least one) is proven and either the buyer confirmed receipt
      or the claim window after the last delivery has passed;
    - held otherwise.

    ``tz`` is the zone the reasons name dates in (the marketplace's, where finance reads them):
    a window ending at 00:30 in Paris ends on that Paris day, not on the UTC day before.
    """
    parcels = list(parcels)
    proven = [p for p in parcels if parcel_proven(p)]
    pod_complete = bool(parcels) and len(proven) == len(parcels)
    last_delivered_at = max((p.delivered_at for p in proven), default=None)
    release_due_at = None
    if pod_complete:
        release_due_at = last_delivered_at + claim_window
        if buyer_confirmed_at is not None:
            release_due_at = min(release_due_at, buyer_confirmed_at)

    def decision(status: str, hold_reason: str, why: str) -> Decision:
        return Decision(status, hold_reason, pod_complete, last_delivered_at, release_due_at, why)

    if claim_kind:
        return decision("on_hold", claim_kind, f"a {claim_kind} is open")
    if finance_hold:
        return decision("on_hold", "finance", "finance holds it")
    if return_open:
        return decision("on_hold", "return", "a return request is open")
    returning = sorted(p.shipment_id for p in parcels if parcel_returning(p))
    if returning:
        ids = ", ".join(str(i) for i in returning)
        return decision("on_hold", "return", f"parcel(s) {ids} going back to the seller")
    if not parcels:
        return decision("held", "", "the order has no parcel yet")
    if not pod_complete:
        missing = len(parcels) - len(proven)
        return decision("held", "", f"{missing} of {len(parcels)} parcel(s) without proof")
    if buyer_confirmed_at is not None:
        return decision("eligible", "", "every parcel proven; the buyer confirmed receipt")
    if now >= release_due_at:
        return decision("eligible", "", "every parcel proven; the claim window has passed")
    ends = release_due_at.astimezone(tz) if tz is not None else release_due_at
    return decision("held", "", f"every parcel proven; claim window ends {ends:%Y-%m-%d}")
