"""The sandbox courier over real HTTP: routes, auth, journey clock, faults, and the real adapters
parsing what it serves. No database."""

from __future__ import annotations

import json
import re
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import requests

from devtools.sandbox.journeys import SCENARIOS, journey_for
from devtools.sandbox.numbers import number_for_scenario
from devtools.sandbox.server import Faults, make_app, run_in_thread
from tests.support.clock import SUMMER_SUNDAY, ManualClock
from tests.support.http import carrier_http_client
from tests.support.sandbox import STEP, walk_journey
from tests.support.shared_data import read_carrier_sample
from tracking.status import Status, Substatus, result_state

# The dates these tests assert on are the ones couriers render on this summer Sunday.
pytestmark = pytest.mark.sandbox(at=SUMMER_SUNDAY)

LAPOSTE_HEADERS = {"X-Okapi-Key": "sandbox-key"}
DHL_HEADERS = {"DHL-API-Key": "sandbox-key"}
PARIS = ZoneInfo("Europe/Paris")
PARIS_DATE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0[12]:00")
LAPOSTE_CODES = {"DR1", "PC1", "ET1", "ET3", "MD2", "ND1", "AG1", "DI1", "RE1", "DI2", "PB1"}
DHL_STATUS_CODES = {"pre-transit", "transit", "delivered", "failure"}


def laposte(sandbox, ids, headers=LAPOSTE_HEADERS, **kwargs):
    return requests.get(
        f"{sandbox.url}/laposte/suivi/v2/idships/{ids}",
        params={"lang": "fr_FR"},
        headers=headers,
        timeout=kwargs.pop("timeout", 5),
        **kwargs,
    )


def dhl(sandbox, number, headers=DHL_HEADERS, **kwargs):
    return requests.get(
        f"{sandbox.url}/dhl/track/shipments",
        params={"trackingNumber": number},
        headers=headers,
        timeout=kwargs.pop("timeout", 5),
        **kwargs,
    )


def sample(name):
    return json.loads(read_carrier_sample(name))


def dhl_time(value: str) -> datetime:
    """DHL times with an offset, or naive local (Paris for the sandbox's French towns)."""
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=PARIS)


# --- La Poste Suivi v2 ------------------------------------------------------------------------


def test_laposte_delivered_answer_has_the_real_sample_shape(sandbox):
    number = number_for_scenario("laposte", "delivered_signed")
    laposte(sandbox, number)  # first sight anchors the journey
    sandbox.advance(20 * STEP)
    response = laposte(sandbox, number)

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    real = sample("laposte_suivi_v2_delivered.json")[0]
    assert body.keys() == real.keys()
    assert body["shipment"].keys() == real["shipment"].keys()
    assert body["returnCode"] == 200
    shipment = body["shipment"]
    assert shipment["idShip"] == number
    assert shipment["product"] == "colissimo"
    assert shipment["isFinal"] is True
    assert shipment["contextData"].keys() == real["shipment"]["contextData"].keys()
    assert [t["id"] for t in shipment["timeline"]] == [1, 2, 3, 4, 5]
    assert all(t["status"] for t in shipment["timeline"])
    assert {tuple(t) for t in shipment["timeline"]} >= {tuple(real["shipment"]["timeline"][0])}

    events = shipment["event"]
    assert [e["code"] for e in events] == ["DI1", "MD2", "ET3", "ET1", "ET1", "PC1", "DR1"]
    for event in events:
        assert event.keys() == {"code", "label", "date"}
        assert PARIS_DATE.fullmatch(event["date"])
        assert event["code"] in LAPOSTE_CODES
    dates = [datetime.fromisoformat(e["date"]) for e in events]
    assert dates == sorted(dates, reverse=True)  # newest first
    assert events[0]["date"].endswith("+02:00")  # May: summer time
    assert shipment["deliveryDate"] == events[0]["date"]
    assert shipment["entryDate"] == events[-2]["date"]  # first physical scan (PC1)


