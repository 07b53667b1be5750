"""The double-entry journal: every movement of escrow money is one balanced entry.

    payment  psp_clearing +gross        escrow -gross
    release  escrow +kept               seller_payable -net, commission_revenue -commission
    refund   escrow +kept               buyer_refund_payable -kept
    return_refund (returned items, X)   before release: escrow +X, buyer_refund_payable -X;
             after release: seller_payable +Δnet, commission_revenue +Δcommission,
             buyer_refund_payable -X (the seller gives back its share, the marketplace its cut)
    reversal the lines of the entry it reverses, negated

kept = gross - returned: what the buyer did not get back through returns.

Rows are never updated or deleted (models + PostgreSQL trigger); corrections are reversals.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from core.actors import actor_parts
from core.errors import ApplicationError, PermissionDenied
from payouts.models import Account, JournalEntry, JournalLine, Payout, PayoutEvent


class LedgerUnbalanced(ApplicationError):
    code = "ledger_unbalanced"


@dataclass
class PendingEntry:
    """An entry and its lines, built in memory and posted in bulk by ``entries_post``."""

    entry: JournalEntry
    lines: list[tuple[str, int]] = field(default_factory=list)


def entry_build(
    *,
    payout: Payout,
    kind: str,
    lines: Sequence[tuple[str, int]],
    actor_user,
    now: datetime,
    memo: str = "",
    reverses: JournalEntry | None = None,
) -> PendingEntry:
    """Build one entry; refuses an unbalanced one. Zero lines are dropped (a 0.00 order still
    records its entries, with no lines, so the lifecycle stays visible in the journal)."""
    kept = [(account, amount) for account, amount in lines if amount != 0]
    if sum(amount for _account, amount in kept) != 0:
        raise LedgerUnbalanced(f"{kind} entry for payout {payout.pk} does not balance: {kept}")
    entry = JournalEntry(
        payout=payout,
        kind=kind,
        reverses=reverses,
        currency=payout.currency,
        memo=memo[:300],
        posted_at=now,
        posted_by=actor_user,
    )
    return PendingEntry(entry=entry, lines=kept)


def entries_post(pending: Sequence[PendingEntry]) -> list[JournalEntry]:
    """Insert entries then their lines, two INSERTs whatever the number of entries. Must run
    inside the caller's transaction (an entry without its lines must never be visible)."""
    if not pending:
        return []
    entries = JournalEntry.objects.bulk_create([p.entry for p in pending])
    JournalLine.objects.bulk_create(
        [
            JournalLine(
                entry=entry,
                account=account,
                amount=amount,
                seller_id=p.entry.payout.seller_id,
                currency=entry.currency,
            )
            for p, entry in zip(pending, entries, strict=True)
            for account, amount in p.lines
        ]
    )
    return entries


def payment_lines(payout: Payout) -> list[tuple[str, int]]:
    return [(Account.PSP_CLEARING, payout.gross_amount), (Account.ESCROW, -payout.gross_amount)]


def release_lines(payout: Payout) -> list[tuple[str, int]]:
    return [
        (Account.ESCROW, payout.gross_amount - payout.returned_amount),
        (Account.SELLER_PAYABLE, -payout.net_amount),
        (Account.COMMISSION_REVENUE, -payout.commission_amount),
    ]


def refund_lines(payout: Payout) -> list[tuple[str, int]]:
    kept = payout.gross_amount - payout.returned_amount
    return [(Account.ESCROW, kept), (Account.BUYER_REFUND_PAYABLE, -kept)]


@transaction.atomic
def journal_entry_reverse(*, entry: JournalEntry, actor, reason: str) -> JournalEntry:
    """Correct a posted entry by posting its exact opposite (the original stays as it was).

    Needs payouts.release_payout and a reason; an entry is reversed at most once (database
    constraint). The payout's audit trail records the correction.
    """
    user, label = actor_parts(actor)
    if user is None or not user.has_perm("payouts.release_payout"):
        raise PermissionDenied("Reversing a journal entry needs the release permission.")
    if not reason.strip():
        raise ApplicationError("Say why the entry is reversed.", field="reason")
    original = JournalEntry.objects.select_related("payout").get(pk=entry.pk)
    payout = Payout.objects.select_for_update().get(pk=original.payout_id)
    if original.kind == JournalEntry.Kind.REVERSAL:
        raise ApplicationError("A reversal is not reversed: post a new entry.", code="invalid")
    if JournalEntry.objects.filter(reverses=original).exists():
        raise ApplicationError("This entry was already reversed.", code="already_reversed")
    now = timezone.now()
    lines = [(line.account, -line.amount) for line in original.lines.order_by("id")]
    pending = entry_build(
        payout=payout,
        kind=JournalEntry.Kind.REVERSAL,
        lines=lines,
        actor_user=user,
        now=now,
        memo=f"Reversal of {original.kind} #{original.pk}: {reason.strip()}",
        reverses=original,
    )
    (reversal,) = entries_post([pending])
    PayoutEvent.objects.create(
        payout=payout,
        action=PayoutEvent.Action.EVALUATED,
        from_status=payout.status,
        to_status=payout.status,
        actor=user,
        actor_label=label,
        reason=f"Journal entry #{original.pk} ({original.kind}) reversed: {reason.strip()}",
        is_override=True,
        created_at=now,
    )
    return reversal


