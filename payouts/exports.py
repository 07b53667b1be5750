"""CSV exports for accounting (cells made spreadsheet-safe by core.csvexport)."""

from __future__ import annotations

from core.csvexport import FORMULA_PREFIXES, csv_cell, csv_lines

__all__ = ["FORMULA_PREFIXES", "csv_cell", "csv_lines"]


def minor_to_decimal_text(amount: int) -> str:
    """12345 -> "123.45": accounting imports read decimals, not cents."""
    sign = "-" if amount < 0 else ""
    units, cents = divmod(abs(amount), 100)
    return f"{sign}{units}.{cents:02d}"


PAYOUT_HEADER = [
    "payout_id", "order_reference", "seller", "status", "hold_reason", "currency", "gross",
    "commission_rate", "commission", "net", "payment_reference", "paid_at", "last_delivered_at",
    "release_due_at", "released_at", "released_by", "override",
]  # fmt: skip


def payout_row(payout) -> list[object]:
    return [
        payout.pk,
        payout.order.reference,
        payout.seller.name,
        payout.status,
        payout.hold_reason,
        payout.currency,
        minor_to_decimal_text(payout.gross_amount),
        str(payout.commission_rate),
        minor_to_decimal_text(payout.commission_amount),
        minor_to_decimal_text(payout.net_amount),
        payout.payment_reference,
        payout.paid_at,
        payout.last_delivered_at,
        payout.release_due_at,
        payout.released_at,
        payout.released_by.get_username() if payout.released_by_id else "",
        payout.released_with_override,
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