def test_laposte_winter_dates_carry_the_winter_offset(sandbox):
    sandbox.clock.now = 1_705_312_800.0  # 2024-01-15T10:00:00Z
    body = laposte(sandbox, number_for_scenario("laposte", "stuck")).json()
    assert body["shipment"]["event"][0]["date"] == "2024-01-15T11:00:00+01:00"


def test_laposte_journey_in_progress(sandbox):
    number = number_for_scenario("laposte", "delivered_mailbox")
    shipment = laposte(sandbox, number).json()["shipment"]
    assert [e["code"] for e in shipment["event"]] == ["DR1"]
    assert shipment["isFinal"] is False
    assert "deliveryDate" not in shipment
    assert not any(t["status"] for t in shipment["timeline"])
    # The estimate is the planned delivery, in the future while the parcel travels.
    assert datetime.fromisoformat(shipment["estimDate"]) > datetime.fromisoformat(
        shipment["event"][0]["date"]
    )


def test_laposte_several_numbers_answer_an_array_with_per_number_errors(sandbox):
    found = number_for_scenario("laposte", "delivered_signed")
    ids = f"{found},6X12345678901,NOT-A-NUMBER"
    response = laposte(sandbox, ids)

    assert response.status_code == 207
    body = response.json()
    assert isinstance(body, list)
    assert [o["returnCode"] for o in body] == [200, 404, 400]
    assert body[0]["shipment"]["idShip"] == found
    real_error = sample("laposte_suivi_v2_error_400_invalid_number.json")
    for error in body[1:]:
        assert error.keys() == real_error.keys()
    assert body[1]["idShip"] == "6X12345678901"
    assert body[2]["returnMessage"] == real_error["returnMessage"]

    all_found = ",".join(number_for_scenario("laposte", "stuck", i) for i in range(3))
    response = laposte(sandbox, all_found)
    assert response.status_code == 200
    assert [o["returnCode"] for o in response.json()] == [200, 200, 200]


def test_laposte_single_unknown_or_invalid_number(sandbox):
    unknown = laposte(sandbox, "6X00000000001")
    assert unknown.status_code == 404
    assert unknown.json()["returnCode"] == 404
    assert unknown.json()["idShip"] == "6X00000000001"
    invalid = laposte(sandbox, "12AB")
    assert invalid.status_code == 400
    assert invalid.json()["returnCode"] == 400


def test_laposte_accepts_s10_numbers(sandbox):
    response = laposte(sandbox, "EW112720413FR")
    assert response.status_code == 200
    assert response.json()["shipment"]["idShip"] == "EW112720413FR"


def test_laposte_allows_at_most_ten_numbers(sandbox):
    ids = ",".join(number_for_scenario("laposte", "delivered_signed", i) for i in range(11))
    response = laposte(sandbox, ids)
    assert response.status_code == 400
    assert response.json()["code"] == "BAD_REQUEST"


@pytest.mark.parametrize("headers", [{}, {"X-Okapi-Key": ""}])
def test_laposte_requires_an_api_key(sandbox, headers):
    response = laposte(sandbox, number_for_scenario("laposte", "stuck"), headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] == "UNAUTHORIZED"
    assert response.json()["message"]


# --- DHL Unified ------------------------------------------------------------------------------


