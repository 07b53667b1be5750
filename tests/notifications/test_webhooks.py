import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from notifications import services
from notifications.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from notifications.services.webhooks import RETRY_DELAYS
from payouts.signals import PayoutReleased, payouts_released
from tests.notifications.factories import WebhookEndpointFactory
from tests.support.ingest import courier_says, scan
from tests.tracking.factories import ShipmentFactory


def endpoint_for(receiver, **fields) -> WebhookEndpoint:
    endpoint = WebhookEndpointFactory(url=receiver.url, **fields)
    receiver.secret = endpoint.secret
    return endpoint


@pytest.mark.django_db(transaction=True)
def test_status_change_reaches_seller_and_crm_signed_after_commit(webhook_receiver, django_q_sync):
    # given a seller endpoint subscribed to deliveries only and a CRM endpoint for everything
    shipment = ShipmentFactory()
    seller_side, crm_side = webhook_receiver(), webhook_receiver()
    endpoint_for(seller_side, seller=shipment.seller, event_types=["shipment.delivered"])
    endpoint_for(crm_side, seller=None)
    # when the parcel is delivered (committed: the on-commit job delivers)
    courier_says(shipment, scan("delivered"))
    # then each receiver got what it subscribed to, signed, with an event id and a version
    assert [e["type"] for e in seller_side.processed.values()] == ["shipment.delivered"]
    assert sorted(e["type"] for e in crm_side.processed.values()) == [
        "shipment.delivered",
        "shipment.status_changed",
    ]
    event = next(iter(seller_side.processed.values()))
    assert event["version"] == "1"
    assert event["data"]["shipment"]["tracking_number"] == shipment.tracking_number
    assert event["data"]["shipment"]["status"] == "delivered"
    headers = seller_side.requests[0]["headers"]
    assert headers["webhook-id"] == event["id"]
    assert seller_side.bad_signatures == crm_side.bad_signatures == 0
    attempt = WebhookAttempt.objects.filter(delivery__endpoint__seller=shipment.seller).get()
    assert (attempt.status_code, attempt.succeeded, attempt.response_excerpt) == (200, True, "ok")


@pytest.mark.django_db
def test_a_receiver_down_for_a_while_ends_up_with_every_event_once(webhook_receiver):
    # given a receiver that answers 500 to its first five requests
    receiver = webhook_receiver(fail_first=5)
    endpoint = endpoint_for(receiver, seller=None)
    shipments = ShipmentFactory.create_batch(3)
    for shipment in shipments:
        courier_says(shipment, scan("out_for_delivery"))
    expected = set(WebhookEvent.objects.values_list("event_id", flat=True))
    assert len(expected) == 6  # status_changed + out_for_delivery, three parcels
    # when the sweeper keeps running as time passes (retries at their backoff)
    now = timezone.now()
    for minutes in (0, 1, 2, 5, 15, 45):
        services.outbox_sweep(now=now + timedelta(minutes=minutes))
    # then every event was processed, each once, whatever the retries
    assert {e for e in receiver.processed} == {str(e) for e in expected}
    assert set(WebhookDelivery.objects.values_list("state", flat=True)) == {"succeeded"}
    failures = WebhookAttempt.objects.filter(succeeded=False)
    assert failures.count() == 5
    assert {a.status_code for a in failures} == {500}
    assert {a.response_excerpt for a in failures} == {"receiver says no"}
    endpoint.refresh_from_db()
    assert (endpoint.consecutive_failures, endpoint.failing_since) == (0, None)


@pytest.mark.django_db
def test_a_delivery_failing_for_three_days_is_dead_lettered_and_the_endpoint_disabled(
    webhook_receiver, django_capture_on_commit_callbacks
):
    # given a receiver that always fails
    receiver = webhook_receiver(always_fail=True)
    endpoint = endpoint_for(receiver, seller=None, contact_email="crm-ops@marketplace.example")
    shipment = ShipmentFactory()
    courier_says(shipment, scan("exception", substatus="exception.damaged"))
    # when every retry comes due
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        services.outbox_sweep(now=now)
        for delay in RETRY_DELAYS:
            now += delay
            services.outbox_sweep(now=now)
    # then each delivery was tried 13 times over about three days, then dead-lettered
    assert timedelta(days=3) <= sum(RETRY_DELAYS, timedelta()) <= timedelta(days=3.5)
    assert set(WebhookDelivery.objects.values_list("state", "attempt_count")) == {
        ("dead", len(RETRY_DELAYS) + 1)
    }
    # and the endpoint, failing continuously for three days, is disabled and its owner told
    endpoint.refresh_from_db()
    assert not endpoint.is_active
    assert "Failed" in endpoint.disabled_reason
    owner_mail = [m for m in mail.outbox if m.to == ["crm-ops@marketplace.example"]]
    assert len(owner_mail) == 1
    assert "a été désactivé" in owner_mail[0].body


