"""Which status changes are worth telling someone about: pure Python, shared by the outbox,
the rules and the webhooks."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from tracking.status import RETURN_SUBSTATUSES, Status, Substatus


class Trigger(models.TextChoices):
    SHIPPED = "shipped", _("Shipped (now in transit)")
    OUT_FOR_DELIVERY = "out_for_delivery", _("Out for delivery")
    AVAILABLE_FOR_PICKUP = "available_for_pickup", _("Available for pickup")
    FAILED_ATTEMPT = "failed_attempt", _("Failed delivery attempt")
    DELAYED = "delayed", _("Delayed")
    DELIVERED = "delivered", _("Delivered")
    EXCEPTION = "exception", _("Exception (address, damage, loss, customs…)")
    RETURNED = "returned", _("Returning / returned to the seller")
    # A buyer's return request (returns app), step by step; not status changes of a parcel.
    RETURN_REQUESTED = "return_requested", _("Return requested")
    RETURN_ACCEPTED = "return_accepted", _("Return accepted")
    RETURN_REFUSED = "return_refused", _("Return refused")
    RETURN_RECEIVED = "return_received", _("Return received (refund or exchange)")


RETURN_TRIGGERS = frozenset(
    {
        Trigger.RETURN_REQUESTED,
        Trigger.RETURN_ACCEPTED,
        Trigger.RETURN_REFUSED,
        Trigger.RETURN_RECEIVED,
    }
)


# Before these a parcel had not left: the first in_transit after them is "shipped".
_NOT_YET_SHIPPED = frozenset({"", Status.PENDING, Status.INFO_RECEIVED})


def trigger_for(*, previous_status: str, status: str, substatus: str) -> Trigger | None:
    """The trigger a status change fires, or None when nobody needs to hear about it
    (info received, a second in_transit scan, expiry)."""
    if substatus in RETURN_SUBSTATUSES:
        return Trigger.RETURNED
    if substatus == Substatus.EXCEPTION_DELAYED:
        return Trigger.DELAYED
    if status == Status.EXCEPTION:
        return Trigger.EXCEPTION
    if status == Status.DELIVERED:
        return Trigger.DELIVERED
    if status in (
        Status.OUT_FOR_DELIVERY,
        Status.AVAILABLE_FOR_PICKUP,
        Status.FAILED_ATTEMPT,
    ):
        return Trigger(str(status))
    if status == Status.IN_TRANSIT and previous_status in _NOT_YET_SHIPPED:
        return Trigger.SHIPPED
    return None


def status_key(*, trigger: Trigger, substatus: str) -> str:
    """What "the same status" means for the never-twice rule: the trigger, except for
    exceptions, where a new kind of incident (address issue, then damaged) is news again."""
    if trigger == Trigger.EXCEPTION and substatus:
        return substatus
    return str(trigger)