# --- The check ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerReport:
    entries: int
    lines: int
    payouts: int
    released: int
    balances: dict[str, dict[str, int]]

    def as_json(self) -> str:
        return json.dumps(
            {
                "ok": True,
                "entries": self.entries,
                "lines": self.lines,
                "payouts": self.payouts,
                "released": self.released,
                "balances": self.balances,
            },
            sort_keys=True,
        )


def _check_payouts() -> None:
    """Each payout against its entries: three GROUP BY queries and one pass, whatever the size
    (a correlated subquery per payout is minutes at millions of payouts)."""
    kinds = JournalEntry.Kind
    entries = {
        row["payout_id"]: row
        for row in JournalEntry.objects.order_by()
        .values("payout_id")
        .annotate(
            payments=Count("id", filter=Q(kind=kinds.PAYMENT)),
            releases=Count("id", filter=Q(kind=kinds.RELEASE)),
            releases_reversed=Count("id", filter=Q(kind=kinds.RELEASE, reversed_by__isnull=False)),
        )
    }
    sums = {
        row["entry__payout_id"]: row
        for row in JournalLine.objects.order_by()
        .values("entry__payout_id")
        .annotate(
            escrow=Sum("amount", filter=Q(account=Account.ESCROW)),
            seller=Sum("amount", filter=Q(account=Account.SELLER_PAYABLE)),
            commission=Sum("amount", filter=Q(account=Account.COMMISSION_REVENUE)),
            returns=Sum(
                "amount",
                filter=Q(account=Account.BUYER_REFUND_PAYABLE, entry__kind=kinds.RETURN_REFUND),
            ),
        )
    }
    no_entries = {"payments": 0, "releases": 0, "releases_reversed": 0}
    no_lines = {"escrow": None, "seller": None, "commission": None, "returns": None}
    for pid, status, gross, net, commission, returned in (
        Payout.objects.order_by("id")
        .values_list(
            "id", "status", "gross_amount", "net_amount", "commission_amount", "returned_amount"
        )
        .iterator(chunk_size=10_000)
    ):
        entry = entries.get(pid, no_entries)
        line = sums.get(pid, no_lines)
        escrow = line["escrow"] or 0
        released = status == Payout.Status.RELEASED
        problems = [
            (entry["payments"] != 1, "has no payment entry"),
            (released and entry["releases"] != 1, "is released without its entries"),
            (entry["releases_reversed"] > 0, "has a reversed release entry"),
            (not released and entry["releases"] > 0, "has a release entry but is not released"),
            (
                status in Payout.OPEN_STATUSES and escrow != -(gross - returned),
                "is open but its escrow balance is not -(gross - returned)",
            ),  # fmt: skip
            (status in Payout.FINAL_STATUSES and escrow != 0, "is closed but escrow is not 0"),
            (
                (line["returns"] or 0) != -returned,
                "has return refunds that differ from its returned amount",
            ),  # fmt: skip
            (
                released and (line["seller"] or 0) != -net,
                "is released but the seller was not credited its net amount",
            ),  # fmt: skip
            (
                released and (line["commission"] or 0) != -commission,
                "is released but the commission was not booked",
            ),  # fmt: skip
        ]
        for failed, message in problems:
            if failed:
                raise LedgerUnbalanced(f"payout {pid} {message}")


def ledger_check() -> LedgerReport:
    """Prove the ledger is sound, or raise LedgerUnbalanced naming the first problem found:

    - every entry's lines sum to zero, hence every currency's balances sum to zero;
    - every payout has its payment entry, and its escrow balance is -(gross - returned) while
      open, 0 once released, refunded or cancelled;
    - its return refund entries credit the buyer exactly its returned amount;
    - every released payout has exactly its release entry (not reversed), crediting the seller
      its net amount and the marketplace its commission; nothing else has a release entry.
    """
    unbalanced = (
        JournalLine.objects.order_by()
        .values("entry_id")
        .annotate(total=Sum("amount"))
        .exclude(total=0)
        .order_by("entry_id")
        .values_list("entry_id", "total")
        .first()
    )
    if unbalanced:
        raise LedgerUnbalanced(f"entry {unbalanced[0]} does not balance (sum {unbalanced[1]})")
    totals = (
        JournalLine.objects.order_by()
        .values("currency")
        .annotate(total=Sum("amount"))
        .exclude(total=0)
        .order_by("currency")
        .values_list("currency", "total")
        .first()
    )
    if totals:
        raise LedgerUnbalanced(f"{totals[0]} balances sum to {totals[1]}, not 0")

    _check_payouts()

    balances: dict[str, dict[str, int]] = {}
    for currency, account, total in (
        JournalLine.objects.order_by("currency", "account")
        .values("currency", "account")
        .annotate(total=Sum("amount"))
        .values_list("currency", "account", "total")
    ):
        balances.setdefault(currency, {})[account] = total
    counts = Payout.objects.aggregate(
        payouts=Count("id"), released=Count("id", filter=Q(status=Payout.Status.RELEASED))
    )
    return LedgerReport(
        entries=JournalEntry.objects.count(),
        lines=JournalLine.objects.count(),
        payouts=counts["payouts"],
        released=counts["released"],
        balances=balances,
    )
