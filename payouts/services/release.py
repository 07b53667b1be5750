"""Releasing escrow to the seller: one payout (finance), a batch (finance, as a job), or every
payout whose time has come (the auto-release schedule).

    schedule payouts.release_due -> tasks.release_due -> payouts_release_due
        loop: claim AUTO_RELEASE_BATCH due payouts (FOR UPDATE SKIP LOCKED) -> lock their
              shipments -> re-check the POD gate -> release entries + status + audit, one
              transaction, with payouts_released (notifications' rows in it)
    console batch -> release_batch_start -> tasks.run_release_batch -> release_batch_run
        -> payout_release per payout (progress counted on the ReleaseBatch row)

Idempotent and concurrency-safe: the payout row is locked before anything is read; a released
payout is returned as it is; the journal's unique (payout, kind) constraint makes a second
release entry impossible even for code that forgot the lock.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django_q.tasks import async_task

from core.actors import actor_parts, require_perm
from core.errors import ApplicationError, PermissionDenied
from payouts.models import JournalEntry, Payout, PayoutEvent, ReleaseBatch
from payouts.services.ledger import PendingEntry, entries_post, entry_build, release_lines
from payouts.services.lifecycle import decide, decision_apply, parcel_facts_by_order
from payouts.signals import PayoutReleased, payouts_released

# Payouts released per transaction by the auto-release job: each costs a few rows (entry, three
# lines, two audit rows, one update), so 500 keeps a transaction around a second of work while
# making the per-transaction round trips negligible; a worker that dies loses at most that.
AUTO_RELEASE_BATCH = 500
# A console batch release of more payouts than this is refused: split it (keeps a job short).
CONSOLE_BATCH_MAX = 5000

RELEASE_FIELDS = [
    "status", "hold_reason", "pod_complete", "last_delivered_at", "release_due_at",
    "released_at", "released_by", "released_with_override", "updated_at",
]  # fmt: skip


def _release_in_memory(
    payout: Payout, *, actor, now: datetime, override_reason: str = ""
) -> tuple[PendingEntry, PayoutEvent]:
    """Mark the (locked) payout released and build its entry and audit row, unsaved."""
    user, label = actor_parts(actor)
    previous = payout.status
    payout.status = Payout.Status.RELEASED
    payout.hold_reason = ""
    payout.released_at = now
    payout.released_by = user
    payout.released_with_override = bool(override_reason)
    payout.updated_at = now
    pending = entry_build(
        payout=payout,
        kind=JournalEntry.Kind.RELEASE,
        lines=release_lines(payout),
        actor_user=user,
        now=now,
        memo="Override release without proof of delivery" if override_reason else "Release",
    )
    event = PayoutEvent(
        payout=payout,
        action=PayoutEvent.Action.OVERRIDE_RELEASED
        if override_reason
        else PayoutEvent.Action.RELEASED,
        from_status=previous,
        to_status=payout.status,
        actor=user,
        actor_label=label,
        reason=override_reason.strip(),
        is_override=bool(override_reason),
        created_at=now,
    )
    return pending, event


def _announce(payouts: Sequence[Payout]) -> None:
    """payouts_released, inside the release's transaction: the receivers' rows (the webhooks)
    commit with the release or not at all (core/fanout.py)."""
    releases = [
        PayoutReleased(
            payout_id=p.pk,
            order_id=p.order_id,
            seller_id=p.seller_id,
            net_amount=p.net_amount,
            currency=p.currency,
            released_at=p.released_at,
        )
        for p in payouts
    ]
    if releases:
        payouts_released.send(sender=Payout, releases=releases)


def payout_release(
    *,
    payout: Payout | int,
    actor,
    override: bool = False,
    reason: str = "",
    now: datetime | None = None,
) -> Payout:
    """Release one payout to the seller, checking the POD gate in the same transaction.

    - actor None is the system (the auto-release job); a user needs payouts.release_payout;
    - an override (``override=True``, with a written ``reason``) also needs
      payouts.override_pod_release and skips the proof-of-delivery and claim-window conditions,
      never an open claim or a hold; it is flagged in the audit trail;
    - idempotent: an already released payout is returned unchanged (no second entry);
    - locks the payout row, then the order's shipments, so twenty concurrent calls release once.

    Raises ApplicationError (not_eligible, payout_on_hold, payout_refunded…) otherwise.
    """
    if actor is not None:
        require_perm(actor, "payouts.release_payout", "Releasing needs the release permission.")
    if override:
        if actor is None or not actor.has_perm("payouts.override_pod_release"):
            raise PermissionDenied("Releasing without proof of delivery needs the override "
                                   "permission.")  # fmt: skip
        if not reason.strip():
            raise ApplicationError("An override needs a written reason.", field="reason")
    now = now or timezone.now()
    payout_id = payout if isinstance(payout, int) else payout.pk
    payout = Payout.objects.select_for_update().get(pk=payout_id)
    if payout.status == Payout.Status.RELEASED:
        return payout
    if payout.is_final:
        raise ApplicationError(f"The payout is {payout.status}.", code=f"payout_{payout.status}")
    parcels = parcel_facts_by_order([payout.order_id], lock=True).get(payout.order_id, [])
    decision = decide(payout, parcels, now)
    evaluated = decision_apply(
        payout, decision, action=PayoutEvent.Action.EVALUATED, actor=None, now=now
    )
    if decision.status == Payout.Status.ON_HOLD:
        raise ApplicationError(f"The payout is on hold: {decision.why}.", code="payout_on_hold")
    if decision.status != Payout.Status.ELIGIBLE and not override:
        raise ApplicationError(f"Not eligible yet: {decision.why}.", code="not_eligible")
    pending, released = _release_in_memory(
        payout, actor=actor, now=now, override_reason=reason.strip() if override else ""
    )
    payout.save()
    PayoutEvent.objects.bulk_create([e for e in (evaluated, released) if e is not None])
    entries_post([pending])
    _announce([payout])
    return payout


def payouts_release_due(*, now: datetime | None = None, max_batches: int | None = None) -> int:
    """The auto-release job: release every payout whose gate is open, AUTO_RELEASE_BATCH per
    transaction, until none is left. Safe to run on many workers at once (SKIP LOCKED: each
    claims different rows). Returns the number released."""
    released = batches = 0
    while max_batches is None or batches < max_batches:
        claimed, count = _release_due_batch(now or timezone.now())
        released += count
        batches += 1
        # Every claimed row leaves the due set (released, or re-evaluated out of it), so a
        # short batch means nothing is left that this worker could take.
        if claimed < AUTO_RELEASE_BATCH:
            break
    return released


def _release_due_batch(now: datetime) -> tuple[int, int]:
    payouts = list(
        Payout.objects.select_for_update(skip_locked=True)
        .filter(
            status__in=[Payout.Status.HELD, Payout.Status.ELIGIBLE],
            pod_complete=True,
            release_due_at__lte=now,
        )
        .order_by("release_due_at", "id")[:AUTO_RELEASE_BATCH]
    )
    if not payouts:
        return 0, 0
    parcels = parcel_facts_by_order([p.order_id for p in payouts], lock=True)
    events, pending, released = [], [], []
    for payout in payouts:
        decision = decide(payout, parcels.get(payout.order_id, []), now)
        event = decision_apply(
            payout, decision, action=PayoutEvent.Action.EVALUATED, actor=None, now=now
        )
        if event is not None:
            events.append(event)
        if decision.status == Payout.Status.ELIGIBLE:
            entry, release_event = _release_in_memory(payout, actor=None, now=now)
            pending.append(entry)
            events.append(release_event)
            released.append(payout)
    _payouts_write(payouts)
    PayoutEvent.objects.bulk_create(events)
    entries_post(pending)
    _announce(released)
    return len(payouts), len(released)


def _payouts_write(payouts: Sequence[Payout]) -> None:
    """Write RELEASE_FIELDS of many payouts. On PostgreSQL one UPDATE … FROM unnest(arrays)
    (bulk_update's CASE WHEN per row and field costs ~2 ms a payout); the ORM elsewhere."""
    if connection.vendor != "postgresql":
        Payout.objects.bulk_update(payouts, RELEASE_FIELDS)
        return
    columns = [
        ("id", "bigint", lambda p: p.pk),
        ("status", "text", lambda p: p.status),
        ("hold_reason", "text", lambda p: p.hold_reason),
        ("pod_complete", "boolean", lambda p: p.pod_complete),
        ("last_delivered_at", "timestamptz", lambda p: p.last_delivered_at),
        ("release_due_at", "timestamptz", lambda p: p.release_due_at),
        ("released_at", "timestamptz", lambda p: p.released_at),
        ("released_by_id", "bigint", lambda p: p.released_by_id),
        ("released_with_override", "boolean", lambda p: p.released_with_override),
        ("updated_at", "timestamptz", lambda p: p.updated_at),
    ]
    table = Payout._meta.db_table
    assignments = ", ".join(f"{name} = v.{name}" for name, _t, _g in columns[1:])
    arrays = ", ".join(f"%s::{sql_type}[]" for _n, sql_type, _g in columns)
    names = ", ".join(name for name, _t, _g in columns)
    sql = (
        f"UPDATE {table} AS p SET {assignments} "  # noqa: S608 - names are ours, values bound
        f"FROM unnest({arrays}) AS v({names}) WHERE p.id = v.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [[get(p) for p in payouts] for _n, _t, get in columns])


def release_batch_start(*, payout_ids: Sequence[int], actor) -> ReleaseBatch:
    """Finance releases a selection: recorded as a ReleaseBatch, run as a job after commit
    (the console polls the row for progress). Needs payouts.release_payout."""
    require_perm(actor, "payouts.release_payout", "Releasing needs the release permission.")
    ids = sorted({int(i) for i in payout_ids})
    if not ids:
        raise ApplicationError("Select at least one payout.", field="payouts")
    if len(ids) > CONSOLE_BATCH_MAX:
        raise ApplicationError(f"Release at most {CONSOLE_BATCH_MAX} payouts at once.",
                               field="payouts")  # fmt: skip
    batch = ReleaseBatch.objects.create(created_by=actor, payout_ids=ids, total=len(ids))
    transaction.on_commit(
        lambda: async_task("payouts.tasks.run_release_batch", batch.pk, group="payouts")
    )
    return batch


def release_batch_run(*, batch_id: int) -> ReleaseBatch:
    """Release each payout of the batch in its own transaction (one refusal does not stop the
    others), counting progress on the batch row as it goes. Running it twice is harmless:
    payouts already released are counted released again, with no second entry."""
    batch = ReleaseBatch.objects.select_related("created_by").get(pk=batch_id)
    ReleaseBatch.objects.filter(pk=batch_id).update(
        state=ReleaseBatch.State.RUNNING, released=0, failed=0, errors=[]
    )
    errors = []
    for payout_id in batch.payout_ids:
        try:
            payout_release(payout=payout_id, actor=batch.created_by)
        except (ApplicationError, Payout.DoesNotExist) as exc:
            errors.append({"payout": payout_id, "message": getattr(exc, "message", str(exc))})
            ReleaseBatch.objects.filter(pk=batch_id).update(failed=F("failed") + 1, errors=errors)
        else:
            ReleaseBatch.objects.filter(pk=batch_id).update(released=F("released") + 1)
    ReleaseBatch.objects.filter(pk=batch_id).update(
        state=ReleaseBatch.State.FINISHED, finished_at=timezone.now()
    )
    batch.refresh_from_db()
    return batch


# Wrapped here rather than with @transaction.atomic above the def: mutmut (`make mutate`) does not
# mutate decorated functions, and these are the ones whose wrong answer moves money or hides a
# parcel. Same behaviour: each call runs in one transaction.
payout_release = transaction.atomic(payout_release)
_release_due_batch = transaction.atomic(_release_due_batch)
release_batch_start = transaction.atomic(release_batch_start)
