"""The DPD sandbox over real HTTP, read by the real DPD adapter. No database."""

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
from tracking.carriers.dpd import DpdAdapter
from tracking.carriers.http import CarrierHttpClient
from tracking.detection.checksums import mod_37_36_check
from tracking.sandbox.couriers.dpd import SANDBOX_PASSWORD, sandbox_token
from tracking.sandbox.journeys import SCENARIOS, journey_for
from tracking.sandbox.numbers import number_for_scenario
from tracking.sandbox.server import make_app, run_in_thread
from tracking.status import result_state

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "carriers"
STEP = 60.0
START = 1_716_105_600.0  # 2024-05-19T08:00:00Z, summer time in Paris
DELIS_ID = "sandbox-delis_id"


class FakeClock:
    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def sandbox():
    with run_in_thread(make_app(clock=FakeClock(), step_seconds=STEP, seed=5)) as handle:
        yield handle


def _adapter(sandbox, password: str = SANDBOX_PASSWORD) -> DpdAdapter:
    return DpdAdapter(base_url=f"{sandbox.url}/dpd", delis_id=DELIS_ID, password=password)


def _client(**kwargs) -> CarrierHttpClient:
    return CarrierHttpClient(
        requests_per_second=0, sleep=lambda _s: None, backoff_seconds=0, **kwargs
    )


def _post(sandbox, number: str) -> requests.Response:
    # the adapter's envelope, with the number exactly as given (the adapter drops a check
    # character before sending)
    envelope = _adapter(sandbox).tracking_request("NUMBER", sandbox_token(DELIS_ID))
    return requests.post(
        f"{sandbox.url}/dpd/soap/services/ParcelLifeCycleService/V2_0",
        data=envelope.replace(">NUMBER<", f">{number}<").encode(),
        headers={"Content-Type": "text/xml; charset=utf-8"},
        timeout=5,
    )


def _element_names(body: bytes) -> set[bytes]:
    return set(re.findall(rb"<(\w+)[\s/>]", body))


# --- the emulated answers ---------------------------------------------------------------------


def test_dpd_sandbox_answer_has_the_real_sample_shape(sandbox):
    # given a parcel collected at its Pickup parcelshop
    number = number_for_scenario("dpd", "delivered_pickup_point")
    _post(sandbox, number)
    sandbox.advance(20 * STEP)

    # when
    response = _post(sandbox, number)

    # then the real sample's elements (plus the reason items the XSD allows), US dates
    assert response.status_code == 200
    body = response.content
    real = (FIXTURES / "dpd_parcellifecycle_returning_from_delivery.xml").read_bytes()
    assert _element_names(body) == _element_names(real)
    journey = journey_for("dpd", number)
    dates = re.findall(rb"<date><content>([^<]+)</content>", body)
    assert len(dates) == len(journey.steps)
    assert dates[0] == b"5/19/2024 10:00:00 AM"  # 08:00 UTC is 10:00 in Paris in May
    assert body.count(b"<isCurrentStatus>true</isCurrentStatus>") == 1
    assert b"<statusHasBeenReached>false</statusHasBeenReached><isCurrentStatus>" in body
    assert f"({journey.destination.country})".encode() in body


def test_dpd_sandbox_shows_the_delivery_still_to_come_greyed(sandbox):
    # given a parcel only announced
    number = number_for_scenario("dpd", "stuck")

    # when
    body = _post(sandbox, number).content

    # then a reached ACCEPTED step and an unreached Delivered one (no date)
    assert body.count(b"<statusInfo>") == 2
    assert b"<status>ACCEPTED</status>" in body
    assert body.count(b"<date>") == 1


@pytest.mark.parametrize(
    ("number", "fault"),
    [
        ("99000000000001", b"PARCEL_NOT_FOUND"),
        ("1234", b"INVALID_PARCEL_LABEL_NUMBER"),
        ("0530880141005X", b"INVALID_PARCEL_LABEL_NUMBER"),
    ],
)
def test_dpd_sandbox_number_faults(sandbox, number, fault):
    # given / when
    response = _post(sandbox, number)

    # then an HTTP 500 SOAP fault with a faults detail, as DPD answers
    assert response.status_code == 500
    assert b"<soap:Fault>" in response.content
    assert b"<faultCode>" + fault + b"</faultCode>" in response.content


