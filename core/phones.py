"""Buyers' phone numbers: the one rule, used at intake (order API, admin) and by the SMS sender.

    what the buyer typed + the order's destination -> to_e164() -> "+262692123456" (stored)
    stored number -> sms_refusal() -> None (a mobile: send) or the reason it cannot get an SMS

The numbering plans are libphonenumber's (the ``phonenumbers`` package), kept up to date by its
maintainers: national formats, trunk prefixes, the overseas departments and territories with
calling codes of their own (Réunion and Mayotte +262, Guadeloupe, Saint-Barthélemy and
Saint-Martin +590, Martinique +596, Guyane +594, Saint-Pierre-et-Miquelon +508, Nouvelle-
Calédonie +687, Polynésie +689, Wallis-et-Futuna +681) and which ranges are mobiles, landlines
or premium-rate lines.
"""

from __future__ import annotations

import phonenumbers
from django.core.exceptions import ValidationError
from phonenumbers import NumberParseException, PhoneNumberType, ValidationResult

# Marketplaces often file an overseas address as country "FR" with its French postcode; the
# postcode says which numbering plan the buyer dials in (a Réunion "0692…" is +262, not +33).
# Longest prefix first: Saint-Barthélemy and Saint-Martin share 971 with Guadeloupe.
_OVERSEAS_POSTCODES: tuple[tuple[str, str], ...] = (
    ("97133", "BL"),
    ("97150", "MF"),
    ("971", "GP"),
    ("972", "MQ"),
    ("973", "GF"),
    ("974", "RE"),
    ("975", "PM"),
    ("976", "YT"),
    ("986", "WF"),
    ("987", "PF"),
    ("988", "NC"),
)
# Number types an SMS reaches. FIXED_LINE_OR_MOBILE is what libphonenumber says where a plan
# does not tell them apart (the United States, Canada): the provider decides there.
SMS_CAPABLE_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}
_TYPE_NAMES = {
    PhoneNumberType.FIXED_LINE: "a landline",
    PhoneNumberType.TOLL_FREE: "a toll-free number",
    PhoneNumberType.PREMIUM_RATE: "a premium-rate number",
    PhoneNumberType.SHARED_COST: "a shared-cost number",
    PhoneNumberType.VOIP: "a VoIP number",
    PhoneNumberType.PERSONAL_NUMBER: "a personal (forwarding) number",
    PhoneNumberType.PAGER: "a pager",
    PhoneNumberType.UAN: "a company's universal access number",
    PhoneNumberType.VOICEMAIL: "a voicemail access number",
    PhoneNumberType.UNKNOWN: "a number of no known type",
}
_POSSIBLE_REASONS = {
    ValidationResult.INVALID_COUNTRY_CODE: "its country calling code does not exist",
    ValidationResult.TOO_SHORT: "it has too few digits",
    ValidationResult.TOO_LONG: "it has too many digits",
    ValidationResult.INVALID_LENGTH: "it has the wrong number of digits",
}


_PARSE_REASONS = {
    NumberParseException.INVALID_COUNTRY_CODE: "its country calling code does not exist",
    NumberParseException.NOT_A_NUMBER: "it is not made of digits",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too few digits follow the international prefix",
    NumberParseException.TOO_SHORT_NSN: "it has too few digits",
    NumberParseException.TOO_LONG: "it has too many digits",
}


class InvalidPhoneNumber(ValueError):
    """Not a number anyone can be called on; the message says why."""


def dialling_region(country: str, postcode: str = "") -> str:
    """The numbering plan a buyer at this address dials in: the country, or the overseas
    territory a French postcode names ("FR", "97410" -> "RE")."""
    country = (country or "FR").strip().upper()
    if country == "FR":
        code = (postcode or "").strip().replace(" ", "")
        for prefix, region in _OVERSEAS_POSTCODES:
            if code.startswith(prefix):
                return region
    return country


