"""Signals of the payouts app, sent INSIDE the transaction of the change by its services (the
one mechanism, core/fanout.py: receivers write rows in that transaction, queue jobs on commit).

payouts_released(sender=Payout, releases=list[PayoutReleased])
    Sellers' money left escrow (one payout, or a batch of the auto-release job). The
    notifications app records the signed ``payout.released`` webhooks: they commit with the
    release, so none is sent for a release that rolled back and none is lost after commit.
"""

from dataclasses import dataclass
from datetime import datetime

from django.dispatch import Signal

payouts_released = Signal()


@dataclass(frozen=True)
class PayoutReleased:
    payout_id: int
    order_id: int
    seller_id: int
    net_amount: int
    currency: str
    released_at: datetime
