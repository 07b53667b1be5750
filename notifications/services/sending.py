"""Sending the outbox: claim due rows, send, record what happened.

    send_notifications(shipment_ids) job / sweep_outbox schedule
      -> _claim_notifications: due rows, SELECT … FOR UPDATE SKIP LOCKED, marked sending with a
         lease (a sender that dies lets the rows go again when the lease ends)
      -> one email per order and address (every pending email of that order joins it),
         one SMS per row
      -> sent, or pending again at a backoff, or failed after NOTIFICATION_MAX_ATTEMPTS

A row in state "sending" is never taken by another sender before its lease ends, so a job run
twice, or a job and the sweeper at once, send it once.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.phones import sms_refusal
from notifications.content import render_buyer_email, render_buyer_sms
from notifications.models import Channel, Notification
from notifications.services.feedback import suppression_reasons
from notifications.sms import SmsError, get_sms_backend

logger = logging.getLogger(__name__)

# Long enough for one batch of SMTP/SMS calls to finish; a crashed sender's rows wait this long.
CLAIM_LEASE = timedelta(minutes=5)
# Rows per claim: one SMTP connection and a few seconds of work.
SEND_BATCH = 100
# A sweep stops claiming after this long, well inside django-q2's 120 s task timeout.
SWEEP_SECONDS = 60


def max_attempts() -> int:
    return settings.NOTIFICATION_MAX_ATTEMPTS


def retry_delay(attempt: int) -> timedelta:
    """1, 2, 4, 8… minutes: a mail server or SMS provider outage is usually short."""
    return timedelta(minutes=2 ** (attempt - 1))


@transaction.atomic
def _claim_notifications(
    *, now: datetime, ids=None, shipment_ids=None, limit: int = SEND_BATCH
) -> list[int]:
    due = Q(state=Notification.State.PENDING, next_attempt_at__lte=now) | Q(
        state=Notification.State.SENDING, claimed_until__lt=now
    )
    rows = Notification.objects.filter(due)
    if ids is not None:
        rows = rows.filter(id__in=ids)
    if shipment_ids is not None:
        rows = rows.filter(shipment_id__in=shipment_ids)
    claimed = list(
        rows.order_by("next_attempt_at", "id")
        .select_for_update(skip_locked=True)
        .values_list("id", "channel", "order_id", "recipient")[:limit]
    )
    # One email per order: the other emails waiting for the same order and address leave now,
    # even if their own window ends later.
    groups = {(order_id, to) for _id, channel, order_id, to in claimed if channel == Channel.EMAIL}
    if groups:
        claimed_ids = {row[0] for row in claimed}
        companions = (
            Notification.objects.filter(
                channel=Channel.EMAIL,
                state=Notification.State.PENDING,
                order_id__in={order_id for order_id, _to in groups},
            )
            .exclude(id__in=claimed_ids)
            .select_for_update(skip_locked=True)
            .values_list("id", "channel", "order_id", "recipient")
        )
        claimed += [row for row in companions if (row[2], row[3]) in groups]
    ids = [row[0] for row in claimed]
    if ids:
        Notification.objects.filter(id__in=ids).update(
            state=Notification.State.SENDING, claimed_until=now + CLAIM_LEASE
        )
    return ids


def notifications_send(
    *, ids=None, shipment_ids=None, now: datetime | None = None, limit: int = SEND_BATCH
) -> int:
    """Send the due notifications (all, or those of ``ids``/``shipment_ids``); returns how
    many rows it claimed. Safe to run concurrently and twice (see the module docstring)."""
    now = now or timezone.now()
    claimed = _claim_notifications(now=now, ids=ids, shipment_ids=shipment_ids, limit=limit)
    if not claimed:
        return 0
    rows = list(
        Notification.objects.filter(id__in=claimed, state=Notification.State.SENDING)
        .select_related("shipment__seller", "order__seller")
        .order_by("id")
    )
    rows = _skip_suppressed(rows, now)
    emails: dict[tuple[int, str], list[Notification]] = defaultdict(list)
    for row in rows:
        if row.channel == Channel.EMAIL:
            emails[(row.order_id, row.recipient)].append(row)
    if emails:
        _send_emails(list(emails.values()), now)
    sms = [row for row in rows if row.channel == Channel.SMS]
    if sms:
        _send_sms(sms, now)
    return len(claimed)


def _skip_suppressed(rows: list[Notification], now: datetime) -> list[Notification]:
    """Rows whose address bounced hard, complained or cannot receive SMS are not sent: skipped,
    with the reason in the delivery log. Returns the rows still to send."""
    skipped: list[Notification] = []
    for channel in (Channel.EMAIL, Channel.SMS):
        mine = [row for row in rows if row.channel == channel]
        reasons = suppression_reasons(channel=channel, addresses={r.recipient for r in mine})
        for row in mine:
            reason = reasons.get(row.recipient.strip().lower() if channel == Channel.EMAIL
                                 else row.recipient.strip())  # fmt: skip
            if reason:
                row.state = Notification.State.SKIPPED
                row.claimed_until = None
                row.last_error = reason
                skipped.append(row)
    if skipped:
        Notification.objects.bulk_update(skipped, ["state", "claimed_until", "last_error"])
    return [row for row in rows if row.state != Notification.State.SKIPPED]


def _send_emails(groups: list[list[Notification]], now: datetime) -> None:
    connection = get_connection()
    try:
        connection.open()
    except OSError as exc:  # the mail server is down: every group waits for its retry
        for group in groups:
            _record_failure(group, now=now, error=f"SMTP: {exc}", permanent=False)
        return
    try:
        for group in groups:
            order = group[0].order
            message_id = uuid.uuid4()
            rendered = render_buyer_email(order=order, notifications=group, locale=group[0].locale)
            email = EmailMultiAlternatives(
                subject=rendered.subject,
                body=rendered.text,
                to=[group[0].recipient],
                connection=connection,
                headers={
                    "Content-Language": group[0].locale,
                    "Auto-Submitted": "auto-generated",  # no out-of-office replies, please
                    "X-Parcelle-Message": str(message_id),
                },
            )
            email.attach_alternative(rendered.html, "text/html")
            try:
                email.send()
            except Exception as exc:  # noqa: BLE001 - any backend error is this group's failure
                logger.warning("email to order %s failed: %s", order.id, exc)
                _record_failure(group, now=now, error=f"{exc.__class__.__name__}: {exc}")
                continue
            # With an anymail backend, the provider's id: its bounce webhooks name it.
            status = getattr(email, "anymail_status", None)
            _record_success(
                group,
                now=now,
                message_id=message_id,
                provider_message_id=(status.message_id or "") if status else "",
            )
    finally:
        connection.close()


def _send_sms(rows: list[Notification], now: datetime) -> None:
    backend = get_sms_backend()
    for row in rows:
        # The outbox only queues mobiles; rows queued before that rule (or edited since) are
        # checked again here, so no SMS is paid for to a landline or a premium-rate line.
        refusal = sms_refusal(row.recipient)
        if refusal is not None:
            _record_skipped(row, reason=refusal)
            continue
        body = render_buyer_sms(notification=row, locale=row.locale)
        try:
            result = backend.send(to=row.recipient, body=body)
        except SmsError as exc:
            _record_failure([row], now=now, error=str(exc), permanent=exc.permanent)
            continue
        _record_success([row], now=now, provider_message_id=result.provider_message_id)


def _record_skipped(row: Notification, *, reason: str) -> None:
    row.state = Notification.State.SKIPPED
    row.claimed_until = None
    row.last_error = reason[:500]
    row.save(update_fields=["state", "claimed_until", "last_error"])


def _record_success(rows, *, now, message_id=None, provider_message_id: str = "") -> None:
    for row in rows:
        row.state = Notification.State.SENT
        row.sent_at = now
        row.claimed_until = None
        row.attempt_count += 1
        row.last_error = ""
        row.message_id = message_id
        row.provider_message_id = provider_message_id[:100]
    Notification.objects.bulk_update(
        rows,
        ["state", "sent_at", "claimed_until", "attempt_count", "last_error", "message_id",
         "provider_message_id"],
    )  # fmt: skip


def _record_failure(rows, *, now, error: str, permanent: bool = False) -> None:
    for row in rows:
        row.attempt_count += 1
        row.claimed_until = None
        row.last_error = error[:500]
        if permanent or row.attempt_count >= max_attempts():
            row.state = Notification.State.FAILED
        else:
            row.state = Notification.State.PENDING
            row.next_attempt_at = now + retry_delay(row.attempt_count)
    Notification.objects.bulk_update(
        rows, ["attempt_count", "claimed_until", "last_error", "state", "next_attempt_at"]
    )


def outbox_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """The safety net, every minute: send every notification and webhook delivery that is due
    (window ended, retry time reached, or its job was lost), batch after batch."""
    from notifications.services.webhooks import webhook_deliveries_send

    totals = {"notifications": 0, "webhooks": 0}
    senders = (("notifications", notifications_send), ("webhooks", webhook_deliveries_send))
    for name, send in senders:
        # Each kind gets half the time: a slow mail server cannot starve the webhooks.
        started = time.monotonic()
        while time.monotonic() - started < SWEEP_SECONDS / 2:
            claimed = send(now=now or timezone.now())
            totals[name] += claimed
            if claimed == 0:
                break
    return totals