@pytest.mark.django_db
def test_replay_since_a_date_resends_with_the_same_event_ids(webhook_receiver):
    # given events delivered to a seller's receiver
    shipment = ShipmentFactory()
    receiver = webhook_receiver()
    endpoint = endpoint_for(receiver, seller=shipment.seller)
    courier_says(shipment, scan("out_for_delivery", hours_ago=2))
    courier_says(shipment, scan("delivered", hours_ago=1))
    services.outbox_sweep()
    first_round = [json.loads(r["body"])["id"] for r in receiver.requests]
    # when the operator replays everything since yesterday with the management command
    out = StringIO()
    since = (timezone.now() - timedelta(days=1)).isoformat()
    call_command("notifications", "replay", "--since", since, "--endpoint", endpoint.id, stdout=out)
    services.outbox_sweep()
    # then the same events came again, with the same ids; the receiver processed each once
    assert json.loads(out.getvalue()) == {"queued_deliveries": 4}
    second_round = [json.loads(r["body"])["id"] for r in receiver.requests[4:]]
    assert sorted(second_round) == sorted(first_round)
    assert len(receiver.processed) == 4


@pytest.mark.django_db
def test_replay_reaches_an_endpoint_for_events_missed_while_disabled(webhook_receiver):
    # given an endpoint disabled while a parcel was delivered
    shipment = ShipmentFactory()
    receiver = webhook_receiver()
    endpoint = endpoint_for(receiver, seller=shipment.seller, is_active=False)
    courier_says(shipment, scan("delivered"))
    services.outbox_sweep()
    assert receiver.requests == []
    # when it is enabled again and the event replayed to it
    services.webhook_endpoint_enable(endpoint_id=endpoint.id)
    event = WebhookEvent.objects.get(type="shipment.delivered")
    services.webhook_replay(event_ids=[event.id], endpoint_id=endpoint.id)
    services.outbox_sweep()
    # then it has it
    assert list(receiver.processed) == [str(event.event_id)]


def test_replay_command_refuses_bad_input(db):
    with pytest.raises(Exception, match="needs --since or --event"):
        call_command("notifications", "replay")
    with pytest.raises(Exception, match="not an ISO date"):
        call_command("notifications", "replay", "--since", "yesterday")


@pytest.mark.django_db
def test_seller_rule_can_turn_its_webhooks_off_for_a_trigger(webhook_receiver):
    # given a seller who does not want webhooks for "out for delivery"
    from notifications.models import NotificationRule

    shipment = ShipmentFactory()
    receiver = webhook_receiver()
    endpoint_for(receiver, seller=shipment.seller)
    NotificationRule.objects.create(
        seller=shipment.seller,
        trigger="out_for_delivery",
        audience="seller",
        channel="webhook",
        enabled=False,
    )
    # when its parcel goes out for delivery, then is delivered
    courier_says(shipment, scan("out_for_delivery", hours_ago=2))
    courier_says(shipment, scan("delivered", hours_ago=1))
    services.outbox_sweep()
    # then only the delivery reached it
    assert sorted(e["type"] for e in receiver.processed.values()) == [
        "shipment.delivered",
        "shipment.status_changed",
    ]


@pytest.mark.django_db(transaction=True)
def test_payout_released_becomes_a_signed_webhook(webhook_receiver, django_q_sync):
    # given a seller's endpoint for payouts and the CRM's
    shipment = ShipmentFactory()
    receiver = webhook_receiver()
    endpoint_for(receiver, seller=shipment.seller, event_types=["payout.released"])
    released_at = timezone.now()
    # when the payouts app announces a release, twice (a retried job)
    release = PayoutReleased(
        payout_id=77,
        order_id=shipment.order_id,
        seller_id=shipment.seller_id,
        net_amount=4490,
        currency="EUR",
        released_at=released_at,
    )
    for _ in range(2):
        with transaction.atomic():  # sent inside the release's transaction
            payouts_released.send(sender=None, releases=[release])
    # then one event, delivered and verified
    event = WebhookEvent.objects.get(type="payout.released")
    assert list(receiver.processed) == [str(event.event_id)]
    data = receiver.processed[str(event.event_id)]["data"]
    assert data["payout"] == {
        "id": 77,
        "net_amount": 4490,
        "currency": "EUR",
        "released_at": released_at.isoformat(),
    }
    assert data["order"]["reference"] == shipment.order.reference


@pytest.mark.django_db
def test_status_changes_store_webhook_events_only_when_someone_can_receive_them():
    # given no endpoint anywhere: a status change stores no webhook event
    lonely = ShipmentFactory()
    courier_says(lonely, scan("in_transit"))
    assert not WebhookEvent.objects.exists()
    # when the seller has an endpoint, even a disabled one (replay must reach it later)
    shipment = ShipmentFactory()
    WebhookEndpointFactory(seller=shipment.seller, is_active=False)
    courier_says(shipment, scan("in_transit"))
    # then that seller's events are stored, and still none for the seller without endpoints
    assert set(WebhookEvent.objects.values_list("seller_id", flat=True)) == {shipment.seller_id}
