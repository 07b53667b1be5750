"""The steps of a buyer's return (returns app) as notifications: the same outbox as status
changes, written in the caller's transaction and sent after commit.

    returns service (requested / accepted / refused / received) -> return_step_recorded
      -> receivers.on_return_step_recorded (same transaction)
      -> return_step_record: buyer email/SMS rows per the seller's rules for that trigger
                             + a ``return.updated`` webhook event for the seller and the CRM
      -> on commit: send_notifications(shipment), deliver_webhooks(deliveries)

A notification row hangs on the parcel the items came in (its ``status_key`` names the return
and the step), so the never-twice rule holds per return and step.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from core.phones import sms_recipient
from notifications.content import buyer_locale
from notifications.models import Audience, Channel, EventType, Notification
from notifications.selectors import rulebook_load
from notifications.services.outbox import _enqueue, _event, _record_events, _skipped_unless
from notifications.triggers import RETURN_TRIGGERS, Trigger


@transaction.atomic
def return_step_record(
    *, shipment, trigger: str, return_reference: str, data: dict, now: datetime | None = None
) -> list[Notification]:
    """Record one step of a return: the buyer's messages (per rules) and the seller's event.

    ``shipment`` is the delivered parcel the return is about (with its order and seller);
    ``data`` the return as webhook receivers read it. Idempotent per return and step.
    Raises ValueError for a trigger that is not a return step.
    """
    if trigger not in RETURN_TRIGGERS:
        raise ValueError(f"{trigger!r} is not a return step")
    now = now or timezone.now()
    order = shipment.order
    rules = rulebook_load(seller_ids=[shipment.seller_id])
    common = {
        "shipment": shipment, "order": order, "seller_id": shipment.seller_id,
        "trigger": trigger, "status_key": f"{trigger}:{return_reference}"[:48],
        "status": trigger, "substatus": "", "locale": buyer_locale(order), "created_at": now,
    }  # fmt: skip
    notes = []

    def on(channel: str, audience: str = Audience.BUYER) -> bool:
        return rules.enabled(
            seller_id=shipment.seller_id, trigger=trigger, audience=audience, channel=channel
        )

    if on(Channel.EMAIL):
        address = order.buyer_email.strip().lower()
        notes.append(
            Notification(
                channel=Channel.EMAIL,
                recipient=address,
                next_attempt_at=now,
                **common,
                **_skipped_unless(address, "The order has no buyer email address."),
            )  # fmt: skip
        )
    if on(Channel.SMS):
        number, refusal = sms_recipient(
            order.buyer_phone,
            country=order.destination_country,
            postcode=order.destination_postcode,
        )
        notes.append(
            Notification(
                channel=Channel.SMS,
                recipient=number,
                next_attempt_at=now,
                **common,
                **_skipped_unless(refusal is None, refusal or ""),
            )  # fmt: skip
        )
    Notification.objects.bulk_create(notes, ignore_conflicts=True)
    event = _event(
        EventType.RETURN_UPDATED,
        seller_id=shipment.seller_id,
        data={
            **data,
            "step": str(Trigger(trigger).value),
            "order": {"id": order.id, "reference": order.reference},
            "seller": {"id": shipment.seller_id, "slug": shipment.seller.slug},
        },
        source_key=f"return.updated:{return_reference}:{trigger}",
        now=now,
        shipment_id=shipment.id,
        order_id=order.id,
    )
    event.seller_hears = on(Channel.WEBHOOK, Audience.SELLER)
    delivery_ids = _record_events([event], now)
    shipment_ids = [shipment.id] if notes else []
    transaction.on_commit(lambda: _enqueue(shipment_ids, delivery_ids))
    return notes
