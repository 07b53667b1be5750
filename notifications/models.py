"""Notification rules, the buyer notification outbox, outbound webhooks and their log."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.phones import mask_recipient
from notifications.signing import new_secret, validate_secret
from notifications.triggers import Trigger


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"
    WEBHOOK = "webhook", "Webhook"


class Audience(models.TextChoices):
    BUYER = "buyer", "Buyer"
    SELLER = "seller", "Seller"


class NotificationRule(models.Model):
    """Whether a trigger notifies an audience on a channel.

    A row without seller is the marketplace default; a row with a seller overrides that default
    for that seller only (enabled or not). Buyers hear by email or SMS; sellers by webhook (to
    their endpoints). Defaults are created by migration 0002.
    """

    seller = models.ForeignKey(
        "sellers.Seller",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notification_rules",
        help_text="Empty: the marketplace default.",
    )
    trigger = models.CharField(max_length=32, choices=Trigger.choices)
    audience = models.CharField(max_length=10, choices=Audience.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    enabled = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["trigger", "audience", "channel"],
                condition=Q(seller__isnull=True),
                name="notification_rule_default_once",
            ),
            models.UniqueConstraint(
                fields=["seller", "trigger", "audience", "channel"],
                condition=Q(seller__isnull=False),
                name="notification_rule_override_once",
            ),
            models.CheckConstraint(
                condition=Q(audience="buyer", channel__in=["email", "sms"])
                | Q(audience="seller", channel="webhook"),
                name="notification_rule_channel_fits_audience",
            ),
        ]

    def __str__(self) -> str:
        owner = self.seller or "marketplace"
        state = "on" if self.enabled else "off"
        return f"{owner}: {self.trigger} -> {self.audience} by {self.channel} ({state})"


class Notification(models.Model):
    """One message to one buyer about one parcel's status: the outbox row.

    Written in the transaction that changed the status; sent after commit by a job or by the
    sweeper. Unique per shipment, status, channel and recipient: the same news is never sent
    twice, whatever the courier repeats or the jobs retry. Several email rows of one order that
    fall in one consolidation window leave as one email (same ``message_id``).
    """

    class State(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENDING = "sending", "Being sent"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Not sent (no valid address)"

    shipment = models.ForeignKey(
        "tracking.Shipment", on_delete=models.CASCADE, related_name="notifications"
    )
    order = models.ForeignKey("sellers.Order", on_delete=models.CASCADE, related_name="+")
    seller = models.ForeignKey("sellers.Seller", on_delete=models.CASCADE, related_name="+")
    trigger = models.CharField(max_length=32, choices=Trigger.choices)
    status_key = models.CharField(max_length=48, help_text="What counts as the same news.")
    status = models.CharField(max_length=32)
    substatus = models.CharField(max_length=48, blank=True)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    # An email address or an E.164 number (empty when the order has none: state skipped).
    recipient = models.CharField(max_length=254, blank=True)
    locale = models.CharField(max_length=10, default="fr")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    # Not before this: the end of the consolidation window, or the next retry.
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # A sender's lease: if it dies mid-send, the row is taken again after this.
    claimed_until = models.DateTimeField(null=True, blank=True)
    attempt_count = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    provider_message_id = models.CharField(max_length=100, blank=True)
    message_id = models.UUIDField(
        null=True, blank=True, help_text="Shared by the rows sent in one consolidated email."
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shipment", "status_key", "channel", "recipient"],
                name="notification_once_per_status_channel_recipient",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="notification_due"),
            models.Index(fields=["order", "channel", "state"], name="notification_order"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.trigger} to {self.masked_recipient}"

    @property
    def masked_recipient(self) -> str:
        return mask_recipient(self.recipient)


class EventType(models.TextChoices):
    SHIPMENT_STATUS_CHANGED = "shipment.status_changed", "shipment.status_changed"
    SHIPMENT_OUT_FOR_DELIVERY = "shipment.out_for_delivery", "shipment.out_for_delivery"
    SHIPMENT_DELIVERED = "shipment.delivered", "shipment.delivered"
    SHIPMENT_EXCEPTION = "shipment.exception", "shipment.exception"
    SHIPMENT_RETURNED = "shipment.returned", "shipment.returned"
    PAYOUT_RELEASED = "payout.released", "payout.released"
    RETURN_UPDATED = "return.updated", "return.updated"


# Bumped when a payload changes incompatibly; receivers read it from every body.
WEBHOOK_PAYLOAD_VERSION = "1"


class WebhookEndpoint(models.Model):
    """A URL that receives signed events: a seller's system, or (without seller) the
    marketplace's CRM, which receives every seller's events."""

    seller = models.ForeignKey(
        "sellers.Seller",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="webhook_endpoints",
        help_text="Empty: a marketplace endpoint (CRM) receiving every seller's events.",
    )
    name = models.CharField(max_length=100)
    url = models.URLField(max_length=500)
    secret = models.CharField(
        max_length=200,
        default=new_secret,
        validators=[validate_secret],
        help_text="Standard Webhooks signing secret: whsec_ + base64 (rotate it with the action).",
    )
    # After a rotation the previous secret signs beside the new one until this time, so that a
    # receiver can switch over without refusing requests (docs/webhooks.md).
    previous_secret = models.CharField(max_length=200, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    event_types = models.JSONField(default=list, help_text="Event types it subscribes to.")
    contact_email = models.EmailField(
        blank=True, help_text="Told when the endpoint is disabled after failing continuously."
    )
    is_active = models.BooleanField(default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    # Since when every attempt failed (None after a success): the disabling rule reads it.
    failing_since = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["seller", "is_active"], name="webhook_endpoint_owner")]

    def __str__(self) -> str:
        return f"{self.name} ({self.seller or 'marketplace'})"

    def subscribes_to(self, event_type: str) -> bool:
        return event_type in (self.event_types or [])

    def secrets_in_use(self, now: datetime) -> list[str]:
        """The secrets a request is signed with at ``now``: the current one first, then the
        previous one while the rotation's overlap lasts."""
        in_use = [self.secret]
        expires_at = self.previous_secret_expires_at
        if self.previous_secret and expires_at and now < expires_at:
            in_use.append(self.previous_secret)
        return in_use


