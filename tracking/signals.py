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


# exceptions_opened(sender=ShipmentException, openings=list[ExceptionOpened])
#     Sent INSIDE the transaction of the detection job when it opens exceptions that no status
#     change announced (delayed, stuck, no first scan): the notifications outbox turns them into
#     buyer/seller notifications by its rules. Exceptions opened by a status change are not
#     sent again here: status_changes_recorded already told everybody.
exceptions_opened = Signal()


@dataclass(frozen=True)
class ExceptionOpened:
    exception_id: int
    shipment_id: int
    kind: str
    opened_at: datetime
