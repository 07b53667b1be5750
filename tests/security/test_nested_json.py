"""Issue 14 item 9: a deeply nested JSON body (100,000 levels) is the courier's malformed
payload, never a RecursionError: in every courier parser, in the sync batch (the courier backs
off as for any malformed body, what was fetched before it is kept) and in a signed push (400,
kept for operators)."""

import json
import re

import pytest
import responses

from tests.tracking.factories import ShipmentFactory
from tracking import carriers
from tracking.carriers.base import CarrierPayloadError
from tracking.carriers.http import CarrierHttpClient
from tracking.carriers.oauth import token_from_json
from tracking.models import CarrierSyncState, RawPayload
from tracking.services.sync import carrier_batch_sync

DEPTH = 100_000
NESTED_BODIES = {
    "arrays": b"[" * DEPTH + b"]" * DEPTH,
    "objects": b'{"shipments":' * DEPTH + b"null" + b"}" * DEPTH,
}


@pytest.mark.parametrize("shape", sorted(NESTED_BODIES))
@pytest.mark.parametrize("slug", sorted(carriers.ADAPTER_CLASSES))
def test_courier_parse_of_deeply_nested_json_is_a_malformed_payload(slug, shape):
    adapter = carriers.get_adapter(slug)
    with pytest.raises(CarrierPayloadError):
        adapter.parse(NESTED_BODIES[shape])
    with pytest.raises(CarrierPayloadError):
        adapter.parse_push(NESTED_BODIES[shape])


@pytest.mark.parametrize("shape", sorted(NESTED_BODIES))
def test_oauth_token_answer_deeply_nested_is_a_malformed_payload(shape):
    with pytest.raises(CarrierPayloadError):
        token_from_json(NESTED_BODIES[shape], "UPS")


def _dhl_answer(number: str) -> str:
    event = {
        "timestamp": "2026-12-01T10:15:00+01:00",
        "location": {"address": {"countryCode": "FR", "addressLocality": "Lyon"}},
        "statusCode": "transit",
        "status": "In transit",
        "description": "The shipment has been processed in the parcel center",
    }
    return json.dumps({"shipments": [{"id": number, "status": event, "events": [event]}]})


@pytest.mark.django_db
@responses.activate
def test_carrier_batch_sync_deeply_nested_answer_backs_the_courier_off_and_keeps_the_rest():
    # given two DHL parcels; DHL answers the first normally and the second with a hostile body
    first = ShipmentFactory(carrier="dhl", tracking_number="3318810011")
    second = ShipmentFactory(carrier="dhl", tracking_number="3318810022")
    url = re.compile(re.escape(carriers.get_adapter("dhl").base_url) + r"/track/shipments.*")

    def answer(request):
        if "3318810011" in request.url:
            return 200, {"Content-Type": "application/json"}, _dhl_answer("3318810011")
        return 200, {"Content-Type": "application/json"}, NESTED_BODIES["arrays"]

    responses.add_callback(responses.GET, url, callback=answer)
    client = CarrierHttpClient(max_attempts=1, requests_per_second=0, sleep=lambda _s: None)

    # when the batch job runs
    outcome = carrier_batch_sync(carrier="dhl", shipment_ids=[first.id, second.id], client=client)

    # then it ends as for any malformed body: the first parcel's news is kept, DHL backs off
    # and the second parcel waits for the end of the back-off
    assert outcome.fault == "malformed_payload"
    assert outcome.synced == 1
    assert first.events.count() == 1
    state = CarrierSyncState.objects.get(carrier="dhl")
    assert state.last_error_code == "malformed_payload"
    second.refresh_from_db()
    assert second.events.count() == 0
    assert second.next_sync_at == state.backoff_until


@pytest.mark.django_db
def test_signed_push_with_deeply_nested_body_is_a_400_kept_for_operators(client, settings):
    # given DHL pushes to us with its token
    dhl = {**settings.CARRIERS["dhl"], "push_header": "X-Parcelle-Push-Token", "push_token": "t0k"}
    settings.CARRIERS = {**settings.CARRIERS, "dhl": dhl}

    # when an authenticated push carries a 100,000-level body
    response = client.post(
        "/webhooks/couriers/dhl/",
        data=NESTED_BODIES["objects"],
        content_type="application/json",
        HTTP_X_PARCELLE_PUSH_TOKEN="t0k",
    )

    # then it is refused as malformed and kept for operators, like any malformed push
    assert response.status_code == 400
    assert response.json()["error"] == "malformed_push"
    payload = RawPayload.objects.get()
    assert payload.state == RawPayload.State.MALFORMED
    assert "nested too deeply" in payload.note
