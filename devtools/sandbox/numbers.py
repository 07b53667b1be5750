"""Tracking numbers of the emulated couriers: which are well formed, which the courier does not
know, and a number that follows a given scenario.

Apart from journeys.py (pure data: scenarios and journeys) because these ask each emulated
courier (couriers/), whose base module builds on journeys: journeys -> couriers -> numbers, no
cycle.
"""

from __future__ import annotations

from devtools.sandbox.couriers import get_courier, sandbox_couriers
from devtools.sandbox.journeys import SCENARIOS, scenario_for


def sandbox_carriers() -> tuple[str, ...]:
    """Slugs of the couriers the sandbox emulates (one module each in ``couriers/``)."""
    return tuple(sandbox_couriers())


def is_well_formed(carrier: str, number: str) -> bool:
    return get_courier(carrier).is_well_formed(number)


def is_unknown(carrier: str, number: str) -> bool:
    """A well-formed number the courier has never heard of."""
    return get_courier(carrier).is_unknown(number)


# Candidate numbers come from an affine map that is a bijection modulo 10**n (the multiplier is
# coprime with 10): different (index, attempt) pairs never give the same number, and the digits
# look random rather than counting up from zero.
_MULTIPLIER = 3**18
_INCREMENT = 123_456_789
_ATTEMPTS_PER_INDEX = 10_000


def _candidate(carrier: str, index: int, attempt: int) -> str:
    value = index * _ATTEMPTS_PER_INDEX + attempt
    return get_courier(carrier).candidate(value * _MULTIPLIER + _INCREMENT)


def number_for_scenario(carrier: str, scenario: str, index: int = 0) -> str:
    """A well-formed tracking number of ``carrier`` whose journey is ``scenario``.

    Deterministic; different ``index`` values give different numbers (up to 99 999 per
    scenario). The search tries candidates in a fixed order until one hashes to the scenario
    (each scenario has at least a 1-in-20 chance per candidate).
    """
    if carrier not in sandbox_carriers():
        raise ValueError(f"the sandbox does not emulate {carrier!r}")
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; choose from {sorted(SCENARIOS)}")
    if not 0 <= index < 100_000:
        raise ValueError("index must be between 0 and 99 999")
    for attempt in range(_ATTEMPTS_PER_INDEX):
        number = _candidate(carrier, index, attempt)
        if is_unknown(carrier, number):
            continue
        if scenario_for(carrier, number).name == scenario:
            return number
    raise LookupError(f"no {carrier} number found for {scenario!r} at index {index}")
