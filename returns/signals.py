"""Signals of the returns app, sent INSIDE the transaction of the change by its services (the
one mechanism, core/fanout.py: receivers write rows in that transaction, queue jobs on commit).

return_step_recorded(sender=ReturnRequest, step=ReturnStep)
    A buyer's return moved (requested, accepted, refused, received). The notifications app
    records the buyer's messages and the seller's ``return.updated`` webhook by its rules.
"""

from dataclasses import dataclass
from datetime import datetime

from django.dispatch import Signal

return_step_recorded = Signal()


@dataclass(frozen=True)
class ReturnStep:
    request_id: int
    reference: str
    status: str  # ReturnRequest.Status the request moved to
    shipment_id: int  # the delivered parcel the items came in
    data: dict  # the return as webhook receivers read it
    occurred_at: datetime
