import json

import pytest
from django.utils import timezone

from tests.tracking.factories import ShipmentFactory
from tracking.models import RawPayload
from tracking.services.push import push_process

pytestmark = pytest.mark.django_db

URL = "/webhooks/couriers/dhl/"
TOKEN_HEADER = "X-Parcelle-Push-Token"


@pytest.fixture
def dhl_push(settings):
    settings.CARRIERS = {
        **settings.CARRIERS,
        "dhl": {**settings.CARRIERS["dhl"], "push_header": TOKEN_HEADER, "push_token": "s3cret"},
    }


def dhl_body(number: str, status_code: str = "delivered", when="2026-11-20T10:15:00+01:00"):
    delivered = status_code == "delivered"
    event = {
        "timestamp": when,
        "location": {
            "address": {"countryCode": "FR", "postalCode": "69003", "addressLocality": "Lyon"}
        },
        "statusCode": status_code,
        "status": "Delivered" if delivered else "In transit",
        "description": "The shipment has been delivered"
        if delivered
        else "The shipment has been processed in the parcel center",
    }
    body = {"shipments": [{"id": number, "service": "parcel-de", "status": event,
                           "events": [event]}]}  # fmt: skip
    return json.dumps(body).encode()


def post(client, body: bytes, token: str | None = "s3cret"):
    headers = {}
    if token is not None:
        headers[f"HTTP_{TOKEN_HEADER.upper().replace('-', '_')}"] = token
    return client.post(URL, data=body, content_type="application/json", **headers)


def test_carrier_push_is_stored_once_and_processed_in_a_job(
    client, dhl_push, django_capture_on_commit_callbacks
):
    # given a DHL parcel we follow
    shipment = ShipmentFactory(carrier="dhl", tracking_number="3318810025")
    body = dhl_body("3318810025")
    # when DHL pushes its delivery, then pushes it again (a retry or a replay)
    with django_capture_on_commit_callbacks(execute=False) as enqueued:
        first = post(client, body)
        replay = post(client, body)
    # then the first is accepted and queued, the replay acknowledged without a second copy
    assert (first.status_code, first.json()) == (202, {"received": True, "duplicate": False})
    assert (replay.status_code, replay.json()) == (200, {"received": True, "duplicate": True})
    payload = RawPayload.objects.get()
    assert (payload.kind, payload.state, payload.body) == ("push", "received", body)
    assert len(enqueued) == 1
    # and when the job runs (twice, as a retried job would)
    assert push_process(raw_payload_id=payload.id) == 1
    assert push_process(raw_payload_id=payload.id) == 0
    shipment.refresh_from_db()
    payload.refresh_from_db()
    assert shipment.status == "delivered"
    assert shipment.events.get().source == "push"
    assert shipment.events.get().raw_payload_id == payload.id
    assert payload.state == "processed"


@pytest.mark.parametrize("token", [None, "", "wrong", "s3cret-but-longer"])
def test_carrier_push_with_a_bad_token_is_refused_and_stores_nothing(client, dhl_push, token):
    response = post(client, dhl_body("3318810025"), token=token)
    assert response.status_code == 401
    assert RawPayload.objects.count() == 0


def test_carrier_push_malformed_body_is_kept_for_operators(client, dhl_push):
    response = post(client, b'{"shipments": [{"id": 12')
    again = post(client, b'{"shipments": [{"id": 12')
    assert (response.status_code, again.status_code) == (400, 400)
    assert response.json()["error"] == "malformed_push"
    payload = RawPayload.objects.get()
    assert payload.state == "malformed"
    assert payload.note


def test_carrier_push_for_a_courier_without_push_is_refused(client):
    no_push = client.post("/webhooks/couriers/laposte/", data=b"{}", content_type="text/json")
    unknown = client.post("/webhooks/couriers/pigeon/", data=b"{}", content_type="text/json")
    assert (no_push.status_code, unknown.status_code) == (401, 404)
    assert client.get(URL).status_code == 405
    assert RawPayload.objects.count() == 0


