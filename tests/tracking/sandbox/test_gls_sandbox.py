"""The GLS sandbox over real HTTP, read by the real GLS adapter. No database."""

from __future__ import annotations

import json
import re

import pytest
import requests

from devtools.sandbox.couriers.gls import QAS_PARCELS
from devtools.sandbox.journeys import SCENARIOS, STEP_KINDS, journey_for
from devtools.sandbox.numbers import number_for_scenario
from tests.support.clock import SUMMER_SUNDAY
from tests.support.http import carrier_http_client
from tests.support.sandbox import (
    JOURNEY_FINALS,
    STEP,
    assert_journey_ended,
    track_one,
    walk_journey,
)
from tests.support.shared_data import read_carrier_sample
from tracking.carriers.base import (
    CarrierAuthError,
    TrackingError,
)
from tracking.carriers.gls import PARCEL_STATUS_MAP, GlsAdapter
from tracking.status import Status, Substatus, result_state

# The dates these tests assert on are the ones couriers render on this summer Sunday.
pytestmark = pytest.mark.sandbox(at=SUMMER_SUNDAY)

GLS_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0[12]00")

# Final (status, substatus) per scenario as GLS can say it: Track And Trace has no signature, so
# a signed delivery is a plain delivery.
FINAL = {
    **JOURNEY_FINALS,
    "delivered_signed": (Status.DELIVERED, None),
    "failed_attempt_then_delivered": (Status.DELIVERED, None),
}
# Steps GLS's format renders with less detail than the journey has.
KNOWN_GAPS = {"delivered": (Status.DELIVERED, None)}  # no signature in Track And Trace
POD_LOCATIONS = {
    None: "",
    Substatus.DELIVERED_MAILBOX: "mailbox",
    Substatus.DELIVERED_PICKUP_POINT: "pickup_point",
}


def _adapter(sandbox, client_id: str = "sandbox-client_id") -> GlsAdapter:
    return GlsAdapter(
        base_url=f"{sandbox.url}/gls", client_id=client_id, client_secret="sandbox-secret"
    )


def test_gls_sandbox_answer_has_the_real_sample_shape(sandbox):
    # given a parcel delivered at a parcel shop and a token from the sandbox
    number = number_for_scenario("gls", "delivered_pickup_point")
    token = requests.post(
        f"{sandbox.url}/gls/oauth2/v2/token",
        auth=("id", "secret"),
        data={"grant_type": "client_credentials"},
        timeout=5,
    ).json()
    assert token["token_type"] == "Bearer" and token["expires_in"] == 14400
    url = f"{sandbox.url}/gls/track-and-trace-v1/tracking/simple/trackids/{number},99000000001"
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    requests.get(url, headers=headers, timeout=5)
    sandbox.advance(20 * STEP)

    # when
    body = requests.get(url, headers=headers, params={"showLinks": "true"}, timeout=5).json()

    # then the keys, order and formats of GLS's own examples
    real = json.loads(read_carrier_sample("gls_track_and_trace_v1_delivered_parcelshop.json"))
    real_parcel = real["parcels"][0]
    parcel, unknown = body["parcels"]
    assert parcel.keys() == real_parcel.keys()
    assert parcel["status"] == "DELIVERED"
    assert parcel["requested"] == parcel["unitno"] == number
    for event in parcel["events"]:
        assert event.keys() == real_parcel["events"][0].keys()
        assert GLS_TIME.fullmatch(event["eventDateTime"])
    times = [event["eventDateTime"] for event in parcel["events"]]
    assert times == sorted(times, reverse=True)  # newest first
    assert parcel["events"][0]["code"] == "DELIVD.DEL_BY_PSAPP"
    assert parcel["events"][1]["code"] == "DELIVD.PARCELSHOP"
    assert unknown == {
        "requested": "99000000001",
        "errorCode": "E_404_01",
        "errorMessage": "Resource Not Found",
    }


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_gls_adapter_reads_every_scenario_step_by_step(sandbox, scenario):
    # given a parcel following the scenario, first asked about now
    adapter = _adapter(sandbox)
    number = number_for_scenario("gls", scenario)

    # when the sandbox clock passes each step, then the adapter follows the journey
    for index, step, shipment in walk_journey(sandbox, adapter, number):
        assert len(shipment.events) == index + 1
        expected = KNOWN_GAPS.get(step.kind, STEP_KINDS[step.kind])
        assert (shipment.events[-1].status, shipment.events[-1].substatus) == expected, step.kind
        assert result_state(shipment).status == step.status, f"{scenario} at {step.kind}"
        assert shipment.events[-1].location.city == step.place.city
        assert shipment.events[-1].location.country == "FR"

    # and it ends where the scenario says, with a POD for a delivery
    status, substatus = FINAL[scenario]
    assert_journey_ended(shipment, (status, substatus))
    if status == Status.DELIVERED:
        assert shipment.pod.location_type == POD_LOCATIONS[substatus]


