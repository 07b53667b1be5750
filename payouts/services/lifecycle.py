"""An order's payout from payment to its end, except the release itself (release.py).

    payout_open_for_order (payment received)  -> held | eligible | on_hold
    tracking.status_changes_recorded -> receivers (job on commit) -> tasks.evaluate_orders
      -> payouts_evaluate_for_orders -> payouts_evaluate
    payout_receipt_confirm / payout_claim_open / payout_claim_close  (marketplace API)
    payout_hold / payout_unhold / payout_refund  (finance console)
    payout_cancel  (marketplace API: order cancelled)

Every service locks the payout row first (then the order's shipments), re-derives the status
with payouts.rules.payout_decide, and writes one audit row per change.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.actors import actor_parts, require_perm
from core.errors import ApplicationError
from payouts.models import CourierClaim, JournalEntry, Payout, PayoutEvent, SellerCommission
from payouts.rules import (
    POD_SOURCE_CARRIER,
    Decision,
    ParcelFacts,
    commission_split,
    parcel_proven,
    payout_decide,
)
from payouts.selectors import payout_ids_open_for_orders
from payouts.services.ledger import entries_post, entry_build, payment_lines, refund_lines
from sellers.metrics import region_of
from sellers.protection import order_is_protected
from tracking.models import Shipment

# Payouts evaluated per transaction by the sweep and the shipment-change job: big enough to
# amortise the round trips, small enough that row locks are held for well under a second.
EVALUATE_BATCH = 500


def claim_window() -> timedelta:
    return timedelta(days=settings.PAYOUT_CLAIM_WINDOW_DAYS)


def marketplace_commission_rate() -> Decimal:
    return Decimal(str(settings.PAYOUT_COMMISSION_RATE))


def commission_rate_for(seller_id: int) -> Decimal:
    """The seller's own rate if finance set one, the marketplace's otherwise."""
    rate = SellerCommission.objects.filter(seller_id=seller_id).values_list("rate", flat=True)
    own = rate.first()
    return own if own is not None else marketplace_commission_rate()


def parcel_facts_by_order(order_ids: Iterable[int], *, lock: bool) -> dict[int, list[ParcelFacts]]:
    """The parcels of these orders as the payout gate reads them, one query. With ``lock`` the
    shipment rows are locked (id order, like the ingest service) so that no status change can
    commit between this read and the caller's commit."""
    # Only parcels sent to the buyer prove anything: a buyer's return parcel never does, nor
    # a voided (cancelled or replaced) one.
    shipments = (
        Shipment.objects.live()
        .filter(order_id__in=list(order_ids), direction=Shipment.Direction.OUTBOUND)
        .order_by("id")
    )
    if lock:
        shipments = shipments.select_for_update(of=("self",))
    facts: dict[int, list[ParcelFacts]] = defaultdict(list)
    for (
        sid,
        order_id,
        status,
        substatus,
        delivered_at,
        pod_source,
        pod_review,
    ) in shipments.values_list(
        "id", "order_id", "status", "substatus", "delivered_at", "pod__source", "pod__review"
    ):
        facts[order_id].append(
            ParcelFacts(sid, status, substatus or "", delivered_at, pod_source, pod_review)
        )
    return facts


def decide(payout: Payout, parcels: Sequence[ParcelFacts], now: datetime) -> Decision:
    return payout_decide(
        parcels=parcels,
        buyer_confirmed_at=payout.buyer_confirmed_at,
        claim_kind=payout.claim_kind,
        finance_hold=payout.finance_hold,
        claim_window=claim_window(),
        now=now,
        return_open=bool(payout.return_reference),
        tz=timezone.get_current_timezone(),
    )


def decision_apply(
    payout: Payout,
    decision: Decision,
    *,
    action: str,
    actor,
    now: datetime,
    reason: str = "",
    always_audit: bool = False,
) -> PayoutEvent | None:
    """Copy the decision onto the (locked, unsaved) payout; return the audit row to write when
    the status changed or ``always_audit`` (an explicit action), None otherwise."""
    previous = payout.status
    payout.status = decision.status
    payout.hold_reason = decision.hold_reason
    payout.pod_complete = decision.pod_complete
    payout.last_delivered_at = decision.last_delivered_at
    payout.release_due_at = decision.release_due_at
    payout.updated_at = now
    if previous == payout.status and not always_audit:
        return None
    user, label = actor_parts(actor)
    why = f"{reason.strip()} — {decision.why}" if reason.strip() else decision.why
    return PayoutEvent(
        payout=payout,
        action=action,
        from_status=previous,
        to_status=payout.status,
        actor=user,
        actor_label=label,
        reason=why,
        created_at=now,
    )