def test_push_process_notes_numbers_that_match_no_shipment(client, dhl_push):
    post(client, dhl_body("1234567890"))
    payload = RawPayload.objects.get()
    assert push_process(raw_payload_id=payload.id, now=timezone.now()) == 0
    payload.refresh_from_db()
    assert payload.note == "No shipment for: 1234567890"


def test_push_repeating_an_earlier_scan_stores_it_once(client, dhl_push):
    # given a transit scan pushed first
    shipment = ShipmentFactory(carrier="dhl", tracking_number="3318810025")
    post(client, dhl_body("3318810025", "transit", "2026-11-19T08:00:00+01:00"))
    push_process(raw_payload_id=RawPayload.objects.get().id)
    # when a later push repeats it beside the delivery
    both = json.loads(dhl_body("3318810025"))
    older = json.loads(dhl_body("3318810025", "transit", "2026-11-19T08:00:00+01:00"))
    both["shipments"][0]["events"].append(older["shipments"][0]["events"][0])
    post(client, json.dumps(both).encode())
    push_process(raw_payload_id=RawPayload.objects.order_by("-id").first().id)
    # then the repeated scan is stored once and the parcel is delivered
    shipment.refresh_from_db()
    assert shipment.events.count() == 2
    assert shipment.status == "delivered"


def aftership_webhook(number: str, *, ts: int, secret: str = "whsec"):
    """A real signed AfterShip webhook for a sandbox journey that has reached its end."""
    from devtools.sandbox.couriers.aftership import signed_webhook
    from devtools.sandbox.server import make_app

    app = make_app(step_seconds=60)
    app.anchor("aftership", number)
    app.advance(3600)
    return signed_webhook(app.parcel("aftership", number), secret, ts)


@pytest.fixture
def aftership_secret(settings):
    settings.CARRIERS = {
        **settings.CARRIERS,
        "aftership": {**settings.CARRIERS["aftership"], "webhook_secret": "whsec"},
    }


def post_aftership(client, headers, body):
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()
             if k != "content-type"}  # fmt: skip
    return client.post("/webhooks/couriers/aftership/", data=body,
                       content_type="application/json", **extra)  # fmt: skip


def test_aggregator_push_signed_with_hmac_updates_the_parcel(client, aftership_secret):
    # given a parcel followed through the aggregator, and its signed webhook
    from devtools.sandbox.numbers import number_for_scenario

    number = number_for_scenario("aftership", "delivered_signed")
    shipment = ShipmentFactory(carrier="aftership", tracking_number=number)
    headers, body = aftership_webhook(number, ts=int(timezone.now().timestamp()))
    # when it arrives, then arrives again (AfterShip retries)
    first = post_aftership(client, headers, body)
    again = post_aftership(client, headers, body)
    push_process(raw_payload_id=RawPayload.objects.get().id)
    # then it is stored once and the parcel is delivered
    shipment.refresh_from_db()
    assert (first.status_code, again.status_code) == (202, 200)
    assert shipment.status == "delivered"


def test_aggregator_push_tampered_or_stale_is_refused(client, aftership_secret):
    now = int(timezone.now().timestamp())
    headers, body = aftership_webhook("AS1234567890", ts=now)
    tampered = post_aftership(client, headers, body.replace(b"AS1234567890", b"AS1234567891"))
    forged_headers, forged_body = aftership_webhook("AS1234567890", ts=now, secret="guessed")
    forged = post_aftership(client, forged_headers, forged_body)
    stale_headers, stale_body = aftership_webhook("AS1234567890", ts=now - 3600)
    stale = post_aftership(client, stale_headers, stale_body)
    assert (tampered.status_code, forged.status_code, stale.status_code) == (401, 401, 401)
    assert RawPayload.objects.count() == 0
