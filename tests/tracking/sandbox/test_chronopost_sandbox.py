"""The Chronopost sandbox over real HTTP, read by the real Chronopost adapter. No database."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
import requests

from devtools.sandbox.couriers.chronopost import COURIER, s10_check_digit
from devtools.sandbox.journeys import SCENARIOS, journey_for
from devtools.sandbox.numbers import number_for_scenario
from tests.support.clock import SUMMER_SUNDAY
from tests.support.sandbox import JOURNEY_FINALS, STEP, walk_journey
from tests.support.shared_data import read_carrier_sample
from tracking.carriers.chronopost import ChronopostAdapter, soap_request
from tracking.status import result_state

# The dates these tests assert on are the ones couriers render on this summer Sunday.
pytestmark = pytest.mark.sandbox(at=SUMMER_SUNDAY)


def _adapter(sandbox) -> ChronopostAdapter:
    return ChronopostAdapter(
        base_url=f"{sandbox.url}/chronopost", account="sandbox-account", password="sandbox-pw"
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
    real = ET.fromstring(read_carrier_sample("chronopost_trackskybillv2_delivered.xml"))  # noqa: S314
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

FINAL = JOURNEY_FINALS


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_chronopost_adapter_reads_every_scenario_step_by_step(sandbox, scenario):
    # given a parcel of that scenario, first seen now
    adapter = _adapter(sandbox)
    number = number_for_scenario("chronopost", scenario)
    journey = journey_for("chronopost", number)

    # when the sandbox clock reaches each step, then the adapter's state is the step's own
    for index, step, shipment in walk_journey(sandbox, adapter, number):
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