def _locked(payout: Payout | int) -> Payout:
    payout_id = payout if isinstance(payout, int) else payout.pk
    return Payout.objects.select_for_update().get(pk=payout_id)


def _save(payout: Payout, event: PayoutEvent | None) -> Payout:
    payout.save()
    if event is not None:
        event.save()
    return payout


def _require_open(payout: Payout, doing: str) -> None:
    if payout.is_final:
        raise ApplicationError(
            f"Cannot {doing}: the payout is already {payout.status}.",
            code=f"payout_{payout.status}",
        )


@transaction.atomic
def payout_open_for_order(
    *,
    order,
    actor,
    payment_reference: str = "",
    amount: int | None = None,
    currency: str | None = None,
    now: datetime | None = None,
) -> tuple[Payout, bool]:
    """Record the buyer's payment for an order: open its payout (held in escrow) and post the
    payment entry. Idempotent per order: a second call returns the payout unchanged
    (created=False). Locks the order row so that concurrent calls open one payout.

    Raises ApplicationError when ``amount``/``currency`` are given and differ from the order's.
    """
    from sellers.models import Order

    now = now or timezone.now()
    order = Order.objects.select_for_update().get(pk=order.pk)
    if amount is not None and amount != order.total_amount:
        raise ApplicationError(
            f"The payment ({amount}) differs from the order total ({order.total_amount}).",
            code="amount_mismatch",
            field="amount",
        )
    if currency is not None and currency.upper() != order.currency:
        raise ApplicationError(
            f"The payment currency {currency} is not the order's ({order.currency}).",
            code="currency_mismatch",
            field="currency",
        )
    existing = Payout.objects.filter(order=order).first()
    if existing is not None:
        return existing, False

    rate = commission_rate_for(order.seller_id)
    commission, net = commission_split(order.total_amount, rate)
    payout = Payout(
        order=order,
        seller_id=order.seller_id,
        currency=order.currency,
        gross_amount=order.total_amount,
        commission_rate=rate,
        commission_amount=commission,
        net_amount=net,
        payment_reference=payment_reference[:100],
        status=Payout.Status.HELD,
        paid_at=now,
    )
    parcels = parcel_facts_by_order([order.pk], lock=True).get(order.pk, [])
    event = decision_apply(
        payout,
        decide(payout, parcels, now),
        action=PayoutEvent.Action.OPENED,
        actor=actor,
        now=now,
        reason=f"Payment {payment_reference} received" if payment_reference else "Payment received",
        always_audit=True,
    )
    event.from_status = ""
    payout.save()
    event.save()
    user, _label = actor_parts(actor)
    entries_post(
        [
            entry_build(
                payout=payout,
                kind=JournalEntry.Kind.PAYMENT,
                lines=payment_lines(payout),
                actor_user=user,
                now=now,
                memo=f"Order {order.reference} paid {payment_reference}".strip(),
            )
        ]
    )
    return payout, True


@transaction.atomic
def payout_evaluate(*, payout: Payout | int, now: datetime | None = None) -> Payout:
    """Re-derive one payout's status from its parcels (locked) and flags. No-op on a final
    payout; writes an audit row only when the status changes."""
    now = now or timezone.now()
    payout = _locked(payout)
    if payout.is_final:
        return payout
    parcels = parcel_facts_by_order([payout.order_id], lock=True).get(payout.order_id, [])
    event = decision_apply(
        payout, decide(payout, parcels, now), action=PayoutEvent.Action.EVALUATED,
        actor=None, now=now,
    )  # fmt: skip
    return _save(payout, event)


def payouts_evaluate(*, payout_ids: Sequence[int], now: datetime | None = None) -> int:
    """Re-evaluate these payouts, EVALUATE_BATCH per transaction; rows another worker holds
    are skipped (it is evaluating them right now). Returns how many changed status."""
    changed = 0
    ids = sorted(set(payout_ids))
    for start in range(0, len(ids), EVALUATE_BATCH):
        changed += _evaluate_batch(ids[start : start + EVALUATE_BATCH], now or timezone.now())
    return changed


