"""Outbound webhooks follow Standard Webhooks: a receiver verifies them with the standard's own
library (``standardwebhooks``), and a secret rotation keeps the old secret signing for the
stated overlap."""

import base64
import hashlib
import hmac
import importlib
from datetime import timedelta

import pytest
import time_machine
from django.apps import apps
from django.core.exceptions import ValidationError
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from notifications import services
from notifications.models import WebhookEndpoint
from notifications.signing import new_secret, secret_key, signature_headers, validate_secret
from tests.notifications.factories import WebhookEndpointFactory
from tests.support.ingest import courier_says, scan
from tests.tracking.factories import ShipmentFactory

BODY = b'{"id":"evt_1","type":"shipment.delivered"}'
NOW = 1_764_057_600  # 2025-11-25T08:00:00Z


def _headers(secret, *, body=BODY, msg_id="evt_1", timestamp=NOW):
    return signature_headers(secrets_in_use=[secret], msg_id=msg_id, timestamp=timestamp, body=body)


# --- the signature ------------------------------------------------------------------------------


def test_a_new_secret_is_a_standard_key_of_32_random_bytes():
    secret = new_secret()
    assert secret.startswith("whsec_")
    assert len(secret_key(secret)) == 32
    assert secret_key(secret) == base64.b64decode(secret.removeprefix("whsec_"))
    assert new_secret() != secret


@time_machine.travel(NOW + 10, tick=False)
def test_the_standard_library_verifies_our_signature():
    secret = new_secret()
    headers = _headers(secret)

    assert Webhook(secret).verify(BODY, headers) == {"id": "evt_1", "type": "shipment.delivered"}
    assert headers["webhook-id"] == "evt_1"
    assert headers["webhook-timestamp"] == str(NOW)
    # the signature by hand: HMAC-SHA256 of "id.timestamp.body" keyed with the decoded secret
    expected = hmac.new(secret_key(secret), b"evt_1.1764057600." + BODY, hashlib.sha256)
    assert headers["webhook-signature"] == "v1," + base64.b64encode(expected.digest()).decode()


@time_machine.travel(NOW + 10, tick=False)
@pytest.mark.parametrize(
    "tamper",
    [
        {"body": BODY.replace(b"delivered", b"returned")},
        {"msg_id": "evt_2"},
        {"timestamp": NOW + 1},
    ],
    ids=["body", "id", "timestamp"],
)
def test_a_changed_body_id_or_timestamp_fails_verification(tamper):
    secret = new_secret()
    signed = _headers(secret)
    sent = _headers(secret, **tamper)
    # the signature of the original, sent with whatever was changed
    forged = {**sent, "webhook-signature": signed["webhook-signature"]}
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(tamper.get("body", BODY), forged)


@time_machine.travel(NOW + 10, tick=False)
def test_another_secret_or_an_old_request_fails_verification():
    headers = _headers(new_secret())
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(BODY, headers)
    with time_machine.travel(NOW + 301, tick=False), pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(BODY, headers)


def test_a_secret_standard_verifiers_would_read_differently_is_refused():
    # url-safe base64 ("-", "_"): lenient decoders drop those characters and get another key
    with pytest.raises(ValidationError, match="standard base64"):
        validate_secret("whsec_" + base64.urlsafe_b64encode(b"\xfb\xff" * 16).decode())
    with pytest.raises(ValidationError, match="starts with 'whsec_'"):
        validate_secret("my-shared-secret")
    with pytest.raises(ValidationError, match="24 to 64 bytes"):
        validate_secret("whsec_" + base64.b64encode(b"short").decode())
    validate_secret(new_secret())


# --- deliveries ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_delivery_verifies_with_the_standard_library_at_the_receiver(webhook_receiver):
    receiver = webhook_receiver()
    endpoint = WebhookEndpointFactory(url=receiver.url, seller=None)
    receiver.secret = endpoint.secret

    courier_says(ShipmentFactory(), scan("delivered"))
    services.outbox_sweep(now=timezone.now())

    assert receiver.bad_signatures == 0
    assert len(receiver.processed) == 2  # status_changed and delivered
    request = receiver.requests[0]
    event = Webhook(endpoint.secret).verify(request["body"], request["headers"])
    assert request["headers"]["webhook-id"] == event["id"]
    assert request["headers"]["webhook-signature"].count("v1,") == 1  # one secret in use


