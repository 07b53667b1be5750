"""Match a tracking number against every definition and rank the couriers it may belong to.

    normalise_number -> match each Definition (regex, lookups, checksum) -> score each match
    -> best match per carrier -> drop failed checksums when something passes -> split
    confidence -> order (score, the seller's preferred couriers, slug)

Scores, before splitting (why: a check digit that works out is strong evidence, letters that
must sit in fixed places are some evidence, a bare run of digits of the right length is weak):

    checksum passes, number has letters       0.95   (UPS 1Z…, S10 RB123456785GB)
    checksum passes, digits only              0.80   (FedEx 12, DHL Express 10)
    no checksum, number has letters           0.60   (PostNL 3S…, Colissimo 6A…)
    no checksum, digits only                  0.30   (Mondial Relay 8, GLS 11, DPD 14)
    checksum fails                            0.05   (only reported when nothing passes)

Several carriers share the evidence: each gets score² / Σ scores, so a lone match keeps its
score and equal matches split it. The result is ``ambiguous`` when two or more carriers share
the best score: the number alone cannot tell them apart. Among those, ``preferred_carriers``
(a seller's usual couriers, most used first) come first, then the format's own order: one S10
"…FR" number may be La Poste's or Chronopost's, and its service indicator says which is more
likely ("XS…FR": Chronopost). ``shared_format`` says when the tie is of that kind (one format,
several operators issuing it) rather than between different formats that happen to fit.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from tracking.detection.definitions import Definition, all_definitions

SCORE_CHECKSUM_STRUCTURED = 0.95
SCORE_CHECKSUM_DIGITS = 0.80
SCORE_FORMAT_STRUCTURED = 0.60
SCORE_FORMAT_DIGITS = 0.30
SCORE_CHECKSUM_FAILED = 0.05

# Same rule as tracking.services.shipments.tracking_number_normalise (a test keeps them equal);
# not imported from there because the services import this package (registration fallback).
_SEPARATORS = re.compile(r"[\s\-./_]+")


def normalise_number(raw: str) -> str:
    """Upper case without the spaces, dashes, dots, slashes and underscores people paste."""
    return _SEPARATORS.sub("", raw or "").upper()


@dataclass(frozen=True)
class Match:
    """One definition that matched the number."""

    definition: Definition
    carrier: str
    checksum_valid: bool | None  # None: the format has no check digit
    service: str | None  # from the definition's "Service Type" lookup, when it has one
    country: str | None  # S10 issuing country
    number_is_digits: bool  # no letters: a bare run of digits is weaker evidence
    # Every operator the format says may have issued the number, most likely first (S10 "…FR":
    # Chronopost and La Poste); ``carrier`` is the first.
    carriers: tuple[str, ...] = ()
    hint: int = 0  # this carrier's place in ``carriers``: orders equal evidence

    @property
    def score(self) -> float:
        if self.checksum_valid is False:
            return SCORE_CHECKSUM_FAILED
        structured = not self.number_is_digits
        if self.checksum_valid:
            return SCORE_CHECKSUM_STRUCTURED if structured else SCORE_CHECKSUM_DIGITS
        return SCORE_FORMAT_STRUCTURED if structured else SCORE_FORMAT_DIGITS


@dataclass(frozen=True)
class Candidate:
    """A courier the number may belong to; ``as_dict`` is the DESIGN.md contract shape."""

    carrier: str
    confidence: float
    checksum_valid: bool | None
    name: str = ""  # the matching format, e.g. "UPS", "S10", "Colissimo domestic"
    service: str | None = None
    country: str | None = None
    score: float = 0.0  # the evidence before splitting; orders candidates and sets ambiguous

    def as_dict(self) -> dict[str, object]:
        return {
            "carrier": self.carrier,
            "confidence": self.confidence,
            "checksum_valid": self.checksum_valid,
        }

    def as_detailed_dict(self) -> dict[str, object]:
        """The contract keys plus the format name, service and issuing country (additive)."""
        return {
            **self.as_dict(),
            "name": self.name,
            "service": self.service,
            "country": self.country,
        }


@dataclass(frozen=True)
class DetectionResult:
    """The ranked candidates of one number; ``as_dict`` adds ``ambiguous`` to the contract."""

    tracking_number: str  # normalised
    candidates: tuple[Candidate, ...]  # best first
    ambiguous: bool
    # The tied candidates are the operators of one shared format (S10 "…FR": La Poste and
    # Chronopost), ordered by what the format says: the first is a reasoned pick, not a guess.
    shared_format: bool = False

    @property
    def best(self) -> Candidate | None:
        """The top candidate, or None; check ``ambiguous`` before acting on it alone."""
        return self.candidates[0] if self.candidates else None

    def as_dict(self, *, detail: bool = False) -> dict[str, object]:
        return {
            "tracking_number": self.tracking_number,
            "ambiguous": self.ambiguous,
            "candidates": [
                c.as_detailed_dict() if detail else c.as_dict() for c in self.candidates
            ],
        }


def match_definition(definition: Definition, number: str) -> Match | None:
    """The match of one definition against a normalised number, or None.

    Required lookups (S10's issuing country must be a known postal operator) are part of the
    format: a number failing them is not this courier's at all, unlike a wrong check digit,
    which is most likely a typo in a number that is.
    """
    found = definition.pattern.fullmatch(number)
    if found is None:
        return None
    groups = {name: value for name, value in found.groupdict().items() if value is not None}
    described: dict[str, dict] = {}
    for lookup in definition.lookups:
        entry = lookup.find(groups.get(lookup.group, ""))
        if entry is not None:
            described[lookup.name] = entry
    if any(name not in described for name in definition.required_lookups):
        return None
    carriers = definition.carriers_for(groups)
    return Match(
        definition=definition,
        carrier=carriers[0],
        checksum_valid=definition.checksum_valid(groups),
        service=definition.service_for(groups, described),
        country=groups.get("CountryCode") if definition.courier_code == "s10" else None,
        number_is_digits=number.isdigit(),
        carriers=carriers,
    )


def _per_operator(match: Match) -> list[Match]:
    """One match per operator the format names, each with its place in the format's order."""
    return [
        replace(match, carrier=carrier, hint=rank) for rank, carrier in enumerate(match.carriers)
    ]


def _best_per_carrier(matches: Iterable[Match]) -> list[Match]:
    best: dict[str, Match] = {}
    for match in matches:
        current = best.get(match.carrier)
        if current is None or (match.score, -match.hint) > (current.score, -current.hint):
            best[match.carrier] = match
    return list(best.values())


def detect(raw_number: str, preferred_carriers: Sequence[str] = ()) -> DetectionResult:
    """Rank the couriers a tracking number may belong to (empty when nothing matches)."""
    number = normalise_number(raw_number)
    matches = [m for d in all_definitions() if (m := match_definition(d, number)) is not None]
    per_carrier = _best_per_carrier(op for m in matches for op in _per_operator(m))
    if any(m.checksum_valid is not False for m in per_carrier):
        # A format that fits beats a check digit that does not: keep failures only as a last
        # resort, where they still say "this looks like X, mistyped".
        per_carrier = [m for m in per_carrier if m.checksum_valid is not False]
    total = sum(m.score for m in per_carrier)
    preference = {slug: rank for rank, slug in enumerate(preferred_carriers)}
    by_carrier = {m.carrier: m for m in per_carrier}
    candidates = sorted(
        (
            Candidate(
                carrier=m.carrier,
                confidence=round(m.score * m.score / total, 2),
                checksum_valid=m.checksum_valid,
                name=m.definition.name,
                service=m.service,
                country=m.country,
                score=m.score,
            )
            for m in per_carrier
        ),
        key=lambda c: (
            -c.score,
            preference.get(c.carrier, len(preference)),
            by_carrier[c.carrier].hint,
            c.carrier,
        ),
    )
    top = candidates[0].score if candidates else 0.0
    tied = [by_carrier[c.carrier] for c in candidates if c.score == top]
    ambiguous = len(tied) > 1
    shared_format = ambiguous and len({m.definition.id for m in tied}) == 1
    return DetectionResult(
        tracking_number=number,
        candidates=tuple(candidates),
        ambiguous=ambiguous,
        shared_format=shared_format,
    )


def detect_carrier(
    raw_number: str, preferred_carriers: Sequence[str] = ()
) -> tuple[str, list[Candidate]]:
    """The normalised number and its candidates, best first (the command's interface)."""
    result = detect(raw_number, preferred_carriers)
    return result.tracking_number, list(result.candidates)