def test_dhl_delivered_answer_has_the_real_shape(sandbox):
    number = number_for_scenario("dhl", "delivered_signed")
    dhl(sandbox, number)
    sandbox.advance(20 * STEP)
    response = dhl(sandbox, number)

    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["shipments"]
    (shipment,) = body["shipments"]
    real = sample("dhl_unified_spec_example.json")["shipments"][0]
    for key in ("id", "service", "origin", "destination", "status", "details", "events"):
        assert key in shipment
        assert key in real
    assert shipment["id"] == number
    assert shipment["service"] == "parcel-de"
    assert shipment["origin"]["address"].keys() == real["origin"]["address"].keys()
    assert "estimatedTimeOfDelivery" not in shipment  # delivered: no more estimate

    events = shipment["events"]
    assert shipment["status"] == events[0]
    assert events[0]["statusCode"] == "delivered"
    assert events[1]["description"] == "The shipment has been loaded onto the delivery vehicle"
    for event in events:
        assert event.keys() == real["events"][0].keys() - {"remark", "nextSteps"}
        assert event["statusCode"] in DHL_STATUS_CODES
        assert (
            event["location"]["address"].keys() == real["events"][0]["location"]["address"].keys()
        )
    times = [dhl_time(e["timestamp"]) for e in events]
    assert times == sorted(times, reverse=True)  # newest first
    # DHL mixes times with an offset and bare local times: the sandbox serves both.
    assert any("+02:00" in e["timestamp"] for e in events)
    assert any(datetime.fromisoformat(e["timestamp"]).tzinfo is None for e in events)

    details = shipment["details"]
    assert details["proofOfDeliverySignedAvailable"] is True
    pod = details["proofOfDelivery"]
    assert pod.keys() >= {"timestamp", "signatureUrl", "documentUrl", "signed"}
    assert pod["signed"]["name"] == journey_for("dhl", number).signed_by
    assert dhl_time(pod["timestamp"]) == times[0]


def test_dhl_in_transit_announces_an_estimate(sandbox):
    shipment = dhl(sandbox, number_for_scenario("dhl", "delivered_mailbox")).json()["shipments"][0]
    assert [e["statusCode"] for e in shipment["events"]] == ["pre-transit"]
    assert datetime.fromisoformat(shipment["estimatedTimeOfDelivery"]).tzinfo is not None
    assert shipment["details"]["proofOfDeliverySignedAvailable"] is False
    assert "proofOfDelivery" not in shipment["details"]


@pytest.mark.parametrize("number", ["9912345678", "12345", "ABCDEFGHIJ"])
def test_dhl_unknown_number_is_a_404_problem(sandbox, number):
    response = dhl(sandbox, number)
    assert response.status_code == 404
    body = response.json()
    real = sample("dhl_unified_error_404.json")
    assert body.keys() == real.keys()
    assert body["title"] == "No result found"
    assert body["status"] == 404
    assert body["instance"] == f"/shipment/{number}"


def test_dhl_without_tracking_number_is_a_bad_request(sandbox):
    response = requests.get(f"{sandbox.url}/dhl/track/shipments", headers=DHL_HEADERS, timeout=5)
    assert response.status_code == 400
    assert response.json()["status"] == 400


def test_dhl_requires_an_api_key(sandbox):
    response = dhl(sandbox, number_for_scenario("dhl", "stuck"), headers={})
    assert response.status_code == 401
    assert response.json() == {"title": "Unauthorized", "status": 401, "detail": "Invalid API key"}


# --- Journey clock and determinism ------------------------------------------------------------


def test_journey_advances_with_the_control_api(sandbox):
    number = number_for_scenario("dhl", "delivered_pickup_point")
    first = dhl(sandbox, number).json()["shipments"][0]["events"]
    assert len(first) == 1

    response = requests.post(
        f"{sandbox.url}/_sandbox/advance", json={"seconds": 2 * STEP}, timeout=5
    )
    assert response.json()["advanced_seconds"] == 2 * STEP
    events = dhl(sandbox, number).json()["shipments"][0]["events"]
    assert len(events) == 3
    anchor = dhl_time(first[0]["timestamp"])
    # step k happened exactly k steps after the first sight; the newest is "now", not later
    assert [(dhl_time(e["timestamp"]) - anchor).total_seconds() for e in events] == [120, 60, 0]

    sandbox.advance(100 * STEP)
    last = dhl(sandbox, number).json()["shipments"][0]["events"][0]
    assert last["statusCode"] == "delivered"
    assert "Parcelshop" in last["description"]


def test_journey_follows_an_injected_clock(sandbox):
    number = number_for_scenario("laposte", "failed_attempt_then_delivered")
    assert len(laposte(sandbox, number).json()["shipment"]["event"]) == 1
    sandbox.clock.now += 6 * STEP + 1
    events = laposte(sandbox, number).json()["shipment"]["event"]
    assert [e["code"] for e in events][:2] == ["ND1", "MD2"]
    newest = datetime.fromisoformat(events[0]["date"])
    assert newest.timestamp() == SUMMER_SUNDAY.timestamp() + 6 * STEP
    assert newest.timestamp() <= sandbox.clock.now  # never in the future


