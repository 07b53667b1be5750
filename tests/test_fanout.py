"""The one way apps react to a change (core/fanout.py, README "How apps react to a change"):
signals inside the transaction, rows written there, jobs queued on commit, sweeps behind the
jobs. Each guarantee, end to end through the real services and django-q2's ORM broker."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django_q.models import OrmQ

from notifications.models import Notification, WebhookDelivery, WebhookEvent
from payouts.models import JournalEntry, Payout
from payouts.services import payout_open_for_order, payout_release
from returns.models import ReturnEvent
from returns.services import (
    ItemChoice,
    return_request_accept,
    return_request_create,
    return_shipment_add,
    returns_receive_delivered,
)
from tests.notifications.factories import WebhookEndpointFactory
from tests.payouts.factories import proven_parcel
from tests.returns.factories import delivered_order
from tests.sellers.factories import OrderFactory
from tests.support.ingest import deliver_return_parcel
from tests.tracking.factories import ShipmentFactory
from tracking.models import ShipmentAudit, ShipmentException
from tracking.services import shipments_expire_stale, sync
from tracking.signals import status_changes_recorded

pytestmark = pytest.mark.django_db


def queued() -> list[tuple[str, tuple]]:
    """The jobs waiting in django-q2's ORM broker: (function path, arguments)."""
    return sorted((q.task["func"], tuple(q.task["args"])) for q in OrmQ.objects.all())


def run_queued(capture) -> None:
    """What a worker does: take each queued job and run it (its own jobs are queued again)."""
    jobs = queued()
    OrmQ.objects.all().delete()
    with capture(execute=True):
        for func, args in jobs:
            import_string(func)(*args)


def shipped_return():
    """A buyer's return of one lamp, accepted, its parcel on the way back; a CRM endpoint that
    hears of everything. Returns (request, order)."""
    WebhookEndpointFactory(seller=None)
    order, lamp, _shade = delivered_order()
    request = return_request_create(
        order=order, items=[ItemChoice(lamp.id, 1, "like_new")], reason="wrong_size",
        resolution="refund",
    )  # fmt: skip
    request = return_request_accept(request=request, actor=None)
    request = return_shipment_add(request=request, tracking_number="6A12345678901", actor=None)
    OrmQ.objects.all().delete()
    return request, order


def outbox_counts() -> tuple[int, int, int, int]:
    return (
        Notification.objects.count(),
        WebhookEvent.objects.count(),
        WebhookDelivery.objects.count(),
        ShipmentException.objects.count(),
    )


def test_a_rolled_back_status_change_writes_nothing_and_queues_nothing(
    django_capture_on_commit_callbacks,
):
    # given a return parcel on its way back, and everything the apps wrote so far
    request, _order = shipped_return()
    before = outbox_counts()
    # when its delivery is ingested in a transaction that then fails
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        deliver_return_parcel(request.return_shipment, timezone.now())
        raise RuntimeError("the caller's transaction fails")
    # then no listener left a row, a job or an on-commit hook behind
    assert callbacks == []
    assert queued() == []
    assert outbox_counts() == before
    request.refresh_from_db()
    assert request.status == "shipped"


def test_after_commit_every_listener_does_its_work_exactly_once(
    django_capture_on_commit_callbacks,
):
    # given a return parcel on its way back
    request, order = shipped_return()
    parcel = request.return_shipment
    # when its delivery commits
    with django_capture_on_commit_callbacks(execute=True):
        deliver_return_parcel(parcel, timezone.now())
    # then each listener queued its one job, nothing ran inline in the courier sync
    jobs = dict(queued())
    assert jobs.keys() == {
        "notifications.tasks.deliver_webhooks",
        "notifications.tasks.send_notifications",
        "payouts.tasks.evaluate_orders",
        "returns.tasks.receive_delivered",
    }
    assert jobs["payouts.tasks.evaluate_orders"] == ([order.id],)
    assert jobs["returns.tasks.receive_delivered"] == ([parcel.id],)
    request.refresh_from_db()
    assert request.status == "shipped"
    # when a worker runs them, and runs them again (a redelivered job)
    first = queued()
    run_queued(django_capture_on_commit_callbacks)
    for func, args in first:
        with django_capture_on_commit_callbacks(execute=True):
            import_string(func)(*args)
    # then the return is received once: one refund, one step, one webhook event for it
    request.refresh_from_db()
    assert request.status == "received"
    assert JournalEntry.objects.filter(payout__order=order, kind="return_refund").count() == 1
    assert ReturnEvent.objects.filter(request=request, to_status="received").count() == 1
    assert (
        WebhookEvent.objects.filter(
            type="return.updated", source_key__endswith=":return_received"
        ).count()
        == 1
    )
    assert WebhookEvent.objects.filter(type="shipment.status_changed", shipment=parcel).count() == 1


