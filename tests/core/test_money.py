"""Money by its currency (core.money): ISO 4217 codes in circulation, each with its own digits,
shown as the reader writes money."""

from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation

from core.money import (
    UnknownCurrency,
    currency_code,
    decimal_text,
    format_money,
    minor_unit_exponent,
    to_decimal,
    to_minor,
)


@pytest.mark.parametrize(
    ("currency", "exponent"),
    [("EUR", 2), ("GBP", 2), ("XPF", 0), ("JPY", 0), ("KWD", 3), ("BHD", 3), ("CHF", 2)],
)
def test_minor_unit_exponent_is_the_currencys_own(currency, exponent):
    assert minor_unit_exponent(currency) == exponent


@pytest.mark.parametrize("code", ["XYZ", "XXX", "FRF", "DEM", "EU", "EURO", "", "€"])
def test_currency_code_refuses_what_is_not_a_currency_in_circulation(code):
    with pytest.raises(UnknownCurrency, match="ISO 4217"):
        currency_code(code)


def test_currency_code_normalises_case_and_spaces():
    assert currency_code(" eur ") == "EUR"


@pytest.mark.parametrize(
    ("minor", "currency", "value", "text"),
    [
        (4500, "EUR", Decimal("45.00"), "45.00"),
        (4500, "JPY", Decimal("4500"), "4500"),  # a yen has no cents
        (12345, "KWD", Decimal("12.345"), "12.345"),  # a dinar has 1000 fils
        (-250, "GBP", Decimal("-2.50"), "-2.50"),
        (0, "EUR", Decimal("0.00"), "0.00"),
    ],
)
def test_amounts_convert_exactly_by_their_currencys_digits(minor, currency, value, text):
    assert to_decimal(minor, currency) == value
    assert decimal_text(minor, currency) == text
    assert to_minor(value, currency) == minor


def test_to_minor_refuses_an_amount_finer_than_the_currency():
    with pytest.raises(ValueError, match="more decimals"):
        to_minor(Decimal("45.5"), "JPY")


@pytest.mark.parametrize(
    ("minor", "currency", "locale", "shown"),
    [
        (4500, "EUR", "fr", "45,00\xa0€"),
        (4500, "EUR", "en", "€45.00"),
        (4500, "EUR", "de", "45,00\xa0€"),
        (123456, "EUR", "fr", "1\u202f234,56\xa0€"),
        (4500, "JPY", "en", "¥4,500"),
        (4500, "JPY", "fr", "4\u202f500\xa0JPY"),
        (12345, "KWD", "en", "KWD12.345"),  # CLDR writes the code against the number
        (4990, "GBP", "en", "£49.90"),
        (1500, "XPF", "fr", "1\u202f500\xa0FCFP"),
    ],
)
def test_format_money_follows_the_readers_locale(minor, currency, locale, shown):
    assert format_money(minor, currency, locale=locale) == shown


@pytest.mark.parametrize(("language", "shown"), [("fr", "45,00\xa0€"), ("en", "€45.00")])
def test_money_filter_uses_the_active_language(language, shown):
    template = Template("{% load money %}{{ amount|money:currency }}")
    with translation.override(language):
        assert template.render(Context({"amount": 4500, "currency": "EUR"})) == shown


def test_money_filter_shows_nothing_for_no_amount():
    template = Template("{% load money %}[{{ amount|money:'EUR' }}]")
    assert template.render(Context({"amount": None})) == "[]"