def test_gls_delivery_info_names_the_parcelshop_for_the_right_postcode(sandbox):
    # given a parcel collected at a parcel shop
    adapter = _adapter(sandbox)
    number = number_for_scenario("gls", "delivered_pickup_point")
    journey = journey_for("gls", number)
    track_one(adapter, number)
    sandbox.advance(20 * STEP)
    shipment = track_one(adapter, number)

    # when the delivery info is asked with the buyer's postcode, and with a wrong one
    right = adapter.fetch_delivery_info(
        number, journey.destination.postcode, client=carrier_http_client()
    )
    wrong = adapter.fetch_delivery_info(number, "00000", client=carrier_http_client())

    # then the shop joins the POD; a wrong postcode changes nothing
    enriched = adapter.apply_delivery_info(shipment, right.body)
    assert enriched.pod.location_type == "pickup_point"
    (link,) = enriched.pod.documents
    assert link.startswith(
        "https://api.gls-group.net/parcel-shop-management/v2/active-public-parcel-shops/GLS_FR/"
    )
    assert json.loads(wrong.body)["errorCode"] == "E_400_03"
    assert adapter.apply_delivery_info(shipment, wrong.body) == shipment


def test_gls_qas_test_parcels_answer_their_documented_status(sandbox):
    # given GLS's twelve test parcels
    numbers = sorted(QAS_PARCELS)

    # when, in two batches of at most ten
    result, answers = _adapter(sandbox).track(numbers, client=carrier_http_client())

    # then each one reads as its parcel status says
    assert len(answers) == 2
    assert result.errors == []
    by_number = {s.tracking_number: s for s in result.shipments}
    for number, gls_status in QAS_PARCELS.items():
        (event,) = by_number[number].events
        assert (event.status, event.substatus) == PARCEL_STATUS_MAP[gls_status]
        assert event.code == gls_status


def test_gls_unknown_and_invalid_numbers_are_per_number_errors(sandbox):
    # given a known, an unknown and a malformed number in one request
    known = number_for_scenario("gls", "stuck")

    # when
    result, answers = _adapter(sandbox).track(
        [known, "99123456789", "12AB"], client=carrier_http_client()
    )

    # then
    assert len(answers) == 1
    assert [s.tracking_number for s in result.shipments] == [known]
    assert result.errors == [
        TrackingError("99123456789", "not_found", "Resource Not Found"),
        TrackingError("12AB", "invalid_number", "Bad Request"),
    ]


def test_gls_sandbox_refuses_more_than_ten_numbers(sandbox):
    # given eleven numbers in one path (the adapter never sends that many)
    adapter = _adapter(sandbox)
    token = adapter.tokens.get(carrier_http_client())
    numbers = ",".join(number_for_scenario("gls", "stuck", i) for i in range(11))

    # when
    response = requests.get(
        f"{sandbox.url}/gls/track-and-trace-v1/tracking/simple/trackids/{numbers}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )

    # then GLS's problem body, which the adapter reads as a request error
    assert response.status_code == 400
    assert adapter.parse(response.content).errors == [
        TrackingError(
            "",
            "invalid_request",
            "Provided references of size '11' is more than allowed limit of 10",
        )
    ]


def test_gls_sandbox_tracking_api_refuses_a_request_without_token(sandbox):
    # given a request without a bearer token (missing credentials: test_contract.py)
    number = number_for_scenario("gls", "stuck")

    # when / then
    with pytest.raises(CarrierAuthError):
        carrier_http_client().request(
            "GET", f"{sandbox.url}/gls/track-and-trace-v1/tracking/simple/trackids/{number}"
        )
