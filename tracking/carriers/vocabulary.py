"""The normalised tracking vocabulary every courier format maps its codes to.

The one module of shared words the courier formats may import (pure Python, no Django): the
statuses and substatuses (wire names lowercase, as AfterShip's tags that users already know) and
the place a delivery substatus says the parcel was left. ``tracking.status`` re-exports the
enums for the rest of the code and holds the rule that derives a parcel's state.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    PENDING = "pending"
    INFO_RECEIVED = "info_received"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    FAILED_ATTEMPT = "failed_attempt"
    AVAILABLE_FOR_PICKUP = "available_for_pickup"
    DELIVERED = "delivered"
    EXCEPTION = "exception"
    EXPIRED = "expired"


class Substatus(StrEnum):
    DELIVERED_SIGNED = "delivered.signed"
    DELIVERED_PICKUP_POINT = "delivered.pickup_point"
    DELIVERED_MAILBOX = "delivered.mailbox"
    DELIVERED_NEIGHBOUR = "delivered.neighbour"
    DELIVERED_LOCKER = "delivered.locker"
    DELIVERED_FRONT_DOOR = "delivered.front_door"
    DELIVERED_TO_SENDER = "delivered.to_sender"
    FAILED_ATTEMPT_RECIPIENT_ABSENT = "failed_attempt.recipient_absent"
    FAILED_ATTEMPT_ACCESS_ISSUE = "failed_attempt.access_issue"
    EXCEPTION_ADDRESS_ISSUE = "exception.address_issue"
    EXCEPTION_REFUSED = "exception.refused"
    EXCEPTION_DAMAGED = "exception.damaged"
    EXCEPTION_LOST = "exception.lost"
    EXCEPTION_CUSTOMS = "exception.customs"
    EXCEPTION_DELAYED = "exception.delayed"
    EXCEPTION_RETURNING_TO_SENDER = "exception.returning_to_sender"
    EXCEPTION_RETURNED_TO_SENDER = "exception.returned_to_sender"
    EXCEPTION_CANCELLED = "exception.cancelled"
    EXCEPTION_OTHER = "exception.other"


# Where a delivery substatus says the parcel was left: a POD's ``location_type`` when the courier
# names no place of its own. One table for every courier (it was repeated in eight adapters).
DELIVERY_LOCATION_TYPES: dict[str, str] = {
    Substatus.DELIVERED_PICKUP_POINT: "pickup_point",
    Substatus.DELIVERED_LOCKER: "locker",
    Substatus.DELIVERED_MAILBOX: "mailbox",
    Substatus.DELIVERED_NEIGHBOUR: "neighbour",
    Substatus.DELIVERED_FRONT_DOOR: "front_door",
}