@transaction.atomic
def _evaluate_batch(ids: list[int], now: datetime) -> int:
    payouts = list(
        Payout.objects.select_for_update(skip_locked=True)
        .filter(id__in=ids, status__in=Payout.OPEN_STATUSES)
        .order_by("id")
    )
    parcels = parcel_facts_by_order([p.order_id for p in payouts], lock=True)
    events = []
    for payout in payouts:
        event = decision_apply(
            payout, decide(payout, parcels.get(payout.order_id, []), now),
            action=PayoutEvent.Action.EVALUATED, actor=None, now=now,
        )  # fmt: skip
        if event is not None:
            events.append(event)
    Payout.objects.bulk_update(
        payouts,
        ["status", "hold_reason", "pod_complete", "last_delivered_at", "release_due_at",
         "updated_at"],
    )  # fmt: skip
    PayoutEvent.objects.bulk_create(events)
    return len(events)


def payouts_evaluate_for_orders(*, order_ids: Sequence[int], now: datetime | None = None) -> int:
    """Re-evaluate the open payouts of these orders (their parcels moved), like
    payouts_evaluate. Returns how many changed status."""
    ids = payout_ids_open_for_orders(order_ids=order_ids)
    return payouts_evaluate(payout_ids=ids, now=now)


def payouts_reevaluate_open(*, now: datetime | None = None) -> int:
    """The safety sweep (daily schedule): every open payout re-evaluated, so that a missed
    status-change job (lost in a crash or an outage) delays a payout by a day at most."""
    ids = list(
        Payout.objects.filter(status__in=Payout.OPEN_STATUSES)
        .order_by("id")
        .values_list("id", flat=True)
    )
    return payouts_evaluate(payout_ids=ids, now=now)


@transaction.atomic
def payout_receipt_confirm(*, payout: Payout, actor, now: datetime | None = None) -> Payout:
    """The buyer confirmed receipt: the claim window no longer applies (every parcel still
    needs its proof). Idempotent: a second confirmation changes nothing."""
    now = now or timezone.now()
    payout = _locked(payout)
    _require_open(payout, "confirm receipt")
    if payout.buyer_confirmed_at is not None:
        return payout
    payout.buyer_confirmed_at = now
    parcels = parcel_facts_by_order([payout.order_id], lock=True).get(payout.order_id, [])
    event = decision_apply(
        payout, decide(payout, parcels, now), action=PayoutEvent.Action.RECEIPT_CONFIRMED,
        actor=actor, now=now, always_audit=True,
    )  # fmt: skip
    return _save(payout, event)


NOT_RECEIVED = "not_received"


def _courier_claim_applies(payout: Payout, parcels: Sequence[ParcelFacts]) -> bool:
    """A "not received" claim goes to the courier when the marketplace routes them so
    (SELLER_PROTECTION["claims_to_courier"]), the order is protected and every parcel (at
    least one) was delivered with the courier's own POD."""
    if not settings.SELLER_PROTECTION["claims_to_courier"] or not parcels:
        return False
    if not all(parcel_proven(p) and p.pod_source == POD_SOURCE_CARRIER for p in parcels):
        return False
    return order_is_protected(payout.order_id)


def _courier_claims_open(
    payout: Payout, parcels: Sequence[ParcelFacts], *, reference: str, reason: str,
    now: datetime,
) -> None:  # fmt: skip
    ids = [p.shipment_id for p in parcels]
    rows = Shipment.objects.filter(id__in=ids).values_list(
        "id", "carrier", "order__destination_country", "order__destination_postcode"
    )
    CourierClaim.objects.bulk_create(
        [CourierClaim(payout=payout, order_id=payout.order_id, seller_id=payout.seller_id,
                      shipment_id=sid, carrier=carrier, destination_country=(country or "").upper(),
                      destination_region=region_of(country, postcode), reference=reference,
                      reason=reason, opened_at=now)
         for sid, carrier, country, postcode in rows],
        ignore_conflicts=True,
    )  # fmt: skip


