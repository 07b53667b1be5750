"""Check-digit algorithms used by the courier definitions, as pure functions.

Each ``*_check`` function takes the serial part of a tracking number (the regex group named
``SerialNumber``, already stripped of separators) plus the definition's parameters, and returns
the check character the courier would print. ``checksum_passes`` picks the function named by a
definition's ``validation.checksum.name`` and compares with the ``CheckDigit`` group.

The descriptions follow tracking_number_data's CHECKSUM_ALGORITHMS (summarised in
../shared/carriers/tracking_number_data/SOURCE.md) and, for S10, the UPU standard
(../shared/carriers/upu_s10.md). The formats that the tracking-numbers package ships use its own
validators; these compute the check digits of our formats (data/parcelle.json), and the tests
use them to generate numbers no file lists.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


class UnknownChecksum(ValueError):
    """A definition names a checksum algorithm we do not implement."""


def _digit_value(char: str) -> int:
    """A digit's value; a letter counts as (ord - 3) mod 10, the UPS '1Z' convention."""
    if char.isdigit():
        return int(char)
    return (ord(char) - 3) % 10


def mod10_check(
    serial: str,
    *,
    evens_multiplier: int = 1,
    odds_multiplier: int = 1,
    reverse: bool = False,
    modulo: int = 10,
) -> str:
    """Weighted mod-10: characters at 0-based even indexes × evens, odd indexes × odds.

    No digit-sum step (unlike Luhn): UPS, USPS, FedEx Ground and Canada Post add the products
    as they are. ``reverse`` walks the serial from its end (USPS IMpb "N" definitions).
    """
    chars = serial[::-1] if reverse else serial
    total = 0
    for index, char in enumerate(chars):
        multiplier = odds_multiplier if index % 2 else evens_multiplier
        total += _digit_value(char) * multiplier
    return str((modulo - total % modulo) % modulo)


def mod7_check(serial: str) -> str:
    """DHL Express waybills: the serial read as an integer, modulo 7."""
    return str(int(serial) % 7)


def s10_check(serial: str, *, weightings: Sequence[int] = (8, 6, 4, 2, 3, 5, 9, 7)) -> str:
    """UPU S10: Σ digit × weight; C = 11 − (Σ mod 11); 10 becomes 0 and 11 becomes 5."""
    total = sum(int(digit) * weight for digit, weight in zip(serial, weightings, strict=True))
    check = 11 - total % 11
    if check == 10:
        return "0"
    if check == 11:
        return "5"
    return str(check)


def sum_product_check(serial: str, *, weightings: Sequence[int], modulo1: int, modulo2: int) -> str:
    """FedEx Express/ASTRA/GSN: (Σ digit × weight) mod ``modulo1`` mod ``modulo2``."""
    total = sum(int(digit) * weight for digit, weight in zip(serial, weightings, strict=True))
    return str(total % modulo1 % modulo2)


def luhn_check(serial: str) -> str:
    """Standard Luhn: double every second digit from the right of serial + check, digit-sum."""
    total = 0
    # The check digit will sit at the right, so the serial's last digit is the first doubled.
    for index, char in enumerate(reversed(serial)):
        value = int(char)
        if index % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def mod_37_36_check(serial: str, *, alphabet: str = ALPHANUMERIC) -> str:
    """ISO/IEC 7064 MOD 37,36 hybrid over 0-9A-Z (DPD parcel numbers).

    P starts at 36; for each character, S = (P + value) mod 36 (0 counts as 36) and
    P = 2S mod 37; the check character has value (37 − P) mod 36.
    """
    modulus = len(alphabet)  # 36
    product = modulus
    for char in serial:
        total = (product + alphabet.index(char)) % modulus or modulus
        product = (total * 2) % (modulus + 1)
    return alphabet[(modulus + 1 - product) % modulus]


def _from_spec(spec: Mapping[str, object], serial: str) -> str:
    """The check character for ``serial`` under a definition's ``checksum`` block."""
    name = spec["name"]
    if name == "mod10":
        return mod10_check(
            serial,
            evens_multiplier=int(spec.get("evens_multiplier", 1)),
            odds_multiplier=int(spec.get("odds_multiplier", 1)),
            reverse=bool(spec.get("reverse", False)),
            modulo=int(spec.get("modulo", 10)),
        )
    if name == "mod7":
        return mod7_check(serial)
    if name == "s10":
        return s10_check(serial, weightings=spec.get("weightings", (8, 6, 4, 2, 3, 5, 9, 7)))
    if name == "sum_product_with_weightings_and_modulo":
        return sum_product_check(
            serial,
            weightings=spec["weightings"],
            modulo1=int(spec["modulo1"]),
            modulo2=int(spec["modulo2"]),
        )
    if name == "luhn":
        return luhn_check(serial)
    if name == "mod_37_36":
        return mod_37_36_check(serial, alphabet=str(spec.get("alphabet", ALPHANUMERIC)))
    raise UnknownChecksum(f"no checksum algorithm named {name!r}")


# The names a definition may use; the loader refuses any other so a new algorithm in our data
# fails loudly at start-up instead of silently counting as "no checksum".
ALGORITHMS: frozenset[str] = frozenset(
    {"mod10", "mod7", "s10", "sum_product_with_weightings_and_modulo", "luhn", "mod_37_36"}
)


def checksum_passes(spec: Mapping[str, object], serial: str, check_digit: str) -> bool:
    """Whether ``check_digit`` is the one ``spec`` computes for ``serial``.

    A serial of the wrong shape for the algorithm (a letter where digits are weighted, a
    length that does not fit the weights) does not pass rather than raising.
    """
    if spec.get("name") not in ALGORITHMS:
        raise UnknownChecksum(f"no checksum algorithm named {spec.get('name')!r}")
    try:
        return _from_spec(spec, serial) == check_digit
    except (ValueError, TypeError):
        return False
