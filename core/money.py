"""Money by its currency: which codes exist, how many minor units each has, how a reader sees it.

    stored: <name>_amount (integer minor units) + currency ("EUR", "JPY", "KWD")
    -> to_decimal(4500, "JPY") = Decimal("4500")   (exports, conversions: exact, no float)
    -> format_money(4500, "EUR", locale="fr") = "45,00 €"   (pages, emails, CSV, console)

The data is CLDR's through Babel (maintained with each Unicode CLDR release): the currencies
legal tender somewhere today (ISO 4217 codes in circulation: "XYZ", "XXX" and the franc are
refused) and each one's digits (EUR 2, JPY 0, KWD 3). Every amount shown, exported or converted
goes through this module; nothing else divides by 100.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache

from babel.core import get_global
from babel.numbers import format_currency, get_currency_precision
from django.utils import translation

DEFAULT_LOCALE = "en"


class UnknownCurrency(ValueError):
    """Not an ISO 4217 code of a currency in circulation."""


@cache
def currencies_in_circulation() -> frozenset[str]:
    """ISO 4217 codes that are legal tender in some territory today (CLDR's territory data:
    an open-ended, tender period)."""
    return frozenset(
        code
        for periods in get_global("territory_currencies").values()
        for code, _start, end, tender in periods
        if end is None and tender
    )


def currency_code(value: str) -> str:
    """``value`` as an upper-case ISO 4217 code in circulation, or UnknownCurrency saying why."""
    code = (value or "").strip().upper()
    if code not in currencies_in_circulation():
        raise UnknownCurrency(
            f"{value!r} is not an ISO 4217 currency in circulation (EUR, GBP, JPY, XPF…)."
        )
    return code


def minor_unit_exponent(currency: str) -> int:
    """Digits after the decimal point: EUR 2, JPY 0, KWD 3."""
    return get_currency_precision(currency_code(currency))


def to_decimal(amount: int, currency: str) -> Decimal:
    """Minor units to the amount in the currency's unit, exactly: (4550, "EUR") -> 45.50,
    (4550, "JPY") -> 4550, (4550, "KWD") -> 4.550."""
    exponent = minor_unit_exponent(currency)
    return Decimal(int(amount)).scaleb(-exponent).quantize(Decimal(1).scaleb(-exponent))


def to_minor(amount: Decimal | str, currency: str) -> int:
    """The inverse of to_decimal; ValueError for an amount finer than the currency's unit."""
    value = Decimal(amount)
    minor = value.scaleb(minor_unit_exponent(currency))
    if minor != minor.to_integral_value():
        raise ValueError(f"{amount} {currency} has more decimals than the currency has.")
    return int(minor)


def decimal_text(amount: int, currency: str) -> str:
    """ "45.50", "4550", "4.550": what accounting imports read (a point, no grouping)."""
    return format(to_decimal(amount, currency), "f")


def reader_locale(locale: str | None = None) -> str:
    """A Babel locale name for ``locale`` (a Django language code), or the active language."""
    language = locale or translation.get_language() or DEFAULT_LOCALE
    return translation.to_locale(language)


def format_money(amount: int | None, currency: str, *, locale: str | None = None) -> str:
    """Minor units as the reader writes money: "45,00 €" in French, "€45.00" in English,
    "4 500 JPY" / "¥4,500", "KWD 12.345". ``locale`` defaults to the active language."""
    if amount is None:
        return ""
    return format_currency(
        to_decimal(amount, currency), currency_code(currency), locale=reader_locale(locale)
    )


@cache
def currencies_by_exponent() -> dict[int, frozenset[str]]:
    """{2: {"EUR", "GBP", …}, 0: {"JPY", …}, 3: {"KWD", …}}: amounts typed in currency units
    compare with stored minor units one exponent at a time."""
    groups: dict[int, set[str]] = {}
    for code in currencies_in_circulation():
        groups.setdefault(get_currency_precision(code), set()).add(code)
    return {exponent: frozenset(codes) for exponent, codes in groups.items()}
