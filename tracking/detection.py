"""Which courier a tracking number belongs to, from the number alone.

Today this reads the number patterns of the adapters we have; candidates are ranked by how
specific the match is (fewer couriers sharing the pattern: more confidence).
"""

from __future__ import annotations

from dataclasses import dataclass

from tracking import carriers
from tracking.services.shipments import tracking_number_normalise


@dataclass(frozen=True)
class Candidate:
    carrier: str
    confidence: float
    checksum_valid: bool | None

    def as_dict(self) -> dict[str, object]:
        return {
            "carrier": self.carrier,
            "confidence": self.confidence,
            "checksum_valid": self.checksum_valid,
        }


def detect_carrier(raw_number: str) -> tuple[str, list[Candidate]]:
    """Return the normalised number and its candidates, best first (empty when none match)."""
    number = tracking_number_normalise(raw_number)
    matching = [a for a in carriers.all_adapters() if a.matches(number)]
    confidence = round(1 / len(matching), 2) if matching else 0.0
    candidates = [Candidate(a.slug, confidence, None) for a in matching]
    return number, sorted(candidates, key=lambda c: (-c.confidence, c.carrier))
