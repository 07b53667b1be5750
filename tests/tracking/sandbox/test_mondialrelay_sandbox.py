"""The Mondial Relay sandbox over real HTTP, read by the real Mondial Relay adapter. No database."""

from __future__ import annotations

import re
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
from tracking.carriers.mondialrelay import MondialRelayAdapter
from tracking.sandbox.couriers.mondialrelay import SANDBOX_PRIVATE_KEY, relay_number
from tracking.sandbox.journeys import SCENARIOS, journey_for
from tracking.sandbox.numbers import number_for_scenario
from tracking.sandbox.server import make_app, run_in_thread
from tracking.status import result_state

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "carriers"
STEP = 60.0
START = 1_716_105_600.0  # 2024-05-19T08:00:00Z, summer time in Paris


class FakeClock:
    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def sandbox():
    with run_in_thread(make_app(clock=FakeClock(), step_seconds=STEP, seed=5)) as handle:
        yield handle


def _adapter(sandbox, private_key: str = SANDBOX_PRIVATE_KEY) -> MondialRelayAdapter:
    return MondialRelayAdapter(
        base_url=f"{sandbox.url}/mondialrelay", enseigne="BDTEST13", private_key=private_key
    )


def _client(**kwargs) -> CarrierHttpClient:
    return CarrierHttpClient(
        requests_per_second=0, sleep=lambda _s: None, backoff_seconds=0, **kwargs
    )


def _post(sandbox, number: str) -> requests.Response:
    return requests.post(
        f"{sandbox.url}/mondialrelay/Web_Services.asmx",
        data=_adapter(sandbox).soap_request(number).encode(),
        headers={"Content-Type": "text/xml; charset=utf-8"},
        timeout=5,
    )


def _element_names(body: bytes) -> list[str]:
    return re.findall(rb"<(\w+)[\s/>]", body)


# --- the emulated answers ---------------------------------------------------------------------


def test_mondialrelay_sandbox_answer_has_the_real_sample_shape(sandbox):
    # given a parcel collected at its pickup point
    number = number_for_scenario("mondialrelay", "delivered_pickup_point")
    _post(sandbox, number)
    sandbox.advance(20 * STEP)

    # when
    response = _post(sandbox, number)

    # then the element names are the real sample's, Tracing padded to 15 slots
    assert response.status_code == 200
    body = response.content
    real = (FIXTURES / "mondialrelay_wsi2_tracingcolisdetaille_in_progress_stat81.xml").read_bytes()
    assert set(_element_names(body)) == set(_element_names(real))
    assert body.count(b"<ret_WSI2_sub_TracingColisDetaille>") == 15
    assert b"<STAT>82</STAT>" in body
    journey = journey_for("mondialrelay", number)
    assert f"<Relais_Num>{relay_number(journey)}</Relais_Num>".encode() in body
    dates = re.findall(rb"<Date>(\d\d/\d\d/\d\d)</Date><Heure>(\d\d:\d\d)</Heure>", body)
    assert len(dates) == len(journey.steps)
    assert dates[0] == (b"19/05/24", b"10:00")  # 08:00 UTC is 10:00 in Paris in May


@pytest.mark.parametrize(
    ("number", "stat"), [("99000001", b"94"), ("1234", b"24"), ("ABCDEFGH", b"24")]
)
def test_mondialrelay_sandbox_error_stats(sandbox, number, stat):
    # given / when
    response = _post(sandbox, number)

    # then an error STAT alone, HTTP 200 as the real .asmx service
    assert response.status_code == 200
    assert b"<STAT>" + stat + b"</STAT>" in response.content
    assert b"<Tracing>" not in response.content


# --- the real adapter reads every scenario ----------------------------------------------------