def test_a_job_lost_after_commit_is_done_by_its_sweep(django_capture_on_commit_callbacks):
    # given a return parcel whose delivery committed, and its job lost (a crash before it ran)
    request, order = shipped_return()
    with django_capture_on_commit_callbacks(execute=True):
        deliver_return_parcel(request.return_shipment, timezone.now())
    OrmQ.objects.all().delete()
    # when the returns.receive_delivered schedule runs
    assert returns_receive_delivered() == 1
    # then the return is received and refunded all the same, and a second sweep does nothing
    request.refresh_from_db()
    assert request.status == "received"
    assert returns_receive_delivered() == 0
    assert JournalEntry.objects.filter(payout__order=order, kind="return_refund").count() == 1


def test_a_return_step_rolled_back_notifies_nobody(django_capture_on_commit_callbacks):
    # given a buyer's delivered order
    WebhookEndpointFactory(seller=None)
    order, lamp, _shade = delivered_order()
    # when the buyer's request fails after it was recorded (its transaction rolls back)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        return_request_create(
            order=order, items=[ItemChoice(lamp.id, 1, "like_new")], reason="wrong_size",
            resolution="refund",
        )  # fmt: skip
        raise RuntimeError("the caller's transaction fails")
    # then no message, no webhook, no job
    assert callbacks == []
    assert not Notification.objects.filter(trigger="return_requested").exists()
    assert not WebhookEvent.objects.filter(type="return.updated").exists()
    assert queued() == []


def test_a_payout_release_rolled_back_announces_nothing_and_a_committed_one_once(
    django_capture_on_commit_callbacks,
):
    # given an eligible payout and the CRM's endpoint
    WebhookEndpointFactory(seller=None)
    order = OrderFactory()
    proven_parcel(order, days_ago=20)
    payout, _created = payout_open_for_order(order=order, actor=None, payment_reference="PSP-1")
    # when its release rolls back
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        payout_release(payout=payout, actor=None)
        raise RuntimeError("the caller's transaction fails")
    # then no payout.released event and nothing queued
    assert callbacks == []
    assert not WebhookEvent.objects.filter(type="payout.released").exists()
    # when it is released for real, twice
    with django_capture_on_commit_callbacks(execute=True):
        payout_release(payout=payout, actor=None)
        payout_release(payout=payout, actor=None)
    # then one event, committed with the release, and its delivery queued
    event = WebhookEvent.objects.get(type="payout.released")
    assert event.payload["data"]["payout"]["id"] == payout.pk
    assert [func for func, _args in queued()] == ["notifications.tasks.deliver_webhooks"]
    assert Payout.objects.get(pk=payout.pk).status == "released"


def stale_parcels(count: int):
    now = timezone.now()
    return [
        ShipmentFactory(
            status="in_transit",
            last_event_at=now - timedelta(days=40),
            created_at=now - timedelta(days=45),
        )  # fmt: skip
        for _ in range(count)
    ]


def test_expiry_is_a_status_change_like_any_other(django_capture_on_commit_callbacks):
    # given a parcel without news for 40 days, and the CRM's endpoint
    WebhookEndpointFactory(seller=None)
    (parcel,) = stale_parcels(1)
    # when the dispatcher expires it
    with django_capture_on_commit_callbacks(execute=True):
        assert shipments_expire_stale() == 1
    # then it is expired, audited, and the apps reacted as to a courier's status
    parcel.refresh_from_db()
    assert (parcel.status, parcel.substatus, parcel.next_sync_at) == ("expired", "", None)
    audit = ShipmentAudit.objects.get(shipment=parcel)
    assert (audit.actor_id, audit.action, audit.detail["previous_status"]) == (
        None, "expired", "in_transit",
    )  # fmt: skip
    event = WebhookEvent.objects.get(type="shipment.status_changed", shipment=parcel)
    shipment_data = event.payload["data"]["shipment"]
    assert (shipment_data["previous_status"], shipment_data["status"]) == ("in_transit", "expired")
    assert ("payouts.tasks.evaluate_orders", ([parcel.order_id],)) in queued()
    # and a second run changes nothing
    assert shipments_expire_stale() == 0
    assert ShipmentAudit.objects.filter(shipment=parcel).count() == 1


def test_expiry_rolled_back_writes_nothing(django_capture_on_commit_callbacks):
    WebhookEndpointFactory(seller=None)
    (parcel,) = stale_parcels(1)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        shipments_expire_stale()
        raise RuntimeError("the caller's transaction fails")
    parcel.refresh_from_db()
    assert parcel.status == "in_transit"
    assert callbacks == []
    assert not ShipmentAudit.objects.exists()
    assert not WebhookEvent.objects.exists()


def test_expiry_goes_in_batches_each_announced_once(monkeypatch):
    # given five stale parcels and batches of two
    parcels = stale_parcels(5)
    monkeypatch.setattr(sync, "EXPIRE_BATCH", 2)
    heard = []

    def receiver(sender, changes, **kwargs):
        heard.append(sorted(c.shipment_id for c in changes))

    status_changes_recorded.connect(receiver, dispatch_uid="test-expiry")
    try:
        # when they expire
        expired = shipments_expire_stale()
    finally:
        status_changes_recorded.disconnect(dispatch_uid="test-expiry")
    # then all of them, announced batch by batch, each parcel once
    ids = sorted(p.id for p in parcels)
    assert expired == 5
    assert heard == [ids[0:2], ids[2:4], ids[4:5]]
