"""The FedEx sandbox over real HTTP, read by the real FedEx adapter. No database."""

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
from tracking.carriers.fedex import DERIVED_STATUS_MAP, STATUS_MAP, FedexAdapter
from tracking.carriers.http import CarrierHttpClient
from tracking.sandbox.couriers.fedex import FEDEX_SCANS, FedexSandbox, fedex_check_digit
from tracking.sandbox.journeys import SCENARIOS, journey_for
from tracking.sandbox.numbers import number_for_scenario
from tracking.sandbox.server import make_app, run_in_thread
from tracking.status import Status, Substatus, result_state

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "carriers"
STEP = 60.0
START = 1_716_105_600.0  # 2024-05-19T08:00:00Z, summer time in Paris

# Final (status, substatus) of each scenario as the FedEx adapter reads it. deliveryDetails say
# how the parcel was handed over, so every substatus is checked; "lost" is a Shipment Exception
# whose text says the package cannot be located; "returned" a delivery after Return to Shipper.
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
    with run_in_thread(make_app(clock=FakeClock(), step_seconds=STEP, seed=5)) as handle:
        yield handle


def _adapter(sandbox, **credentials) -> FedexAdapter:
    credentials = credentials or {"client_id": "sandbox-id", "client_secret": "sandbox-secret"}
    return FedexAdapter(base_url=f"{sandbox.url}/fedex", **credentials)


def _client(**kwargs) -> CarrierHttpClient:
    options = {"requests_per_second": 0, "sleep": lambda _s: None, "backoff_seconds": 0}
    options.update(kwargs)
    return CarrierHttpClient(**options)


def _track(adapter, numbers):
    result, _answers = adapter.track(numbers, client=_client())
    return result


# --- the format ---------------------------------------------------------------------------


def test_fedex_sandbox_numbers_carry_a_valid_check_digit():
    # given the numbers the sandbox hands out for each scenario
    numbers = [number_for_scenario("fedex", name) for name in SCENARIOS]

    # when / then
    adapter = FedexAdapter(base_url="https://x")
    for number in numbers:
        assert adapter.matches(number)
        assert number[-1] == fedex_check_digit(number[:-1])
    assert fedex_check_digit("73848888243") == "8"  # FedEx's real sample number
    assert FedexSandbox().is_unknown("999999999999")


def test_fedex_sandbox_codes_are_in_the_adapters_tables():
    # given / when / then
    for event_type, derived, *_rest in FEDEX_SCANS.values():
        assert event_type in STATUS_MAP
        assert derived in DERIVED_STATUS_MAP


def test_fedex_sandbox_answer_has_the_sample_shape(sandbox):
    # given a delivered parcel
    adapter = _adapter(sandbox)
    number = number_for_scenario("fedex", "delivered_signed")
    headers = {"Authorization": f"Bearer {adapter.tokens.get(_client())}"}
    body = {
        "includeDetailedScans": True,
        "trackingInfo": [{"trackingNumberInfo": {"trackingNumber": number}}],
    }
    url = f"{sandbox.url}/fedex/track/v1/trackingnumbers"
    requests.post(url, json=body, headers=headers, timeout=5)
    sandbox.advance(20 * STEP)

    # when
    answer = requests.post(url, json=body, headers=headers, timeout=5).json()

    # then the blocks of FedEx's real sample, scans newest first
    real = json.loads((FIXTURES / "fedex_track_v1_delivered.json").read_text())
    real_result = real["output"]["completeTrackResults"][0]["trackResults"][0]
    [complete] = answer["output"]["completeTrackResults"]
    [result] = complete["trackResults"]
    assert complete["trackingNumber"] == number
    for key in ("trackingNumberInfo", "latestStatusDetail", "dateAndTimes", "scanEvents"):
        assert key in result and key in real_result
    scans = result["scanEvents"]
    assert [s["eventType"] for s in scans] == ["DL", "OD", "AR", "AR", "AR", "PU", "OC"]
    assert set(scans[0]) <= set(real_result["scanEvents"][0])
    assert scans[0]["date"].endswith("+02:00")
    assert datetime.fromisoformat(scans[-2]["date"]).tzinfo is None  # the bare pickup time
    assert result["deliveryDetails"]["receivedByName"] == journey_for("fedex", number).signed_by
    assert result["availableImages"] == [{"type": "SIGNATURE_PROOF_OF_DELIVERY"}]


