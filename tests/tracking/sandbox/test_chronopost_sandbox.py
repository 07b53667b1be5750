"""The Chronopost sandbox over real HTTP, read by the real Chronopost adapter. No database."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import requests

from tracking.carriers.base import CarrierPayloadError, CarrierRateLimited, CarrierUnavailable
from tracking.carriers.chronopost import ChronopostAdapter, soap_request
from tracking.carriers.http import CarrierHttpClient
from tracking.sandbox.couriers.chronopost import COURIER, s10_check_digit
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
    with run_in_thread(make_app(clock=FakeClock(), step_seconds=STEP, seed=3)) as handle:
        yield handle


def _adapter(sandbox) -> ChronopostAdapter:
    return ChronopostAdapter(
        base_url=f"{sandbox.url}/chronopost", account="sandbox-account", password="sandbox-pw"
    )


def _client(**kwargs) -> CarrierHttpClient:
    return CarrierHttpClient(
        requests_per_second=0, sleep=lambda _s: None, backoff_seconds=0, **kwargs
    )


def _post(sandbox, number: str) -> requests.Response:
    return requests.post(
        f"{sandbox.url}/chronopost/tracking-cxf/TrackingServiceWS",
        data=soap_request(number).encode(),
        headers={"Content-Type": "text/xml; charset=utf-8"},
        timeout=5,
    )


def _tags(element: ET.Element) -> list[str]:
    return [child.tag.rsplit("}", 1)[-1] for child in element]


# --- the emulated answers ---------------------------------------------------------------------


def test_chronopost_sandbox_answer_has_the_real_sample_shape(sandbox):
    # given a delivered parcel
    number = number_for_scenario("chronopost", "delivered_signed")
    _post(sandbox, number)
    sandbox.advance(20 * STEP)

    # when
    response = _post(sandbox, number)

    # then the envelope, the element names and their order are the real sample's
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/xml")
    # our own sandbox and our own fixture: trusted documents
    ours = ET.fromstring(response.content)  # noqa: S314
    real = ET.fromstring((FIXTURES / "chronopost_trackskybillv2_delivered.xml").read_bytes())  # noqa: S314
    our_list = ours.find(".//listEventInfoComp")
    real_list = real.find(".//listEventInfoComp")
    assert set(_tags(our_list)) == set(_tags(real_list)) == {"events", "skybillNumber"}
    assert _tags(our_list.find("events"))[:7] == _tags(real_list.find("events"))[:7]
    codes = [e.findtext("code") for e in our_list.findall("events")]
    assert codes == ["DC", "DB", "TS", "TS", "SD", "TA", "D"]
    dates = [e.findtext("eventDate") for e in our_list.findall("events")]
    assert all(d.endswith("+02:00") for d in dates)  # May: Paris summer time
    assert dates == sorted(dates)  # oldest first, as Chronopost sends them
    delivered = our_list.findall("events")[-1]
    assert delivered.findtext("infoCompList/name") == "Consignee's name"
    assert delivered.findtext("infoCompList/value") == journey_for("chronopost", number).signed_by


def test_chronopost_sandbox_numbers_carry_a_valid_s10_check_digit():
    # given / when
    number = COURIER.candidate(47312482)

    # then
    assert number == "XS473124829FR"
    assert s10_check_digit("47312482") == "9"
    assert COURIER.knows(number)
    assert not COURIER.knows("XU473124829FR")


# --- the real adapter reads every scenario ----------------------------------------------------

FINAL = {
    "delivered_signed": ("delivered", "delivered.signed"),
    "delivered_mailbox": ("delivered", "delivered.mailbox"),
    "delivered_pickup_point": ("delivered", "delivered.pickup_point"),
    "failed_attempt_then_delivered": ("delivered", "delivered.signed"),
    "address_exception": ("exception", "exception.address_issue"),
    "returned_to_sender": ("exception", "exception.returned_to_sender"),
    "stuck": ("in_transit", None),
    "lost": ("exception", "exception.lost"),
}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_chronopost_adapter_reads_every_scenario_step_by_step(sandbox, scenario):
    # given a parcel of that scenario, first seen now
    adapter = _adapter(sandbox)
    client = _client()
    number = number_for_scenario("chronopost", scenario)
    journey = journey_for("chronopost", number)
    adapter.track([number], client=client)

    # when the sandbox clock reaches each step, then the adapter's state is the step's own
    elapsed = 0.0
    for index, step in enumerate(journey.steps):
        sandbox.advance(step.offset * STEP - elapsed)
        elapsed = step.offset * STEP
        result, _ = adapter.track([number], client=client)
        assert result.errors == []
        [shipment] = result.shipments
        assert len(shipment.events) == index + 1
        state = result_state(shipment)
        assert (state.status, state.substatus) == (step.status, step.substatus), step.kind

    # and it ends where the scenario says, with a POD only for a delivery that stands
    assert (state.status, state.substatus) == FINAL[scenario]
    if state.status == "delivered":
        assert shipment.pod is not None
        assert shipment.pod.delivered_at == state.delivered_at
        signed = state.substatus == "delivered.signed"
        assert shipment.pod.signed_by == (journey.signed_by if signed else "")
        place = {"delivered.pickup_point": "pickup_point", "delivered.mailbox": "mailbox"}
        assert shipment.pod.location_type == place.get(state.substatus, "")
    else:
        assert shipment.pod is None
    # every event has a French place except the electronic announcement
    assert shipment.events[0].location.city == ""
    assert all(e.location.country == "FR" for e in shipment.events[1:])


def test_chronopost_adapter_reports_unknown_and_invalid_numbers(sandbox):
    # given a well-formed unknown number and a badly formed one
    known = number_for_scenario("chronopost", "stuck")

    # when
    result, responses = _adapter(sandbox).track(
        [known, "XU000000015FR", "NOT-A-NUMBER"], client=_client()
    )

    # then Chronopost answers both with an empty success: "not found" for each
    assert len(responses) == 3
    assert [s.tracking_number for s in result.shipments] == [known]
    assert [(e.tracking_number, e.code) for e in result.errors] == [
        ("XU000000015FR", "not_found"),
        ("NOT-A-NUMBER", "not_found"),
    ]


def test_chronopost_sandbox_needs_no_credentials_like_the_real_operation(sandbox):
    # given an adapter without account or password: trackSkybillV2 takes none, so there is no
    # "missing auth" answer to turn into CarrierAuthError (documented gap of the format)
    adapter = ChronopostAdapter(base_url=f"{sandbox.url}/chronopost")
    number = number_for_scenario("chronopost", "stuck")

    # when
    result, _ = adapter.track([number], client=_client())

    # then
    assert [s.tracking_number for s in result.shipments] == [number]


def test_chronopost_sandbox_rejects_a_request_that_is_not_track_skybill(sandbox):
    # given a SOAP body for another operation
    response = requests.post(
        f"{sandbox.url}/chronopost/tracking-cxf/TrackingServiceWS",
        data=b"<soapenv:Envelope><soapenv:Body><cancelSkybill/></soapenv:Body></soapenv:Envelope>",
        timeout=5,
    )

    # when
    result = ChronopostAdapter(base_url="unused").parse(response.content)

    # then the real "System Error" answer
    assert response.status_code == 200
    assert [(e.code, e.message) for e in result.errors] == [("courier_error", "System Error")]


# --- faults ---------------------------------------------------------------------------------


def test_chronopost_sandbox_faults_become_carrier_faults(sandbox):
    # given the adapter and a known number
    adapter = _adapter(sandbox)
    number = number_for_scenario("chronopost", "stuck")
    client = _client(max_attempts=2)

    # when / then a 500 SOAP fault, after the retry, is "unavailable"
    sandbox.faults.set({"error_500": 1.0})
    with pytest.raises(CarrierUnavailable):
        adapter.track([number], client=client)
    # a 429 with a long Retry-After is "rate limited", with the pause asked
    sandbox.faults.set({"error_429": 1.0, "retry_after_seconds": 60})
    with pytest.raises(CarrierRateLimited) as rate_limited:
        adapter.track([number], client=client)
    assert rate_limited.value.retry_after_seconds == 60
    # a body cut in half is a payload error
    sandbox.faults.set({"malformed": 1.0})
    with pytest.raises(CarrierPayloadError):
        adapter.track([number], client=client)
    # and once the faults clear, it reads again
    sandbox.faults.clear()
    result, _ = adapter.track([number], client=client)
    assert [s.tracking_number for s in result.shipments] == [number]
