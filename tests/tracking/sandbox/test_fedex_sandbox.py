"""The FedEx sandbox over real HTTP, read by the real FedEx adapter. No database."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import requests

from devtools.sandbox.couriers.fedex import FEDEX_SCANS, FedexSandbox, fedex_check_digit
from devtools.sandbox.journeys import SCENARIOS, journey_for
from devtools.sandbox.numbers import number_for_scenario
from tests.support.clock import SUMMER_SUNDAY
from tests.support.http import carrier_http_client
from tests.support.sandbox import JOURNEY_FINALS, STEP, assert_journey_ended, walk_journey
from tests.support.shared_data import read_carrier_sample
from tracking.carriers.fedex import DERIVED_STATUS_MAP, STATUS_MAP, FedexAdapter
from tracking.status import result_state

# The dates these tests assert on are the ones couriers render on this summer Sunday.
pytestmark = pytest.mark.sandbox(at=SUMMER_SUNDAY)


# Final (status, substatus) of each scenario as the FedEx adapter reads it. deliveryDetails say
# how the parcel was handed over, so every substatus is checked; "lost" is a Shipment Exception
# whose text says the package cannot be located; "returned" a delivery after Return to Shipper.
FINAL = JOURNEY_FINALS


def _adapter(sandbox, **credentials) -> FedexAdapter:
    credentials = credentials or {"client_id": "sandbox-id", "client_secret": "sandbox-secret"}
    return FedexAdapter(base_url=f"{sandbox.url}/fedex", **credentials)


def _track(adapter, numbers):
    result, _answers = adapter.track(numbers, client=carrier_http_client())
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
    headers = {"Authorization": f"Bearer {adapter.tokens.get(carrier_http_client())}"}
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
    real = json.loads(read_carrier_sample("fedex_track_v1_delivered.json").decode())
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
        headers={"Authorization": f"Bearer {adapter.tokens.get(carrier_http_client())}"},
        timeout=5,
    )

    # then, while the adapter itself splits them into two requests
    assert response.status_code == 400
    result, answers = adapter.track(numbers, client=carrier_http_client())
    assert len(answers) == 2
    assert sorted(s.tracking_number for s in result.shipments) == sorted(numbers)


# --- the real adapter, step by step ---------------------------------------------------------


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_fedex_adapter_reads_every_scenario_step_by_step(sandbox, scenario):
    # given a parcel of that scenario
    adapter = _adapter(sandbox)
    number = number_for_scenario("fedex", scenario)

    # when the sandbox clock reaches each step, then the adapter follows the journey
    for index, step, shipment in walk_journey(sandbox, adapter, number):
        assert len(shipment.events) == index + 1
        assert result_state(shipment).status == step.status, f"{scenario} at {step.kind}"
        assert shipment.events[-1].location.country == "FR"

    # and it ends where the scenario says, with a POD only for a delivery
    assert_journey_ended(shipment, FINAL[scenario])


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
    planned = datetime.fromtimestamp(SUMMER_SUNDAY.timestamp() + 6 * STEP, UTC)
    assert by_number[travelling].estimated_delivery == planned


# --- auth and faults ------------------------------------------------------------------------


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
