"""The emulated AfterShip over real HTTP, read by the real AfterShipAdapter. No database."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from devtools.sandbox.couriers.aftership import COURIER, UNDERLYING_SLUGS, signed_webhook
from devtools.sandbox.journeys import SCENARIOS, journey_for
from devtools.sandbox.numbers import number_for_scenario
from tests.support.clock import SUMMER_SUNDAY
from tests.support.http import carrier_http_client
from tests.support.sandbox import JOURNEY_FINALS, STEP, walk_journey
from tracking.carriers.aftership import AfterShipAdapter
from tracking.carriers.base import (
    PushRejected,
    TrackingError,
)
from tracking.status import Status, Substatus, result_state

# The dates these tests assert on are the ones couriers render on this summer Sunday.
pytestmark = pytest.mark.sandbox(at=SUMMER_SUNDAY)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "carriers" / "aftership"
SECRET = "sandbox-webhook-secret"
PATH = "/aftership/tracking/2025-04/trackings"

# Where each scenario ends, as AfterShip's subtags tell it: every step kind has its own subtag.
FINAL = JOURNEY_FINALS


def _adapter(sandbox, api_key: str = "sandbox-key") -> AfterShipAdapter:
    return AfterShipAdapter(
        base_url=f"{sandbox.url}/aftership", api_key=api_key, webhook_secret=SECRET
    )


def _register(sandbox, number: str, api_key: str = "sandbox-key") -> requests.Response:
    return requests.post(
        f"{sandbox.url}{PATH}",
        json={"tracking_number": number},
        headers={"as-api-key": api_key},
        timeout=5,
    )


def _get(sandbox, numbers: str, headers=None) -> requests.Response:
    return requests.get(
        f"{sandbox.url}{PATH}",
        params={"tracking_numbers": numbers},
        headers={"as-api-key": "sandbox-key"} if headers is None else headers,
        timeout=5,
    )


def test_aftership_sandbox_numbers_are_well_formed_and_distinct():
    # given the number format "AS" + 10 digits, "AS99…" unknown
    numbers = {number_for_scenario("aftership", s) for s in SCENARIOS}

    # then
    assert len(numbers) == len(SCENARIOS)
    assert all(COURIER.is_well_formed(n) and not COURIER.is_unknown(n) for n in numbers)
    assert COURIER.candidate(42) == "AS0000000042"
    assert COURIER.is_unknown("AS9912345678")


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_aftership_sandbox_real_adapter_reads_every_scenario(sandbox, scenario):
    # given a parcel of this scenario, first asked about now
    adapter = _adapter(sandbox)
    number = number_for_scenario("aftership", scenario)
    journey = journey_for("aftership", number)

    # when the sandbox clock reaches each step, the adapter's state follows the journey
    for index, step, shipment in walk_journey(sandbox, adapter, number):
        assert len(shipment.events) == index + 1
        assert result_state(shipment).status == step.status, f"{scenario} at {step.kind}"
        if step.substatus is not None:
            assert shipment.events[-1].substatus == step.substatus, f"{scenario} at {step.kind}"

    # then it ends where the scenario says, with AfterShip's POD for a delivery
    assert (result_state(shipment).status, result_state(shipment).substatus) == FINAL[scenario]
    assert (result_state(shipment).status, result_state(shipment).substatus) == (
        journey.scenario.final_status,
        journey.scenario.final_substatus,
    )
    if result_state(shipment).status == Status.DELIVERED:
        assert shipment.pod is not None
        assert shipment.pod.delivered_at == result_state(shipment).delivered_at
        signed = result_state(shipment).substatus == Substatus.DELIVERED_SIGNED
        assert shipment.pod.signed_by == (journey.signed_by if signed else "")
        assert shipment.estimated_delivery is None  # story over: no more estimate
    else:
        assert shipment.pod is None
    # every event is aware, in France, and in Paris time whichever form the sandbox wrote
    assert all(e.location.country == "FR" for e in shipment.events)
    assert all(e.occurred_at.utcoffset() == timedelta(hours=2) for e in shipment.events)


def test_aftership_sandbox_answer_has_the_documented_shape(sandbox):
    # given a delivered parcel
    number = number_for_scenario("aftership", "delivered_signed")
    _register(sandbox, number)
    sandbox.advance(20 * STEP)

    # when
    response = _get(sandbox, number)

    # then the sample's envelope, tracking fields and checkpoint fields
    assert response.status_code == 200
    body = response.json()
    sample = json.loads((FIXTURES / "tracking_delivered.json").read_text(encoding="utf-8"))
    assert body.keys() == sample.keys()
    assert body["meta"]["code"] == 200
    assert body["data"].keys() == sample["data"].keys()
    [tracking] = body["data"]["trackings"]
    sample_tracking = sample["data"]["trackings"][0]
    assert tracking.keys() <= sample_tracking.keys()
    assert tracking["slug"] in UNDERLYING_SLUGS
    assert (tracking["tag"], tracking["subtag"]) == ("Delivered", "Delivered_003")
    for checkpoint in tracking["checkpoints"]:
        assert checkpoint.keys() == sample_tracking["checkpoints"][0].keys()
        assert checkpoint["country_region"] == "FRA"
    times = [c["checkpoint_time"] for c in tracking["checkpoints"]]
    assert any(t.endswith("+02:00") for t in times)
    assert any(datetime.fromisoformat(t).tzinfo is None for t in times)  # bare local times too


def test_aftership_sandbox_underlying_courier_is_exposed(sandbox):
    number = number_for_scenario("aftership", "stuck")
    _register(sandbox, number)
    slugs = _adapter(sandbox).courier_slugs_of(_get(sandbox, number).content)
    assert slugs == {number: UNDERLYING_SLUGS[int(number[-1]) % len(UNDERLYING_SLUGS)]}


def test_aftership_sandbox_unknown_and_invalid_numbers_are_per_number_errors(sandbox):
    # given a tracked number, one AfterShip does not track, and one of no known format
    known = number_for_scenario("aftership", "delivered_mailbox")

    # when
    result, answers = _adapter(sandbox).track(
        [known, "AS9912345678", "NOT-A-NUMBER"], client=carrier_http_client()
    )

    # then the known one is registered and read; AfterShip refuses to register the others,
    # each in its own words
    assert [s.tracking_number for s in result.shipments] == [known]
    assert result.errors == [
        TrackingError(
            "AS9912345678", "not_found", "Cannot detect courier. Activate courier at admin."
        ),
        TrackingError(
            "NOT-A-NUMBER", "invalid_number", "The value of `tracking_number` is invalid."
        ),
    ]


def test_aftership_sandbox_list_leaves_out_what_nobody_registered(sandbox):
    # given a number of a scenario, never registered with AfterShip
    number = number_for_scenario("aftership", "stuck")

    # when / then the list leaves it out and the tracking itself is 404 "does not exist"
    assert _get(sandbox, number).json()["data"]["trackings"] == []
    single = requests.get(
        f"{sandbox.url}{PATH}/{number}", headers={"as-api-key": "sandbox-key"}, timeout=5
    )
    assert single.status_code == 404
    assert single.json()["meta"] == {
        "code": 4004,
        "message": "Tracking does not exist.",
        "type": "NotFound",
    }


def test_aftership_sandbox_registration_is_idempotent_and_then_listed(sandbox):
    # given a number registered once
    number = number_for_scenario("aftership", "stuck")
    first = _register(sandbox, number)

    # when it is registered again
    again = _register(sandbox, number)

    # then AfterShip created it once, answers "already exists" after, and lists it
    assert (first.status_code, first.json()["meta"]["code"]) == (201, 201)
    assert first.json()["data"]["tracking"]["tracking_number"] == number
    assert (again.status_code, again.json()["meta"]["code"]) == (400, 4003)
    assert [t["tracking_number"] for t in _get(sandbox, number).json()["data"]["trackings"]] == [
        number
    ]


def test_aftership_sandbox_registration_needs_the_api_key(sandbox):
    number = number_for_scenario("aftership", "stuck")
    assert _register(sandbox, number, api_key="").json()["meta"]["code"] == 401
    assert _get(sandbox, number).json()["data"]["trackings"] == []


def test_aftership_adapter_registers_a_new_parcel_once_then_only_polls(sandbox):
    # given a parcel AfterShip has never heard of
    adapter = _adapter(sandbox)
    number = number_for_scenario("aftership", "delivered_signed")

    # when it is polled twice
    first, first_answers = adapter.track([number], client=carrier_http_client())
    second, second_answers = adapter.track([number], client=carrier_http_client())

    # then the first poll registered it and read it; the second needed one GET only
    assert [s.tracking_number for s in first.shipments] == [number]
    assert first.errors == []
    assert len(first_answers) == 2  # the list without it, then with it once registered
    assert [s.tracking_number for s in second.shipments] == [number]
    assert len(second_answers) == 1
    assert _register(sandbox, number).json()["meta"]["code"] == 4003


def test_aftership_sandbox_more_than_fifty_numbers_is_a_400_envelope(sandbox):
    numbers = ",".join(f"AS{i:010d}" for i in range(51))
    response = _get(sandbox, numbers)
    assert response.status_code == 400
    assert response.json()["meta"]["code"] == 4008


def test_aftership_sandbox_without_api_key_answers_the_401_envelope(sandbox):
    # given no as-api-key (the adapter's side of it: tests/tracking/carriers/test_contract.py)
    number = number_for_scenario("aftership", "stuck")

    # when / then
    assert _get(sandbox, number, headers={}).json()["meta"]["code"] == 401


def test_aftership_sandbox_429_body_is_aftership_envelope(sandbox):
    sandbox.faults.update(error_429=1.0, retry_after_seconds=7)
    response = _get(sandbox, number_for_scenario("aftership", "stuck"))
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert response.json()["meta"]["code"] == 429


# --- the signed webhook ---------------------------------------------------------------------


def test_aftership_sandbox_signed_webhook_passes_the_real_verification(sandbox):
    # given a delivered parcel and its webhook, sent now
    number = number_for_scenario("aftership", "delivered_mailbox")
    sandbox.app.anchor("aftership", number)
    sandbox.advance(20 * STEP)
    parcel = sandbox.app.parcel("aftership", number)
    ts = int(sandbox.app.now())
    headers, body = signed_webhook(parcel, SECRET, ts)
    adapter = _adapter(sandbox)

    # when
    adapter.verify_push(headers=headers, body=body, now=datetime.fromtimestamp(ts, UTC))
    pushed = adapter.parse_push(body)

    # then it says what the API says
    polled, _answers = adapter.track([number], client=carrier_http_client())
    assert pushed.shipments == polled.shipments
    assert result_state(pushed.shipments[0]).substatus == Substatus.DELIVERED_MAILBOX
    payload = json.loads(body)
    assert payload["event"] == "tracking_update"
    assert payload["ts"] == ts
    assert adapter.push_event_id(headers=headers, body=body) == payload["event_id"]


def test_aftership_sandbox_webhook_event_id_follows_the_parcel_state(sandbox):
    # given the same parcel state sent twice, then after a new step
    number = number_for_scenario("aftership", "delivered_signed")
    sandbox.app.anchor("aftership", number)
    adapter = _adapter(sandbox)

    def event_id(ts: int) -> str:
        headers, body = signed_webhook(sandbox.app.parcel("aftership", number), SECRET, ts)
        return adapter.push_event_id(headers=headers, body=body)

    # when / then: a re-sent state is the same event (deduplicated), a new step a new one
    first = event_id(1)
    assert event_id(2) == first
    sandbox.advance(STEP)
    assert event_id(3) != first


def test_aftership_sandbox_webhook_with_another_secret_or_late_is_rejected(sandbox):
    number = number_for_scenario("aftership", "lost")
    parcel = sandbox.app.parcel("aftership", number)
    ts = int(sandbox.app.now())
    adapter = _adapter(sandbox)

    headers, body = signed_webhook(parcel, "not-our-secret", ts)
    with pytest.raises(PushRejected):
        adapter.verify_push(headers=headers, body=body, now=datetime.fromtimestamp(ts, UTC))

    headers, body = signed_webhook(parcel, SECRET, ts)
    with pytest.raises(PushRejected, match="stale"):
        adapter.verify_push(headers=headers, body=body, now=datetime.fromtimestamp(ts + 3600, UTC))