@transaction.atomic
def payout_claim_open(
    *, payout: Payout, kind: str, reference: str, actor, reason: str = "",
    reason_code: str = "", now: datetime | None = None,
) -> Payout:  # fmt: skip
    """A buyer claim or a payment dispute opened: the payout goes on hold until it closes.
    Idempotent for the same reference; a second, different claim while one is open is refused.
    Refused once the payout is final (a released payout is recovered outside escrow).

    A buyer's claim that the parcel was not received (``reason_code="not_received"``) on an
    order the delivery performance protection covers, every parcel delivered with the
    courier's POD, does not hold the payout: it opens a CourierClaim per parcel (the
    marketplace's courier-claim queue) and the payout keeps its course (released when the
    claim window ends)."""
    now = now or timezone.now()
    if kind not in Payout.ClaimKind.values or not kind:
        raise ApplicationError(f"Unknown claim kind {kind!r}.", field="kind")
    payout = _locked(payout)
    reference = reference[:100]
    if CourierClaim.objects.filter(payout=payout, reference=reference).exists():
        # the same claim again (a redelivered call), already with the courier: even once the
        # payout was released, nothing changes
        return payout
    _require_open(payout, "open a claim")
    if payout.claim_kind:
        if payout.claim_reference == reference and payout.claim_kind == kind:
            return payout
        raise ApplicationError(
            f"A {payout.claim_kind} ({payout.claim_reference}) is already open.",
            code="claim_already_open",
        )
    parcels = parcel_facts_by_order([payout.order_id], lock=True).get(payout.order_id, [])
    if (
        kind == Payout.ClaimKind.CLAIM
        and reason_code == NOT_RECEIVED
        and (_courier_claim_applies(payout, parcels))
    ):
        _courier_claims_open(payout, parcels, reference=reference, reason=reason, now=now)
        event = decision_apply(
            payout, decide(payout, parcels, now), action=PayoutEvent.Action.COURIER_CLAIM_OPENED,
            actor=actor, now=now, always_audit=True,
            reason=(f"not received {reference}: protected order with the courier's POD, sent "
                    f"to the courier-claim queue; {reason}").strip(" ;"),
        )  # fmt: skip
        return _save(payout, event)
    payout.claim_kind, payout.claim_reference = kind, reference
    event = decision_apply(
        payout, decide(payout, parcels, now), action=PayoutEvent.Action.CLAIM_OPENED,
        actor=actor, now=now, reason=f"{kind} {reference}: {reason}".strip(" :"),
        always_audit=True,
    )  # fmt: skip
    return _save(payout, event)


@transaction.atomic
def payout_claim_close(
    *, payout: Payout, reference: str, actor, resolution: str = "", now: datetime | None = None
) -> Payout:
    """The open claim is closed; the payout's status is re-derived (eligible again if nothing
    else blocks it). Raises ApplicationError when no claim with this reference is open."""
    now = now or timezone.now()
    payout = _locked(payout)
    courier = CourierClaim.objects.filter(
        payout=payout, reference=reference, status=CourierClaim.Status.OPEN
    )
    if courier.exists():
        # The courier answered (refund, found parcel...): the queue's work ends; the payout
        # never waited for it, whatever its state now.
        courier.update(status=CourierClaim.Status.CLOSED, resolution=resolution, closed_at=now)
        user, label = actor_parts(actor)
        PayoutEvent.objects.create(
            payout=payout, action=PayoutEvent.Action.COURIER_CLAIM_CLOSED,
            from_status=payout.status, to_status=payout.status, actor=user, actor_label=label,
            reason=f"courier claim {reference} closed: {resolution}".strip(" :"), created_at=now,
        )  # fmt: skip
        return payout
    _require_open(payout, "close a claim")
    if not payout.claim_kind or payout.claim_reference != reference:
        raise ApplicationError(f"No open claim {reference!r} on this payout.", code="no_claim")
    kind = payout.claim_kind
    payout.claim_kind, payout.claim_reference = "", ""
    parcels = parcel_facts_by_order([payout.order_id], lock=True).get(payout.order_id, [])
    event = decision_apply(
        payout, decide(payout, parcels, now), action=PayoutEvent.Action.CLAIM_CLOSED,
        actor=actor, now=now, reason=f"{kind} {reference} closed: {resolution}".strip(" :"),
        always_audit=True,
    )  # fmt: skip
    return _save(payout, event)