def parse(raw: str, *, country: str = "FR", postcode: str = "") -> phonenumbers.PhoneNumber:
    """``raw`` as a valid number, read in the destination's plan unless written internationally
    ("+…" or "00…"); InvalidPhoneNumber saying why otherwise."""
    text = (raw or "").strip()
    if not text:
        raise InvalidPhoneNumber("No phone number was given.")
    region = dialling_region(country, postcode)
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as exc:
        why = _PARSE_REASONS.get(exc.error_type, "it cannot be read")
        raise InvalidPhoneNumber(f"{raw!r} is not a phone number: {why}.") from None
    place = phonenumbers.region_code_for_country_code(number.country_code)
    reason = _POSSIBLE_REASONS.get(phonenumbers.is_possible_number_with_reason(number))
    if reason:
        raise InvalidPhoneNumber(f"{raw!r} cannot be a phone number in {place}: {reason}.")
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhoneNumber(
            f"{raw!r} is not a number in use in {place} (read as +{number.country_code} "
            f"{number.national_number}); write it with its international prefix if the buyer's "
            "phone is from another country."
        )
    return number


def to_e164(raw: str, *, country: str = "FR", postcode: str = "") -> str:
    """``raw`` in E.164 ("+262692123456"), or InvalidPhoneNumber saying why."""
    return phonenumbers.format_number(
        parse(raw, country=country, postcode=postcode), phonenumbers.PhoneNumberFormat.E164
    )


def sms_refusal(e164: str) -> str | None:
    """None when an SMS can reach the (stored, E.164) number; otherwise why not, for the
    delivery log ("+33123456789 is a landline: no SMS")."""
    try:
        number = parse(e164)
    except InvalidPhoneNumber as exc:
        return str(exc)
    kind = phonenumbers.number_type(number)
    if kind in SMS_CAPABLE_TYPES:
        return None
    return f"{e164} is {_TYPE_NAMES.get(kind, 'not a mobile')}: it cannot receive an SMS."


def validate_phone_number(value: str) -> None:
    """A Django validator for a number written internationally (no destination to read it in)."""
    try:
        parse(value)
    except InvalidPhoneNumber as exc:
        raise ValidationError(str(exc), code="invalid_phone") from exc


def mask_phone(e164: str) -> str:
    """ "+33612345678" -> "+33 6** ** ** 78": enough for an agent to recognise, not to dial."""
    if not e164.startswith("+") or len(e164) < 6:
        return "***"
    try:
        code = str(phonenumbers.parse(e164).country_code)
    except NumberParseException:
        return "***"
    national = e164[1 + len(code) :]
    if len(national) < 4:
        return "***"
    head, middle, tail = national[0], national[1:-2], national[-2:]
    masked = "*" * len(middle)
    # Pairs from the end, as French numbers are written ("6 12 34 56 78").
    groups = []
    while len(masked) > 2:
        groups.insert(0, masked[-2:])
        masked = masked[:-2]
    first = head + masked
    return " ".join([f"+{code}", first, *groups, tail])


def mask_email(address: str) -> str:
    """ "camille@example.fr" -> "c***@example.fr"."""
    local, at, domain = address.partition("@")
    if not at:
        return "***"
    return f"{local[:1]}***@{domain}"


def mask_recipient(recipient: str) -> str:
    if "@" in recipient:
        return mask_email(recipient)
    if recipient.startswith("+"):
        return mask_phone(recipient)
    return "***" if recipient else ""


def sms_recipient(raw: str, *, country: str = "FR", postcode: str = "") -> tuple[str, str | None]:
    """What an SMS row records for an order's phone: (E.164 number, None) when it can be sent,
    or (what is known of the number, why it is not sent) for the delivery log."""
    if not (raw or "").strip():
        return "", "The order has no buyer phone number."
    try:
        number = to_e164(raw, country=country, postcode=postcode)
    except InvalidPhoneNumber as exc:
        return raw.strip()[:40], f"Invalid phone number: {exc}"
    return number, sms_refusal(number)
