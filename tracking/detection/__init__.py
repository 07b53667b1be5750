"""Which courier a tracking number belongs to, from the number alone.

Data-driven: the number formats and their check-digit rules come from the ``tracking-numbers``
package (PyPI: tracking_number_data's formats, code-generated) and from our own
``data/parcelle.json`` for the formats it does not know; ``engine.py`` matches and ranks them.

    detect(raw, preferred_carriers=("laposte",)) -> DetectionResult(tracking_number, candidates,
                                                                     ambiguous, shared_format)
    detect_carrier(raw, preferred_carriers=...)  -> (normalised number, [Candidate, ...])

A candidate's ``carrier`` is one of our courier slugs (DESIGN.md), or, for a courier the data
knows but we have no adapter for, ``"other:<courier code>"`` (``"other:amazon"``) and for an
S10 postal number of such an operator ``"other:s10:<issuing country>"`` (``"other:s10:CV"``):
anything starting with ``NO_ADAPTER_PREFIX`` cannot be tracked here but is not unknown either.
One number may name several operators: an S10 number issued in France is La Poste's or
Chronopost's (``ambiguous`` and ``shared_format``, the likelier first).
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