def test_anchor_is_per_number(sandbox):
    early = number_for_scenario("laposte", "delivered_signed", 0)
    late = number_for_scenario("laposte", "delivered_signed", 1)
    laposte(sandbox, early)
    sandbox.clock.now += 3 * STEP
    assert len(laposte(sandbox, early).json()["shipment"]["event"]) == 4
    assert len(laposte(sandbox, late).json()["shipment"]["event"]) == 1


def test_same_number_same_story():
    number = number_for_scenario("dhl", "returned_to_sender")
    bodies = []
    for _ in range(2):
        app = make_app(clock=ManualClock(SUMMER_SUNDAY), step_seconds=STEP)
        with run_in_thread(app) as handle:
            dhl(handle, number)
            handle.advance(30 * STEP)
            bodies.append(dhl(handle, number).content)
    assert bodies[0] == bodies[1]


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_every_scenario_ends_with_its_courier_rendering(sandbox, scenario):
    la_number = number_for_scenario("laposte", scenario)
    dhl_number = number_for_scenario("dhl", scenario)
    laposte(sandbox, la_number)
    dhl(sandbox, dhl_number)
    sandbox.advance(50 * STEP)
    la_events = laposte(sandbox, la_number).json()["shipment"]["event"]
    dhl_events = dhl(sandbox, dhl_number).json()["shipments"][0]["events"]
    final_code = {
        "delivered_signed": "DI1",
        "delivered_mailbox": "DI1",
        "delivered_pickup_point": "DI1",
        "failed_attempt_then_delivered": "DI1",
        "address_exception": "PB1",
        "returned_to_sender": "DI2",
        "stuck": "ET1",
        "lost": "PB1",
    }[scenario]
    assert la_events[0]["code"] == final_code
    assert len(la_events) == len(journey_for("laposte", la_number).steps)
    assert len(dhl_events) == len(journey_for("dhl", dhl_number).steps)


# --- Control API ------------------------------------------------------------------------------


def test_health_and_scenario_examples(sandbox):
    health = requests.get(f"{sandbox.url}/_sandbox/health", timeout=5).json()
    assert health["status"] == "ok"
    assert health["step_seconds"] == STEP
    assert health["tracked_numbers"] == 0
    examples = requests.get(f"{sandbox.url}/_sandbox/scenarios", timeout=5).json()
    assert examples["numbers"]["dhl"]["lost"] == number_for_scenario("dhl", "lost")
    assert examples["scenarios"]["stuck"]["final_status"] == "in_transit"


def test_faults_can_be_read_replaced_and_validated(sandbox):
    url = f"{sandbox.url}/_sandbox/faults"
    assert requests.get(url, timeout=5).json() == Faults().as_dict()
    set_500 = requests.post(url, json={"error_500": 0.25, "latency_ms": 5}, timeout=5).json()
    assert set_500["error_500"] == 0.25
    assert set_500["latency_ms"] == 5
    # POST replaces: keys left out go back to their defaults
    assert requests.post(url, json={"malformed": 0.1}, timeout=5).json()["error_500"] == 0
    for bad in (
        {"error_500": 2},
        {"bogus": 1},
        {"error_500": 0.6, "timeout": 0.6},
        {"latency_ms": -1},
    ):
        assert requests.post(url, json=bad, timeout=5).status_code == 400
    assert requests.post(url, data="not json", timeout=5).status_code == 400


