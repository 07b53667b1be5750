"""The sandbox's journey model and time helpers: pure Python, no HTTP, no database."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from devtools.sandbox.couriers.dhl import dhl_check_digit
from devtools.sandbox.formats import paris_iso, paris_local_iso, paris_offset
from devtools.sandbox.journeys import (
    DELIVERED_KINDS,
    SCENARIOS,
    STEP_KINDS,
    journey_for,
    scenario_for,
)
from devtools.sandbox.numbers import (
    is_unknown,
    is_well_formed,
    number_for_scenario,
    sandbox_carriers,
)
from tracking.status import Status, Substatus

# What each scenario must end in, written out rather than derived from the module under test.
EXPECTED_FINAL = {
    "delivered_signed": (Status.DELIVERED, Substatus.DELIVERED_SIGNED),
    "delivered_mailbox": (Status.DELIVERED, Substatus.DELIVERED_MAILBOX),
    "delivered_pickup_point": (Status.DELIVERED, Substatus.DELIVERED_PICKUP_POINT),
    "failed_attempt_then_delivered": (Status.DELIVERED, Substatus.DELIVERED_SIGNED),
    "address_exception": (Status.EXCEPTION, Substatus.EXCEPTION_ADDRESS_ISSUE),
    "returned_to_sender": (Status.EXCEPTION, Substatus.EXCEPTION_RETURNED_TO_SENDER),
    "stuck": (Status.IN_TRANSIT, None),
    "lost": (Status.EXCEPTION, Substatus.EXCEPTION_LOST),
}


def test_the_required_scenarios_exist_with_their_final_state():
    assert set(SCENARIOS) == set(EXPECTED_FINAL)
    for name, scenario in SCENARIOS.items():
        assert (scenario.final_status, scenario.final_substatus) == EXPECTED_FINAL[name]


@pytest.mark.parametrize("carrier", sandbox_carriers())
@pytest.mark.parametrize("scenario", sorted(EXPECTED_FINAL))
def test_every_scenario_is_reachable_with_a_well_formed_number(carrier, scenario):
    number = number_for_scenario(carrier, scenario)
    assert is_well_formed(carrier, number)
    assert not is_unknown(carrier, number)
    assert journey_for(carrier, number).scenario.name == scenario
    # The search is deterministic: asking again gives the same number.
    assert number_for_scenario(carrier, scenario) == number


@pytest.mark.parametrize("carrier", sandbox_carriers())
def test_indexes_give_distinct_numbers_of_the_same_scenario(carrier):
    numbers = [number_for_scenario(carrier, "lost", index) for index in range(25)]
    assert len(set(numbers)) == 25
    assert {journey_for(carrier, n).scenario.name for n in numbers} == {"lost"}


def test_generated_numbers_follow_the_documented_formats():
    laposte = number_for_scenario("laposte", "delivered_signed")
    assert len(laposte) == 13
    assert laposte.startswith("6A")
    assert laposte[2:].isdigit()
    dhl = number_for_scenario("dhl", "delivered_signed")
    assert len(dhl) == 10
    assert dhl.isdigit()
    assert dhl[-1] == dhl_check_digit(dhl[:9])  # mod-7 check digit, as DHL Express numbers


def test_accepted_and_unknown_number_formats():
    assert is_well_formed("laposte", "6A12345678901")
    assert is_well_formed("laposte", "EW112720413FR")  # UPU S10
    assert not is_well_formed("laposte", "6A1234")
    assert not is_well_formed("laposte", "1234567890")
    assert is_well_formed("dhl", "3318810025")
    assert not is_well_formed("dhl", "33188100")
    assert not is_well_formed("dhl", "6A12345678901")
    assert is_unknown("laposte", "6X12345678901")
    assert not is_unknown("laposte", "6A12345678901")
    assert is_unknown("dhl", "9912345678")
    assert not is_unknown("dhl", "3318810025")


def test_unknown_scenario_or_carrier_is_refused():
    with pytest.raises(ValueError):
        number_for_scenario("laposte", "teleported")
    with pytest.raises(ValueError):
        number_for_scenario("pigeon", "delivered_signed")


def test_journeys_are_deterministic():
    number = "6A12345678901"
    assert journey_for("laposte", number) == journey_for("laposte", number)
    assert journey_for("laposte", " 6a1234 5678901 ") == journey_for("laposte", number)
    s10 = journey_for("laposte", "EW112720413FR")
    assert s10 == journey_for("laposte", "EW112720413FR")
    assert s10.scenario.name in SCENARIOS


def test_most_parcels_are_delivered():
    counts = Counter(scenario_for("dhl", f"{i:010d}").final_status for i in range(4000))
    assert counts[Status.DELIVERED] / 4000 > 0.7
    # but every outcome shows up in a realistic volume
    seen = {scenario_for("laposte", f"6A{i:011d}").name for i in range(2000)}
    assert seen == set(SCENARIOS)


@pytest.mark.parametrize("scenario", sorted(EXPECTED_FINAL))
def test_steps_are_ordered_and_use_known_kinds(scenario):
    journey = journey_for("laposte", number_for_scenario("laposte", scenario))
    offsets = [step.offset for step in journey.steps]
    assert offsets[0] == 0
    assert offsets == sorted(set(offsets))  # strictly increasing
    assert journey.steps[0].kind == "info_received"
    for step in journey.steps:
        assert step.kind in STEP_KINDS
        assert step.place.city
        assert len(step.place.postcode) == 5
        assert step.place.country == "FR"
    assert journey.origin != journey.destination


def test_scenario_stories():
    def kinds(scenario):
        journey = journey_for("dhl", number_for_scenario("dhl", scenario))
        return [step.kind for step in journey.steps]

    assert kinds("stuck") == ["info_received", "in_transit_hub"]
    pickup = kinds("delivered_pickup_point")
    assert pickup[-2:] == ["available_for_pickup", "delivered_pickup_point"]
    failed = kinds("failed_attempt_then_delivered")
    assert failed.index("failed_attempt") < failed.index("delivered")
    assert kinds("returned_to_sender")[-2:] == ["returning", "returned"]
    assert kinds("lost")[-1] == "lost"
    assert kinds("address_exception")[-1] == "address_issue"
    assert not DELIVERED_KINDS & set(kinds("lost"))


def test_steps_become_visible_one_step_at_a_time_and_never_in_the_future():
    journey = journey_for("laposte", number_for_scenario("laposte", "delivered_signed"))
    anchor = 1_700_000_000.0
    assert [
        s.step.kind for s in journey.seen_steps(anchor=anchor, now=anchor, step_seconds=60)
    ] == ["info_received"]
    two_and_a_half = journey.seen_steps(anchor=anchor, now=anchor + 150, step_seconds=60)
    assert [s.step.offset for s in two_and_a_half] == [0, 1, 2]
    for seen in two_and_a_half:
        assert seen.at == datetime.fromtimestamp(anchor + seen.step.offset * 60, UTC)
        assert seen.at <= datetime.fromtimestamp(anchor + 150, UTC)
    everything = journey.seen_steps(anchor=anchor, now=anchor + 10_000, step_seconds=60)
    assert len(everything) == len(journey.steps)


@pytest.mark.parametrize(
    ("utc", "offset_hours"),
    [
        ("2024-01-15T12:00:00", 1),
        ("2024-03-31T00:59:59", 1),  # summer time starts at 01:00 UTC, last Sunday of March
        ("2024-03-31T01:00:00", 2),
        ("2024-07-01T12:00:00", 2),
        ("2024-10-27T00:59:59", 2),  # and ends at 01:00 UTC, last Sunday of October
        ("2024-10-27T01:00:00", 1),
        ("2025-03-30T01:00:00", 2),
    ],
)
def test_paris_offset_follows_the_eu_summer_time_rule(utc, offset_hours):
    moment = datetime.fromisoformat(utc).replace(tzinfo=UTC)
    assert paris_offset(moment) == timedelta(hours=offset_hours)


def test_paris_renderings():
    moment = datetime(2024, 5, 19, 8, 0, 0, 123456, tzinfo=UTC)
    assert paris_iso(moment) == "2024-05-19T10:00:00+02:00"
    assert paris_local_iso(moment) == "2024-05-19T10:00:00"
