"""Outbound webhooks: signed POSTs, retried with exponential backoff, dead-lettered, replayable.

deliver_webhooks(delivery_ids) job / sweep_outbox schedule
  -> _claim_deliveries (FOR UPDATE SKIP LOCKED, lease) -> POST, signed per attempt
  -> WebhookAttempt row (status, latency, excerpt)
  -> succeeded | pending at now + RETRY_DELAYS[n] | dead after the last delay (≈ 3 days)
  -> an endpoint failing for WEBHOOK_DISABLE_AFTER_SECONDS is disabled, its owner emailed
webhook_replay(event_ids | since, endpoint) puts deliveries back in line with the same
event id, so receivers that dedupe by id process each event once.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import datetime, timedelta

import requests
from django.conf import settings
from django.core.mail import mail_admins, send_mail
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation

from notifications.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from notifications.signing import new_secret, signature_headers
from notifications.urlguard import guarded_session

logger = logging.getLogger(__name__)

# 1 min, 3, 9, 27, 81 min, ~4 h, then every 12 h: 1 + 12 attempts over 78 hours (about three
# days, long enough to outlast a weekend outage), then the delivery is dead-lettered.
RETRY_DELAYS = tuple(timedelta(seconds=min(60 * 3**n, 12 * 3600)) for n in range(12))
CLAIM_LEASE = timedelta(minutes=5)
# Deliveries per claim: at the request timeout, a batch of slow receivers stays under a minute
# or two of one worker.
DELIVERY_BATCH = 20
RESPONSE_EXCERPT_BYTES = 500
USER_AGENT = "Parcelle-Webhooks/1"


def request_timeout() -> float:
    return settings.WEBHOOK_TIMEOUT_SECONDS


def disable_after() -> timedelta:
    return timedelta(seconds=settings.WEBHOOK_DISABLE_AFTER_SECONDS)


# A few failures over three days (a receiver down at each of our rare retries) are not
# "failing continuously": disabling also needs this many consecutive failures.
DISABLE_MIN_FAILURES = 10


def event_body(event: WebhookEvent) -> bytes:
    """The exact bytes sent (and signed): compact, keys sorted, the same on every attempt."""
    return json.dumps(event.payload, separators=(",", ":"), sort_keys=True).encode()


@transaction.atomic
def _claim_deliveries(*, now: datetime, ids=None, limit: int = DELIVERY_BATCH) -> list[int]:
    due = Q(state=WebhookDelivery.State.PENDING, next_attempt_at__lte=now) | Q(
        state=WebhookDelivery.State.SENDING, claimed_until__lt=now
    )
    rows = WebhookDelivery.objects.filter(due, endpoint__is_active=True)
    if ids is not None:
        rows = rows.filter(id__in=ids)
    claimed = list(
        rows.order_by("next_attempt_at", "id")
        .select_for_update(skip_locked=True, of=("self",))
        .values_list("id", flat=True)[:limit]
    )
    if claimed:
        WebhookDelivery.objects.filter(id__in=claimed).update(
            state=WebhookDelivery.State.SENDING, claimed_until=now + CLAIM_LEASE
        )
    return claimed


def webhook_deliveries_send(
    *, ids=None, now: datetime | None = None, limit: int = DELIVERY_BATCH
) -> int:
    """POST the due deliveries (all, or those of ``ids``); returns how many it claimed.

    Each attempt is logged; the outcome moves the delivery on (see the module docstring).
    Safe to run twice and concurrently: a delivery being sent is leased to one sender.
    """
    now = now or timezone.now()
    claimed = _claim_deliveries(now=now, ids=ids, limit=limit)
    deliveries = WebhookDelivery.objects.filter(
        id__in=claimed, state=WebhookDelivery.State.SENDING
    ).select_related("event", "endpoint")
    # Guarded: every connection goes to a checked public address (notifications/urlguard.py).
    with guarded_session() as session:
        for delivery in deliveries.order_by("id"):
            outcome = _post(session, delivery)
            _record_attempt(delivery.id, delivery.endpoint_id, outcome, now=now)
    return len(claimed)


def _post(session: requests.Session, delivery: WebhookDelivery) -> dict[str, object]:
    body = event_body(delivery.event)
    # The signature's timestamp is the wall clock of this attempt: receivers compare it to theirs.
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Parcelle-Event-Type": delivery.event.type,
        "Parcelle-Delivery-Attempt": str(delivery.attempt_count + 1),
        **signature_headers(
            secrets_in_use=delivery.endpoint.secrets_in_use(timezone.now()),
            msg_id=str(delivery.event.event_id),
            timestamp=timestamp,
            body=body,
        ),
    }
    started = time.monotonic()
    try:
        # No redirects: a signed event goes to the registered URL only.
        with session.post(
            delivery.endpoint.url,
            data=body,
            headers=headers,
            timeout=(min(5.0, request_timeout()), request_timeout()),
            allow_redirects=False,
            stream=True,
        ) as response:
            excerpt = next(response.iter_content(RESPONSE_EXCERPT_BYTES), b"")
            status = response.status_code
    except requests.RequestException as exc:
        return {
            "status_code": None,
            "succeeded": False,
            "latency_ms": int((time.monotonic() - started) * 1000),
            "error": f"{exc.__class__.__name__}: {exc}"[:300],
            "response_excerpt": "",
        }
    return {
        "status_code": status,
        "succeeded": 200 <= status < 300,
        "latency_ms": int((time.monotonic() - started) * 1000),
        "error": "" if 200 <= status < 300 else f"HTTP {status}",
        "response_excerpt": excerpt.decode("utf-8", errors="replace")[:RESPONSE_EXCERPT_BYTES],
    }


@transaction.atomic
def _record_attempt(
    delivery_id: int, endpoint_id: int, outcome: dict[str, object], *, now: datetime
) -> None:
    # Endpoint first, then delivery, in every writer (disabling updates all the endpoint's
    # deliveries): one lock order, no deadlock.
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint_id)
    delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery_id)
    WebhookAttempt.objects.create(delivery=delivery, attempted_at=now, **outcome)
    delivery.attempt_count += 1
    delivery.last_attempt_at = now
    delivery.last_status_code = outcome["status_code"]
    delivery.last_error = str(outcome["error"])
    delivery.claimed_until = None
    if outcome["succeeded"]:
        delivery.state = WebhookDelivery.State.SUCCEEDED
        delivery.succeeded_at = now
        endpoint.consecutive_failures = 0
        endpoint.failing_since = None
    else:
        if delivery.attempt_count > len(RETRY_DELAYS):
            delivery.state = WebhookDelivery.State.DEAD
            delivery.dead_at = now
        else:
            delivery.state = WebhookDelivery.State.PENDING
            delivery.next_attempt_at = now + RETRY_DELAYS[delivery.attempt_count - 1]
        endpoint.consecutive_failures += 1
        endpoint.failing_since = endpoint.failing_since or now
    delivery.save()
    if (
        not outcome["succeeded"]
        and endpoint.is_active
        and endpoint.consecutive_failures >= DISABLE_MIN_FAILURES
        and endpoint.failing_since <= now - disable_after()
    ):
        _endpoint_disable(endpoint, now=now, error=delivery.last_error)
    endpoint.save(
        update_fields=[
            "consecutive_failures", "failing_since", "is_active", "disabled_at",
            "disabled_reason", "updated_at",
        ]
    )  # fmt: skip


def _endpoint_disable(endpoint: WebhookEndpoint, *, now: datetime, error: str) -> None:
    """Stop sending to an endpoint that has failed on every attempt for days: its waiting
    deliveries are dead-lettered (replayable once it is fixed) and its owner is told."""
    endpoint.is_active = False
    endpoint.disabled_at = now
    endpoint.disabled_reason = (
        f"Failed {endpoint.consecutive_failures} times in a row since "
        f"{endpoint.failing_since:%Y-%m-%d %H:%M} UTC; last error: {error}"
    )[:300]
    WebhookDelivery.objects.filter(
        endpoint=endpoint,
        state__in=[WebhookDelivery.State.PENDING, WebhookDelivery.State.SENDING],
    ).update(
        state=WebhookDelivery.State.DEAD,
        dead_at=now,
        claimed_until=None,
        last_error="Endpoint disabled after failing continuously.",
    )
    endpoint_id, since = endpoint.pk, endpoint.failing_since
    transaction.on_commit(lambda: _tell_owner(endpoint_id, since=since, error=error))


def _tell_owner(endpoint_id: int, *, since: datetime, error: str) -> None:
    endpoint = WebhookEndpoint.objects.get(pk=endpoint_id)
    with translation.override(settings.LANGUAGE_CODE):
        subject = f"Parcelle: webhook endpoint {endpoint.name} disabled"
        body = render_to_string(
            "notifications/email/endpoint_disabled.txt",
            {"endpoint": endpoint, "since": f"{since:%Y-%m-%d %H:%M} UTC", "error": error},
        )
    if endpoint.contact_email:
        send_mail(subject, body, None, [endpoint.contact_email])
    else:  # a marketplace endpoint without contact: the operators
        mail_admins(subject, body)
    logger.warning("webhook endpoint %s disabled", endpoint_id)


@transaction.atomic
def webhook_endpoint_enable(*, endpoint_id: int) -> WebhookEndpoint:
    """Send to it again (events missed while disabled come back with webhook_replay)."""
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint_id)
    endpoint.is_active = True
    endpoint.disabled_at = None
    endpoint.disabled_reason = ""
    endpoint.failing_since = None
    endpoint.consecutive_failures = 0
    endpoint.save()
    return endpoint


@transaction.atomic
def webhook_endpoint_rotate_secret(
    *, endpoint_id: int, now: datetime | None = None
) -> WebhookEndpoint:
    """Issue a new secret; the one it replaces keeps signing beside it for
    WEBHOOK_SECRET_ROTATION_OVERLAP_SECONDS, so that the receiver can switch over without
    refusing a request. A second rotation within the overlap ends the oldest secret at once
    (at most two sign at any time)."""
    now = now or timezone.now()
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint_id)
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = now + timedelta(
        seconds=settings.WEBHOOK_SECRET_ROTATION_OVERLAP_SECONDS
    )
    endpoint.secret = new_secret()
    endpoint.save(
        update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"]
    )
    return endpoint


@transaction.atomic
def webhook_replay(
    *,
    event_ids=None,
    since: datetime | None = None,
    endpoint_id: int | None = None,
    now: datetime | None = None,
) -> list[int]:
    """Send events again, with their original id, whatever happened to them before.

    ``event_ids`` (WebhookEvent primary keys) or ``since`` (events created at or after) choose
    the events; without ``endpoint_id`` each event goes again to the endpoints it was delivered
    to, with it to that endpoint (also events it never had: it was disabled, or created later),
    if it subscribes to the type and may see the seller. Returns the deliveries queued (a
    delivery being sent right now is left alone). Sending is enqueued on commit.
    """
    if event_ids is None and since is None:
        raise ValueError("replay needs event ids or a date")
    now = now or timezone.now()
    events = WebhookEvent.objects.all()
    if event_ids is not None:
        events = events.filter(id__in=list(event_ids))
    if since is not None:
        events = events.filter(created_at__gte=since)
    if endpoint_id is not None:
        endpoint = WebhookEndpoint.objects.get(pk=endpoint_id)
        visible = events if endpoint.seller_id is None else events.filter(seller=endpoint.seller_id)
        wanted = visible.filter(type__in=endpoint.event_types or [])
        WebhookDelivery.objects.bulk_create(
            [WebhookDelivery(event_id=pk, endpoint=endpoint, next_attempt_at=now)
             for pk in wanted.values_list("id", flat=True)],
            ignore_conflicts=True,
        )  # fmt: skip
        deliveries = WebhookDelivery.objects.filter(endpoint=endpoint, event__in=wanted)
    else:
        deliveries = WebhookDelivery.objects.filter(event__in=events)
    deliveries = deliveries.exclude(state=WebhookDelivery.State.SENDING)
    ids = list(deliveries.values_list("id", flat=True))
    WebhookDelivery.objects.filter(id__in=ids).update(
        state=WebhookDelivery.State.PENDING,
        attempt_count=0,
        next_attempt_at=now,
        claimed_until=None,
        dead_at=None,
        succeeded_at=None,
    )
    transaction.on_commit(lambda: _enqueue_deliveries(ids))
    return ids


def _enqueue_deliveries(ids: list[int]) -> None:
    from notifications.services.outbox import _enqueue

    _enqueue([], ids)
