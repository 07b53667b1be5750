"""Signals other apps subscribe to, sent by the tracking services (never from post_save).

status_changes_recorded(sender=Shipment, changes=list[StatusChange])
    Sent INSIDE the transaction that changed the statuses: a receiver's writes commit or roll
    back with the change (the notifications outbox relies on it). Receivers write rows only:
    no I/O, no enqueueing (do that on commit).
shipment_status_changed(sender=Shipment, changes=list[StatusChange])
    Sent after commit: for work that must only happen once the change is durable.
"""

from dataclasses import dataclass
from datetime import datetime

from django.dispatch import Signal

status_changes_recorded = Signal()
shipment_status_changed = Signal()


@dataclass(frozen=True)
class StatusChange:
    shipment_id: int
    order_id: int
    previous_status: str
    previous_substatus: str
    status: str
    substatus: str
    occurred_at: datetime | None
