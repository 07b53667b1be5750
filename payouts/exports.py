"""CSV exports for accounting (cells made spreadsheet-safe by core.csvexport)."""

from __future__ import annotations

from core.csvexport import FORMULA_PREFIXES, csv_cell, csv_lines
from core.money import decimal_text, format_money

__all__ = ["FORMULA_PREFIXES", "csv_cell", "csv_lines"]

# gross / commission / net are for accounting imports: decimals with a point and the currency's
# own digits ("45.00" EUR, "4500" JPY, "12.345" KWD). gross_shown / net_shown are the same
# amounts as the reader writes them (the language of the request: "45,00 €", "€45.00"), for
# people who open the file in a spreadsheet.
PAYOUT_HEADER = [
    "payout_id", "order_reference", "seller", "status", "hold_reason", "currency", "gross",
    "commission_rate", "commission", "net", "payment_reference", "paid_at", "last_delivered_at",
    "release_due_at", "released_at", "released_by", "override", "gross_shown", "net_shown",
]  # fmt: skip


def payout_row(payout, *, locale: str | None = None) -> list[object]:
    """One payout; ``locale`` (default: the active language) for the *_shown columns."""
    currency = payout.currency
    return [
        payout.pk,
        payout.order.reference,
        payout.seller.name,
        payout.status,
        payout.hold_reason,
        payout.currency,
        decimal_text(payout.gross_amount, currency),
        str(payout.commission_rate),
        decimal_text(payout.commission_amount, currency),
        decimal_text(payout.net_amount, currency),
        payout.payment_reference,
        payout.paid_at,
        payout.last_delivered_at,
        payout.release_due_at,
        payout.released_at,
        payout.released_by.get_username() if payout.released_by_id else "",
        payout.released_with_override,
        format_money(payout.gross_amount, currency, locale=locale),
        format_money(payout.net_amount, currency, locale=locale),
    ]


AUDIT_HEADER = [
    "at", "payout_id", "order_reference", "action", "from_status", "to_status", "actor",
    "override", "reason",
]  # fmt: skip


def audit_row(event) -> list[object]:
    return [
        event.created_at,
        event.payout_id,
        event.payout.order.reference,
        event.action,
        event.from_status,
        event.to_status,
        event.actor_label,
        event.is_override,
        event.reason,
    ]