# Mondial Relay gives no signatory: a home delivery cannot be "signed" (format gap).
FINAL = {
    "delivered_signed": ("delivered", None),
    "delivered_mailbox": ("delivered", "delivered.mailbox"),
    "delivered_pickup_point": ("delivered", "delivered.pickup_point"),
    "failed_attempt_then_delivered": ("delivered", None),
    "address_exception": ("exception", "exception.address_issue"),
    "returned_to_sender": ("exception", "exception.returned_to_sender"),
    "stuck": ("in_transit", None),
    "lost": ("exception", "exception.lost"),
}
GAPS = {"delivered": None}  # step kind -> the substatus Mondial Relay can express instead


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_mondialrelay_adapter_reads_every_scenario_step_by_step(sandbox, scenario):
    # given a parcel of that scenario, first seen now
    adapter = _adapter(sandbox)
    client = _client()
    number = number_for_scenario("mondialrelay", scenario)
    journey = journey_for("mondialrelay", number)
    adapter.track([number], client=client)

    # when the sandbox clock reaches each step, then the adapter's state is the step's own
    elapsed = 0.0
    for index, step in enumerate(journey.steps):
        sandbox.advance(step.offset * STEP - elapsed)
        elapsed = step.offset * STEP
        result, _ = adapter.track([number], client=client)
        assert result.errors == []
        [shipment] = result.shipments
        assert shipment.tracking_number == number
        assert len(shipment.events) == index + 1
        state = result_state(shipment)
        expected = GAPS.get(step.kind, step.substatus)
        assert (state.status, state.substatus) == (step.status, expected), step.kind

    # and it ends where the scenario says; a POD (date and place) only for a standing delivery
    assert (state.status, state.substatus) == FINAL[scenario]
    if state.status == "delivered":
        place = {"delivered.pickup_point": "pickup_point", "delivered.mailbox": "mailbox"}
        assert shipment.pod is not None
        assert shipment.pod.delivered_at == state.delivered_at
        assert shipment.pod.location_type == place.get(state.substatus, "")
    else:
        assert shipment.pod is None
    assert all(e.occurred_at.utcoffset().total_seconds() == 7200 for e in shipment.events)


def test_mondialrelay_adapter_reports_unknown_and_invalid_numbers(sandbox):
    # given a known, an unknown and a badly formed number
    known = number_for_scenario("mondialrelay", "stuck")

    # when
    result, answers = _adapter(sandbox).track([known, "99000001", "1234"], client=_client())

    # then each answer is given the number it was asked for
    assert len(answers) == 3
    assert [s.tracking_number for s in result.shipments] == [known]
    assert [(e.tracking_number, e.code) for e in result.errors] == [
        ("99000001", "not_found"),
        ("1234", "invalid_number"),
    ]


@pytest.mark.parametrize("private_key", ["", "wrong-key"])
def test_mondialrelay_adapter_without_the_right_key_raises_auth_error(sandbox, private_key):
    # given an adapter signing with a missing or wrong private key
    adapter = _adapter(sandbox, private_key=private_key)

    # when / then STAT 97 concerns the account: the courier is in fault
    with pytest.raises(CarrierAuthError):
        adapter.track([number_for_scenario("mondialrelay", "stuck")], client=_client())


def test_mondialrelay_adapter_without_enseigne_raises_auth_error(sandbox):
    # given no enseigne (STAT 2)
    adapter = MondialRelayAdapter(
        base_url=f"{sandbox.url}/mondialrelay", private_key=SANDBOX_PRIVATE_KEY
    )

    # when / then
    with pytest.raises(CarrierAuthError):
        adapter.track([number_for_scenario("mondialrelay", "stuck")], client=_client())


# --- faults ---------------------------------------------------------------------------------


def test_mondialrelay_sandbox_faults_become_carrier_faults(sandbox):
    # given the adapter and a known number
    adapter = _adapter(sandbox)
    number = number_for_scenario("mondialrelay", "stuck")
    client = _client(max_attempts=2)

    # when / then
    sandbox.faults.set({"error_500": 1.0})
    with pytest.raises(CarrierUnavailable):
        adapter.track([number], client=client)
    sandbox.faults.set({"error_429": 1.0, "retry_after_seconds": 60})
    with pytest.raises(CarrierRateLimited) as rate_limited:
        adapter.track([number], client=client)
    assert rate_limited.value.retry_after_seconds == 60
    sandbox.faults.set({"malformed": 1.0})
    with pytest.raises(CarrierPayloadError):
        adapter.track([number], client=client)
    sandbox.faults.clear()
    result, _ = adapter.track([number], client=client)
    assert [s.tracking_number for s in result.shipments] == [number]