def test_dpd_sandbox_verifies_the_check_character(sandbox):
    # given a number with its valid check character, and with a wrong one
    number = number_for_scenario("dpd", "stuck")
    check = mod_37_36_check(number)
    wrong = "0" if check != "0" else "1"

    # when / then the valid one is the same parcel, the wrong one is invalid
    assert _post(sandbox, number + check).status_code == 200
    assert _post(sandbox, number + wrong).status_code == 500


# --- the real adapter reads every scenario ----------------------------------------------------

# getTrackingData gives no signatory: a home delivery cannot be "signed" (format gap).
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
GAPS = {"delivered": None}  # step kind -> the substatus DPD can express instead


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_dpd_adapter_reads_every_scenario_step_by_step(sandbox, scenario):
    # given a parcel of that scenario, first seen now
    adapter = _adapter(sandbox)
    client = _client()
    number = number_for_scenario("dpd", scenario)
    journey = journey_for("dpd", number)
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
        assert len(shipment.events) == index + 1  # the greyed Delivered step is skipped
        state = result_state(shipment)
        expected = GAPS.get(step.kind, step.substatus)
        assert (state.status, state.substatus) == (step.status, expected), step.kind
        assert shipment.events[-1].location.city == step.place.city

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
    assert journey.steps[0].place.country == "FR"


def test_dpd_adapter_reports_unknown_and_invalid_numbers(sandbox):
    # given a known, an unknown and a badly formed number
    known = number_for_scenario("dpd", "stuck")

    # when
    result, answers = _adapter(sandbox).track([known, "99000000000001", "1234"], client=_client())

    # then each answer is given the number it was asked for
    assert len(answers) == 3
    assert [s.tracking_number for s in result.shipments] == [known]
    assert [(e.tracking_number, e.code) for e in result.errors] == [
        ("99000000000001", "not_found"),
        ("1234", "invalid_number"),
    ]


@pytest.mark.parametrize("password", ["", "wrong-password"])
def test_dpd_adapter_without_the_right_password_raises_auth_error(sandbox, password):
    # given an adapter with a missing or wrong password
    adapter = _adapter(sandbox, password=password)

    # when / then getAuth's fault concerns the account: the courier is in fault
    with pytest.raises(CarrierAuthError):
        adapter.track([number_for_scenario("dpd", "stuck")], client=_client())


def test_dpd_adapter_replaces_a_token_the_sandbox_refuses(sandbox):
    # given an adapter holding a token DPD does not (or no longer) know, not yet expired
    adapter = _adapter(sandbox)
    client = _client()
    number = number_for_scenario("dpd", "stuck")
    adapter.track([number], client=client)
    adapter._token = "REVOKED"  # what a revocation on DPD's side looks like from here

    # when
    result, _ = adapter.track([number], client=client)

    # then it logged in again and got the answer
    assert [s.tracking_number for s in result.shipments] == [number]
    assert adapter._token == sandbox_token(DELIS_ID)


# --- faults ---------------------------------------------------------------------------------


def test_dpd_sandbox_faults_become_carrier_faults(sandbox):
    # given the adapter, logged in, and a known number
    adapter = _adapter(sandbox)
    number = number_for_scenario("dpd", "stuck")
    client = _client(max_attempts=2)
    adapter.track([number], client=client)

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


def test_dpd_sandbox_login_faults_become_carrier_faults(sandbox):
    # given an adapter not logged in yet
    number = number_for_scenario("dpd", "stuck")

    # when / then the login service fails as the tracking service does
    sandbox.faults.set({"error_500": 1.0})
    with pytest.raises(CarrierUnavailable):
        _adapter(sandbox).track([number], client=_client(max_attempts=1))
    sandbox.faults.set({"malformed": 1.0})
    with pytest.raises(CarrierPayloadError):
        _adapter(sandbox).track([number], client=_client(max_attempts=1))
