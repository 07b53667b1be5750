"""What providers tell us after a send: bounces, complaints, SMS delivery statuses.

    anymail tracking webhook (/anymail/<esp>/tracking/, anymail's own auth)
      -> anymail.signals.tracking -> receivers.on_anymail_tracking -> anymail_event_record
    Twilio status callback (/webhooks/sms/twilio/status/, X-Twilio-Signature checked)
      -> views.twilio_status -> twilio_status_record
    both -> feedback_record: one DeliveryFeedback row per provider event (a replay is ignored),
            linked to the notification whose provider message id it names

Later sends to an address with a suppressing event (hard bounce, spam complaint, an SMS number
that does not exist or said STOP) are skipped by the sender with the reason in the delivery log
(``suppression_reasons``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from notifications.models import Channel, DeliveryFeedback, Notification

Event = DeliveryFeedback.Event

# anymail's normalised event types -> ours (anymail.signals.EventType values).
ANYMAIL_EVENTS = {
    "delivered": Event.DELIVERED,
    "deferred": Event.DEFERRED,
    "bounced": Event.BOUNCED,
    "complained": Event.COMPLAINED,
    "rejected": Event.REJECTED,
    "unsubscribed": Event.UNSUBSCRIBED,
    "failed": Event.FAILED,
}
# A provider's refusal for one of these reasons (anymail's reject_reason) is as final as the
# bounce or complaint it stands for: the ESP keeps the address on its own suppression list.
SUPPRESSING_REJECT_REASONS = {"bounced", "spam"}
# anymail reports Postmark's soft bounces as "bounced" too (a hard one may follow); only these
# Postmark bounce types say the address is dead (postmarkapp.com/developer/api/bounce-api).
POSTMARK_HARD_TYPES = {"HardBounce", "BadEmailAddress", "ManuallyDeactivated", "Blocked"}

# Twilio MessageStatus values we record (queued/sending/sent say nothing about the address).
TWILIO_EVENTS = {
    "delivered": Event.DELIVERED,
    "undelivered": Event.FAILED,
    "failed": Event.FAILED,
}
# Twilio error codes that say the number will never receive our SMS
# (https://www.twilio.com/docs/api/errors): 21211 invalid "To", 21610 the recipient replied
# STOP, 21614 not a mobile number, 30004 blocked by the recipient, 30005 unknown or inactive
# number, 30006 landline or unreachable carrier. Others (30003 handset off, 30008 unknown)
# are temporary: the next message may arrive.
TWILIO_PERMANENT_ERRORS = {"21211", "21610", "21614", "30004", "30005", "30006"}


def address_normalise(channel: str, address: str) -> str:
    address = (address or "").strip()
    return address.lower() if channel == Channel.EMAIL else address


@transaction.atomic
def feedback_record(
    *,
    channel: str,
    address: str,
    event: str,
    provider: str,
    occurred_at: datetime,
    suppresses: bool,
    provider_message_id: str = "",
    provider_event_id: str = "",
    description: str = "",
) -> DeliveryFeedback | None:
    """Record one provider event against ``address`` (and the notification it concerns, by the
    provider's message id). Idempotent: the same provider event id is recorded once (None the
    second time). Raises ValueError for an event without an address."""
    address = address_normalise(channel, address)
    if not address:
        raise ValueError("a delivery event needs the recipient's address")
    notification = None
    if provider_message_id:
        notification = (
            Notification.objects.filter(channel=channel, provider_message_id=provider_message_id)
            .order_by("id")
            .first()
        )
    try:
        with transaction.atomic():
            return DeliveryFeedback.objects.create(
                channel=channel,
                address=address,
                event=event,
                suppresses=suppresses,
                provider=provider[:30],
                provider_message_id=provider_message_id[:100],
                provider_event_id=provider_event_id[:150],
                description=description[:500],
                notification=notification,
                occurred_at=occurred_at,
            )
    except IntegrityError:
        if provider_event_id:
            return None  # the provider sent this event before
        raise


def anymail_event_record(*, event, esp_name: str) -> DeliveryFeedback | None:
    """One anymail AnymailTrackingEvent (any ESP anymail supports). Events without a recipient
    (opens of an unknown message, ESP test pings) are ignored: None."""
    if not event.recipient:
        return None
    kind = ANYMAIL_EVENTS.get(str(event.event_type), Event.OTHER)
    raw = event.esp_event if isinstance(event.esp_event, dict) else {}
    postmark_soft = esp_name.lower() == "postmark" and raw.get("Type") not in POSTMARK_HARD_TYPES
    if kind == Event.BOUNCED and postmark_soft:
        kind = Event.DEFERRED
    suppresses = kind in (Event.BOUNCED, Event.COMPLAINED) or (
        kind == Event.REJECTED and event.reject_reason in SUPPRESSING_REJECT_REASONS
    )
    words = " ".join(
        part for part in (event.reject_reason, event.description, event.mta_response) if part
    )
    return feedback_record(
        channel=Channel.EMAIL,
        address=event.recipient,
        event=kind,
        provider=esp_name.lower(),
        occurred_at=event.timestamp or timezone.now(),
        suppresses=suppresses,
        provider_message_id=event.message_id or "",
        provider_event_id=event.event_id or "",
        description=words,
    )


def twilio_status_record(*, params: Mapping[str, str]) -> DeliveryFeedback | None:
    """One Twilio status callback (form fields MessageSid, MessageStatus, To, ErrorCode).
    Intermediate statuses (queued, sent) are not recorded: None."""
    status = params.get("MessageStatus") or params.get("SmsStatus") or ""
    kind = TWILIO_EVENTS.get(status)
    if kind is None:
        return None
    code = (params.get("ErrorCode") or "").strip()
    sid = params.get("MessageSid") or params.get("SmsSid") or ""
    return feedback_record(
        channel=Channel.SMS,
        address=params.get("To", ""),
        event=Event.UNSUBSCRIBED if code == "21610" else kind,
        provider="twilio",
        occurred_at=timezone.now(),
        suppresses=code in TWILIO_PERMANENT_ERRORS,
        provider_message_id=sid,
        # Twilio sends one callback per status of a message: that pair is the event's identity.
        provider_event_id=f"{sid}:{status}" if sid else "",
        description=f"Twilio {status}" + (f", error {code}" if code else ""),
    )


def suppression_reasons(*, channel: str, addresses: Iterable[str]) -> dict[str, str]:
    """For each of ``addresses`` that must not be sent to any more, why (the latest suppressing
    event: "Suppressed: bounced (postmark, 2026-12-02): 550 5.1.1 user unknown")."""
    wanted = {address_normalise(channel, a) for a in addresses if a}
    if not wanted:
        return {}
    reasons: dict[str, str] = {}
    for row in (
        DeliveryFeedback.objects.filter(channel=channel, address__in=wanted, suppresses=True)
        .order_by("address", "-occurred_at", "-id")
        .only("address", "event", "provider", "occurred_at", "description")
    ):
        if row.address not in reasons:
            detail = f": {row.description}" if row.description else ""
            reasons[row.address] = (
                f"Suppressed: {row.event} ({row.provider}, {row.occurred_at:%Y-%m-%d}){detail}"
            )[:500]
    return reasons
