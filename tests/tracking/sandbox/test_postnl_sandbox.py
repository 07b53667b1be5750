"""The PostNL sandbox over real HTTP, read by the real PostNL adapter. No database."""

from __future__ import annotations

import json
import re

import pytest
import requests

from devtools.sandbox.journeys import SCENARIOS, STEP_KINDS
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
    Location,
    TrackingError,
)
from tracking.carriers.postnl import EVENT_CODES, PostNLAdapter
from tracking.status import Status, Substatus, result_state

# The dates these tests assert on are the ones couriers render on this summer Sunday.
pytestmark = pytest.mark.sandbox(at=SUMMER_SUNDAY)

DUTCH_TIME = re.compile(r"\d\d-\d\d-\d{4} \d\d:\d\d:\d\d")
HEADERS = {"apikey": "sandbox-key"}

# PostNL's format says every step of every journey: the finals are the journeys' own.
FINAL = JOURNEY_FINALS
POD_LOCATIONS = {
    Substatus.DELIVERED_SIGNED: "",
    Substatus.DELIVERED_MAILBOX: "mailbox",
    Substatus.DELIVERED_PICKUP_POINT: "pickup_point",
}
# Scans at the buyer's door carry the receiver's address; the others a depot number only.
AT_THE_DOOR = {"out_for_delivery", "failed_attempt", "delivered", "delivered_mailbox"}


def _adapter(sandbox, api_key: str = "sandbox-key") -> PostNLAdapter:
    return PostNLAdapter(base_url=f"{sandbox.url}/postnl", api_key=api_key)


def test_postnl_sandbox_answer_has_the_real_sample_shape(sandbox):
    # given a parcel delivered against a signature
    number = number_for_scenario("postnl", "delivered_signed")
    url = f"{sandbox.url}/postnl/shipment/v2/status/barcode/{number}"
    requests.get(url, params={"detail": "true"}, headers=HEADERS, timeout=5)
    sandbox.advance(20 * STEP)

    # when
    body = requests.get(url, params={"detail": "true"}, headers=HEADERS, timeout=5).json()
    current = requests.get(url, params={"language": "EN"}, headers=HEADERS, timeout=5).json()

    # then the keys of PostNL's real answer, events newest first in Dutch time
    real = json.loads(read_carrier_sample("postnl_shippingstatus_completestatus_delivered.json"))
    shipment, real_shipment = body["CompleteStatus"]["Shipment"], real["CompleteStatus"]["Shipment"]
    assert shipment.keys() <= real_shipment.keys()
    assert shipment["Address"][0].keys() == real_shipment["Address"][0].keys()
    assert [a["AddressType"] for a in shipment["Address"]] == ["01", "02"]
    assert shipment["Barcode"] == number
    for event in shipment["Event"]:
        assert event.keys() == real_shipment["Event"][0].keys()
        assert DUTCH_TIME.fullmatch(event["TimeStamp"])
        assert event["Code"] in EVENT_CODES
    assert [e["Code"] for e in shipment["Event"]] == [
        "I01", "J05", "J27", "J01", "J01", "B01", "A01"
    ]  # fmt: skip
    assert shipment["Event"][0]["TimeStamp"] == "19-05-2024 10:06:00"  # 08:06 UTC in CEST
    assert shipment["Status"]["StatusCode"] == "11"
    assert "Expectation" not in shipment  # delivered: no more estimate
    # and without detail, the current status only, in English
    assert set(current) == {"CurrentStatus"}
    assert "Event" not in current["CurrentStatus"]["Shipment"]
    assert current["CurrentStatus"]["Shipment"]["Status"]["StatusDescription"] == (
        "Shipment delivered"
    )


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_postnl_adapter_reads_every_scenario_step_by_step(sandbox, scenario):
    # given a parcel following the scenario, first asked about now
    adapter = _adapter(sandbox)
    number = number_for_scenario("postnl", scenario)
    first = track_one(adapter, number)
    assert first.estimated_delivery is not None and first.estimated_delivery_end is not None

    # when the clock passes each step, then the adapter follows the journey exactly
    for index, step, shipment in walk_journey(sandbox, adapter, number):
        assert len(shipment.events) == index + 1
        latest = shipment.events[-1]
        assert (latest.status, latest.substatus) == STEP_KINDS[step.kind], step.kind
        assert result_state(shipment).status == step.status
        expected_place = (
            Location(step.place.city, step.place.postcode, step.place.country)
            if step.kind in AT_THE_DOOR
            else Location()
        )
        assert latest.location == expected_place, step.kind

    # and it ends where the scenario says, with a POD for a delivery
    status, substatus = FINAL[scenario]
    assert_journey_ended(shipment, (status, substatus))
    if status == Status.DELIVERED:
        assert shipment.pod.location_type == POD_LOCATIONS[substatus]
        signed = substatus == Substatus.DELIVERED_SIGNED
        assert shipment.pod.documents == (("signature",) if signed else ())
        assert shipment.pod.signed_by == ""  # PostNL never names the signatory


def test_postnl_signature_endpoint_parses_and_answers_404_without_signature(sandbox):
    # given a signed delivery and a letterbox delivery, both done
    adapter = _adapter(sandbox)
    signed = number_for_scenario("postnl", "delivered_signed")
    mailbox = number_for_scenario("postnl", "delivered_mailbox")
    track_one(adapter, signed)
    track_one(adapter, mailbox)
    sandbox.advance(20 * STEP)
    base = f"{sandbox.url}/postnl/shipment/v2/status/signature"

    # when
    with_signature = requests.get(f"{base}/{signed}", headers=HEADERS, timeout=5)
    without = requests.get(f"{base}/{mailbox}", headers=HEADERS, timeout=5)

    # then a POD naming the signature (not carrying it); a fault for the letterbox
    assert with_signature.status_code == 200
    (pod_only,) = adapter.parse(with_signature.content).shipments
    assert pod_only.tracking_number == signed
    assert pod_only.pod.documents == ("signature",)
    assert pod_only.pod.delivered_at.isoformat() == "2024-05-19T10:06:00+02:00"
    assert without.status_code == 404
    assert "faultstring" in without.json()["fault"]


def test_postnl_unknown_and_invalid_numbers_are_per_number_errors(sandbox):
    # given an unknown barcode and a malformed one
    # when
    result, answers = _adapter(sandbox).track(
        ["3SUNKN123456789", "3SAB12"], client=carrier_http_client()
    )

    # then
    assert [a.status_code for a in answers] == [200, 400]
    assert result.shipments == []
    assert result.errors == [
        TrackingError("3SUNKN123456789", "not_found", "Barcode not found. (PostNL 16)"),
        TrackingError("3SAB12", "invalid_number", "Invalid barcode 3SAB12"),
    ]


def test_postnl_sandbox_refuses_other_methods_with_the_gateway_body(sandbox):
    # given a POST where PostNL only takes GET
    number = number_for_scenario("postnl", "stuck")

    # when
    answer = requests.post(
        f"{sandbox.url}/postnl/shipment/v2/status/barcode/{number}", headers=HEADERS, timeout=5
    )

    # then
    assert answer.status_code == 405
    assert answer.json() == {"message": "Only GET requests allowed", "http_status_code": 405}