class WebhookEvent(models.Model):
    """Something that happened, as sent to endpoints: ``payload`` is the whole body, its
    ``id`` (``event_id``) stays the same on every retry and replay so receivers can dedupe."""

    event_id = models.UUIDField(default=uuid.uuid4, unique=True)
    type = models.CharField(max_length=40, choices=EventType.choices)
    version = models.CharField(max_length=10, default=WEBHOOK_PAYLOAD_VERSION)
    seller = models.ForeignKey("sellers.Seller", on_delete=models.CASCADE, related_name="+")
    shipment = models.ForeignKey(
        "tracking.Shipment",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="webhook_events",
    )
    order = models.ForeignKey(
        "sellers.Order", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # What it is about, so that the same fact recorded twice is one event.
    source_key = models.CharField(max_length=200, unique=True)
    payload = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["created_at"], name="webhook_event_created")]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class WebhookDelivery(models.Model):
    """One event to one endpoint, retried with exponential backoff until it succeeds or is
    dead-lettered (about three days); replay puts it back in line."""

    class State(models.TextChoices):
        PENDING = "pending", "Waiting (first try or retry)"
        SENDING = "sending", "Being sent"
        SUCCEEDED = "succeeded", "Delivered"
        DEAD = "dead", "Dead-lettered"

    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempt_count = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)
    dead_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["event", "endpoint"], name="webhook_delivery_once_per_endpoint"
            ),
        ]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="webhook_delivery_due"),
        ]

    def __str__(self) -> str:
        return f"{self.event} -> {self.endpoint}"


class WebhookAttempt(models.Model):
    """One HTTP request: what the receiver answered and how long it took."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempts")
    attempted_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    succeeded = models.BooleanField()
    latency_ms = models.PositiveIntegerField()
    error = models.CharField(max_length=300, blank=True)
    response_excerpt = models.CharField(max_length=500, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["delivery", "attempted_at"], name="webhook_attempt_delivery")
        ]

    def __str__(self) -> str:
        outcome = self.status_code or self.error or "?"
        return f"{self.attempted_at:%Y-%m-%d %H:%M:%S} {outcome}"


class DeliveryFeedback(models.Model):
    """What a provider told us about a message after sending it: an email's bounce or spam
    complaint (django-anymail's tracking webhooks), an SMS's delivery status (Twilio's status
    callbacks). Recorded against the address, and the notification when the provider's message
    id matches one. Kept as an append-only log; ``suppresses`` marks the events after which
    nothing more is sent to that address."""

    class Event(models.TextChoices):
        DELIVERED = "delivered", "Delivered"
        DEFERRED = "deferred", "Deferred (soft bounce: will be retried by the provider)"
        BOUNCED = "bounced", "Bounced (hard: the address does not exist)"
        COMPLAINED = "complained", "Marked as spam by the recipient"
        REJECTED = "rejected", "Refused by the provider"
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed (STOP)"
        FAILED = "failed", "Failed"
        OTHER = "other", "Other"

    channel = models.CharField(max_length=10, choices=Channel.choices)
    # Lower-case email address or E.164 number, as the notification rows hold it.
    address = models.CharField(max_length=254)
    event = models.CharField(max_length=12, choices=Event.choices)
    suppresses = models.BooleanField(default=False)
    provider = models.CharField(max_length=30)
    provider_message_id = models.CharField(max_length=100, blank=True)
    # The provider's own words or code ("550 5.1.1 user unknown", "Twilio 30005").
    description = models.CharField(max_length=500, blank=True)
    # The provider's event id: a webhook delivered twice is recorded once.
    provider_event_id = models.CharField(max_length=150, blank=True)
    notification = models.ForeignKey(
        Notification, null=True, blank=True, on_delete=models.SET_NULL, related_name="feedback"
    )
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "provider_event_id"],
                condition=~Q(provider_event_id=""),
                name="delivery_feedback_event_once",
            )
        ]
        indexes = [
            models.Index(fields=["channel", "address"], name="feedback_address"),
            models.Index(fields=["received_at"], name="feedback_received"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.event} for {mask_recipient(self.address)}"

    @property
    def masked_address(self) -> str:
        return mask_recipient(self.address)