@transaction.atomic
def payout_hold(*, payout: Payout, actor, reason: str, now: datetime | None = None) -> Payout:
    """Finance holds a payout (needs payouts.release_payout and a reason)."""
    require_perm(actor, "payouts.release_payout", "Holding a payout needs the release permission.")
    if not reason.strip():
        raise ApplicationError("Say why the payout is held.", field="reason")
    now = now or timezone.now()
    payout = _locked(payout)
    _require_open(payout, "hold it")
    if payout.finance_hold:
        raise ApplicationError("The payout is already held by finance.", code="already_held")
    payout.finance_hold = True
    parcels = parcel_facts_by_order([payout.order_id], lock=True).get(payout.order_id, [])
    event = decision_apply(
        payout, decide(payout, parcels, now), action=PayoutEvent.Action.HELD, actor=actor,
        now=now, reason=reason, always_audit=True,
    )  # fmt: skip
    return _save(payout, event)


@transaction.atomic
def payout_unhold(*, payout: Payout, actor, reason: str, now: datetime | None = None) -> Payout:
    """Finance lifts its hold (needs payouts.release_payout and a reason); claims still hold."""
    require_perm(actor, "payouts.release_payout", "Lifting a hold needs the release permission.")
    if not reason.strip():
        raise ApplicationError("Say why the hold is lifted.", field="reason")
    now = now or timezone.now()
    payout = _locked(payout)
    _require_open(payout, "lift a hold")
    if not payout.finance_hold:
        raise ApplicationError("Finance does not hold this payout.", code="not_held")
    payout.finance_hold = False
    parcels = parcel_facts_by_order([payout.order_id], lock=True).get(payout.order_id, [])
    event = decision_apply(
        payout, decide(payout, parcels, now), action=PayoutEvent.Action.UNHELD, actor=actor,
        now=now, reason=reason, always_audit=True,
    )  # fmt: skip
    return _save(payout, event)


def _return_to_buyer(
    payout: Payout, *, actor, reason: str, status: str, action: str, now: datetime
) -> Payout:
    payout = _locked(payout)
    _require_open(payout, "refund it")
    user, label = actor_parts(actor)
    previous = payout.status
    payout.status, payout.hold_reason, payout.closed_at = status, "", now
    payout.release_due_at = None
    payout.save()
    PayoutEvent.objects.create(
        payout=payout, action=action, from_status=previous, to_status=status, actor=user,
        actor_label=label, reason=reason.strip(), created_at=now,
    )  # fmt: skip
    entries_post(
        [
            entry_build(
                payout=payout,
                kind=JournalEntry.Kind.REFUND,
                lines=refund_lines(payout),
                actor_user=user,
                now=now,
                memo=f"{status}: {reason.strip()}",
            )  # fmt: skip
        ]
    )
    return payout


@transaction.atomic
def payout_refund(*, payout: Payout, actor, reason: str, now: datetime | None = None) -> Payout:
    """Finance returns the escrowed money to the buyer (parcel returned to sender, claim won by
    the buyer). Needs payouts.release_payout and a reason; refused on a final payout."""
    require_perm(actor, "payouts.release_payout", "Refunding needs the release permission.")
    if not reason.strip():
        raise ApplicationError("Say why the payout is refunded.", field="reason")
    return _return_to_buyer(
        payout, actor=actor, reason=reason, status=Payout.Status.REFUNDED,
        action=PayoutEvent.Action.REFUNDED, now=now or timezone.now(),
    )  # fmt: skip


@transaction.atomic
def payout_cancel(*, payout: Payout, actor, reason: str, now: datetime | None = None) -> Payout:
    """The marketplace cancelled the order: the escrowed money goes back to the buyer.
    (Authorisation is the caller's: the API accepts marketplace tokens only.)"""
    return _return_to_buyer(
        payout, actor=actor, reason=reason or "order cancelled",
        status=Payout.Status.CANCELLED, action=PayoutEvent.Action.CANCELLED,
        now=now or timezone.now(),
    )  # fmt: skip


@transaction.atomic
def seller_commission_set(*, seller, rate: Decimal, actor, note: str = "") -> SellerCommission:
    """Give a seller its own commission rate (0..1). Payouts already open keep theirs."""
    require_perm(actor, "payouts.release_payout", "Setting a commission needs finance rights.")
    if not Decimal(0) <= rate <= Decimal(1):
        raise ApplicationError("The rate must be between 0 and 1.", field="rate")
    commission, _created = SellerCommission.objects.update_or_create(
        seller=seller, defaults={"rate": rate, "note": note[:300]}
    )
    return commission
