"""The transactional outbox: changes become rows in the transaction that made them.

    events_ingest, shipments_expire_stale -> status_changes_recorded (same transaction)
      -> notifications_record: Notification rows (buyer email/SMS per rule)
                               + WebhookEvent/WebhookDelivery rows (endpoints per subscription)
      -> on commit: send_notifications(shipment_ids), deliver_webhooks(delivery_ids) jobs
    exceptions_opened, payouts_released, return_step_recorded: the same, same transaction
    notifications.sweep_outbox (every minute) sends whatever is due and unsent: consolidated
    emails at the end of their window, retries, rows whose job was lost in a crash.

Nothing here does I/O: a rollback of the status change rolls the rows back and sends nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from core.phones import sms_recipient
from notifications.content import buyer_locale, carrier_name
from notifications.models import (
    WEBHOOK_PAYLOAD_VERSION,
    Audience,
    Channel,
    EventType,
    Notification,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from notifications.selectors import rulebook_load
from notifications.triggers import Trigger, status_key, trigger_for
from payouts.signals import PayoutReleased
from tracking.links import public_shipment_url
from tracking.models import Shipment
from tracking.signals import ExceptionOpened, StatusChange

# Webhook deliveries per job: a slow receiver holds up one small job, not everybody's events.
WEBHOOK_JOB_SIZE = 50

EXTRA_EVENT_TYPES = {
    Trigger.OUT_FOR_DELIVERY: [EventType.SHIPMENT_OUT_FOR_DELIVERY],
    Trigger.DELIVERED: [EventType.SHIPMENT_DELIVERED],
    Trigger.DELAYED: [EventType.SHIPMENT_EXCEPTION],
    Trigger.EXCEPTION: [EventType.SHIPMENT_EXCEPTION],
    Trigger.RETURNED: [EventType.SHIPMENT_EXCEPTION, EventType.SHIPMENT_RETURNED],
}


def consolidation_window() -> timedelta:
    return timedelta(seconds=settings.NOTIFICATION_CONSOLIDATION_SECONDS)


@transaction.atomic
def notifications_record(*, changes: Sequence[StatusChange], now: datetime | None = None) -> None:
    """Write the outbox rows for these status changes.

    Idempotent: a notification is unique per shipment, status, channel and recipient and an
    event per fact (``source_key``), so recording the same change twice adds nothing. An email
    to a buyer whose order already has one waiting joins its window (one email per order
    update). Sending is enqueued on commit.
    """
    now = now or timezone.now()
    shipments = Shipment.objects.select_related("order", "seller").in_bulk(
        [change.shipment_id for change in changes]
    )
    if not shipments:
        return
    rules = rulebook_load(seller_ids={s.seller_id for s in shipments.values()})
    # Windows already open: an email waiting for another parcel of the same order.
    windows = {
        (order_id, recipient): until
        for order_id, recipient, until in Notification.objects.filter(
            channel=Channel.EMAIL,
            state=Notification.State.PENDING,
            order_id__in={s.order_id for s in shipments.values()},
            next_attempt_at__gt=now,
        )
        .values("order_id", "recipient")
        .annotate(until=Max("next_attempt_at"))
        .values_list("order_id", "recipient", "until")
    }
    # Sellers with an endpoint (any state): only their changes can become webhook events, and
    # all of them when the marketplace (CRM) has one. See _record_events.
    owners = set(
        WebhookEndpoint.objects.filter(
            Q(seller_id__in={s.seller_id for s in shipments.values()}) | Q(seller__isnull=True)
        ).values_list("seller_id", flat=True)
    )
    notes: list[Notification] = []
    events: list[WebhookEvent] = []
    for change in changes:
        shipment = shipments.get(change.shipment_id)
        if shipment is None:
            continue
        trigger = trigger_for(
            previous_status=change.previous_status,
            status=change.status,
            substatus=change.substatus,
        )
        # A buyer's return parcel is not news for the buyer (the return's own steps are).
        if trigger is not None and shipment.direction == Shipment.Direction.OUTBOUND:
            notes.extend(_buyer_notifications(shipment, change, trigger, rules, windows, now))
        seller_hears = trigger is None or rules.enabled(
            seller_id=shipment.seller_id,
            trigger=trigger,
            audience=Audience.SELLER,
            channel=Channel.WEBHOOK,
        )
        if None in owners or shipment.seller_id in owners:
            events.extend(_shipment_events(shipment, change, trigger, seller_hears, now))

    Notification.objects.bulk_create(notes, ignore_conflicts=True)  # the never-twice key
    delivery_ids = _record_events(events, now)
    shipment_ids = sorted(shipments)
    transaction.on_commit(lambda: _enqueue(shipment_ids, delivery_ids))


def _buyer_notifications(shipment, change, trigger, rules, windows, now) -> list[Notification]:
    order = shipment.order
    key = status_key(trigger=trigger, substatus=change.substatus)
    common = {
        "shipment": shipment,
        "order": order,
        "seller_id": shipment.seller_id,
        "trigger": trigger,
        "status_key": key,
        "status": change.status,
        "substatus": change.substatus,
        "locale": buyer_locale(order),
        "created_at": now,
    }
    notes = []
    enabled = {
        channel: rules.enabled(
            seller_id=shipment.seller_id, trigger=trigger, audience=Audience.BUYER, channel=channel
        )
        for channel in (Channel.EMAIL, Channel.SMS)
    }
    if enabled[Channel.EMAIL]:
        address = order.buyer_email.strip().lower()
        until = windows.setdefault((order.id, address), now + consolidation_window())
        notes.append(
            Notification(
                channel=Channel.EMAIL,
                recipient=address,
                next_attempt_at=until,
                **common,
                **_skipped_unless(address, "The order has no buyer email address."),
            )
        )
    if enabled[Channel.SMS]:
        # Only a number that can receive an SMS gets one; the others say why in the log.
        number, refusal = sms_recipient(
            order.buyer_phone,
            country=order.destination_country,
            postcode=order.destination_postcode,
        )
        notes.append(
            Notification(
                channel=Channel.SMS,
                recipient=number,
                next_attempt_at=now,  # an SMS is about now: no consolidation window
                **common,
                **_skipped_unless(refusal is None, refusal or ""),
            )
        )
    return notes


def _skipped_unless(ok, error: str) -> dict[str, str]:
    if ok:
        return {"state": Notification.State.PENDING}
    return {"state": Notification.State.SKIPPED, "last_error": error}


def _shipment_events(shipment, change, trigger, seller_hears, now) -> list[WebhookEvent]:
    types = [EventType.SHIPMENT_STATUS_CHANGED, *EXTRA_EVENT_TYPES.get(trigger, [])]
    occurred = change.occurred_at.isoformat() if change.occurred_at else ""
    data = {
        "shipment": {
            "id": shipment.id,
            "tracking_number": shipment.tracking_number,
            "carrier": shipment.carrier,
            "carrier_name": carrier_name(shipment),
            "status": change.status,
            "substatus": change.substatus or None,
            "previous_status": change.previous_status,
            "previous_substatus": change.previous_substatus or None,
            "status_at": occurred or None,
            "estimated_delivery_at": _iso(shipment.estimated_delivery_at),
            "delivered_at": _iso(shipment.delivered_at),
            "tracking_url": public_shipment_url(shipment),
        },
        "order": {"id": shipment.order_id, "reference": shipment.order.reference},
        "seller": {"id": shipment.seller_id, "slug": shipment.seller.slug},
    }
    events = []
    for event_type in types:
        event = _event(
            event_type,
            seller_id=shipment.seller_id,
            data=data,
            source_key=f"{event_type}:{shipment.id}:{change.status}:{change.substatus}:{occurred}",
            now=now,
            shipment_id=shipment.id,
            order_id=shipment.order_id,
        )
        event.seller_hears = seller_hears  # read by _record_events, not stored
        events.append(event)
    return events


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _event(event_type, *, seller_id, data, source_key, now, **links) -> WebhookEvent:
    event_id = uuid.uuid4()
    payload = {
        "id": str(event_id),
        "type": str(event_type),
        "version": WEBHOOK_PAYLOAD_VERSION,
        "created_at": now.isoformat(),
        "data": data,
    }
    return WebhookEvent(
        event_id=event_id,
        type=event_type,
        seller_id=seller_id,
        source_key=source_key[:200],
        payload=payload,
        created_at=now,
        **links,
    )


def _record_events(events: list[WebhookEvent], now: datetime) -> list[int]:
    """Store the events (once per fact) and one delivery per subscribed, active endpoint of
    their seller or of the marketplace; returns the new deliveries' ids."""
    if not events:
        return []
    sellers = {e.seller_id for e in events}
    endpoints = list(
        WebhookEndpoint.objects.filter(Q(seller_id__in=sellers) | Q(seller__isnull=True))
    )
    # An event no endpoint could ever receive is not stored: with no endpoint at all for these
    # sellers nor for the marketplace, it would be a row per status change for nobody (and it
    # is the bulk of ingest time). Disabled endpoints count: replay must still reach them.
    owners = {endpoint.seller_id for endpoint in endpoints}
    events = [e for e in events if None in owners or e.seller_id in owners]
    if not events:
        return []
    WebhookEvent.objects.bulk_create(events, ignore_conflicts=True)
    # ignore_conflicts leaves no primary keys: read back the stored rows (ours or older ones).
    stored = {
        e.source_key: e
        for e in WebhookEvent.objects.filter(source_key__in=[e.source_key for e in events])
    }
    endpoints = [endpoint for endpoint in endpoints if endpoint.is_active]
    deliveries = []
    for event in events:
        row = stored[event.source_key]
        for endpoint in endpoints:
            if endpoint.seller_id is not None and (
                endpoint.seller_id != row.seller_id or not getattr(event, "seller_hears", True)
            ):
                continue
            if endpoint.subscribes_to(row.type):
                deliveries.append(
                    WebhookDelivery(event=row, endpoint=endpoint, next_attempt_at=now)
                )
    WebhookDelivery.objects.bulk_create(deliveries, ignore_conflicts=True)
    return list(
        WebhookDelivery.objects.filter(
            event_id__in=[row.id for row in stored.values()],
            state=WebhookDelivery.State.PENDING,
            attempt_count=0,
        ).values_list("id", flat=True)
    )


