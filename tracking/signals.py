"""Signals other apps subscribe to. Sent after commit by the services, never from post_save.

shipment_status_changed(sender=Shipment, changes=list[StatusChange])
"""

from dataclasses import dataclass
from datetime import datetime

from django.dispatch import Signal

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