def test_fedex_sandbox_refuses_more_than_thirty_numbers(sandbox):
    # given 31 numbers in one request
    adapter = _adapter(sandbox)
    numbers = [number_for_scenario("fedex", "stuck", i) for i in range(31)]
    body = {"trackingInfo": [{"trackingNumberInfo": {"trackingNumber": n}} for n in numbers]}

    # when
    response = requests.post(
        f"{sandbox.url}/fedex/track/v1/trackingnumbers",
        json=body,
        headers={"Authorization": f"Bearer {adapter.tokens.get(_client())}"},
        timeout=5,
    )

    # then, while the adapter itself splits them into two requests
    assert response.status_code == 400
    result, answers = adapter.track(numbers, client=_client())
    assert len(answers) == 2
    assert sorted(s.tracking_number for s in result.shipments) == sorted(numbers)


# --- the real adapter, step by step ---------------------------------------------------------


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_fedex_adapter_reads_every_scenario_step_by_step(sandbox, scenario):
    # given a parcel of that scenario
    adapter = _adapter(sandbox)
    number = number_for_scenario("fedex", scenario)
    journey = journey_for("fedex", number)
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

    # and it ends where the scenario says, with a POD only for a delivery
    status, substatus = FINAL[scenario]
    assert (result_state(shipment).status, result_state(shipment).substatus) == (status, substatus)
    if status == Status.DELIVERED:
        assert shipment.pod is not None
        assert shipment.pod.delivered_at == result_state(shipment).delivered_at
    else:
        assert shipment.pod is None


def test_fedex_adapter_reads_pods_and_estimates_in_one_batch(sandbox):
    # given three deliveries and a parcel still travelling, tracked together
    adapter = _adapter(sandbox)
    delivered = {
        name: number_for_scenario("fedex", name)
        for name in ("delivered_signed", "delivered_mailbox", "delivered_pickup_point")
    }
    travelling = number_for_scenario("fedex", "stuck")
    _track(adapter, [*delivered.values(), travelling])
    sandbox.advance(20 * STEP)

    # when
    result = _track(adapter, [*delivered.values(), travelling])

    # then
    by_number = {s.tracking_number: s for s in result.shipments}
    signed = by_number[delivered["delivered_signed"]].pod
    assert signed.signed_by == journey_for("fedex", delivered["delivered_signed"]).signed_by
    assert signed.documents == ("signature_proof_of_delivery",)
    assert by_number[delivered["delivered_mailbox"]].pod.location_type == "mailbox"
    assert by_number[delivered["delivered_pickup_point"]].pod.location_type == "pickup_point"
    planned = datetime.fromtimestamp(START + 6 * STEP, UTC)
    assert by_number[travelling].estimated_delivery == planned


def test_fedex_adapter_reports_unknown_numbers(sandbox):
    # given an unknown number and a malformed one next to a known one
    adapter = _adapter(sandbox)
    known = number_for_scenario("fedex", "stuck")

    # when
    result = _track(adapter, [known, "999999999999", "ABC"])

    # then
    assert [s.tracking_number for s in result.shipments] == [known]
    assert [(e.tracking_number, e.code) for e in result.errors] == [
        ("999999999999", "not_found"),
        ("ABC", "not_found"),
    ]


# --- auth and faults ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "credentials",
    [{"client_id": "", "client_secret": ""}, {"client_id": "id", "client_secret": ""}],
)
def test_fedex_adapter_without_credentials_raises_auth_error(sandbox, credentials):
    # given missing credentials
    adapter = _adapter(sandbox, **credentials)

    # when / then
    with pytest.raises(CarrierAuthError):
        adapter.track([number_for_scenario("fedex", "stuck")], client=_client())


def test_fedex_sandbox_refuses_a_foreign_token(sandbox):
    # given / when
    response = requests.post(
        f"{sandbox.url}/fedex/track/v1/trackingnumbers",
        json={"trackingInfo": [{"trackingNumberInfo": {"trackingNumber": "123456789012"}}]},
        headers={"Authorization": "Bearer forged"},
        timeout=5,
    )

    # then
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "NOT.AUTHORIZED.ERROR"


def test_fedex_adapter_turns_sandbox_faults_into_carrier_faults(sandbox):
    # given an adapter and a number
    adapter = _adapter(sandbox)
    number = number_for_scenario("fedex", "stuck")
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
        adapter.track([number], client=client)  # the track answer arrives cut
