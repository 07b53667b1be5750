"""The USPS sandbox over real HTTP, read by the real USPS adapter. No database."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import requests

from devtools.sandbox.couriers.usps import USPS_EVENTS, UspsSandbox, usps_check_digit
from devtools.sandbox.journeys import SCENARIOS, journey_for
from devtools.sandbox.numbers import number_for_scenario
from tests.support.clock import SUMMER_SUNDAY
from tests.support.http import carrier_http_client
from tests.support.sandbox import JOURNEY_FINALS, STEP, assert_journey_ended, walk_journey
from tests.support.shared_data import read_carrier_sample
from tracking.carriers.usps import STATUS_MAP, UspsAdapter
from tracking.status import result_state

# The dates these tests assert on are the ones couriers render on this summer Sunday.
pytestmark = pytest.mark.sandbox(at=SUMMER_SUNDAY)


# Final (status, substatus) of each scenario as the USPS adapter reads it. The delivered eventType
# text says how ("Left with Individual", "In/At Mailbox", "Individual Picked Up at Post Office");
# "lost" is rendered as a Dead Letter (11), USPS having no "lost" scan.
FINAL = JOURNEY_FINALS


def _adapter(sandbox, **credentials) -> UspsAdapter:
    credentials = credentials or {"client_id": "sandbox-id", "client_secret": "sandbox-secret"}
    return UspsAdapter(base_url=f"{sandbox.url}/usps", **credentials)


def _track(adapter, numbers):
    result, _answers = adapter.track(numbers, client=carrier_http_client())
    return result


def test_usps_sandbox_numbers_carry_a_valid_check_digit():
    # given / when
    numbers = [number_for_scenario("usps", name) for name in SCENARIOS]

    # then
    adapter = UspsAdapter(base_url="https://x")
    for number in numbers:
        assert adapter.matches(number)
        assert number[-1] == usps_check_digit(number[:-1])
    assert usps_check_digit("940010910425053290858") == "7"  # USPS's real sample number
    assert UspsSandbox().is_unknown("9499999999999999999995")


def test_usps_sandbox_codes_are_in_the_adapters_table():
    # given / when / then
    assert {code for code, _text in USPS_EVENTS.values()} <= set(STATUS_MAP)


def test_usps_sandbox_answer_has_the_sample_shape(sandbox):
    # given a delivered parcel
    adapter = _adapter(sandbox)
    number = number_for_scenario("usps", "delivered_signed")
    headers = {"Authorization": f"Bearer {adapter.tokens.get(carrier_http_client())}"}
    url = f"{sandbox.url}/usps/tracking/v3/tracking/{number}"
    requests.get(url, params={"expand": "DETAIL"}, headers=headers, timeout=5)
    sandbox.advance(20 * STEP)

    # when
    body = requests.get(url, params={"expand": "DETAIL"}, headers=headers, timeout=5).json()

    # then the sample's fields, events newest first with local, GMT and offset times
    real = json.loads(read_carrier_sample("usps_tracking_v3_delivered.json"))
    assert body["trackingNumber"] == number
    assert body["statusCategory"] == "Delivered"
    assert {"status", "statusSummary", "mailClass", "trackingEvents"} <= set(real) & set(body)
    events = body["trackingEvents"]
    assert [e["eventCode"] for e in events] == ["01", "OF", "07", "A1", "A1", "03", "GX"]
    for event in events:
        assert set(event) == set(real["trackingEvents"][0])
        assert event["GMTOffset"] == "+02:00"
        assert event["GMTTimestamp"].endswith("Z")
    gmt = [e["GMTTimestamp"] for e in events]
    assert gmt == sorted(gmt, reverse=True)
    assert events[0]["name"] == journey_for("usps", number).signed_by


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_usps_adapter_reads_every_scenario_step_by_step(sandbox, scenario):
    # given a parcel of that scenario
    adapter = _adapter(sandbox)
    number = number_for_scenario("usps", scenario)

    # when the sandbox clock reaches each step, then the adapter follows the journey
    for index, step, shipment in walk_journey(sandbox, adapter, number):
        assert len(shipment.events) == index + 1
        assert result_state(shipment).status == step.status, f"{scenario} at {step.kind}"
        assert shipment.events[-1].location.country == "FR"
        assert shipment.events[-1].occurred_at == datetime.fromtimestamp(
            SUMMER_SUNDAY.timestamp() + step.offset * STEP, UTC
        )

    # and it ends where the scenario says, with a POD only for a delivery
    assert_journey_ended(shipment, FINAL[scenario])


def test_usps_adapter_reads_the_estimate_while_in_transit(sandbox):
    # given a parcel just announced
    number = number_for_scenario("usps", "delivered_mailbox")

    # when
    [shipment] = _track(_adapter(sandbox), [number]).shipments

    # then
    assert shipment.estimated_delivery == datetime.fromtimestamp(
        SUMMER_SUNDAY.timestamp() + 6 * STEP, UTC
    )


def test_usps_sandbox_token_accepts_a_form_too(sandbox):
    # given / when
    response = requests.post(
        f"{sandbox.url}/usps/oauth2/v3/token",
        data={"client_id": "a", "client_secret": "b", "grant_type": "client_credentials"},
        timeout=5,
    )

    # then
    assert response.status_code == 200
    assert response.json()["token_type"] == "Bearer"


def test_usps_sandbox_refuses_a_foreign_token(sandbox):
    # given / when
    response = requests.get(
        f"{sandbox.url}/usps/tracking/v3/tracking/{number_for_scenario('usps', 'stuck')}",
        headers={"Authorization": "Bearer forged"},
        timeout=5,
    )

    # then
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "401"
