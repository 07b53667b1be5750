"""Raw courier payloads: kept compressed so operators can see why a status was derived."""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from tracking.carriers.base import CarrierResponse
from tracking.models import RawPayload


def raw_payload_build(
    *,
    carrier: str,
    kind: str,
    body: bytes,
    content_type: str = "",
    url: str = "",
    http_status: int | None = None,
    event_id: str = "",
    state: str = RawPayload.State.RECEIVED,
    note: str = "",
    now: datetime | None = None,
) -> RawPayload:
    """An unsaved RawPayload for ``body`` (gzip level 6: courier JSON/XML shrinks 5-10x)."""
    return RawPayload(
        carrier=carrier,
        kind=kind,
        state=state,
        url=url[:500],
        http_status=http_status,
        content_type=content_type[:120],
        body_gzip=gzip.compress(body, compresslevel=6),
        body_sha256=hashlib.sha256(body).hexdigest(),
        size_bytes=len(body),
        event_id=event_id[:128],
        note=note,
        received_at=now or timezone.now(),
    )


def raw_payloads_store_answers(
    *,
    carrier: str,
    responses: Sequence[CarrierResponse],
    notes: Sequence[str] = (),
    now: datetime | None = None,
) -> list[RawPayload]:
    """Keep the courier's answers to one sync (one row per HTTP answer), in one INSERT.

    ``notes``, aligned with ``responses`` when given, say what was made of each answer (which of
    several results for one number was kept): operators and CS read them on the payload.
    """
    now = now or timezone.now()
    payloads = [
        raw_payload_build(
            carrier=carrier,
            kind=RawPayload.Kind.POLL,
            body=r.body,
            content_type=r.content_type,
            url=r.url,
            http_status=r.status_code,
            state=RawPayload.State.PROCESSED,
            now=now,
        )
        for r in responses
    ]
    for payload, note in zip(payloads, notes, strict=False):
        payload.note = note
    return RawPayload.objects.bulk_create(payloads)


def raw_payloads_purge(*, now: datetime | None = None) -> int:
    """Delete payloads older than RAW_PAYLOAD_RETENTION_DAYS; events keep their data (the link
    becomes empty). Returns how many were deleted."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.RAW_PAYLOAD_RETENTION_DAYS)
    deleted, _ = RawPayload.objects.filter(received_at__lt=cutoff).delete()
    return deleted
