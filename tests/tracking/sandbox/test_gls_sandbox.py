"""The GLS sandbox over real HTTP, read by the real GLS adapter. No database."""

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
    TrackingError,
)
from tracking.carriers.gls import PARCEL_STATUS_MAP, GlsAdapter
from tracking.carriers.http import CarrierHttpClient
from tracking.sandbox.couriers.gls import QAS_PARCELS
from tracking.sandbox.journeys import SCENARIOS, STEP_KINDS, journey_for
from tracking.sandbox.numbers import number_for_scenario
from tracking.sandbox.server import make_app, run_in_thread
from tracking.status import Status, Substatus, result_state

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "carriers"
STEP = 60.0
START = 1_716_105_600.0  # 2024-05-19T08:00:00Z, summer time in Paris
GLS_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0[12]00")

# Final (status, substatus) per scenario as GLS can say it: Track And Trace has no signature, so
# a signed delivery is a plain delivery.
FINAL = {
    "delivered_signed": (Status.DELIVERED, None),
    "delivered_mailbox": (Status.DELIVERED, Substatus.DELIVERED_MAILBOX),
    "delivered_pickup_point": (Status.DELIVERED, Substatus.DELIVERED_PICKUP_POINT),
    "failed_attempt_then_delivered": (Status.DELIVERED, None),
    "address_exception": (Status.EXCEPTION, Substatus.EXCEPTION_ADDRESS_ISSUE),
    "returned_to_sender": (Status.EXCEPTION, Substatus.EXCEPTION_RETURNED_TO_SENDER),
    "stuck": (Status.IN_TRANSIT, None),
    "lost": (Status.EXCEPTION, Substatus.EXCEPTION_LOST),
}
# Steps GLS's format renders with less detail than the journey has.
KNOWN_GAPS = {"delivered": (Status.DELIVERED, None)}  # no signature in Track And Trace
POD_LOCATIONS = {
    None: "",
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


def _adapter(sandbox, client_id: str = "sandbox-client_id") -> GlsAdapter:
    return GlsAdapter(
        base_url=f"{sandbox.url}/gls", client_id=client_id, client_secret="sandbox-secret"
    )


def _client(**kwargs) -> CarrierHttpClient:
    options = {"requests_per_second": 0, "sleep": lambda _s: None, "backoff_seconds": 0}
    return CarrierHttpClient(**(options | kwargs))


def _track_one(adapter: GlsAdapter, number: str):
    result, _answers = adapter.track([number], client=_client())
    assert result.errors == []
    (shipment,) = result.shipments
    return shipment


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
    real = json.loads((FIXTURES / "gls_track_and_trace_v1_delivered_parcelshop.json").read_bytes())
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
    journey = journey_for("gls", number)
    _track_one(adapter, number)

    # when the sandbox clock passes each step, then the adapter follows the journey
    elapsed = 0.0
    for index, step in enumerate(journey.steps):
        sandbox.advance(step.offset * STEP - elapsed)
        elapsed = step.offset * STEP
        shipment = _track_one(adapter, number)
        assert shipment.tracking_number == number
        assert len(shipment.events) == index + 1
        expected = KNOWN_GAPS.get(step.kind, STEP_KINDS[step.kind])
        assert (shipment.events[-1].status, shipment.events[-1].substatus) == expected, step.kind
        assert result_state(shipment).status == step.status, f"{scenario} at {step.kind}"
        assert shipment.events[-1].location.city == step.place.city
        assert shipment.events[-1].location.country == "FR"

    # and it ends where the scenario says, with a POD for a delivery
    status, substatus = FINAL[scenario]
    assert (result_state(shipment).status, result_state(shipment).substatus) == (status, substatus)
    if status == Status.DELIVERED:
        assert shipment.pod is not None
        assert shipment.pod.delivered_at == result_state(shipment).delivered_at
        assert shipment.pod.location_type == POD_LOCATIONS[substatus]
    else:
        assert shipment.pod is None


def test_gls_delivery_info_names_the_parcelshop_for_the_right_postcode(sandbox):
    # given a parcel collected at a parcel shop
    adapter = _adapter(sandbox)
    number = number_for_scenario("gls", "delivered_pickup_point")
    journey = journey_for("gls", number)
    _track_one(adapter, number)
    sandbox.advance(20 * STEP)
    shipment = _track_one(adapter, number)

    # when the delivery info is asked with the buyer's postcode, and with a wrong one
    right = adapter.fetch_delivery_info(number, journey.destination.postcode, client=_client())
    wrong = adapter.fetch_delivery_info(number, "00000", client=_client())

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
    result, answers = _adapter(sandbox).track(numbers, client=_client())

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
    result, answers = _adapter(sandbox).track([known, "99123456789", "12AB"], client=_client())

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
    token = adapter.tokens.get(_client())
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


def test_gls_missing_credentials_or_token_are_auth_errors(sandbox):
    # given no client id, then a request without a token
    number = number_for_scenario("gls", "stuck")

    # when / then: the token endpoint refuses the credentials
    with pytest.raises(CarrierAuthError):
        _adapter(sandbox, client_id="").track([number], client=_client())
    # and the tracking API refuses a request without a bearer token
    with pytest.raises(CarrierAuthError):
        _client().request(
            "GET", f"{sandbox.url}/gls/track-and-trace-v1/tracking/simple/trackids/{number}"
        )


def test_gls_sandbox_faults_become_carrier_faults(sandbox):
    # given a healthy adapter that already holds a token
    adapter = _adapter(sandbox)
    number = number_for_scenario("gls", "stuck")
    _track_one(adapter, number)
    client = _client(timeout_seconds=0.3, max_attempts=2)

    # when / then: 500s, a long 429, a body cut in half
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
