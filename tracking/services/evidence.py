"""The courier's proof document kept with the POD (issue 16, item 6): fetched once, stored with
its type, size and hash, retried later when the courier fails.

    events_ingest -> status_changes_recorded (a parcel delivered), inside its transaction
      -> pod_evidence_on_status_changes: pod_evidence_plan() writes one pending PodEvidence row
         per courier POD whose courier documents a proof (rows commit with the delivery)
         -> core.fanout.job_on_commit("tracking.tasks.fetch_pod_evidence", ids)
    tracking.sweep_pod_evidence (schedule): pod_evidence_sweep() plans what a lost job left
      (recent courier PODs without a row) and fetches every pending row that is due
    pod_evidence_fetch(id): lease the row (SKIP LOCKED), ask the courier outside any
      transaction, validate (tracking.carriers.documents), store the file, mark it stored;
      a courier fault or a refused document -> the next attempt later, FAILED after MAX

Never inline in ingest: the courier is called by the job or the sweep only. A stored document
is never fetched again (a re-sync, a second delivered event, a redelivered job change nothing).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from core.fanout import job_on_commit
from tracking import carriers
from tracking.budgets import courier_budget
from tracking.carriers.base import CarrierError, PodData
from tracking.carriers.documents import validated
from tracking.carriers.http import CarrierHttpClient
from tracking.models import PodEvidence, ProofOfDelivery
from tracking.signals import StatusChange
from tracking.status import Status

logger = logging.getLogger(__name__)

# A worker holds a row this long while it asks the courier; a crashed worker's row is due again
# after it. Far above a document request's timeouts and retries.
FETCH_LEASE = timedelta(minutes=10)
# First retry after 15 minutes, doubling up to 12 hours: 8 attempts span about two days, long
# enough for a courier outage or a document the courier publishes late, short enough for
# finance to hear of a missing proof while the payout is still held.
RETRY_FIRST = timedelta(minutes=15)
RETRY_MAX = timedelta(hours=12)
MAX_ATTEMPTS = 8
# The sweep looks back this far for courier PODs without a row (a job lost between commit and
# queue); older PODs were planned by earlier sweeps. It bounds the query at millions of PODs.
SWEEP_WINDOW = timedelta(days=7)
# Rows the sweep fetches per run: each is one courier request; at the schedule's 10 minutes this
# is far above the deliveries of couriers with documents, and keeps one run short.
SWEEP_BATCH = 200


def pod_data(pod: ProofOfDelivery) -> PodData:
    """The stored POD as the courier formats know it."""
    return PodData(
        delivered_at=pod.delivered_at,
        signed_by=pod.signed_by,
        location_type=pod.location_type,
        documents=tuple(str(d) for d in pod.documents or ()),
    )


def _document_kind(pod: ProofOfDelivery) -> str | None:
    try:
        adapter = carriers.get_adapter(pod.shipment.carrier)
    except carriers.UnknownCarrier:  # "other" couriers: nothing to ask
        return None
    return adapter.proof_document_kind(pod_data(pod))


@transaction.atomic
def pod_evidence_plan(
    *, shipment_ids: Sequence[int] | None = None, since: datetime | None = None,
    now: datetime | None = None,
) -> list[int]:  # fmt: skip
    """Write a pending PodEvidence row for each courier POD (of ``shipment_ids``, or created
    since ``since``) whose courier documents a proof and that has no row yet; return the ids of
    the pending rows written. Idempotent: a POD gets one row, ever (unique, conflicts ignored)."""
    pods = ProofOfDelivery.objects.filter(
        source=ProofOfDelivery.Source.CARRIER, evidence__isnull=True
    ).select_related("shipment")
    if shipment_ids is not None:
        pods = pods.filter(shipment_id__in=shipment_ids)
    elif since is not None:
        pods = pods.filter(created_at__gte=since)
    now = now or timezone.now()
    rows = []
    for pod in pods.order_by("id"):
        kind = _document_kind(pod)
        if kind:
            rows.append(
                PodEvidence(pod=pod, carrier=pod.shipment.carrier, kind=kind, next_attempt_at=now)
            )
    if not rows:
        return []
    PodEvidence.objects.bulk_create(rows, ignore_conflicts=True)
    return list(
        PodEvidence.objects.filter(
            pod_id__in=[row.pod_id for row in rows], state=PodEvidence.State.PENDING
        ).values_list("id", flat=True)
    )


def pod_evidence_on_status_changes(sender, changes: Sequence[StatusChange], **kwargs) -> None:
    """Receiver of status_changes_recorded, inside the ingest transaction: plan the documents of
    the parcels just delivered and queue their fetch once the delivery commits."""
    delivered = [c.shipment_id for c in changes if c.status == Status.DELIVERED]
    if not delivered:
        return
    ids = pod_evidence_plan(shipment_ids=delivered)
    if ids:
        job_on_commit("tracking.tasks.fetch_pod_evidence", ids, group="pod-evidence")


def pod_evidence_fetch(
    *, evidence_id: int, client: CarrierHttpClient | None = None, now: datetime | None = None
) -> str:
    """Fetch, validate and store one pending document; returns the row's state afterwards, or
    "skipped" when it is not due, leased by another worker, or no longer pending.

    Safe to run twice at once: the row is leased under SKIP LOCKED before the courier is asked,
    and stored only if still pending. Never raises for courier behaviour or a bad document: the
    failure is recorded on the row (last_error) and the next attempt scheduled; the POD and any
    stored file are left as they were.
    """
    now = now or timezone.now()
    with transaction.atomic():
        evidence = (
            PodEvidence.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("pod__shipment__order")
            .filter(pk=evidence_id, state=PodEvidence.State.PENDING, next_attempt_at__lte=now)
            .first()
        )
        if evidence is None:
            return "skipped"
        evidence.next_attempt_at = now + FETCH_LEASE
        evidence.save(update_fields=["next_attempt_at"])
    shipment = evidence.pod.shipment
    try:
        adapter = carriers.get_adapter(evidence.carrier)
        document = adapter.fetch_proof_document(
            tracking_number=shipment.tracking_number,
            pod=pod_data(evidence.pod),
            destination_postcode=shipment.order.destination_postcode,
            # the courier's shared request budget: documents count against its limits too
            client=client or carriers.make_client(adapter, budget=courier_budget(adapter)),
        )
        valid = validated(document)
    except (CarrierError, carriers.UnknownCarrier) as exc:
        return _attempt_failed(evidence.pk, f"{exc.__class__.__name__}: {exc}", now)
    with transaction.atomic():
        row = PodEvidence.objects.select_for_update().get(pk=evidence.pk)
        if row.state != PodEvidence.State.PENDING:
            return "skipped"
        # A random name: the storage path says nothing of the parcel and cannot be guessed.
        row.file.save(f"{uuid.uuid4().hex}.{valid.extension}", ContentFile(valid.content),
                      save=False)  # fmt: skip
        row.content_type = valid.content_type
        row.size = valid.size
        row.sha256 = valid.sha256
        row.fetched_at = now
        row.attempts += 1
        row.last_error = ""
        row.state = PodEvidence.State.STORED
        row.save()
    return row.state


def _attempt_failed(evidence_id: int, error: str, now: datetime) -> str:
    with transaction.atomic():
        row = PodEvidence.objects.select_for_update().get(pk=evidence_id)
        if row.state != PodEvidence.State.PENDING:
            return "skipped"
        row.attempts += 1
        row.last_error = error[:500]
        if row.attempts >= MAX_ATTEMPTS:
            row.state = PodEvidence.State.FAILED
        else:
            row.next_attempt_at = now + min(RETRY_FIRST * 2 ** (row.attempts - 1), RETRY_MAX)
        row.save(update_fields=["attempts", "last_error", "state", "next_attempt_at"])
    logger.warning("POD evidence %s not fetched (attempt %s): %s", evidence_id, row.attempts, error)
    return row.state


def pod_evidence_fetch_many(
    *, evidence_ids: Sequence[int], client: CarrierHttpClient | None = None,
    now: datetime | None = None,
) -> dict[str, int]:  # fmt: skip
    """``pod_evidence_fetch`` for each id; a count per outcome."""
    outcomes: dict[str, int] = {}
    for evidence_id in evidence_ids:
        state = pod_evidence_fetch(evidence_id=evidence_id, client=client, now=now)
        outcomes[state] = outcomes.get(state, 0) + 1
    return outcomes


def pod_evidence_sweep(
    *, client: CarrierHttpClient | None = None, now: datetime | None = None
) -> dict[str, int]:
    """The schedule behind the fetch job: plan recent courier PODs a lost job left without a
    row, then fetch up to SWEEP_BATCH due pending rows (oldest due first)."""
    now = now or timezone.now()
    pod_evidence_plan(since=now - SWEEP_WINDOW, now=now)
    due = list(
        PodEvidence.objects.filter(state=PodEvidence.State.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:SWEEP_BATCH]
    )
    return pod_evidence_fetch_many(evidence_ids=due, client=client, now=now)