def _enqueue(shipment_ids: list[int], delivery_ids: list[int]) -> None:
    from django_q.tasks import async_task

    if shipment_ids:
        async_task("notifications.tasks.send_notifications", shipment_ids, group="notifications")
    for start in range(0, len(delivery_ids), WEBHOOK_JOB_SIZE):
        async_task(
            "notifications.tasks.deliver_webhooks",
            delivery_ids[start : start + WEBHOOK_JOB_SIZE],
            group="webhooks",
        )


# Exceptions the clock opens (tracking.services.exceptions) and the trigger whose rules decide
# who hears of them. A parcel the courier has never scanned is the seller's to fix (a wrong
# number, not dropped off yet): its buyer is not told.
EXCEPTION_TRIGGERS = {
    "delayed": (Trigger.DELAYED, True),
    "stuck": (Trigger.DELAYED, True),
    "no_first_scan": (Trigger.EXCEPTION, False),
}


@transaction.atomic
def exception_notifications_record(
    *, openings: Sequence[ExceptionOpened], now: datetime | None = None
) -> None:
    """The outbox rows for exceptions that no status change announced (the detection job's):
    buyer email/SMS and seller webhooks (``shipment.exception``, with the exception) by the
    rules of EXCEPTION_TRIGGERS' trigger. Idempotent like notifications_record: a buyer hears
    of a delay once per parcel, and a webhook event is stored once per exception."""
    now = now or timezone.now()
    openings = [o for o in openings if o.kind in EXCEPTION_TRIGGERS]
    shipments = Shipment.objects.select_related("order", "seller").in_bulk(
        [o.shipment_id for o in openings]
    )
    if not shipments:
        return
    rules = rulebook_load(seller_ids={s.seller_id for s in shipments.values()})
    owners = set(
        WebhookEndpoint.objects.filter(
            Q(seller_id__in={s.seller_id for s in shipments.values()}) | Q(seller__isnull=True)
        ).values_list("seller_id", flat=True)
    )
    notes: list[Notification] = []
    events: list[WebhookEvent] = []
    for opening in openings:
        shipment = shipments.get(opening.shipment_id)
        if shipment is None:
            continue
        trigger, buyer_hears = EXCEPTION_TRIGGERS[opening.kind]
        # The parcel's status did not change: the "change" is the news about it.
        change = StatusChange(
            shipment_id=shipment.id, order_id=shipment.order_id,
            previous_status=shipment.status, previous_substatus=shipment.substatus,
            status=shipment.status, substatus=shipment.substatus, occurred_at=opening.opened_at,
        )  # fmt: skip
        if buyer_hears:
            notes.extend(_buyer_notifications(shipment, change, trigger, rules, {}, now))
        if None in owners or shipment.seller_id in owners:
            event = _exception_event(shipment, opening, now)
            event.seller_hears = rules.enabled(
                seller_id=shipment.seller_id, trigger=trigger, audience=Audience.SELLER,
                channel=Channel.WEBHOOK,
            )  # fmt: skip
            events.append(event)
    Notification.objects.bulk_create(notes, ignore_conflicts=True)
    delivery_ids = _record_events(events, now)
    shipment_ids = sorted({n.shipment_id for n in notes})
    transaction.on_commit(lambda: _enqueue(shipment_ids, delivery_ids))


