"""Which courier a tracking number belongs to, from the number alone.

Data-driven: the number formats and their check-digit rules are JSON data (tracking_number_data's
courier files plus our own ``data/parcelle.json``), matched by ``engine.py``.

    detect(raw, preferred_carriers=("laposte",)) -> DetectionResult(tracking_number, candidates,
                                                                     ambiguous)
    detect_carrier(raw, preferred_carriers=...)  -> (normalised number, [Candidate, ...])

A candidate's ``carrier`` is one of our courier slugs (DESIGN.md), or, for a courier the data
knows but we have no adapter for, ``"other:<courier code>"`` (``"other:amazon"``) and for an
S10 postal number of such an operator ``"other:s10:<issuing country>"`` (``"other:s10:CV"``):
anything starting with ``NO_ADAPTER_PREFIX`` cannot be tracked here but is not unknown either.
"""

from tracking.detection.definitions import NO_ADAPTER_PREFIX, all_definitions
from tracking.detection.engine import (
    Candidate,
    DetectionResult,
    detect,
    detect_carrier,
    normalise_number,
)

__all__ = [
    "NO_ADAPTER_PREFIX",
    "Candidate",
    "DetectionResult",
    "all_definitions",
    "detect",
    "detect_carrier",
    "normalise_number",
]
