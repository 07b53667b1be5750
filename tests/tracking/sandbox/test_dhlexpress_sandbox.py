"""The DHL Express (MyDHL API) sandbox over real HTTP, read by the real adapter. No database."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
import requests

from devtools.sandbox.couriers.dhlexpress import (
    DEPARTED_HUB,
    DHLEXPRESS_EVENTS,
    DhlExpressSandbox,
    dhlexpress_check_digit,
)
from devtools.sandbox.journeys import SCENARIOS, journey_for
from devtools.sandbox.numbers import number_for_scenario
from tests.support.clock import SUMMER_SUNDAY
from tests.support.http import carrier_http_client
from tests.support.sandbox import JOURNEY_FINALS, STEP, assert_journey_ended, walk_journey
from tests.support.shared_data import read_carrier_sample
from tracking.carriers.dhlexpress import STATUS_MAP, DhlExpressAdapter
from tracking.status import Status, result_state

# The dates these tests assert on are the ones couriers render on this summer Sunday.
pytestmark = pytest.mark.sandbox(at=SUMMER_SUNDAY)


# Final (status, substatus) of each scenario as the adapter reads it: DHL Express says how a
# parcel was handed over in its OK description and signedBy, so every substatus is checked.
FINAL = JOURNEY_FINALS


def _adapter(sandbox, **credentials) -> DhlExpressAdapter:
    credentials = credentials or {"username": "sandbox-user", "password": "sandbox-pass"}
    return DhlExpressAdapter(base_url=f"{sandbox.url}/dhlexpress", **credentials)


def _track(adapter, number):
    result, _answers = adapter.track([number], client=carrier_http_client())
    return result


def _basic(user: str = "u", password: str = "p") -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


# --- the format ---------------------------------------------------------------------------


def test_dhlexpress_sandbox_numbers_carry_a_valid_check_digit():
    # given the numbers the sandbox hands out for each scenario
    numbers = [number_for_scenario("dhlexpress", name) for name in SCENARIOS]

    # when / then: well formed for the adapter, with DHL Express's mod-7 check digit
    adapter = DhlExpressAdapter(base_url="https://x")
    for number in numbers:
        assert adapter.matches(number)
        assert number[-1] == dhlexpress_check_digit(number[:-1])
    assert DhlExpressSandbox().is_unknown("9912345671")


def test_dhlexpress_sandbox_codes_are_in_the_adapters_table():
    # given / when / then: every rendered typeCode is one the adapter maps on purpose
    for code, _description in [*DHLEXPRESS_EVENTS.values(), DEPARTED_HUB]:
        assert code in STATUS_MAP


def test_dhlexpress_sandbox_answer_has_the_sample_shape(sandbox):
    # given a delivered parcel, asked once to anchor it then again later
    number = number_for_scenario("dhlexpress", "delivered_signed")
    url = f"{sandbox.url}/dhlexpress/shipments/{number}/tracking"
    params = {"trackingView": "all-checkpoints", "levelOfDetail": "shipment"}
    first = requests.get(url, headers=_basic(), params=params, timeout=5).json()
    sandbox.advance(20 * STEP)

    # when
    body = requests.get(url, headers=_basic(), params=params, timeout=5).json()

    # then the keys of the MyDHL sample, events newest first, with and without GMTOffset
    real = json.loads(read_carrier_sample("dhl_mydhl_express_delivered_synthetic.json"))
    [announced] = first["shipments"]
    assert announced["events"] == []  # only the shipment's data before the pickup
    assert "estimatedTimeOfDelivery" in announced
    [shipment] = body["shipments"]
    assert shipment["shipmentTrackingNumber"] == number
    assert set(real["shipments"][0]) - {"estimatedTimeOfDelivery"} <= set(shipment)
    assert "estimatedTimeOfDelivery" not in shipment  # delivered: DHL stops estimating
    events = shipment["events"]
    assert [e["typeCode"] for e in events] == ["OK", "WC", "AR", "DF", "AF", "PU"]
    assert set(real["shipments"][0]["events"][0]) <= set(events[0])
    stamps = [e["date"] + e["time"] for e in events]  # one zone: text order is time order
    assert stamps == sorted(stamps, reverse=True)
    assert any("GMTOffset" in e for e in events)
    assert any("GMTOffset" not in e for e in events)
    assert events[0]["signedBy"] == journey_for("dhlexpress", number).signed_by
    assert events[0]["serviceArea"][0]["description"].endswith("-FR")


def test_dhlexpress_sandbox_batches_and_leaves_unknown_numbers_out(sandbox):
    # given a known and an unknown number asked together
    known = number_for_scenario("dhlexpress", "stuck")

    # when
    response = requests.get(
        f"{sandbox.url}/dhlexpress/tracking",
        headers=_basic(),
        params=[("shipmentTrackingNumber", known), ("shipmentTrackingNumber", "9912345671")],
        timeout=5,
    )

    # then only the known one is answered
    assert response.status_code == 200
    assert [s["shipmentTrackingNumber"] for s in response.json()["shipments"]] == [known]


# --- the real adapter, step by step ---------------------------------------------------------


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_dhlexpress_adapter_reads_every_scenario_step_by_step(sandbox, scenario):
    # given a parcel of that scenario
    adapter = _adapter(sandbox)
    number = number_for_scenario("dhlexpress", scenario)

    # when the sandbox clock reaches each step, then the adapter follows the journey
    for index, step, shipment in walk_journey(sandbox, adapter, number):
        # the announcement is one "information received" event until the first scan replaces it
        assert len(shipment.events) == max(index, 1)
        assert result_state(shipment).status == step.status, f"{scenario} at {step.kind}"
        assert all(e.location.country == "FR" for e in shipment.events)
        # with or without GMTOffset, every time is Paris time (summer: +02:00)
        assert {e.occurred_at.utcoffset().total_seconds() for e in shipment.events} == {7200}

    # and it ends where the scenario says, with a POD only for a delivery
    status, substatus = FINAL[scenario]
    assert_journey_ended(shipment, (status, substatus))
    if status == Status.DELIVERED:
        assert shipment.estimated_delivery is None


def test_dhlexpress_adapter_reads_the_pod_of_each_delivery_kind(sandbox):
    # given the three kinds of delivery, once delivered, tracked in one batch
    adapter = _adapter(sandbox)
    numbers = {
        name: number_for_scenario("dhlexpress", name)
        for name in ("delivered_signed", "delivered_mailbox", "delivered_pickup_point")
    }
    adapter.track(list(numbers.values()), client=carrier_http_client())
    sandbox.advance(20 * STEP)

    # when
    result, answers = adapter.track(list(numbers.values()), client=carrier_http_client())

    # then one request carried the three, and each POD says how it was handed over
    assert len(answers) == 1
    assert "/tracking?" in answers[0].url
    pods = {s.tracking_number: s.pod for s in result.shipments}
    signed = pods[numbers["delivered_signed"]]
    assert signed.signed_by == journey_for("dhlexpress", numbers["delivered_signed"]).signed_by
    assert signed.location_type == ""
    assert pods[numbers["delivered_mailbox"]].signed_by == ""
    assert pods[numbers["delivered_mailbox"]].location_type == "mailbox"
    assert pods[numbers["delivered_pickup_point"]].location_type == "pickup_point"


def test_dhlexpress_adapter_reads_the_estimate_while_in_transit(sandbox):
    # given a parcel just announced
    adapter = _adapter(sandbox)
    number = number_for_scenario("dhlexpress", "delivered_mailbox")

    # when
    [shipment] = _track(adapter, number).shipments

    # then the estimate is the planned delivery (6 steps later), read in Paris time
    assert shipment.estimated_delivery == datetime.fromtimestamp(
        SUMMER_SUNDAY.timestamp() + 6 * STEP, UTC
    )
    assert shipment.estimated_delivery.utcoffset().total_seconds() == 7200
    [announced] = shipment.events
    assert (announced.code, announced.status) == ("pre-transit", Status.INFO_RECEIVED)


def test_dhlexpress_adapter_reports_unknown_and_invalid_numbers(sandbox):
    # given an unknown well-formed number and a malformed one, next to a known one
    adapter = _adapter(sandbox)
    known = number_for_scenario("dhlexpress", "stuck")

    # when
    result, answers = adapter.track([known, "9912345671", "12345"], client=carrier_http_client())

    # then the two well-formed ones went in one request, the malformed one alone
    assert len(answers) == 2
    assert [s.tracking_number for s in result.shipments] == [known]
    assert sorted((e.tracking_number, e.code) for e in result.errors) == [
        ("12345", "invalid_number"),
        ("9912345671", "not_returned"),
    ]


def test_dhlexpress_adapter_gives_a_batch_404_to_every_number_asked(sandbox):
    # given two numbers DHL does not know
    adapter = _adapter(sandbox)

    # when
    result, _answers = adapter.track(["9912345671", "9900000003"], client=carrier_http_client())

    # then each gets the not-found error
    assert result.shipments == []
    assert sorted((e.tracking_number, e.code) for e in result.errors) == [
        ("9900000003", "not_found"),
        ("9912345671", "not_found"),
    ]


# --- auth and faults ------------------------------------------------------------------------


def test_dhlexpress_sandbox_refuses_requests_without_basic_auth(sandbox):
    # given a request with a bearer token instead of Basic credentials
    number = number_for_scenario("dhlexpress", "stuck")
    url = f"{sandbox.url}/dhlexpress/shipments/{number}/tracking"

    # when
    response = requests.get(url, headers={"Authorization": "Bearer x"}, timeout=5)

    # then
    assert response.status_code == 401
    assert response.json()["status"] == "401"
