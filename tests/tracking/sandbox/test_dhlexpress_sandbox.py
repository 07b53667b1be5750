"""The DHL Express (MyDHL API) sandbox over real HTTP, read by the real adapter. No database."""

from __future__ import annotations

import base64
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
from tracking.carriers.dhlexpress import STATUS_MAP, DhlExpressAdapter
from tracking.carriers.http import CarrierHttpClient
from tracking.sandbox.couriers.dhlexpress import (
    DEPARTED_HUB,
    DHLEXPRESS_EVENTS,
    DhlExpressSandbox,
    dhlexpress_check_digit,
)
from tracking.sandbox.journeys import SCENARIOS, journey_for
from tracking.sandbox.numbers import number_for_scenario
from tracking.sandbox.server import make_app, run_in_thread
from tracking.status import Status, Substatus, result_state

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "carriers"
STEP = 60.0
START = 1_716_105_600.0  # 2024-05-19T08:00:00Z, summer time in Paris

# Final (status, substatus) of each scenario as the adapter reads it: DHL Express says how a
# parcel was handed over in its OK description and signedBy, so every substatus is checked.
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
    with run_in_thread(make_app(clock=FakeClock(), step_seconds=STEP, seed=3)) as handle:
        yield handle


def _adapter(sandbox, **credentials) -> DhlExpressAdapter:
    credentials = credentials or {"username": "sandbox-user", "password": "sandbox-pass"}
    return DhlExpressAdapter(base_url=f"{sandbox.url}/dhlexpress", **credentials)


def _client(**kwargs) -> CarrierHttpClient:
    options = {"requests_per_second": 0, "sleep": lambda _s: None, "backoff_seconds": 0}
    options.update(kwargs)
    return CarrierHttpClient(**options)


def _track(adapter, number):
    result, _answers = adapter.track([number], client=_client())
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
    real = json.loads((FIXTURES / "dhl_mydhl_express_delivered_synthetic.json").read_text())
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
    journey = journey_for("dhlexpress", number)
    _track(adapter, number)

    # when the sandbox clock reaches each step, then the adapter follows the journey
    elapsed = 0.0
    for index, step in enumerate(journey.steps):
        sandbox.advance(step.offset * STEP - elapsed)
        elapsed = step.offset * STEP
        result = _track(adapter, number)
        assert result.errors == []
        [shipment] = result.shipments
        assert shipment.tracking_number == number
        # the announcement is one "information received" event until the first scan replaces it
        assert len(shipment.events) == max(index, 1)
        assert result_state(shipment).status == step.status, f"{scenario} at {step.kind}"
        assert all(e.location.country == "FR" for e in shipment.events)
        # with or without GMTOffset, every time is Paris time (summer: +02:00)
        assert {e.occurred_at.utcoffset().total_seconds() for e in shipment.events} == {7200}

    # and it ends where the scenario says, with a POD only for a delivery
    status, substatus = FINAL[scenario]
    assert (result_state(shipment).status, result_state(shipment).substatus) == (status, substatus)
    if status == Status.DELIVERED:
        assert shipment.pod is not None
        assert shipment.pod.delivered_at == result_state(shipment).delivered_at
        assert shipment.estimated_delivery is None
    else:
        assert shipment.pod is None


def test_dhlexpress_adapter_reads_the_pod_of_each_delivery_kind(sandbox):
    # given the three kinds of delivery, once delivered, tracked in one batch
    adapter = _adapter(sandbox)
    numbers = {
        name: number_for_scenario("dhlexpress", name)
        for name in ("delivered_signed", "delivered_mailbox", "delivered_pickup_point")
    }
    adapter.track(list(numbers.values()), client=_client())
    sandbox.advance(20 * STEP)

    # when
    result, answers = adapter.track(list(numbers.values()), client=_client())

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
    assert shipment.estimated_delivery == datetime.fromtimestamp(START + 6 * STEP, UTC)
    assert shipment.estimated_delivery.utcoffset().total_seconds() == 7200
    [announced] = shipment.events
    assert (announced.code, announced.status) == ("pre-transit", Status.INFO_RECEIVED)


def test_dhlexpress_adapter_reports_unknown_and_invalid_numbers(sandbox):
    # given an unknown well-formed number and a malformed one, next to a known one
    adapter = _adapter(sandbox)
    known = number_for_scenario("dhlexpress", "stuck")

    # when
    result, answers = adapter.track([known, "9912345671", "12345"], client=_client())

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
    result, _answers = adapter.track(["9912345671", "9900000003"], client=_client())

    # then each gets the not-found error
    assert result.shipments == []
    assert sorted((e.tracking_number, e.code) for e in result.errors) == [
        ("9900000003", "not_found"),
        ("9912345671", "not_found"),
    ]


# --- auth and faults ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "credentials", [{"username": "", "password": ""}, {"username": "user", "password": ""}]
)
def test_dhlexpress_adapter_without_credentials_raises_auth_error(sandbox, credentials):
    # given missing credentials
    adapter = _adapter(sandbox, **credentials)

    # when / then: refused before any call
    with pytest.raises(CarrierAuthError):
        adapter.track([number_for_scenario("dhlexpress", "stuck")], client=_client())


def test_dhlexpress_sandbox_refuses_requests_without_basic_auth(sandbox):
    # given a request with a bearer token instead of Basic credentials
    number = number_for_scenario("dhlexpress", "stuck")
    url = f"{sandbox.url}/dhlexpress/shipments/{number}/tracking"

    # when
    response = requests.get(url, headers={"Authorization": "Bearer x"}, timeout=5)

    # then
    assert response.status_code == 401
    assert response.json()["status"] == "401"


def test_dhlexpress_adapter_turns_sandbox_faults_into_carrier_faults(sandbox):
    # given an adapter and a number
    adapter = _adapter(sandbox)
    number = number_for_scenario("dhlexpress", "stuck")
    client = _client(max_attempts=2)

    # when / then: 500, 429 (long Retry-After) and a cut body
    sandbox.faults.set({"error_500": 1.0})
    with pytest.raises(CarrierUnavailable):
        adapter.track([number], client=client)
    sandbox.faults.set({"error_429": 1.0, "retry_after_seconds": 60})
    with pytest.raises(CarrierRateLimited) as limited:
        adapter.track([number], client=client)
    assert limited.value.retry_after_seconds == 60
    sandbox.faults.set({"malformed": 1.0})
    with pytest.raises(CarrierPayloadError):
        adapter.track([number], client=client)
