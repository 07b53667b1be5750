"""Reads of the notifications app."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Prefetch, Q

from core.phones import mask_recipient
from notifications.models import (
    DeliveryFeedback,
    Notification,
    NotificationRule,
    WebhookAttempt,
    WebhookDelivery,
)


@dataclass(frozen=True)
class RuleBook:
    """Marketplace defaults with each seller's overrides on top."""

    defaults: dict[tuple[str, str, str], bool]
    overrides: dict[int, dict[tuple[str, str, str], bool]]

    def enabled(self, *, seller_id: int, trigger: str, audience: str, channel: str) -> bool:
        key = (str(trigger), str(audience), str(channel))
        override = self.overrides.get(seller_id, {}).get(key)
        if override is not None:
            return override
        return self.defaults.get(key, False)


def rulebook_load(*, seller_ids: Iterable[int]) -> RuleBook:
    """The rules that apply to these sellers, in one query. A trigger without any rule row
    notifies nobody (the migration creates a default row for every combination)."""
    defaults: dict[tuple[str, str, str], bool] = {}
    overrides: dict[int, dict[tuple[str, str, str], bool]] = {}
    rows = NotificationRule.objects.filter(
        Q(seller__isnull=True) | Q(seller_id__in=list(seller_ids))
    ).values_list("seller_id", "trigger", "audience", "channel", "enabled")
    for seller_id, trigger, audience, channel, enabled in rows:
        target = defaults if seller_id is None else overrides.setdefault(seller_id, {})
        target[(trigger, audience, channel)] = enabled
    return RuleBook(defaults, overrides)


@dataclass(frozen=True)
class LogEntry:
    """One line of a delivery log: what was sent, to whom (masked), when, what happened."""

    at: datetime
    channel: str
    what: str
    shipment: str
    to: str
    state: str
    detail: str
    attempts: list[str] = field(default_factory=list)


def delivery_log(*, order_id: int | None = None, shipment_id: int | None = None) -> list[LogEntry]:
    """Every buyer notification and webhook delivery about an order or one of its parcels,
    newest first. Recipients are masked: the log is for staff who do not need the address."""
    if (order_id is None) == (shipment_id is None):
        raise ValueError("give exactly one of order_id and shipment_id")
    scope = Q(order_id=order_id) if order_id is not None else Q(shipment_id=shipment_id)
    entries = []
    for note in Notification.objects.filter(scope).select_related("shipment"):
        detail = note.last_error or (note.provider_message_id if note.state == "sent" else "")
        entries.append(
            LogEntry(
                at=note.sent_at or note.created_at,
                channel=note.channel,
                what=note.trigger,
                shipment=note.shipment.tracking_number,
                to=mask_recipient(note.recipient) or "-",
                state=note.state,
                detail=f"{note.attempt_count} attempt(s) {detail}".strip(),
            )
        )
    event_scope = (
        Q(event__order_id=order_id) if order_id is not None else Q(event__shipment_id=shipment_id)
    )
    deliveries = (
        WebhookDelivery.objects.filter(event_scope)
        .select_related("event__shipment", "endpoint")
        .prefetch_related(
            Prefetch("attempts", queryset=WebhookAttempt.objects.order_by("attempted_at"))
        )
    )
    for delivery in deliveries:
        shipment = delivery.event.shipment
        entries.append(
            LogEntry(
                at=delivery.last_attempt_at or delivery.created_at,
                channel="webhook",
                what=delivery.event.type,
                shipment=shipment.tracking_number if shipment else "-",
                to=delivery.endpoint.name,
                state=delivery.state,
                detail=delivery.last_error,
                attempts=[
                    f"{a.attempted_at:%Y-%m-%d %H:%M:%S} {a.status_code or a.error} "
                    f"{a.latency_ms} ms"
                    for a in delivery.attempts.all()
                ],
            )
        )
    entries.sort(key=lambda entry: entry.at, reverse=True)
    return entries


def order_delivery_feedback(*, order) -> list[DeliveryFeedback]:
    """What providers reported (bounces, complaints, SMS statuses) for the addresses this order's
    buyer is reached at: its email and every recipient its notifications went to. Newest first;
    at most 50."""
    emails = {order.buyer_email.strip().lower()} - {""}
    numbers: set[str] = set()
    for channel, recipient in Notification.objects.filter(order_id=order.pk).values_list(
        "channel", "recipient"
    ):
        (emails if channel == "email" else numbers).add(recipient)
    match = Q(channel="email", address__in=emails) | Q(channel="sms", address__in=numbers)
    return list(DeliveryFeedback.objects.filter(match).order_by("-occurred_at", "-id")[:50])


def suppressed_addresses(*, limit: int = 200) -> list[DeliveryFeedback]:
    """Addresses nothing is sent to any more: the latest suppressing event of each, newest
    first (at most ``limit``). Reads only suppressing events (bounces, complaints: few)."""
    latest: dict[tuple[str, str], DeliveryFeedback] = {}
    for row in (
        DeliveryFeedback.objects.filter(suppresses=True)
        .select_related("notification__order")
        .order_by("-occurred_at", "-id")
    ):
        latest.setdefault((row.channel, row.address), row)
        if len(latest) >= limit:
            break
    return list(latest.values())
