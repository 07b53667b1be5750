"""The Royal Mail sandbox over real HTTP, read by the real Royal Mail adapter. No database."""

from __future__ import annotations

import json
import re

import pytest
import requests

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
    Location,
    TrackingError,
)
from tracking.carriers.royalmail import RoyalMailAdapter
from tracking.status import Status, Substatus, result_state

# The dates these tests assert on are the ones couriers render on this summer Sunday.
pytestmark = pytest.mark.sandbox(at=SUMMER_SUNDAY)

UK_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0[01]:00")
HEADERS = {"X-IBM-Client-Id": "id", "X-IBM-Client-Secret": "secret", "X-Accept-RMG-Terms": "yes"}

# Royal Mail's format says every step of every journey: the finals are the journeys' own.
FINAL = JOURNEY_FINALS
POD_LOCATIONS = {
    Substatus.DELIVERED_SIGNED: "",
    Substatus.DELIVERED_MAILBOX: "mailbox",
    Substatus.DELIVERED_PICKUP_POINT: "pickup_point",
}


def _adapter(sandbox, client_id: str = "sandbox-client_id") -> RoyalMailAdapter:
    return RoyalMailAdapter(
        base_url=f"{sandbox.url}/royalmail", client_id=client_id, client_secret="sandbox-secret"
    )


def test_royalmail_sandbox_answer_has_the_real_sample_shape(sandbox):
    # given an item delivered against a signature
    number = number_for_scenario("royalmail", "delivered_signed")
    url = f"{sandbox.url}/royalmail/mailpieces/v2/{number}/events"
    requests.get(url, headers=HEADERS, timeout=5)
    sandbox.advance(20 * STEP)

    # when
    body = requests.get(url, headers=HEADERS, timeout=5).json()

    # then the keys of Royal Mail's example, events newest first in UK time
    real = json.loads(read_carrier_sample("royalmail_tracking_v2_events_in_transit.json"))
    piece, real_piece = body["mailPieces"], real["mailPieces"]
    assert piece.keys() <= real_piece.keys()
    assert piece["summary"].keys() <= real_piece["summary"].keys()
    assert piece["signature"].keys() == real_piece["signature"].keys()
    assert "estimatedDelivery" not in piece  # delivered: no more estimate
    assert piece["summary"]["oneDBarcode"] == number
    assert piece["signature"]["recipientName"] == journey_for("royalmail", number).signed_by
    for event in piece["events"]:
        assert event.keys() == real_piece["events"][0].keys()
        assert UK_TIME.fullmatch(event["eventDateTime"])
    times = [event["eventDateTime"] for event in piece["events"]]
    assert times == sorted(times, reverse=True)
    assert piece["events"][0]["eventDateTime"].endswith("+01:00")  # May: BST
    assert piece["events"][0]["eventCode"] == "EVKSP"


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_royalmail_adapter_reads_every_scenario_step_by_step(sandbox, scenario):
    # given an item following the scenario, first asked about now
    adapter = _adapter(sandbox)
    number = number_for_scenario("royalmail", scenario)
    journey = journey_for("royalmail", number)
    first = track_one(adapter, number)
    assert first.estimated_delivery is not None and first.estimated_delivery_end is not None

    # when the clock passes each step, then the adapter follows the journey exactly
    for index, step, shipment in walk_journey(sandbox, adapter, number):
        assert len(shipment.events) == index + 1
        latest = shipment.events[-1]
        assert (latest.status, latest.substatus) == STEP_KINDS[step.kind], step.kind
        assert result_state(shipment).status == step.status
        # international items (French towns): a town, no country
        assert latest.location == Location(city=step.place.city)

    # and it ends where the scenario says, with a POD for a delivery
    status, substatus = FINAL[scenario]
    assert_journey_ended(shipment, (status, substatus))
    if status == Status.DELIVERED:
        assert shipment.pod.location_type == POD_LOCATIONS[substatus]
        signed = substatus == Substatus.DELIVERED_SIGNED
        assert shipment.pod.signed_by == (journey.signed_by if signed else "")
        assert shipment.pod.documents == (("signature",) if signed else ())


def test_royalmail_signature_and_summary_endpoints_parse(sandbox):
    # given a signed delivery and an unknown barcode
    adapter = _adapter(sandbox)
    number = number_for_scenario("royalmail", "delivered_signed")
    track_one(adapter, number)
    sandbox.advance(20 * STEP)
    base = f"{sandbox.url}/royalmail/mailpieces/v2"

    # when
    signature = requests.get(f"{base}/{number}/signature", headers=HEADERS, timeout=5)
    summary = requests.get(
        f"{base}/summary",
        params={"mailPieceId": f"{number},ZZ123456785GB"},
        headers=HEADERS,
        timeout=5,
    )

    # then the signature is a POD without the image, the summary an item and an error
    (signed,) = adapter.parse(signature.content).shipments
    assert signed.pod.signed_by == journey_for("royalmail", number).signed_by
    assert signed.pod.documents == ("signature",)
    parsed = adapter.parse(summary.content)
    assert [result_state(s).status for s in parsed.shipments] == ["delivered"]
    assert parsed.errors == [
        TrackingError(
            "ZZ123456785GB", "not_found", "Barcode reference mailPieceId isn't recognised"
        )
    ]


def test_royalmail_unknown_and_invalid_numbers_are_per_number_errors(sandbox):
    # given an unknown barcode and a malformed one
    # when
    result, answers = _adapter(sandbox).track(
        ["ZZ123456785GB", "12AB"], client=carrier_http_client()
    )

    # then
    assert [a.status_code for a in answers] == [404, 400]
    assert result.shipments == []
    assert result.errors == [
        TrackingError(
            "ZZ123456785GB", "not_found", "Barcode reference mailPieceId isn't recognised"
        ),
        TrackingError("12AB", "invalid_number", "mailPieceId is invalid"),
    ]


def test_royalmail_sandbox_without_terms_header_is_a_bad_request_not_invalid_numbers(sandbox):
    # given a request without X-Accept-RMG-Terms (our configuration missing a header)
    headers = {k: v for k, v in HEADERS.items() if k != "X-Accept-RMG-Terms"}
    number = number_for_scenario("royalmail", "delivered_signed")

    # when
    reply = requests.get(
        f"{sandbox.url}/royalmail/mailpieces/v2/{number}/events", headers=headers, timeout=5
    )

    # then Royal Mail's E0004 answer, which the adapter reads as our request's fault
    assert reply.status_code == 400
    assert reply.json()["errors"][0]["errorCode"] == "E0004"
    [error] = _adapter(sandbox).parse(reply.content).errors
    assert (error.tracking_number, error.code) == ("", "bad_request")
