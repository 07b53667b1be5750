"""The UPS sandbox over real HTTP, read by the real UPS adapter. No database."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import requests

from devtools.sandbox.couriers.ups import UPS_ACTIVITIES, UpsSandbox, ups_check_digit
from devtools.sandbox.journeys import SCENARIOS, journey_for
from devtools.sandbox.numbers import number_for_scenario
from tests.support.clock import SUMMER_SUNDAY
from tests.support.http import carrier_http_client
from tests.support.sandbox import JOURNEY_FINALS, STEP, assert_journey_ended, walk_journey
from tests.support.shared_data import read_carrier_sample
from tracking.carriers.ups import STATUS_MAP, TYPE_MAP, UpsAdapter
from tracking.status import Status, result_state

# The dates these tests assert on are the ones couriers render on this summer Sunday.
pytestmark = pytest.mark.sandbox(at=SUMMER_SUNDAY)


# Final (status, substatus) of each scenario as the UPS adapter reads it. UPS says how a parcel
# was handed over (receivedBy, Mailbox + photo, Access Point), so every substatus is checked;
# "lost" is UPS's "Investigation Opened" (129), read as exception.lost.
FINAL = JOURNEY_FINALS


def _adapter(sandbox, **credentials) -> UpsAdapter:
    credentials = credentials or {"client_id": "sandbox-id", "client_secret": "sandbox-secret"}
    return UpsAdapter(base_url=f"{sandbox.url}/ups", **credentials)


def _track(adapter, sandbox, number):
    result, _answers = adapter.track([number], client=carrier_http_client())
    return result


# --- the format ---------------------------------------------------------------------------


def test_ups_sandbox_numbers_carry_a_valid_check_digit():
    # given the numbers the sandbox hands out for each scenario
    numbers = [number_for_scenario("ups", name) for name in SCENARIOS]

    # when / then: well formed for the adapter and with UPS's own check digit
    adapter = UpsAdapter(base_url="https://x")
    for number in numbers:
        assert adapter.matches(number)
        assert number[-1] == ups_check_digit(number[2:-1])
    assert UpsSandbox().is_unknown("1Z9999990312345671")


def test_ups_sandbox_codes_are_in_the_adapters_tables():
    # given / when / then: every rendered statusCode and type is one of UPS's documented ones
    for kind, status_code, _description in ((k, s, d) for k, _c, s, d in UPS_ACTIVITIES.values()):
        assert status_code in STATUS_MAP
        assert kind in TYPE_MAP


def test_ups_sandbox_answer_has_the_sample_shape(sandbox):
    # given a delivered parcel, asked once to anchor it then again later
    adapter = _adapter(sandbox)
    number = number_for_scenario("ups", "delivered_signed")
    token = adapter.tokens.get(carrier_http_client())
    headers = {"Authorization": f"Bearer {token}", "transId": "t1", "transactionSrc": "test"}
    url = f"{sandbox.url}/ups/api/track/v1/details/{number}"
    requests.get(url, headers=headers, timeout=5)
    sandbox.advance(20 * STEP)

    # when
    body = requests.get(url, headers=headers, timeout=5).json()

    # then the blocks of UPS's sample, activities newest first, local YYYYMMDD/HHMMSS
    real = json.loads(read_carrier_sample("ups_track_v1_delivered.json"))
    [shipment] = body["trackResponse"]["shipment"]
    [package] = shipment["package"]
    real_package = real["trackResponse"]["shipment"][0]["package"][0]
    assert shipment["inquiryNumber"] == number
    assert set(real_package) <= set(package)
    activities = package["activity"]
    assert [a["status"]["statusCode"] for a in activities] == [
        "011",
        "021",
        "071",
        "005",
        "005",
        "038",
        "003",
    ]
    stamps = [a["date"] + a["time"] for a in activities]  # same zone: text order is time order
    assert stamps == sorted(stamps, reverse=True)
    assert any("gmtOffset" in a for a in activities)
    assert any("gmtOffset" not in a for a in activities)
    assert package["deliveryDate"] == [{"type": "DEL", "date": activities[0]["date"]}]
    assert package["deliveryInformation"]["receivedBy"] == journey_for("ups", number).signed_by
    assert "signature" not in package["deliveryInformation"]  # returnSignature=false


# --- the real adapter, step by step ---------------------------------------------------------


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_ups_adapter_reads_every_scenario_step_by_step(sandbox, scenario):
    # given a parcel of that scenario
    adapter = _adapter(sandbox)
    number = number_for_scenario("ups", scenario)

    # when the sandbox clock reaches each step, then the adapter follows the journey
    for index, step, shipment in walk_journey(sandbox, adapter, number):
        assert len(shipment.events) == index + 1
        assert result_state(shipment).status == step.status, f"{scenario} at {step.kind}"
        assert all(e.location.country == "FR" for e in shipment.events)

    # and it ends where the scenario says, with a POD only for a delivery
    status, substatus = FINAL[scenario]
    assert_journey_ended(shipment, (status, substatus))
    if status == Status.DELIVERED:
        assert shipment.estimated_delivery is None


def test_ups_adapter_reads_the_pod_of_each_delivery_kind(sandbox):
    # given the three kinds of delivery, once delivered
    adapter = _adapter(sandbox)
    numbers = {
        name: number_for_scenario("ups", name)
        for name in ("delivered_signed", "delivered_mailbox", "delivered_pickup_point")
    }
    adapter.track(list(numbers.values()), client=carrier_http_client())
    sandbox.advance(20 * STEP)

    # when
    result, _answers = adapter.track(list(numbers.values()), client=carrier_http_client())

    # then
    pods = {s.tracking_number: s.pod for s in result.shipments}
    signed = pods[numbers["delivered_signed"]]
    assert signed.signed_by == journey_for("ups", numbers["delivered_signed"]).signed_by
    assert signed.documents == ()
    assert pods[numbers["delivered_mailbox"]].location_type == "mailbox"
    assert pods[numbers["delivered_mailbox"]].documents == ("photo",)
    assert pods[numbers["delivered_pickup_point"]].location_type == "pickup_point"


def test_ups_adapter_reads_the_estimated_window_while_in_transit(sandbox):
    # given a parcel just announced
    adapter = _adapter(sandbox)
    number = number_for_scenario("ups", "delivered_mailbox")

    # when
    [shipment] = _track(adapter, sandbox, number).shipments

    # then the window is the planned delivery (6 steps later), in Paris time
    planned = datetime.fromtimestamp(SUMMER_SUNDAY.timestamp() + 6 * STEP, UTC)
    assert shipment.estimated_delivery == planned
    assert shipment.estimated_delivery.utcoffset().total_seconds() == 7200
    assert shipment.estimated_delivery_end > shipment.estimated_delivery


def test_ups_adapter_reuses_its_token(sandbox):
    # given an adapter that already tracked once
    adapter = _adapter(sandbox)
    number = number_for_scenario("ups", "stuck")
    _track(adapter, sandbox, number)
    token = adapter.tokens.get(carrier_http_client())

    # when
    _track(adapter, sandbox, number)

    # then the same token is still in use
    assert adapter.tokens.get(carrier_http_client()) == token


# --- auth and faults ------------------------------------------------------------------------


def test_ups_sandbox_refuses_a_foreign_token(sandbox):
    # given a bearer token the sandbox never issued
    url = f"{sandbox.url}/ups/api/track/v1/details/{number_for_scenario('ups', 'stuck')}"

    # when
    response = requests.get(
        url,
        headers={"Authorization": "Bearer forged", "transId": "t", "transactionSrc": "x"},
        timeout=5,
    )

    # then
    assert response.status_code == 401
    assert response.json()["response"]["errors"][0]["code"] == "250002"
