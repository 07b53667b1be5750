"""Writes of the payouts app: one function per business action (see each module's docstring)."""

from payouts.services.ledger import (
    LedgerReport,
    LedgerUnbalanced,
    journal_entry_reverse,
    ledger_check,
)
from payouts.services.lifecycle import (
    payout_cancel,
    payout_claim_close,
    payout_claim_open,
    payout_evaluate,
    payout_hold,
    payout_open_for_order,
    payout_receipt_confirm,
    payout_refund,
    payout_unhold,
    payouts_evaluate,
    payouts_evaluate_for_orders,
    payouts_reevaluate_open,
    seller_commission_set,
)
from payouts.services.release import (
    AUTO_RELEASE_BATCH,
    payout_release,
    payouts_release_due,
    release_batch_run,
    release_batch_start,
)
from payouts.services.returns import (
    payout_return_close,
    payout_return_open,
    payout_return_refund,
)

__all__ = [
    "AUTO_RELEASE_BATCH",
    "LedgerReport",
    "LedgerUnbalanced",
    "journal_entry_reverse",
    "ledger_check",
    "payout_cancel",
    "payout_claim_close",
    "payout_claim_open",
    "payout_evaluate",
    "payout_hold",
    "payout_open_for_order",
    "payout_receipt_confirm",
    "payout_refund",
    "payout_release",
    "payout_return_close",
    "payout_return_open",
    "payout_return_refund",
    "payout_unhold",
    "payouts_evaluate",
    "payouts_evaluate_for_orders",
    "payouts_reevaluate_open",
    "payouts_release_due",
    "release_batch_run",
    "release_batch_start",
    "seller_commission_set",
]
