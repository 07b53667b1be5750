"""Phone numbers in E.164 for French and other European buyers, without a dependency.

Not a full numbering plan (libphonenumber is that): enough to turn what buyers type at checkout
("06 12 34 56 78", "+33 (0)6 12…", "0049 151 …") into "+33612345678" and to refuse what cannot
be a number, so that no SMS is paid for to a malformed address.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

# country -> (calling code, trunk prefix dialled before national numbers, national significant
# number length range). Spain, Italy, Portugal… have no trunk prefix: "612 345 678" is whole
# (and an Italian landline's 0 is part of the number, even after +39).
PLANS: dict[str, tuple[str, str, tuple[int, int]]] = {
    "FR": ("33", "0", (9, 9)),
    "BE": ("32", "0", (8, 9)),
    "LU": ("352", "", (4, 11)),
    "MC": ("377", "", (8, 9)),
    "CH": ("41", "0", (9, 9)),
    "DE": ("49", "0", (6, 13)),
    "AT": ("43", "0", (4, 13)),
    "NL": ("31", "0", (9, 9)),
    "ES": ("34", "", (9, 9)),
    "PT": ("351", "", (9, 9)),
    "IT": ("39", "", (6, 11)),
    "IE": ("353", "0", (7, 9)),
    "GB": ("44", "0", (9, 10)),
    "PL": ("48", "", (9, 9)),
    "DK": ("45", "", (8, 8)),
    "SE": ("46", "0", (7, 9)),
    "FI": ("358", "0", (5, 12)),
    "NO": ("47", "", (8, 8)),
    "CZ": ("420", "", (9, 9)),
    "GR": ("30", "", (10, 10)),
}
_BY_CODE = {code: plan for plan in PLANS.values() for code in [plan[0]]}
_SEPARATORS = re.compile(r"[\s.\-/()]")


class InvalidPhoneNumber(ValueError):
    pass


def to_e164(raw: str, *, default_country: str = "FR") -> str:
    """``raw`` as "+<country code><number>", or InvalidPhoneNumber.

    A number without an international prefix is read in ``default_country`` (the order's
    destination). Numbers of countries outside PLANS are accepted when written
    internationally with a plausible E.164 length (8–15 digits).
    """
    text = raw.strip()
    # "+33 (0)6 12 34 56 78": the optional trunk 0 written in brackets is not dialled.
    text = re.sub(r"^(\+\d{1,3})\s*\(0\)", r"\1", text)
    text = _SEPARATORS.sub("", text)
    if text.startswith("00"):
        text = "+" + text[2:]
    if not re.fullmatch(r"\+?\d+", text):
        raise InvalidPhoneNumber(f"{raw!r} is not a phone number")
    if text.startswith("+"):
        digits = text[1:]
        for length in (3, 2, 1):
            plan = _BY_CODE.get(digits[:length])
            if plan is not None:
                return _checked(plan, digits[length:], raw)
        if 8 <= len(digits) <= 15 and digits[0] != "0":
            return "+" + digits
        raise InvalidPhoneNumber(f"{raw!r} is not an international number we can read")
    plan = PLANS.get(default_country.upper())
    if plan is None:
        raise InvalidPhoneNumber(f"{raw!r} needs its international prefix (+…)")
    trunk = plan[1]
    if trunk:
        if not text.startswith(trunk):
            raise InvalidPhoneNumber(f"{raw!r} lacks the trunk {trunk} or an international prefix")
        text = text[len(trunk) :]
    return _checked(plan, text, raw)


def _checked(plan: tuple[str, str, tuple[int, int]], national: str, raw: str) -> str:
    code, trunk, (shortest, longest) = plan
    if trunk and national.startswith(trunk):
        national = national[len(trunk) :]  # "+33 06…": a trunk 0 typed after the country code
    if not shortest <= len(national) <= longest:
        raise InvalidPhoneNumber(f"{raw!r} has the wrong number of digits for +{code}")
    return f"+{code}{national}"


def validate_phone_number(value: str) -> None:
    """A Django validator (forms, serializers) for numbers buyers type."""
    try:
        to_e164(value)
    except InvalidPhoneNumber as exc:
        raise ValidationError(str(exc), code="invalid_phone") from exc


def calling_code(e164: str) -> str:
    digits = e164.lstrip("+")
    for length in (3, 2, 1):
        if digits[:length] in _BY_CODE:
            return digits[:length]
    return digits[:2]


def mask_phone(e164: str) -> str:
    """ "+33612345678" -> "+33 6** ** ** 78": enough for an agent to recognise, not to dial."""
    if not e164.startswith("+") or len(e164) < 6:
        return "***"
    code = calling_code(e164)
    national = e164[1 + len(code) :]
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
