"""Simulated parcel journeys for the sandbox courier, written in our own vocabulary.

A journey is the whole life of one parcel, decided once and for all by its courier and tracking
number: ``journey_for(carrier, number)`` hashes ``"<carrier>:<number>"`` with SHA-256, picks a
scenario (weighted so that most parcels are delivered) and the towns it passes through. The same
number therefore always tells the same story, in every process and on every machine.

Each scenario is a list of steps ``(offset, kind, place)``. The offset counts "sandbox steps":
the server makes step ``k`` visible ``k * step_seconds`` after the first time it is asked about
the number (see ``server.py``); gaps between offsets are quiet periods. The format modules turn
step kinds into each courier's own codes and texts.

Tracking numbers the sandbox accepts (anything else is answered as an invalid/unknown number):

- ``laposte``: Colissimo-like, 13 characters, one digit, one letter and 11 digits
  (e.g. ``6A12345678901``); or UPU S10, two letters, 9 digits and two letters
  (e.g. ``EW112720413FR``; the check digit is not verified so that numbers are easy to type).
  A Colissimo-like number starting with ``6X`` is well formed but unknown ("not found").
- ``dhl``: 10 digits (e.g. ``3318810025``; the mod-7 check digit is not verified).
  A number starting with ``99`` is well formed but unknown ("not found").

``number_for_scenario(carrier, scenario, index)`` returns a well-formed number that maps to the
scenario (tests and the demo seed use it); DHL numbers it returns carry a valid mod-7 check digit
so that number detection accepts them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from tracking.status import Status, Substatus


@dataclass(frozen=True)
class Place:
    city: str
    postcode: str
    country: str = "FR"


# Towns parcels leave from and go to, and the sorting hubs they pass through on the way.
TOWNS = (
    Place("Paris", "75015"),
    Place("Lyon", "69007"),
    Place("Marseille", "13002"),
    Place("Toulouse", "31100"),
    Place("Bordeaux", "33300"),
    Place("Lille", "59000"),
    Place("Nantes", "44000"),
    Place("Strasbourg", "67000"),
    Place("Rennes", "35000"),
    Place("Montpellier", "34000"),
    Place("Nice", "06000"),
    Place("Grenoble", "38000"),
    Place("Dijon", "21000"),
    Place("Tours", "37000"),
    Place("Clermont-Ferrand", "63000"),
    Place("Angers", "49000"),
)
HUBS = (
    Place("Wissous", "91320"),
    Place("Moissy-Cramayel", "77550"),
    Place("Saint-Priest", "69800"),
    Place("Cestas", "33610"),
    Place("Vitrolles", "13127"),
    Place("Lesquin", "59810"),
    Place("Bonneuil-sur-Marne", "94380"),
    Place("Saint-Pierre-des-Corps", "37700"),
)
SIGNATORIES = (
    "M. MARTIN",
    "C. DUBOIS",
    "L. BERNARD",
    "S. PETIT",
    "A. MOREAU",
    "J. LEFEBVRE",
    "N. GARCIA",
    "E. ROUX",
)

# Every kind of step a journey may contain, with the normalised (status, substatus) it stands
# for. This is the sandbox's ground truth: an adapter parsing the courier rendering of a step
# should arrive at the same status.
STEP_KINDS: dict[str, tuple[str, str | None]] = {
    "info_received": (Status.INFO_RECEIVED, None),
    "picked_up": (Status.IN_TRANSIT, None),
    "in_transit_hub": (Status.IN_TRANSIT, None),
    "arrived_delivery_site": (Status.IN_TRANSIT, None),
    "out_for_delivery": (Status.OUT_FOR_DELIVERY, None),
    "failed_attempt": (Status.FAILED_ATTEMPT, Substatus.FAILED_ATTEMPT_RECIPIENT_ABSENT),
    "available_for_pickup": (Status.AVAILABLE_FOR_PICKUP, None),
    "delivered": (Status.DELIVERED, Substatus.DELIVERED_SIGNED),
    "delivered_mailbox": (Status.DELIVERED, Substatus.DELIVERED_MAILBOX),
    "delivered_pickup_point": (Status.DELIVERED, Substatus.DELIVERED_PICKUP_POINT),
    "address_issue": (Status.EXCEPTION, Substatus.EXCEPTION_ADDRESS_ISSUE),
    "returning": (Status.EXCEPTION, Substatus.EXCEPTION_RETURNING_TO_SENDER),
    "returned": (Status.EXCEPTION, Substatus.EXCEPTION_RETURNED_TO_SENDER),
    "lost": (Status.EXCEPTION, Substatus.EXCEPTION_LOST),
}
DELIVERED_KINDS = frozenset({"delivered", "delivered_mailbox", "delivered_pickup_point"})
# After these the courier considers the parcel's story finished (La Poste's ``isFinal``).
FINAL_KINDS = DELIVERED_KINDS | {"returned"}

# Where a step happens: at the sender's town, one of the two hubs, or the buyer's town.
ORIGIN, HUB_1, HUB_2, DESTINATION = "origin", "hub_1", "hub_2", "destination"

# The road every parcel starts on: announced, handed over, two hubs, delivery site.
_FIRST_MILE = (
    (0, "info_received", ORIGIN),
    (1, "picked_up", ORIGIN),
    (2, "in_transit_hub", HUB_1),
    (3, "in_transit_hub", HUB_2),
    (4, "arrived_delivery_site", DESTINATION),
)


@dataclass(frozen=True)
class Scenario:
    name: str
    weight: int  # relative frequency among tracking numbers
    plan: tuple[tuple[int, str, str], ...]  # (offset, step kind, place role)

    @property
    def final_kind(self) -> str:
        return self.plan[-1][1]

    @property
    def final_status(self) -> str:
        return STEP_KINDS[self.final_kind][0]

    @property
    def final_substatus(self) -> str | None:
        return STEP_KINDS[self.final_kind][1]


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            "delivered_signed",
            30,
            (*_FIRST_MILE, (5, "out_for_delivery", DESTINATION), (6, "delivered", DESTINATION)),
        ),
        Scenario(
            "delivered_mailbox",
            25,
            (
                *_FIRST_MILE,
                (5, "out_for_delivery", DESTINATION),
                (6, "delivered_mailbox", DESTINATION),
            ),
        ),
        Scenario(
            "delivered_pickup_point",
            15,
            (
                *_FIRST_MILE,
                (5, "available_for_pickup", DESTINATION),
                # the buyer takes a couple of steps to come and collect it
                (7, "delivered_pickup_point", DESTINATION),
            ),
        ),
        Scenario(
            "failed_attempt_then_delivered",
            10,
            (
                *_FIRST_MILE,
                (5, "out_for_delivery", DESTINATION),
                (6, "failed_attempt", DESTINATION),
                (7, "out_for_delivery", DESTINATION),
                (8, "delivered", DESTINATION),
            ),
        ),
        Scenario(
            "address_exception",
            5,
            (*_FIRST_MILE, (5, "out_for_delivery", DESTINATION), (6, "address_issue", DESTINATION)),
        ),
        Scenario(
            "returned_to_sender",
            5,
            (
                *_FIRST_MILE,
                (5, "out_for_delivery", DESTINATION),
                (6, "failed_attempt", DESTINATION),
                (7, "available_for_pickup", DESTINATION),
                # not collected in time: sent back
                (9, "returning", DESTINATION),
                (11, "returned", ORIGIN),
            ),
        ),
        Scenario(
            "stuck",
            5,
            # announced and scanned once, then the courier never says anything again
            ((0, "info_received", ORIGIN), (1, "in_transit_hub", HUB_1)),
        ),
        Scenario(
            "lost",
            5,
            (
                (0, "info_received", ORIGIN),
                (1, "picked_up", ORIGIN),
                (2, "in_transit_hub", HUB_1),
                # a long silence before the courier admits it cannot find the parcel
                (10, "lost", HUB_1),
            ),
        ),
    )
}
_TOTAL_WEIGHT = sum(s.weight for s in SCENARIOS.values())

# Offset at which a parcel that goes well is delivered: the estimate couriers announce.
PLANNED_DELIVERY_OFFSET = 6


@dataclass(frozen=True)
class Step:
    offset: int
    kind: str
    place: Place

    @property
    def status(self) -> str:
        return STEP_KINDS[self.kind][0]

    @property
    def substatus(self) -> str | None:
        return STEP_KINDS[self.kind][1]


@dataclass(frozen=True)
class SeenStep:
    """A step that has become visible, with the moment it happened (aware, UTC)."""

    step: Step
    at: datetime


@dataclass(frozen=True)
class Journey:
    carrier: str
    number: str
    scenario: Scenario
    steps: tuple[Step, ...]
    origin: Place
    destination: Place
    signed_by: str

    def seen_steps(self, *, anchor: float, now: float, step_seconds: float) -> list[SeenStep]:
        """Steps visible at ``now`` (oldest first) for a number first asked about at ``anchor``.

        Step ``k`` happens at ``anchor + k * step_seconds``, so no event is ever in the future.
        """
        seen = []
        for step in self.steps:
            at = anchor + step.offset * step_seconds
            if at <= now:
                seen.append(SeenStep(step, datetime.fromtimestamp(at, UTC)))
        return seen

    def planned_delivery_at(self, *, anchor: float, step_seconds: float) -> datetime:
        return datetime.fromtimestamp(anchor + PLANNED_DELIVERY_OFFSET * step_seconds, UTC)


def normalise_number(number: str) -> str:
    """Upper case without spaces: how couriers compare tracking numbers."""
    return "".join(number.split()).upper()


def _digest(carrier: str, number: str) -> bytes:
    return hashlib.sha256(f"{carrier}:{number}".encode()).digest()


def scenario_for(carrier: str, number: str) -> Scenario:
    """The scenario a number follows: the first 4 bytes of its hash, spread over the weights."""
    ticket = int.from_bytes(_digest(carrier, number)[:4], "big") % _TOTAL_WEIGHT
    for scenario in SCENARIOS.values():
        if ticket < scenario.weight:
            return scenario
        ticket -= scenario.weight
    raise AssertionError("weights cover every ticket")  # pragma: no cover


def journey_for(carrier: str, number: str) -> Journey:
    """The journey of ``number`` at ``carrier``: same inputs, same journey, always.

    The caller checks first that the number is well formed and not unknown.
    """
    number = normalise_number(number)
    digest = _digest(carrier, number)
    scenario = scenario_for(carrier, number)
    # Later bytes of the same hash choose the places, so they do not bias the scenario.
    origin = TOWNS[digest[4] % len(TOWNS)]
    destination = TOWNS[(digest[4] + 1 + digest[5] % (len(TOWNS) - 1)) % len(TOWNS)]
    hub_1 = HUBS[digest[6] % len(HUBS)]
    hub_2 = HUBS[(digest[6] + 1 + digest[7] % (len(HUBS) - 1)) % len(HUBS)]
    places = {ORIGIN: origin, HUB_1: hub_1, HUB_2: hub_2, DESTINATION: destination}
    steps = tuple(Step(offset, kind, places[role]) for offset, kind, role in scenario.plan)
    return Journey(
        carrier=carrier,
        number=number,
        scenario=scenario,
        steps=steps,
        origin=origin,
        destination=destination,
        signed_by=SIGNATORIES[digest[8] % len(SIGNATORIES)],
    )