def test_reset_forgets_anchors_faults_and_advances(sandbox):
    number = number_for_scenario("laposte", "delivered_signed")
    laposte(sandbox, number)
    sandbox.advance(3 * STEP)
    sandbox.faults.update(latency_ms=1)
    assert requests.get(f"{sandbox.url}/_sandbox/health", timeout=5).json()["tracked_numbers"] == 1

    assert requests.post(f"{sandbox.url}/_sandbox/reset", timeout=5).json()["reset"] is True
    health = requests.get(f"{sandbox.url}/_sandbox/health", timeout=5).json()
    assert health["tracked_numbers"] == 0
    assert health["advanced_seconds"] == 0
    assert health["faults"] == Faults().as_dict()
    # the journey starts again from the sandbox's (un-advanced) present
    events = laposte(sandbox, number).json()["shipment"]["event"]
    assert len(events) == 1
    assert datetime.fromisoformat(events[0]["date"]).timestamp() == SUMMER_SUNDAY.timestamp()


def test_advance_refuses_nonsense(sandbox):
    url = f"{sandbox.url}/_sandbox/advance"
    assert requests.post(url, json={"seconds": -5}, timeout=5).status_code == 400
    assert requests.post(url, json={}, timeout=5).status_code == 400
    assert requests.get(url, timeout=5).status_code == 405


# --- Faults -----------------------------------------------------------------------------------


def test_error_500_fault(sandbox):
    sandbox.faults.update(error_500=1.0)
    assert laposte(sandbox, number_for_scenario("laposte", "stuck")).status_code == 500
    response = dhl(sandbox, number_for_scenario("dhl", "stuck"))
    assert response.status_code == 500
    assert response.json()["status"] == 500
    # the control API is never faulty
    assert requests.get(f"{sandbox.url}/_sandbox/health", timeout=5).status_code == 200


def test_error_429_fault_carries_retry_after(sandbox):
    requests.post(
        f"{sandbox.url}/_sandbox/faults",
        json={"error_429": 1.0, "retry_after_seconds": 17},
        timeout=5,
    )
    for response in (
        laposte(sandbox, number_for_scenario("laposte", "stuck")),
        dhl(sandbox, number_for_scenario("dhl", "stuck")),
    ):
        assert response.status_code == 429
        assert response.headers["Retry-After"] == "17"


def test_malformed_fault_is_a_truncated_200(sandbox):
    sandbox.faults.update(malformed=1.0)
    for response in (
        laposte(sandbox, number_for_scenario("laposte", "stuck")),
        dhl(sandbox, number_for_scenario("dhl", "stuck")),
        dhl(sandbox, "9912345678"),  # even an error answer arrives cut, as a 200
    ):
        assert response.status_code == 200
        with pytest.raises(ValueError):
            json.loads(response.content)


def test_timeout_fault(sandbox):
    sandbox.faults.update(timeout=1.0, timeout_seconds=0.6)
    number = number_for_scenario("laposte", "stuck")
    with pytest.raises(requests.Timeout):
        laposte(sandbox, number, timeout=0.2)
    started = time.monotonic()
    response = laposte(sandbox, number, timeout=5)
    assert response.status_code == 200  # a patient client gets the answer, late
    assert time.monotonic() - started >= 0.6


def test_latency_fault(sandbox):
    number = number_for_scenario("dhl", "stuck")
    sandbox.faults.update(latency_ms=300)
    started = time.monotonic()
    assert dhl(sandbox, number).status_code == 200
    assert time.monotonic() - started >= 0.3


def test_fault_draws_are_reproducible_from_the_seed():
    def statuses():
        app = make_app(
            clock=ManualClock(SUMMER_SUNDAY), step_seconds=STEP, seed=42, faults={"error_500": 0.5}
        )
        with run_in_thread(app) as handle:
            return [dhl(handle, number_for_scenario("dhl", "stuck")).status_code for _ in range(12)]

    first = statuses()
    assert first == statuses()
    assert set(first) == {200, 500}


# --- The real adapters parse what the sandbox serves -----------------------------------------