@pytest.mark.django_db
def test_after_a_rotation_both_secrets_sign_until_the_overlap_ends(webhook_receiver, settings):
    # given an endpoint whose receiver still holds the old secret, and one that took the new
    settings.WEBHOOK_SECRET_ROTATION_OVERLAP_SECONDS = 3600
    old_side, new_side = webhook_receiver(), webhook_receiver()
    endpoint = WebhookEndpointFactory(url=old_side.url, seller=None)
    other = WebhookEndpointFactory(url=new_side.url, seller=None, secret=endpoint.secret)
    old_side.secret = endpoint.secret
    rotated_at = timezone.now()

    # when the secret is rotated (the other endpoint gets the same new secret, for the test)
    rotated = services.webhook_endpoint_rotate_secret(endpoint_id=endpoint.id, now=rotated_at)
    WebhookEndpoint.objects.filter(pk=other.pk).update(
        secret=rotated.secret,
        previous_secret=rotated.previous_secret,
        previous_secret_expires_at=rotated.previous_secret_expires_at,
    )
    new_side.secret = rotated.secret

    # then, within the hour, a request carries two signatures and both receivers accept it
    assert rotated.previous_secret == old_side.secret != rotated.secret
    assert rotated.previous_secret_expires_at == rotated_at + timedelta(hours=1)
    with time_machine.travel(rotated_at + timedelta(minutes=59)):
        courier_says(ShipmentFactory(), scan("in_transit"))
        services.outbox_sweep(now=timezone.now())
    assert old_side.requests[0]["headers"]["webhook-signature"].count("v1,") == 2
    assert old_side.bad_signatures == new_side.bad_signatures == 0
    assert len(old_side.processed) == len(new_side.processed) == 1

    # and once the hour is over, only the new secret signs: the old receiver refuses
    with time_machine.travel(rotated_at + timedelta(hours=1, minutes=1)):
        courier_says(ShipmentFactory(), scan("in_transit"))
        services.outbox_sweep(now=timezone.now())
    assert old_side.requests[-1]["headers"]["webhook-signature"].count("v1,") == 1
    assert old_side.bad_signatures >= 1
    assert new_side.bad_signatures == 0
    assert len(new_side.processed) == 2


@pytest.mark.django_db
def test_a_second_rotation_within_the_overlap_keeps_two_secrets_at_most():
    endpoint = WebhookEndpointFactory(seller=None)
    first = endpoint.secret
    now = timezone.now()
    services.webhook_endpoint_rotate_secret(endpoint_id=endpoint.id, now=now)
    second = WebhookEndpoint.objects.get(pk=endpoint.pk).secret
    services.webhook_endpoint_rotate_secret(endpoint_id=endpoint.id, now=now)
    endpoint.refresh_from_db()
    assert endpoint.secrets_in_use(now) == [endpoint.secret, second]
    assert first not in endpoint.secrets_in_use(now)


# --- secrets from before the standard -----------------------------------------------------------


@pytest.mark.django_db
def test_secrets_from_before_the_standard_keep_their_key():
    # before, the HMAC key was the secret's text: the migration keeps those very bytes
    legacy = ["whsec_" + "Ab-_" * 10, "a-custom-shared-secret"]
    endpoints = [WebhookEndpointFactory(seller=None, secret=text) for text in legacy]
    migration = importlib.import_module("notifications.migrations.0005_standard_webhooks_secrets")

    migration.secrets_to_standard_keys(apps, None)

    for endpoint, text in zip(endpoints, legacy, strict=True):
        endpoint.refresh_from_db()
        assert endpoint.secret.startswith("whsec_")
        assert secret_key(endpoint.secret) == text.encode()
