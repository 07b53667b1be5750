"""The Royal Mail sandbox over real HTTP, read by the real Royal Mail adapter. No database."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import requests

from tracking.carriers.base import (
    CarrierAuthError,
    CarrierPayloadError,
    CarrierRateLimited,
    CarrierUnavailable,
    Location,
    TrackingError,
)
from tracking.carriers.http import CarrierHttpClient
from tracking.carriers.royalmail import RoyalMailAdapter
from tracking.sandbox.journeys import SCENARIOS, STEP_KINDS, journey_for
from tracking.sandbox.numbers import number_for_scenario
from tracking.sandbox.server import make_app, run_in_thread
from tracking.status import Status, Substatus, result_state

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "carriers"
STEP = 60.0
START = 1_716_105_600.0  # 2024-05-19T08:00:00Z, British Summer Time
UK_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0[01]:00")
HEADERS = {"X-IBM-Client-Id": "id", "X-IBM-Client-Secret": "secret", "X-Accept-RMG-Terms": "yes"}

# Royal Mail's format says every step of every journey: the finals are the journeys' own.
FINAL = {name: (s.final_status, s.final_substatus) for name, s in SCENARIOS.items()}
POD_LOCATIONS = {
    Substatus.DELIVERED_SIGNED: "",
    Substatus.DELIVERED_MAILBOX: "mailbox",
    Substatus.DELIVERED_PICKUP_POINT: "pickup_point",
}


class FakeClock:
    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def sandbox():
    with run_in_thread(make_app(clock=FakeClock(), step_seconds=STEP, seed=7)) as handle:
        yield handle


def _adapter(sandbox, client_id: str = "sandbox-client_id") -> RoyalMailAdapter:
    return RoyalMailAdapter(
        base_url=f"{sandbox.url}/royalmail", client_id=client_id, client_secret="sandbox-secret"
    )


def _client(**kwargs) -> CarrierHttpClient:
    options = {"requests_per_second": 0, "sleep": lambda _s: None, "backoff_seconds": 0}
    return CarrierHttpClient(**(options | kwargs))


def _track_one(adapter: RoyalMailAdapter, number: str):
    result, _answers = adapter.track([number], client=_client())
    assert result.errors == []
    (shipment,) = result.shipments
    return shipment


def test_royalmail_sandbox_answer_has_the_real_sample_shape(sandbox):
    # given an item delivered against a signature
    number = number_for_scenario("royalmail", "delivered_signed")
    url = f"{sandbox.url}/royalmail/mailpieces/v2/{number}/events"
    requests.get(url, headers=HEADERS, timeout=5)
    sandbox.advance(20 * STEP)

    # when
    body = requests.get(url, headers=HEADERS, timeout=5).json()

    # then the keys of Royal Mail's example, events newest first in UK time
    real = json.loads((FIXTURES / "royalmail_tracking_v2_events_in_transit.json").read_bytes())
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
    first = _track_one(adapter, number)
    assert first.estimated_delivery is not None and first.estimated_delivery_end is not None

    # when the clock passes each step, then the adapter follows the journey exactly
    elapsed = 0.0
    for index, step in enumerate(journey.steps):
        sandbox.advance(step.offset * STEP - elapsed)
        elapsed = step.offset * STEP
        shipment = _track_one(adapter, number)
        assert len(shipment.events) == index + 1
        latest = shipment.events[-1]
        assert (latest.status, latest.substatus) == STEP_KINDS[step.kind], step.kind
        assert result_state(shipment).status == step.status
        # international items (French towns): a town, no country
        assert latest.location == Location(city=step.place.city)

    # and it ends where the scenario says, with a POD for a delivery
    status, substatus = FINAL[scenario]
    assert (result_state(shipment).status, result_state(shipment).substatus) == (status, substatus)
    if status == Status.DELIVERED:
        assert shipment.pod is not None
        assert shipment.pod.delivered_at == result_state(shipment).delivered_at
        assert shipment.pod.location_type == POD_LOCATIONS[substatus]
        signed = substatus == Substatus.DELIVERED_SIGNED
        assert shipment.pod.signed_by == (journey.signed_by if signed else "")
        assert shipment.pod.documents == (("signature",) if signed else ())
    else:
        assert shipment.pod is None


def test_royalmail_signature_and_summary_endpoints_parse(sandbox):
    # given a signed delivery and an unknown barcode
    adapter = _adapter(sandbox)
    number = number_for_scenario("royalmail", "delivered_signed")
    _track_one(adapter, number)
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
    result, answers = _adapter(sandbox).track(["ZZ123456785GB", "12AB"], client=_client())

    # then
    assert [a.status_code for a in answers] == [404, 400]
    assert result.shipments == []
    assert result.errors == [
        TrackingError(
            "ZZ123456785GB", "not_found", "Barcode reference mailPieceId isn't recognised"
        ),
        TrackingError("12AB", "invalid_number", "mailPieceId is invalid"),
    ]


def test_royalmail_missing_credentials_are_an_auth_error(sandbox):
    # given no client id
    number = number_for_scenario("royalmail", "stuck")

    # when / then
    with pytest.raises(CarrierAuthError):
        _adapter(sandbox, client_id="").track([number], client=_client())


def test_royalmail_sandbox_faults_become_carrier_faults(sandbox):
    # given a healthy adapter
    adapter = _adapter(sandbox)
    number = number_for_scenario("royalmail", "stuck")
    client = _client(timeout_seconds=0.3, max_attempts=2)

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
    assert _track_one(adapter, number).tracking_number == number