def _exception_event(shipment, opening: ExceptionOpened, now) -> WebhookEvent:
    data = {
        "shipment": {
            "id": shipment.id,
            "tracking_number": shipment.tracking_number,
            "carrier": shipment.carrier,
            "carrier_name": carrier_name(shipment),
            "status": shipment.status,
            "substatus": shipment.substatus or None,
            "estimated_delivery_at": _iso(shipment.estimated_delivery_at),
            "tracking_url": public_shipment_url(shipment),
        },
        "exception": {
            "id": opening.exception_id,
            "kind": opening.kind,
            "opened_at": opening.opened_at.isoformat(),
        },
        "order": {"id": shipment.order_id, "reference": shipment.order.reference},
        "seller": {"id": shipment.seller_id, "slug": shipment.seller.slug},
    }
    return _event(
        EventType.SHIPMENT_EXCEPTION,
        seller_id=shipment.seller_id,
        data=data,
        source_key=f"shipment.exception:{shipment.id}:cs:{opening.exception_id}",
        now=now,
        shipment_id=shipment.id,
        order_id=shipment.order_id,
    )


@transaction.atomic
def payouts_released_record(
    *, releases: Sequence[PayoutReleased], now: datetime | None = None
) -> list[int]:
    """The ``payout.released`` events for the sellers' and the marketplace's endpoints, in the
    release's transaction. Idempotent per payout; delivery is enqueued on commit. Returns the
    new deliveries' ids."""
    from sellers.models import Order

    if not releases:
        return []
    now = now or timezone.now()
    references = dict(
        Order.objects.filter(pk__in={r.order_id for r in releases}).values_list("id", "reference")
    )
    events = []
    for release in releases:
        reference = references.get(release.order_id)
        data = {
            "payout": {
                "id": release.payout_id,
                "net_amount": release.net_amount,
                "currency": release.currency,
                "released_at": _iso(release.released_at),
            },
            "order": {"id": release.order_id, "reference": reference},
            "seller": {"id": release.seller_id},
        }
        events.append(
            _event(
                EventType.PAYOUT_RELEASED,
                seller_id=release.seller_id,
                data=data,
                source_key=f"payout.released:{release.payout_id}",
                now=now,
                order_id=release.order_id if reference is not None else None,
            )
        )
    delivery_ids = _record_events(events, now)
    transaction.on_commit(lambda: _enqueue([], delivery_ids))
    return delivery_ids
