"""Escrow per order, the double-entry ledger behind it, and the audit trail of every change.

A Payout is the money the marketplace holds for one order. Its status is decided by
payouts.rules (pure) and written only by payouts.services. Journal entries and audit rows are
append-only: the models refuse updates and deletes, and on PostgreSQL a trigger refuses them
too (migration 0001), so a correction is always a new, reversing entry.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class AppendOnlyError(Exception):
    """Raised when code tries to change or delete a ledger or audit row."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError(f"{self.model.__name__} rows are append-only: post a reversal.")

    def delete(self):
        raise AppendOnlyError(f"{self.model.__name__} rows are append-only: post a reversal.")


class AppendOnlyModel(models.Model):
    """Rows that are written once. Saving an existing row or deleting one raises."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError(f"{type(self).__name__} rows are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(f"{type(self).__name__} rows are append-only.")


class SellerCommission(models.Model):
    """A seller's negotiated commission rate, instead of the marketplace's PAYOUT_COMMISSION_RATE.
    Applies to payouts opened after it is set (an open payout keeps the rate it was opened at)."""

    seller = models.OneToOneField(
        "sellers.Seller", on_delete=models.CASCADE, related_name="payout_commission"
    )
    rate = models.DecimalField(max_digits=5, decimal_places=4, help_text="0.1200 means 12 %.")
    note = models.CharField(max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(rate__gte=0) & Q(rate__lte=1), name="seller_commission_rate_0_1"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.seller}: {self.rate}"


class PayoutQuerySet(models.QuerySet):
    def for_seller(self, seller_id: int | None):
        return self if seller_id is None else self.filter(seller_id=seller_id)


class Payout(models.Model):
    """The buyer's payment for one order, held in escrow until released to the seller.

    held -> eligible -> released; any open state -> on_hold (claim, dispute, finance hold,
    return request open, parcel returning) and back; held/eligible/on_hold -> refunded
    (returned) or cancelled (order cancelled). released, refunded and cancelled are final.
    """

    class Status(models.TextChoices):
        HELD = "held", "Held (payment received)"
        ELIGIBLE = "eligible", "Eligible for release"
        ON_HOLD = "on_hold", "On hold"
        RELEASED = "released", "Released to the seller"
        REFUNDED = "refunded", "Refunded to the buyer"
        CANCELLED = "cancelled", "Cancelled (order cancelled)"

    class HoldReason(models.TextChoices):
        NONE = "", "—"
        CLAIM = "claim", "Buyer claim open"
        DISPUTE = "dispute", "Payment dispute open"
        FINANCE = "finance", "Finance hold"
        RETURN = "return", "Return under way (request open or parcel going back)"

    class ClaimKind(models.TextChoices):
        NONE = "", "—"
        CLAIM = "claim", "Buyer claim"
        DISPUTE = "dispute", "Payment dispute (chargeback)"

    OPEN_STATUSES = (Status.HELD, Status.ELIGIBLE, Status.ON_HOLD)
    FINAL_STATUSES = (Status.RELEASED, Status.REFUNDED, Status.CANCELLED)

    order = models.OneToOneField("sellers.Order", on_delete=models.PROTECT, related_name="payout")
    # Denormalised from the order: every scoped read and filter starts from the seller.
    seller = models.ForeignKey("sellers.Seller", on_delete=models.PROTECT, related_name="payouts")
    currency = models.CharField(max_length=3)
    gross_amount = models.BigIntegerField(help_text="What the buyer paid, minor units.")
    commission_rate = models.DecimalField(max_digits=5, decimal_places=4)
    commission_amount = models.BigIntegerField(help_text="Marketplace's share, minor units.")
    net_amount = models.BigIntegerField(help_text="The seller's share, minor units.")
    # Refunded to the buyer for returned items (returns app); commission and net are re-split
    # on what the buyer keeps: gross = commission + net + returned.
    returned_amount = models.BigIntegerField(default=0)
    # The open return request holding the payout ("" when none), like claim_reference.
    return_reference = models.CharField(max_length=100, blank=True)
    payment_reference = models.CharField(max_length=100, blank=True)

    status = models.CharField(max_length=12, choices=Status.choices, default=Status.HELD)
    hold_reason = models.CharField(max_length=10, choices=HoldReason.choices, blank=True)
    finance_hold = models.BooleanField(default=False)
    claim_kind = models.CharField(max_length=10, choices=ClaimKind.choices, blank=True)
    claim_reference = models.CharField(max_length=100, blank=True)

    # Kept up to date by every evaluation, so queues and the release job filter on columns.
    pod_complete = models.BooleanField(default=False)
    last_delivered_at = models.DateTimeField(null=True, blank=True)
    buyer_confirmed_at = models.DateTimeField(null=True, blank=True)
    # When the claim window ends (or the buyer confirmed): None until every parcel is proven.
    release_due_at = models.DateTimeField(null=True, blank=True)

    paid_at = models.DateTimeField()
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    released_with_override = models.BooleanField(default=False)
    closed_at = models.DateTimeField(null=True, blank=True, help_text="Refunded or cancelled.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PayoutQuerySet.as_manager()

    class Meta:
        permissions = [
            ("view_finance_console", "Can use the finance console"),
            ("release_payout", "Can release, hold and refund payouts"),
            ("override_pod_release", "Can release a payout without proof of delivery"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    status__in=["held", "eligible", "on_hold", "released", "refunded", "cancelled"]
                ),
                name="payout_status_known",
            ),
            models.CheckConstraint(
                condition=Q(gross_amount__gte=0)
                & Q(commission_amount__gte=0)
                & Q(net_amount__gte=0)
                & Q(returned_amount__gte=0),
                name="payout_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(
                    gross_amount=models.F("commission_amount")
                    + models.F("net_amount")
                    + models.F("returned_amount")
                ),
                name="payout_split_with_returns_adds_up",
            ),
            models.CheckConstraint(
                condition=~Q(status="released") | Q(released_at__isnull=False),
                name="payout_released_has_time",
            ),
            models.CheckConstraint(
                condition=Q(status="on_hold") | Q(hold_reason=""),
                name="payout_hold_reason_only_on_hold",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "release_due_at"], name="payout_release_due"),
            models.Index(fields=["seller", "status"], name="payout_seller_status"),
            models.Index(fields=["status", "-paid_at"], name="payout_status_recent"),
        ]

    def __str__(self) -> str:
        return f"Payout {self.pk} ({self.status}) for order {self.order_id}"

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL_STATUSES


class Account(models.TextChoices):
    """Ledger accounts. Debits are positive, credits negative; every entry sums to zero."""

    PSP_CLEARING = "psp_clearing", "Payment provider clearing (asset)"
    ESCROW = "escrow", "Buyer funds held in escrow (liability)"
    SELLER_PAYABLE = "seller_payable", "Payable to sellers (liability)"
    COMMISSION_REVENUE = "commission_revenue", "Commission revenue"
    BUYER_REFUND_PAYABLE = "buyer_refund_payable", "Refunds payable to buyers (liability)"


class JournalEntry(AppendOnlyModel):
    """One balanced movement of money for one payout. At most one of each kind per payout
    (the database refuses a second release); a mistake is corrected by a reversal entry."""

    class Kind(models.TextChoices):
        PAYMENT = "payment", "Buyer payment into escrow"
        RELEASE = "release", "Release: escrow to seller and commission"
        REFUND = "refund", "Refund: escrow to buyer"
        REVERSAL = "reversal", "Reversal of an earlier entry"
        RETURN_REFUND = "return_refund", "Return refund: returned items' price to the buyer"

    payout = models.ForeignKey(Payout, on_delete=models.PROTECT, related_name="journal_entries")
    kind = models.CharField(max_length=14, choices=Kind.choices)
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    currency = models.CharField(max_length=3)
    memo = models.CharField(max_length=300, blank=True)
    posted_at = models.DateTimeField()
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # What a return refund is for (the return request's reference): its idempotency key.
    reference = models.CharField(max_length=100, blank=True)

    class Meta:
        verbose_name_plural = "journal entries"
        constraints = [
            # The idempotency key of release (and of payment and refund): one per payout.
            models.UniqueConstraint(
                fields=["payout", "kind"],
                condition=~Q(kind__in=["reversal", "return_refund"]),
                name="journal_one_entry_per_kind_but_returns",
            ),
            # A payout can see several returns (one at a time), each refunded once.
            models.UniqueConstraint(
                fields=["payout", "reference"],
                condition=Q(kind="return_refund"),
                name="journal_one_refund_per_return",
            ),
            models.CheckConstraint(
                condition=Q(kind="reversal", reverses__isnull=False)
                | (~Q(kind="reversal") & Q(reverses__isnull=True)),
                name="journal_reversal_points_back",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} (payout {self.payout_id})"


class JournalLine(AppendOnlyModel):
    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="lines")
    account = models.CharField(max_length=24, choices=Account.choices)
    amount = models.BigIntegerField(help_text="Minor units; debit positive, credit negative.")
    # Kept on the line so balances per seller and currency are one GROUP BY.
    seller = models.ForeignKey("sellers.Seller", on_delete=models.PROTECT, related_name="+")
    currency = models.CharField(max_length=3)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="journal_line_not_zero"),
        ]
        indexes = [models.Index(fields=["account", "currency"], name="journal_line_account")]

    def __str__(self) -> str:
        return f"{self.account} {self.amount:+d} {self.currency}"


class PayoutEvent(AppendOnlyModel):
    """The audit trail: who did what to a payout, when, why, from which state to which."""

    class Action(models.TextChoices):
        OPENED = "opened", "Payment received, payout opened"
        EVALUATED = "evaluated", "Re-evaluated"
        RECEIPT_CONFIRMED = "receipt_confirmed", "Buyer confirmed receipt"
        CLAIM_OPENED = "claim_opened", "Claim opened"
        CLAIM_CLOSED = "claim_closed", "Claim closed"
        HELD = "held", "Put on hold by finance"
        UNHELD = "unheld", "Hold lifted by finance"
        RELEASED = "released", "Released"
        OVERRIDE_RELEASED = "override_released", "Released WITHOUT proof of delivery (override)"
        REFUNDED = "refunded", "Refunded to the buyer"
        CANCELLED = "cancelled", "Cancelled"
        RETURN_OPENED = "return_opened", "Return request opened"
        RETURN_CLOSED = "return_closed", "Return request closed without refund"
        RETURN_REFUNDED = "return_refunded", "Returned items refunded to the buyer"
        COURIER_CLAIM_OPENED = "courier_claim", "Claim routed to the courier (protected order)"
        COURIER_CLAIM_CLOSED = "courier_claim_end", "Courier claim closed"

    payout = models.ForeignKey(Payout, on_delete=models.PROTECT, related_name="events")
    action = models.CharField(max_length=20, choices=Action.choices)
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Who, in words, even for API tokens and the system (which have no user row).
    actor_label = models.CharField(max_length=150)
    reason = models.TextField(blank=True)
    is_override = models.BooleanField(default=False)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["payout", "created_at"], name="payout_event_payout")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} by {self.actor_label}"


class CourierClaim(models.Model):
    """A buyer's "not received" claim on an order the delivery performance protection covers,
    every parcel delivered with the courier's POD: the marketplace takes it up with the courier
    (the courier-claim queue, finance and CS consoles) and the seller's payout is not held
    beyond the claim window. One row per parcel of the order, so couriers answer per parcel.
    Written by ``payouts.services.payout_claim_open`` / ``payout_claim_close`` only."""

    class Status(models.TextChoices):
        OPEN = "open", "Open with the courier"
        CLOSED = "closed", "Closed"

    payout = models.ForeignKey(Payout, on_delete=models.PROTECT, related_name="courier_claims")
    order = models.ForeignKey("sellers.Order", on_delete=models.PROTECT, related_name="+")
    seller = models.ForeignKey("sellers.Seller", on_delete=models.PROTECT, related_name="+")
    shipment = models.ForeignKey(
        "tracking.Shipment", on_delete=models.PROTECT, related_name="courier_claims"
    )
    # Denormalised from the parcel and its order: the per courier x lane counts group on them.
    carrier = models.CharField(max_length=40)
    destination_country = models.CharField(max_length=2)
    destination_region = models.CharField(max_length=3, blank=True)
    reference = models.CharField(max_length=100, help_text="The marketplace's claim reference.")
    reason = models.TextField(blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    resolution = models.TextField(blank=True)
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["payout", "reference", "shipment"], name="courier_claim_once"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["open", "closed"]), name="courier_claim_status_known"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-opened_at"], name="courier_claim_queue"),
            models.Index(fields=["carrier", "opened_at"], name="courier_claim_carrier"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} ({self.carrier} {self.status})"


class ReleaseBatch(models.Model):
    """A finance batch release running as a job; the console polls it to show progress."""

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        FINISHED = "finished", "Finished"

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    payout_ids = models.JSONField(default=list)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    total = models.PositiveIntegerField(default=0)
    released = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True, help_text="[{payout, message}]")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "release batches"

    def __str__(self) -> str:
        return f"Batch {self.pk} ({self.released + self.failed}/{self.total})"

    @property
    def done(self) -> int:
        return self.released + self.failed

    @property
    def percent(self) -> int:
        return 100 if not self.total else round(100 * self.done / self.total)
