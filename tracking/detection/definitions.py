"""Courier number formats, loaded once from the JSON data files next to this module.

    data/upstream/*.json   tracking_number_data courier files, copied unchanged (see SOURCE.md)
    data/parcelle.json     our own formats, each courier in the same shape as an upstream file

One file's shape (tracking_number_data's): ``{"name", "courier_code", "tracking_numbers": [
{"id", "name", "regex", "validation": {"checksum"?, "serial_number_format"?, "additional"?},
"additional": [lookups], "test_numbers": {"valid", "invalid"}}]}``. This module turns each
entry into a ``Definition`` with its regex compiled for Python and its courier mapped to our
slugs; matching and ranking live in ``engine.py``.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tracking.detection.checksums import ALGORITHMS, UnknownChecksum

DATA_DIR = Path(__file__).resolve().parent / "data"
UPSTREAM_DIR = DATA_DIR / "upstream"
PARCELLE_FILE = DATA_DIR / "parcelle.json"

# A candidate whose carrier starts with this prefix is a courier the data knows but we have no
# adapter for: "other:<upstream courier_code>" (e.g. "other:amazon"), and for S10 numbers of a
# postal operator we do not integrate, "other:s10:<issuing country>" (e.g. "other:s10:CV").
NO_ADAPTER_PREFIX = "other:"

# Upstream courier codes that are one of our couriers (DESIGN.md "Courier slugs").
UPSTREAM_COURIERS: Mapping[str, str] = {
    "dhl": "dhl",
    "dpd": "dpd",
    "fedex": "fedex",
    "ups": "ups",
    "usps": "usps",
}

# S10 numbers belong to the postal operator of the issuing country (the two last letters).
# Chronopost's S10-form numbers end in FR too; La Poste's Suivi v2 API tracks them as well, so
# routing every FR number to laposte never picks an adapter that cannot answer.
S10_COUNTRIES: Mapping[str, str] = {
    "FR": "laposte",
    "GB": "royalmail",
    "NL": "postnl",
    "US": "usps",
    "DE": "dhl",
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
    """One number format of one courier, ready to match a normalised tracking number."""

    id: str
    name: str
    courier_code: str  # as in the data file: upstream code, or our slug in parcelle.json
    courier_name: str
    origin: str  # "upstream/<file>.json" or "parcelle.json", for error messages and tests
    pattern: re.Pattern[str]
    checksum: Mapping[str, Any] | None
    prepend_if: tuple[re.Pattern[str], str] | None
    required_lookups: tuple[str, ...]
    lookups: tuple[Lookup, ...]
    valid_numbers: tuple[str, ...]
    invalid_numbers: tuple[str, ...]
    source: str | None  # our definitions cite where the format comes from

    def carrier_for(self, groups: Mapping[str, str]) -> str:
        """Our slug for a number this definition matched (S10 depends on the country)."""
        if self.courier_code == "s10":
            country = groups.get("CountryCode", "")
            return S10_COUNTRIES.get(country, f"{NO_ADAPTER_PREFIX}s10:{country}")
        if self.origin == PARCELLE_FILE.name:
            return self.courier_code
        return UPSTREAM_COURIERS.get(self.courier_code, NO_ADAPTER_PREFIX + self.courier_code)


def python_regex(source: str | list[str]) -> str:
    """tracking_number_data's Ruby/PCRE regex as a Python one for a normalised number.

    - an array of parts is one regex, concatenated;
    - ``(?<Name>…)`` named groups become ``(?P<Name>…)`` (look-behinds ``(?<=``/``(?<!`` stay);
    - a literal ``-`` outside a character class is dropped: we match numbers after
      normalisation removed separators, so a pattern's own separators must go too (LaserShip's
      "1LS7…-1"). ``\\s*`` between characters is left alone; it simply matches nothing.
    Free-spacing ``(?x)`` needs no translation: Python reads the same inline flag.
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


def _definition(courier: Mapping[str, Any], entry: Mapping[str, Any], origin: str) -> Definition:
    code = courier["courier_code"]
    # A few upstream entries have no id; derive a stable one from the courier and the name.
    entry_id = entry.get("id") or re.sub(r"[^a-z0-9]+", "_", f"{code} {entry['name']}".lower())
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
    )


def _courier_definitions(courier: Mapping[str, Any], origin: str) -> list[Definition]:
    return [_definition(courier, entry, origin) for entry in courier["tracking_numbers"]]


@functools.cache
def all_definitions() -> tuple[Definition, ...]:
    """Every definition, upstream files first (sorted by name), then ours. Loaded once."""
    definitions: list[Definition] = []
    for path in sorted(UPSTREAM_DIR.glob("*.json")):
        courier = json.loads(path.read_text(encoding="utf-8"))
        definitions += _courier_definitions(courier, f"upstream/{path.name}")
    ours = json.loads(PARCELLE_FILE.read_text(encoding="utf-8"))
    for courier in ours["couriers"]:
        definitions += _courier_definitions(courier, PARCELLE_FILE.name)
    return tuple(definitions)
