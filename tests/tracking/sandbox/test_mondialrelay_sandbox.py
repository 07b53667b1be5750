"""The Mondial Relay sandbox over real HTTP, read by the real Mondial Relay adapter. No database."""

from __future__ import annotations

import re

import pytest
import requests

from devtools.sandbox.couriers.mondialrelay import SANDBOX_PRIVATE_KEY, relay_number
from devtools.sandbox.journeys import SCENARIOS, journey_for
from devtools.sandbox.numbers import number_for_scenario
from tests.support.clock import SUMMER_SUNDAY
from tests.support.sandbox import JOURNEY_FINALS, STEP, walk_journey
from tests.support.shared_data import read_carrier_sample
from tracking.carriers.mondialrelay import MondialRelayAdapter
from tracking.status import result_state

# The dates these tests assert on are the ones couriers render on this summer Sunday.
pytestmark = pytest.mark.sandbox(at=SUMMER_SUNDAY)


def _adapter(sandbox, private_key: str = SANDBOX_PRIVATE_KEY) -> MondialRelayAdapter:
    return MondialRelayAdapter(
        base_url=f"{sandbox.url}/mondialrelay", enseigne="BDTEST13", private_key=private_key
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
    real = read_carrier_sample("mondialrelay_wsi2_tracingcolisdetaille_in_progress_stat81.xml")
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
    **JOURNEY_FINALS,
    "delivered_signed": ("delivered", None),
    "failed_attempt_then_delivered": ("delivered", None),
}
GAPS = {"delivered": None}  # step kind -> the substatus Mondial Relay can express instead


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_mondialrelay_adapter_reads_every_scenario_step_by_step(sandbox, scenario):
    # given a parcel of that scenario, first seen now
    adapter = _adapter(sandbox)
    number = number_for_scenario("mondialrelay", scenario)

    # when the sandbox clock reaches each step, then the adapter's state is the step's own
    for index, step, shipment in walk_journey(sandbox, adapter, number):
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


# --- faults ---------------------------------------------------------------------------------
