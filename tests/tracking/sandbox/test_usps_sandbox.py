"""The USPS sandbox over real HTTP, read by the real USPS adapter. No database."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from tracking.carriers.base import (
    CarrierAuthError,
    CarrierPayloadError,
    CarrierRateLimited,
    CarrierUnavailable,
)
from tracking.carriers.http import CarrierHttpClient
from tracking.carriers.usps import STATUS_MAP, UspsAdapter
from tracking.sandbox.couriers.usps import USPS_EVENTS, UspsSandbox, usps_check_digit
from tracking.sandbox.journeys import SCENARIOS, journey_for
from tracking.sandbox.numbers import number_for_scenario
from tracking.sandbox.server import make_app, run_in_thread
from tracking.status import Status, Substatus, result_state

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "carriers"
STEP = 60.0
START = 1_716_105_600.0  # 2024-05-19T08:00:00Z, summer time in Paris

# Final (status, substatus) of each scenario as the USPS adapter reads it. The delivered eventType
# text says how ("Left with Individual", "In/At Mailbox", "Individual Picked Up at Post Office");
# "lost" is rendered as a Dead Letter (11), USPS having no "lost" scan.
FINAL = {
    "delivered_signed": (Status.DELIVERED, Substatus.DELIVERED_SIGNED),
    "delivered_mailbox": (Status.DELIVERED, Substatus.DELIVERED_MAILBOX),
    "delivered_pickup_point": (Status.DELIVERED, Substatus.DELIVERED_PICKUP_POINT),
    "failed_attempt_then_delivered": (Status.DELIVERED, Substatus.DELIVERED_SIGNED),
    "address_exception": (Status.EXCEPTION, Substatus.EXCEPTION_ADDRESS_ISSUE),
    "returned_to_sender": (Status.EXCEPTION, Substatus.EXCEPTION_RETURNED_TO_SENDER),
    "stuck": (Status.IN_TRANSIT, None),
    "lost": (Status.EXCEPTION, Substatus.EXCEPTION_LOST),
}


class FakeClock:
    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def sandbox():
    with run_in_thread(make_app(clock=FakeClock(), step_seconds=STEP, seed=9)) as handle:
        yield handle


def _adapter(sandbox, **credentials) -> UspsAdapter:
    credentials = credentials or {"client_id": "sandbox-id", "client_secret": "sandbox-secret"}
    return UspsAdapter(base_url=f"{sandbox.url}/usps", **credentials)


def _client(**kwargs) -> CarrierHttpClient:
    options = {"requests_per_second": 0, "sleep": lambda _s: None, "backoff_seconds": 0}
    options.update(kwargs)
    return CarrierHttpClient(**options)


def _track(adapter, numbers):
    result, _answers = adapter.track(numbers, client=_client())
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
    headers = {"Authorization": f"Bearer {adapter.tokens.get(_client())}"}
    url = f"{sandbox.url}/usps/tracking/v3/tracking/{number}"
    requests.get(url, params={"expand": "DETAIL"}, headers=headers, timeout=5)
    sandbox.advance(20 * STEP)

    # when
    body = requests.get(url, params={"expand": "DETAIL"}, headers=headers, timeout=5).json()

    # then the sample's fields, events newest first with local, GMT and offset times
    real = json.loads((FIXTURES / "usps_tracking_v3_delivered.json").read_text())
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
    journey = journey_for("usps", number)
    _track(adapter, [number])

    # when the sandbox clock reaches each step, then the adapter follows the journey
    elapsed = 0.0
    for index, step in enumerate(journey.steps):
        sandbox.advance(step.offset * STEP - elapsed)
        elapsed = step.offset * STEP
        result = _track(adapter, [number])
        assert result.errors == []
        [shipment] = result.shipments
        assert shipment.tracking_number == number
        assert len(shipment.events) == index + 1
        assert result_state(shipment).status == step.status, f"{scenario} at {step.kind}"
        assert shipment.events[-1].location.country == "FR"
        assert shipment.events[-1].occurred_at == datetime.fromtimestamp(
            START + step.offset * STEP, UTC
        )

    # and it ends where the scenario says, with a POD only for a delivery
    status, substatus = FINAL[scenario]
    assert (result_state(shipment).status, result_state(shipment).substatus) == (status, substatus)
    if status == Status.DELIVERED:
        assert shipment.pod is not None
        assert shipment.pod.delivered_at == result_state(shipment).delivered_at
    else:
        assert shipment.pod is None


def test_usps_adapter_reads_the_estimate_while_in_transit(sandbox):
    # given a parcel just announced
    number = number_for_scenario("usps", "delivered_mailbox")

    # when
    [shipment] = _track(_adapter(sandbox), [number]).shipments

    # then
    assert shipment.estimated_delivery == datetime.fromtimestamp(START + 6 * STEP, UTC)


def test_usps_adapter_reports_unknown_and_invalid_numbers(sandbox):
    # given a known number, an unknown one and a malformed one
    adapter = _adapter(sandbox)
    known = number_for_scenario("usps", "stuck")

    # when
    result = _track(adapter, [known, "9499999999999999999995", "123"])

    # then
    assert [s.tracking_number for s in result.shipments] == [known]
    assert [(e.tracking_number, e.code) for e in result.errors] == [
        ("9499999999999999999995", "not_found"),
        ("123", "invalid_number"),
    ]


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


@pytest.mark.parametrize(
    "credentials",
    [{"client_id": "", "client_secret": ""}, {"client_id": "id", "client_secret": ""}],
)
def test_usps_adapter_without_credentials_raises_auth_error(sandbox, credentials):
    # given / when / then
    with pytest.raises(CarrierAuthError):
        _adapter(sandbox, **credentials).track(
            [number_for_scenario("usps", "stuck")], client=_client()
        )


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


def test_usps_adapter_turns_sandbox_faults_into_carrier_faults(sandbox):
    # given
    adapter = _adapter(sandbox)
    number = number_for_scenario("usps", "stuck")
    client = _client(max_attempts=2)

    # when / then
    sandbox.faults.set({"error_500": 1.0})
    with pytest.raises(CarrierUnavailable):
        adapter.track([number], client=client)
    sandbox.faults.set({"error_429": 1.0, "retry_after_seconds": 60})
    with pytest.raises(CarrierRateLimited) as limited:
        adapter.track([number], client=client)
    assert limited.value.retry_after_seconds == 60
    sandbox.faults.set({"malformed": 1.0})
    with pytest.raises(CarrierPayloadError):
        adapter.track([number], client=client)  # the token answer arrives cut
    sandbox.faults.clear()
    adapter.tokens.get(client)
    sandbox.faults.set({"malformed": 1.0})
    with pytest.raises(CarrierPayloadError):
        adapter.track([number], client=client)  # the tracking answer arrives cut