# Final state each scenario must produce once parsed by the courier's adapter. None: the
# courier's format cannot say the substatus (La Poste has no POD nor "how" codes; neither format
# has a "lost" code), so only the status is checked.
ADAPTER_FINAL = {
    "laposte": {
        "delivered_signed": (Status.DELIVERED, None),
        "delivered_mailbox": (Status.DELIVERED, None),
        "delivered_pickup_point": (Status.DELIVERED, Substatus.DELIVERED_PICKUP_POINT),
        "failed_attempt_then_delivered": (Status.DELIVERED, None),
        "address_exception": (Status.EXCEPTION, Substatus.EXCEPTION_ADDRESS_ISSUE),
        "returned_to_sender": (Status.EXCEPTION, Substatus.EXCEPTION_RETURNED_TO_SENDER),
        "stuck": (Status.IN_TRANSIT, None),
        "lost": (Status.EXCEPTION, None),
    },
    "dhl": {
        "delivered_signed": (Status.DELIVERED, Substatus.DELIVERED_SIGNED),
        "delivered_mailbox": (Status.DELIVERED, Substatus.DELIVERED_MAILBOX),
        "delivered_pickup_point": (Status.DELIVERED, Substatus.DELIVERED_PICKUP_POINT),
        "failed_attempt_then_delivered": (Status.DELIVERED, Substatus.DELIVERED_SIGNED),
        "address_exception": (Status.EXCEPTION, Substatus.EXCEPTION_ADDRESS_ISSUE),
        "returned_to_sender": (Status.EXCEPTION, Substatus.EXCEPTION_RETURNED_TO_SENDER),
        "stuck": (Status.IN_TRANSIT, None),
        "lost": (Status.EXCEPTION, None),
    },
}
# Steps a courier format cannot express: DHL Unified has no "waiting at the pickup point" code.
KNOWN_GAPS = {("dhl", "available_for_pickup"): Status.IN_TRANSIT}


def _adapter(carrier, sandbox):
    if carrier == "laposte":
        from tracking.carriers.laposte import LaPosteAdapter

        return LaPosteAdapter(base_url=f"{sandbox.url}/laposte", api_key="sandbox-key")
    from tracking.carriers.dhl import DhlAdapter

    return DhlAdapter(base_url=f"{sandbox.url}/dhl", api_key="sandbox-key")


@pytest.mark.parametrize("carrier", ["laposte", "dhl"])
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_real_adapter_reads_every_scenario(sandbox, carrier, scenario):
    adapter = _adapter(carrier, sandbox)
    number = number_for_scenario(carrier, scenario)
    journey = journey_for(carrier, number)

    # Step by step, the adapter's state follows the journey's own status...
    for index, step, result in walk_journey(sandbox, adapter, number):
        assert len(result.events) == index + 1
        expected = KNOWN_GAPS.get((carrier, step.kind), step.status)
        assert result_state(result).status == expected, f"{scenario} at {step.kind}"

    # ...and ends where the scenario says.
    status, substatus = ADAPTER_FINAL[carrier][scenario]
    assert result_state(result).status == status
    if substatus is not None:
        assert result_state(result).substatus == substatus
    # La Poste's POD is the delivery date; DHL sends a proofOfDelivery only for a signature.
    has_pod = status == Status.DELIVERED and (
        carrier == "laposte" or substatus == Substatus.DELIVERED_SIGNED
    )
    if has_pod:
        assert result.pod is not None
        assert result.pod.delivered_at == result_state(result).delivered_at
        if carrier == "dhl":
            assert result.pod.signed_by == journey.signed_by
    else:
        assert result.pod is None


def test_real_adapters_fetch_through_the_sandbox(sandbox):
    """Paths, headers and batching as the adapters send them to the real couriers."""

    client = carrier_http_client(timeout_seconds=5)
    numbers = [number_for_scenario("laposte", "delivered_signed", i) for i in range(12)]
    result, responses = _adapter("laposte", sandbox).track(
        [*numbers, "6X12345678901"], client=client
    )
    assert len(responses) == 2  # ten numbers per request
    assert sorted(s.tracking_number for s in result.shipments) == sorted(numbers)
    assert [e.code for e in result.errors] == ["not_found"]

    dhl_number = number_for_scenario("dhl", "delivered_mailbox")
    result, _ = _adapter("dhl", sandbox).track([dhl_number, "9912345678"], client=client)
    assert [s.tracking_number for s in result.shipments] == [dhl_number]
    assert [(e.tracking_number, e.code) for e in result.errors] == [("9912345678", "not_found")]
