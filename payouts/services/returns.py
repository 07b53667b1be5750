"""Money of buyers' returns (the returns app calls these; they never touch its models).

    return request opened   -> payout_return_open: the payout goes on hold (reason "return")
    refused / cancelled /
    exchange received       -> payout_return_close: the hold is lifted, the status re-derived
    return received         -> payout_return_refund(amount = the returned items' price):
        open payout:     escrow +X, buyer_refund_payable -X; commission and net re-split on
                         what the buyer keeps (gross - returned); all items back: refunded
        released payout: seller_payable +Δnet, commission_revenue +Δcommission,
                         buyer_refund_payable -X (the seller and the marketplace give back
                         their shares of the returned items)

Each service locks the payout row first, writes one audit row, and is idempotent: a return is
identified by its reference ("RET-<id>"); the journal's unique (payout, reference) constraint
makes a second refund of the same return impossible.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from core.actors import actor_parts
from core.errors import ApplicationError
from payouts.models import Account, JournalEntry, Payout, PayoutEvent
from payouts.rules import commission_split
from payouts.services.ledger import entries_post, entry_build
from payouts.services.lifecycle import decide, decision_apply, parcel_facts_by_order


def _locked_for_order(order_id: int) -> Payout | None:
    return Payout.objects.select_for_update().filter(order_id=order_id).first()


def _redecide(payout: Payout, *, action: str, actor, now: datetime, reason: str) -> None:
    parcels = parcel_facts_by_order([payout.order_id], lock=True).get(payout.order_id, [])
    event = decision_apply(
        payout, decide(payout, parcels, now), action=action, actor=actor, now=now,
        reason=reason, always_audit=True,
    )  # fmt: skip
    payout.save()
    event.save()


@transaction.atomic
def payout_return_open(
    *, order_id: int, reference: str, actor, now: datetime | None = None
) -> Payout | None:
    """A return request is open on the order: hold its payout until the return ends.

    Returns None when the order has no payout (not paid through escrow). A final payout is
    returned unchanged (released money is recovered by the refund itself). Idempotent for the
    same reference; raises ApplicationError (return_already_open) for another one.
    """
    now = now or timezone.now()
    payout = _locked_for_order(order_id)
    if payout is None or payout.is_final:
        return payout
    if payout.return_reference:
        if payout.return_reference == reference:
            return payout
        raise ApplicationError(
            f"Return {payout.return_reference} is already open on this order.",
            code="return_already_open",
        )
    payout.return_reference = reference[:100]
    _redecide(payout, action=PayoutEvent.Action.RETURN_OPENED, actor=actor, now=now,
              reason=f"Return {reference} requested")  # fmt: skip
    return payout


@transaction.atomic
def payout_return_close(
    *, order_id: int, reference: str, actor, reason: str = "", now: datetime | None = None
) -> Payout | None:
    """The return ended without a refund (refused, cancelled, exchanged): lift its hold.
    Idempotent: a payout not held by this reference is returned unchanged."""
    now = now or timezone.now()
    payout = _locked_for_order(order_id)
    if payout is None or payout.is_final or payout.return_reference != reference:
        return payout
    payout.return_reference = ""
    _redecide(payout, action=PayoutEvent.Action.RETURN_CLOSED, actor=actor, now=now,
              reason=f"Return {reference} closed: {reason}".strip(" :"))  # fmt: skip
    return payout


def return_refund_lines(payout: Payout, amount: int) -> tuple[list[tuple[str, int]], int, int]:
    """The lines refunding ``amount`` of returned items, and the payout's new (commission,
    net) on what the buyer keeps. Balanced by construction (see the module docstring)."""
    kept = payout.gross_amount - payout.returned_amount - amount
    commission, net = commission_split(kept, payout.commission_rate)
    if payout.status == Payout.Status.RELEASED:
        lines = [
            (Account.SELLER_PAYABLE, payout.net_amount - net),
            (Account.COMMISSION_REVENUE, payout.commission_amount - commission),
            (Account.BUYER_REFUND_PAYABLE, -amount),
        ]
    else:
        lines = [(Account.ESCROW, amount), (Account.BUYER_REFUND_PAYABLE, -amount)]
    return lines, commission, net


@transaction.atomic
def payout_return_refund(
    *, order_id: int, reference: str, amount: int, actor, reason: str = "",
    now: datetime | None = None,
) -> Payout | None:  # fmt: skip
    """Refund the buyer the price of returned items (``amount``, minor units) through the
    ledger, re-split commission and net on the rest, and lift the return's hold.

    - idempotent per ``reference``: a second call returns the payout unchanged;
    - an open payout whose whole amount is returned becomes ``refunded`` (final);
    - a released payout is debited back from the seller and the commission (clawback);
    - raises ApplicationError for an amount that is not positive or exceeds what the buyer
      still has in the order, and for a payout already refunded or cancelled.
    Returns None when the order has no payout (nothing was paid through escrow).
    """
    now = now or timezone.now()
    payout = _locked_for_order(order_id)
    if payout is None:
        return None
    already = JournalEntry.objects.filter(
        payout=payout, kind=JournalEntry.Kind.RETURN_REFUND, reference=reference
    ).exists()
    if already:
        return payout
    if payout.status in (Payout.Status.REFUNDED, Payout.Status.CANCELLED):
        raise ApplicationError(
            f"The payout is already {payout.status}: nothing is left to refund.",
            code=f"payout_{payout.status}",
        )
    refundable = payout.gross_amount - payout.returned_amount
    if not 0 < amount <= refundable:
        raise ApplicationError(
            f"A return refund is between 1 and {refundable} minor units ({amount} given).",
            code="invalid_refund_amount",
            field="amount",
        )
    lines, commission, net = return_refund_lines(payout, amount)
    user, label = actor_parts(actor)
    previous = payout.status
    payout.returned_amount += amount
    payout.commission_amount, payout.net_amount = commission, net
    if payout.return_reference == reference:
        payout.return_reference = ""
    why = f"Return {reference}: {amount} refunded to the buyer {reason}".strip()
    if payout.is_final:  # released: the seller's and marketplace's shares come back
        payout.save()
        PayoutEvent.objects.create(
            payout=payout, action=PayoutEvent.Action.RETURN_REFUNDED, from_status=previous,
            to_status=payout.status, actor=user, actor_label=label, reason=why, created_at=now,
        )  # fmt: skip
    elif payout.returned_amount == payout.gross_amount:  # everything came back
        payout.status, payout.hold_reason, payout.closed_at = Payout.Status.REFUNDED, "", now
        payout.release_due_at = None
        payout.save()
        PayoutEvent.objects.create(
            payout=payout, action=PayoutEvent.Action.RETURN_REFUNDED, from_status=previous,
            to_status=payout.status, actor=user, actor_label=label, reason=why, created_at=now,
        )  # fmt: skip
    else:
        _redecide(payout, action=PayoutEvent.Action.RETURN_REFUNDED, actor=actor, now=now,
                  reason=why)  # fmt: skip
    pending = entry_build(
        payout=payout, kind=JournalEntry.Kind.RETURN_REFUND, lines=lines, actor_user=user,
        now=now, memo=f"Return {reference}: returned items refunded",
    )  # fmt: skip
    pending.entry.reference = reference[:100]
    entries_post([pending])
    return payout
