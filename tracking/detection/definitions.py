"""Courier number formats, built once from two sources:

    tracking-numbers (PyPI)  the formats it ships (tracking_number_data, code-generated): UPS 1Z,
                             FedEx, DHL Express, S10, USPS 20, Amazon TBA, OnTrac C …
    data/parcelle.json       our own formats: the French and European couriers we integrate, and
                             the formats the package does not know, each written from the
                             courier's documented format (every entry cites it in "_source")

``data/parcelle.json`` has tracking_number_data's courier-file shape: ``{"couriers": [{"name",
"courier_code", "adapter"?, "tracking_numbers": [{"id", "name", "regex", "validation":
{"checksum"?, "serial_number_format"?, "additional"?}, "additional": [lookups], "test_numbers":
{"valid", "invalid"}, "_source"}]}]}``; ``"adapter": false`` marks a courier we have no adapter
for (its candidates are ``other:<courier_code>``). Each format becomes a ``Definition``; matching
and ranking live in ``engine.py``.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tracking_numbers
from tracking_numbers.definition import TrackingNumberDefinition
from tracking_numbers.value_matcher import ExactValueMatcher, RegexValueMatcher

from tracking.detection.checksums import ALGORITHMS, UnknownChecksum, checksum_passes

DATA_DIR = Path(__file__).resolve().parent / "data"
PARCELLE_FILE = DATA_DIR / "parcelle.json"
PACKAGE_ORIGIN = "tracking-numbers"

# A candidate whose carrier starts with this prefix is a courier the data knows but we have no
# adapter for: "other:<courier code>" (e.g. "other:amazon"), and for S10 numbers of a postal
# operator we do not integrate, "other:s10:<issuing country>" (e.g. "other:s10:CV").
NO_ADAPTER_PREFIX = "other:"

# The package's courier codes that are one of our couriers (DESIGN.md "Courier slugs").
PACKAGE_COURIERS: Mapping[str, str] = {
    "dhl": "dhl",
    "fedex": "fedex",
    "ups": "ups",
    "usps": "usps",
}

# Package formats we do not use, and why. tracking_number_data v2.0.0 (2026) rebuilt the USPS
# IMpb definitions from USPS Publication 199 and withdrew similar FedEx ones "that were not
# always correct"; tracking-numbers 0.1.8 (2022) still ships the old ones, which would claim
# USPS IMpb numbers for FedEx. Our IMpb definitions (parcelle.json, usps) replace them.
PACKAGE_FORMATS_NOT_USED: Mapping[str, str] = {
    "FedEx SmartPost": "a USPS IMpb 92… number read as FedEx; withdrawn upstream in v2",
    "USPS 34v2": "pre-Publication 199 IMpb reading; replaced by our USPS IMpb definitions",
    "USPS 91": "pre-Publication 199 IMpb reading; replaced by our USPS IMpb definitions",
    "UPS Mail Innovations - Sequence Number": (
        "dropped from tracking_number_data v2's ups.json: 80 and 16 digits with no check digit, "
        "it would outrank a FedEx SSCC-18 number with a typo"
    ),
    # Matches only lower-case hexadecimal, which normalised (upper-case) numbers never are.
    "CDL Last Mile Solutions": "never matches a normalised number",
}

# The package's lookups that are part of the format (a number failing them is not this
# courier's at all): an S10 number's issuing country must be a UPU postal operator. Its other
# lookups (service types) only describe a number.
PACKAGE_REQUIRED_LOOKUPS: Mapping[str, tuple[str, ...]] = {"S10": ("Courier",)}

# The package keeps a lookup's values but not their names; the names callers see for the
# service codes they ask about (UPS "1Z" numbers carry the service in characters 9-10).
PACKAGE_SERVICE_NAMES: Mapping[str, Mapping[str, str]] = {
    "UPS": {
        "01": "UPS United States Next Day Air",
        "02": "UPS United States Second Day Air",
        "03": "UPS United States Ground",
        "12": "UPS United States Third Day Select",
    },
}

# What an S10 number's service indicator (its first letter) says, from the UPU S10 standard's
# ranges (the package keeps the ranges but not their names).
S10_SERVICE_INDICATORS: Mapping[str, str] = {
    "C": "Parcel post",
    "E": "EMS",
    "H": "Parcel post (e-commerce)",
    "L": "Letter post express",
    "M": "Letter post M-bag",
    "Q": "International Business Reply",
    "R": "Letter post registered",
    "U": "Letter post (customs control)",
    "V": "Letter post insured",
    **dict.fromkeys("ABDGNPZ", "Domestic or bilateral use"),
}

# S10 numbers belong to the postal operator of the issuing country (the two last letters).
S10_COUNTRIES: Mapping[str, str] = {
    "FR": "laposte",
    "GB": "royalmail",
    "NL": "postnl",
    "US": "usps",
    "DE": "dhl",
}

# Several operators issue S10 numbers under one country code. France: La Poste (letters,
# Colissimo international) and Chronopost (international express) both number "…FR", and La
# Poste's Suivi v2 API tracks both. Each listed operator is a candidate of the same strength, so
# the number is ambiguous; the service indicator (the first two letters) orders them: an
# indicator outside the UPU's international ranges ("X…", as on Chronopost's international
# labels, XS605592346FR) puts Chronopost first, any other La Poste.
S10_SHARED: Mapping[str, tuple[tuple[str, re.Pattern[str]], ...]] = {
    "FR": (
        ("chronopost", re.compile(r"X[A-Z]")),
        ("laposte", re.compile(r"[A-Z]{2}")),
    ),
}

_NAMED_GROUP = re.compile(r"\(\?<(?![=!])")


@dataclass(frozen=True)
class Lookup:
    """An ``additional`` table: the value of one regex group -> a described entry."""

    name: str
    group: str
    entries: tuple[Mapping[str, Any], ...]

    def find(self, value: str) -> Mapping[str, Any] | None:
        """The entry whose ``matches`` equals or whose ``matches_regex`` fully matches value."""
        for entry in self.entries:
            if "matches" in entry and entry["matches"] == value:
                return entry
            if "matches_regex" in entry and re.fullmatch(entry["matches_regex"], value):
                return entry
        return None


@dataclass(frozen=True)
class Definition:
    """One number format of one courier, ready to match a normalised tracking number.

    ``checksum`` is the check-digit rule as data (our definitions: a ``validation.checksum``
    block computed by ``checksums.py``); ``verify`` is the package's own validator for its
    formats. Either says whether a number's check digit is right; both None: no check digit.
    """

    id: str
    name: str
    courier_code: str  # the package's or our data file's courier code
    courier_name: str
    origin: str  # "tracking-numbers" or "parcelle.json", for error messages and tests
    pattern: re.Pattern[str]
    checksum: Mapping[str, Any] | None
    prepend_if: tuple[re.Pattern[str], str] | None
    required_lookups: tuple[str, ...]
    lookups: tuple[Lookup, ...]
    valid_numbers: tuple[str, ...]
    invalid_numbers: tuple[str, ...]
    source: str | None  # our definitions cite where the format comes from
    adapter: bool = True  # False: a courier we cannot track (candidates are "other:…")
    verify: Callable[[str, str], bool] | None = None  # (serial, check digit) -> passes

    @property
    def has_check_digit(self) -> bool:
        return self.checksum is not None or self.verify is not None

    def checksum_valid(self, groups: Mapping[str, str]) -> bool | None:
        """Whether the matched number's check digit is right; None when the format has none."""
        serial = groups.get("SerialNumber", "")
        check_digit = groups.get("CheckDigit", "")
        if self.verify is not None:
            return self.verify(serial, check_digit)
        if self.checksum is None:
            return None
        if self.prepend_if is not None:
            condition, content = self.prepend_if
            if condition.search(serial):
                serial = content + serial
        return checksum_passes(self.checksum, serial, check_digit)

    def service_for(
        self, groups: Mapping[str, str], described: Mapping[str, Mapping]
    ) -> str | None:
        """The service a matched number names, from its "Service Type" lookup when it has one."""
        name = described.get("Service Type", {}).get("name")
        if name is None and self.courier_code == "s10":
            name = S10_SERVICE_INDICATORS.get(groups.get("ServiceType", "")[:1])
        return name

    def carriers_for(self, groups: Mapping[str, str]) -> tuple[str, ...]:
        """Our slugs for a number this definition matched, most likely first.

        One slug, except for S10 numbers of a country where several operators issue them.
        """
        if self.courier_code == "s10":
            country = groups.get("CountryCode", "")
            shared = S10_SHARED.get(country)
            if shared:
                service = groups.get("ServiceType", "")
                first = next(slug for slug, indicator in shared if indicator.fullmatch(service))
                return (first, *(slug for slug, _ in shared if slug != first))
            return (S10_COUNTRIES.get(country, f"{NO_ADAPTER_PREFIX}s10:{country}"),)
        if not self.adapter:
            return (NO_ADAPTER_PREFIX + self.courier_code,)
        if self.origin == PARCELLE_FILE.name:
            return (self.courier_code,)
        return (PACKAGE_COURIERS.get(self.courier_code, NO_ADAPTER_PREFIX + self.courier_code),)

    def carrier_for(self, groups: Mapping[str, str]) -> str:
        """The most likely of ``carriers_for``."""
        return self.carriers_for(groups)[0]


