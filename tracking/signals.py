"""Signals other apps subscribe to, sent by the tracking services (never from post_save).

Both are sent INSIDE the transaction that made the change (the one mechanism, core/fanout.py):
a receiver writes rows that commit or roll back with the change, and queues its follow-up
work with core.fanout.job_on_commit. No I/O and no enqueueing outside on_commit.

status_changes_recorded(sender=Shipment, changes=list[StatusChange])
    Shipments changed status: a courier's events (events_ingest, also for a POD approved by
    finance) or the clock (shipments_expire_stale). Receivers: tracking's exceptions and POD
    evidence (services/evidence.py: the courier's document job), the notifications outbox,
    payouts (re-evaluation job), returns (receipt job).
exceptions_opened(sender=ShipmentException, openings=list[ExceptionOpened])
    The detection job opened exceptions that no status change announced (delayed, stuck, no
    first scan): the notifications outbox turns them into buyer/seller notifications by its
    rules. Exceptions opened by a status change are not sent again here:
    status_changes_recorded already told everybody.
"""

from dataclasses import dataclass
from datetime import datetime

from django.dispatch import Signal

status_changes_recorded = Signal()
exceptions_opened = Signal()


@dataclass(frozen=True)
class StatusChange:
    shipment_id: int
    order_id: int
    previous_status: str
    previous_substatus: str
    status: str
    substatus: str
    occurred_at: datetime | None
    # "outbound" (to the buyer) or "return" (a buyer's return parcel): Shipment.Direction.
    direction: str = "outbound"


@dataclass(frozen=True)
class ExceptionOpened:
    exception_id: int
    shipment_id: int
    kind: str
    opened_at: datetime
