"""CSV exports for accounting. Spreadsheets execute cells that start with = + - @ (and tab or
carriage return, which some strip first): every such text cell is prefixed with a quote, so
a seller named "=HYPERLINK(…)" stays text in finance's spreadsheet."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> str:
    """One cell, safe to open in a spreadsheet. Numbers stay numbers (a negative amount is not
    a formula); text that a spreadsheet would evaluate gets a leading quote."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return str(value)
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(header: list[str], rows: Iterable[Iterable[object]]) -> Iterator[str]:
    """The CSV text line by line, for a StreamingHttpResponse (exports can be large)."""
    writer = csv.writer(_Echo())
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow([csv_cell(cell) for cell in row])


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
