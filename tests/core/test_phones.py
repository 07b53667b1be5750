"""The one phone rule (core.phones): numbers read in the destination's numbering plan, overseas
departments and territories with their own calling codes, SMS only to mobiles."""

import pytest

from core.phones import (
    InvalidPhoneNumber,
    dialling_region,
    mask_email,
    mask_phone,
    sms_recipient,
    sms_refusal,
    to_e164,
)


@pytest.mark.parametrize(
    ("raw", "country", "postcode", "e164"),
    [
        # mainland France, every way buyers type it
        ("06 12 34 56 78", "FR", "75011", "+33612345678"),
        ("+33 (0)6 12 34 56 78", "FR", "", "+33612345678"),
        ("0033 6.12.34.56.78", "FR", "", "+33612345678"),
        # overseas departments and territories: their own calling codes
        ("0692 12 34 56", "RE", "97400", "+262692123456"),
        ("0692 12 34 56", "FR", "97410", "+262692123456"),  # filed as FR with a 974 postcode
        ("0690 12 34 56", "GP", "97100", "+590690123456"),
        ("0696 12 34 56", "MQ", "97200", "+596696123456"),
        ("0694 12 34 56", "GF", "97300", "+594694123456"),
        ("0639 01 23 45", "YT", "97600", "+262639012345"),
        ("055 12 34", "PM", "97500", "+508551234"),
        ("0690 12 34 56", "FR", "97133", "+590690123456"),  # Saint-Barthélemy
        ("0690 22 33 44", "MF", "97150", "+590690223344"),
        ("75 12 34", "NC", "98800", "+687751234"),
        ("87 12 34 56", "PF", "98714", "+68987123456"),
        # Europe and beyond
        ("0470 12 34 56", "BE", "1000", "+32470123456"),
        ("0151 23456789", "DE", "10115", "+4915123456789"),
        ("07400 123456", "GB", "SW1A 1AA", "+447400123456"),
        ("090-1234-5678", "JP", "100-0001", "+819012345678"),
        ("9999 1234", "KW", "", "+96599991234"),
        ("612 345 678", "ES", "28001", "+34612345678"),
        ("+39 06 1234 5678", "FR", "", "+390612345678"),  # written internationally: kept
        ("+34 612 345 678", "FR", "", "+34612345678"),
    ],
)
def test_to_e164_reads_numbers_in_the_destinations_plan(raw, country, postcode, e164):
    assert to_e164(raw, country=country, postcode=postcode) == e164


@pytest.mark.parametrize(
    ("raw", "country", "why"),
    [
        ("06 12", "FR", "too few digits"),
        ("06 12 34 56 78 90 12", "FR", "too many digits"),
        ("0692 12 34 56", "FR", "not a number in use in FR"),  # a Réunion mobile read as +33
        ("+999 12345678", "FR", "calling code does not exist"),
        ("call me", "FR", "not a phone number"),
        ("", "FR", "No phone number"),
    ],
)
def test_to_e164_refuses_impossible_numbers_saying_why(raw, country, why):
    with pytest.raises(InvalidPhoneNumber, match=why):
        to_e164(raw, country=country)


@pytest.mark.parametrize(
    ("country", "postcode", "region"),
    [
        ("FR", "75011", "FR"),
        ("FR", "97400", "RE"),
        ("FR", "97133", "BL"),
        ("FR", "97150", "MF"),
        ("FR", "97110", "GP"),
        ("FR", "98800", "NC"),
        ("re", "", "RE"),
        ("BE", "97400", "BE"),  # only French postcodes name a territory
    ],
)
def test_dialling_region_follows_overseas_postcodes(country, postcode, region):
    assert dialling_region(country, postcode) == region


@pytest.mark.parametrize(
    ("e164", "refusal"),
    [
        ("+33612345678", None),
        ("+262692123456", None),
        ("+4915123456789", None),
        ("+447400123456", None),
        ("+819012345678", None),
        ("+33123456789", "+33123456789 is a landline: it cannot receive an SMS."),
        ("+33899999999", "+33899999999 is a premium-rate number: it cannot receive an SMS."),
        ("+33800123456", "+33800123456 is a toll-free number: it cannot receive an SMS."),
        ("+3222345678", "+3222345678 is a landline: it cannot receive an SMS."),
        ("+443001234567", "+443001234567 is a company's universal access number: it cannot "
                          "receive an SMS."),
    ],
)  # fmt: skip
def test_sms_refusal_lets_only_mobiles_through(e164, refusal):
    assert sms_refusal(e164) == refusal


def test_sms_recipient_says_why_nothing_is_sent():
    assert sms_recipient("0692 12 34 56", country="RE") == ("+262692123456", None)
    assert sms_recipient("", country="FR") == ("", "The order has no buyer phone number.")
    number, why = sms_recipient("01 23 45 67 89", country="FR")
    assert (number, why) == (
        "+33123456789",
        "+33123456789 is a landline: it cannot receive an SMS.",
    )
    number, why = sms_recipient("06 12", country="FR")
    assert number == "06 12" and why.startswith("Invalid phone number: '06 12' cannot be")


def test_recipients_are_masked_for_staff():
    assert mask_email("camille.martin@example.fr") == "c***@example.fr"
    assert mask_phone("+33612345678") == "+33 6** ** ** 78"
    assert mask_phone("+262692123456") == "+262 6** ** ** 56"
