"""The DPD sandbox over real HTTP, read by the real DPD adapter. No database."""

from __future__ import annotations

import re

import pytest
import requests

from devtools.sandbox.couriers.dpd import SANDBOX_PASSWORD, sandbox_token
from devtools.sandbox.journeys import SCENARIOS, journey_for
from devtools.sandbox.numbers import number_for_scenario
from tests.support.clock import SUMMER_SUNDAY
from tests.support.http import carrier_http_client
from tests.support.sandbox import JOURNEY_FINALS, STEP, walk_journey
from tests.support.shared_data import read_carrier_sample
from tracking.carriers.dpd import DpdAdapter
from tracking.detection.checksums import mod_37_36_check
from tracking.status import result_state

# The dates these tests assert on are the ones couriers render on this summer Sunday.
pytestmark = pytest.mark.sandbox(at=SUMMER_SUNDAY)

DELIS_ID = "sandbox-delis_id"


def _adapter(sandbox, password: str = SANDBOX_PASSWORD) -> DpdAdapter:
    return DpdAdapter(base_url=f"{sandbox.url}/dpd", delis_id=DELIS_ID, password=password)


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
    real = read_carrier_sample("dpd_parcellifecycle_returning_from_delivery.xml")
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
    **JOURNEY_FINALS,
    "delivered_signed": ("delivered", None),
    "failed_attempt_then_delivered": ("delivered", None),
}
GAPS = {"delivered": None}  # step kind -> the substatus DPD can express instead


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_dpd_adapter_reads_every_scenario_step_by_step(sandbox, scenario):
    # given a parcel of that scenario, first seen now
    adapter = _adapter(sandbox)
    number = number_for_scenario("dpd", scenario)
    journey = journey_for("dpd", number)

    # when the sandbox clock reaches each step, then the adapter's state is the step's own
    for index, step, shipment in walk_journey(sandbox, adapter, number):
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


def test_dpd_adapter_replaces_a_token_the_sandbox_refuses(sandbox):
    # given an adapter holding a token DPD does not (or no longer) know, not yet expired
    adapter = _adapter(sandbox)
    client = carrier_http_client()
    number = number_for_scenario("dpd", "stuck")
    adapter.track([number], client=client)
    adapter._token = "REVOKED"  # what a revocation on DPD's side looks like from here

    # when
    result, _ = adapter.track([number], client=client)

    # then it logged in again and got the answer
    assert [s.tracking_number for s in result.shipments] == [number]
    assert adapter._token == sandbox_token(DELIS_ID)


# --- faults ---------------------------------------------------------------------------------