def python_regex(source: str | list[str]) -> str:
    """A tracking_number_data-style regex (Ruby/PCRE) as a Python one for a normalised number.

    - an array of parts is one regex, concatenated;
    - ``(?<Name>…)`` named groups become ``(?P<Name>…)`` (look-behinds ``(?<=``/``(?<!`` stay);
    - a literal ``-`` outside a character class is dropped: we match numbers after
      normalisation removed separators, so a pattern's own separators must go too.
    Our data file writes Python-compatible regexes already; this keeps its shape readable by
    the other implementations of that format.
    """
    pattern = "".join(source) if isinstance(source, list) else source
    pattern = _NAMED_GROUP.sub("(?P<", pattern)
    out: list[str] = []
    in_class = False
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            out.append(pattern[index : index + 2])
            index += 2
            continue
        if char == "[" and not in_class:
            in_class = True
        elif char == "]" and in_class:
            in_class = False
        elif char == "-" and not in_class:
            index += 1
            continue
        out.append(char)
        index += 1
    return "".join(out)


def _slug(*parts: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", " ".join(parts).lower()).strip("_")


# --- the package's formats -------------------------------------------------------------------


def _package_verifier(package: TrackingNumberDefinition) -> Callable[[str, str], bool] | None:
    validator = package.checksum_validator
    if validator is None:
        return None
    parser = package.serial_number_parser

    def verify(serial: str, check_digit: str) -> bool:
        # The package's validators take digits as ints: a letter where a digit is weighted
        # (a UPS number ending in a letter) does not pass rather than raising.
        try:
            digits = parser.parse(serial)
            return validator.passes(serial_number=digits, check_digit=int(check_digit))
        except (ValueError, TypeError):
            return False

    return verify


def _package_lookup(name: str, validation) -> Lookup:
    services = PACKAGE_SERVICE_NAMES.get(name, {})
    entries: list[Mapping[str, Any]] = []
    for matcher in validation.value_matchers:
        if isinstance(matcher, ExactValueMatcher):
            entry: dict[str, Any] = {"matches": matcher.value}
            if validation.name == "Service Type" and matcher.value in services:
                entry["name"] = services[matcher.value]
            entries.append(entry)
        elif isinstance(matcher, RegexValueMatcher):
            entries.append({"matches_regex": matcher.pattern.pattern})
    return Lookup(name=validation.name, group=validation.regex_group_name, entries=tuple(entries))


def _package_definition(package: TrackingNumberDefinition) -> Definition:
    name = package.product.name
    return Definition(
        id=_slug(package.courier.code, name),
        name=name,
        courier_code=package.courier.code,
        courier_name=package.courier.name,
        origin=PACKAGE_ORIGIN,
        pattern=package.number_regex,
        checksum=None,
        prepend_if=None,  # the package's serial-number parser applies its own
        required_lookups=PACKAGE_REQUIRED_LOOKUPS.get(name, ()),
        lookups=tuple(_package_lookup(name, v) for v in package.additional_validations),
        valid_numbers=(),  # the package ships none; the upstream ones are read in tests
        invalid_numbers=(),
        source=f"tracking-numbers (PyPI) {name}",
        verify=_package_verifier(package),
    )


def package_definitions() -> list[Definition]:
    """The formats of the installed tracking-numbers package we use, in its order."""
    return [
        _package_definition(package)
        for package in tracking_numbers.DEFINITIONS
        if package.product.name not in PACKAGE_FORMATS_NOT_USED
    ]


# --- our formats -----------------------------------------------------------------------------


def _definition(courier: Mapping[str, Any], entry: Mapping[str, Any], origin: str) -> Definition:
    code = courier["courier_code"]
    entry_id = entry.get("id") or _slug(code, entry["name"])
    validation = entry.get("validation") or {}
    checksum = validation.get("checksum")
    if checksum is not None and checksum.get("name") not in ALGORITHMS:
        raise UnknownChecksum(f"{origin} {entry_id}: unknown checksum {checksum.get('name')!r}")
    prepend = (validation.get("serial_number_format") or {}).get("prepend_if")
    return Definition(
        id=entry_id,
        name=entry["name"],
        courier_code=code,
        courier_name=courier["name"],
        origin=origin,
        pattern=re.compile(python_regex(entry["regex"])),
        checksum=checksum,
        prepend_if=(
            (re.compile(prepend["matches_regex"]), prepend["content"]) if prepend else None
        ),
        required_lookups=tuple((validation.get("additional") or {}).get("exists", ())),
        lookups=tuple(
            Lookup(name=item["name"], group=item["regex_group_name"], entries=tuple(item["lookup"]))
            for item in entry.get("additional", ())
        ),
        valid_numbers=tuple(entry.get("test_numbers", {}).get("valid", ())),
        invalid_numbers=tuple(entry.get("test_numbers", {}).get("invalid", ())),
        source=entry.get("_source"),
        adapter=bool(courier.get("adapter", True)),
    )


def parcelle_definitions() -> list[Definition]:
    """Our own formats, in the data file's order."""
    ours = json.loads(PARCELLE_FILE.read_text(encoding="utf-8"))
    return [
        _definition(courier, entry, PARCELLE_FILE.name)
        for courier in ours["couriers"]
        for entry in courier["tracking_numbers"]
    ]


@functools.cache
def all_definitions() -> tuple[Definition, ...]:
    """Every definition, the package's first, then ours. Loaded once."""
    return (*package_definitions(), *parcelle_definitions())
