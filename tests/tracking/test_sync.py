import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from devtools.sandbox.couriers import get_courier
from devtools.sandbox.numbers import number_for_scenario, sandbox_carriers
from tests.support.sandbox import JOURNEY_DONE
from tests.tracking.factories import ShipmentFactory
from tracking import tasks
from tracking.carriers import ADAPTER_CLASSES
from tracking.models import CarrierSyncState, ProofOfDelivery, RawPayload, Shipment
from tracking.services import carrier_batch_sync, shipments_expire_stale, sync_dispatch_due
from tracking.services.payloads import raw_payloads_purge
from tracking.services.sync import CLAIM_LEASE, _claim_due

pytestmark = pytest.mark.django_db


def registered(carrier: str, scenario: str, index: int = 0, **kwargs) -> Shipment:
    return ShipmentFactory(
        carrier=carrier, tracking_number=number_for_scenario(carrier, scenario, index), **kwargs
    )


def test_sync_dispatch_due_claims_due_shipments_once(django_capture_on_commit_callbacks):
    # given shipments due, not yet due, and finished
    now = timezone.now()
    due = ShipmentFactory.create_batch(25, carrier="laposte", next_sync_at=now - timedelta(1))
    ShipmentFactory.create_batch(3, carrier="laposte", next_sync_at=now + timedelta(hours=1))
    ShipmentFactory.create_batch(2, carrier="laposte", next_sync_at=None)
    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        jobs = sync_dispatch_due(now=now)
        again = sync_dispatch_due(now=now)
    # then one laposte job carries exactly the due shipments, leased; a second run finds none
    assert [(carrier, sorted(ids)) for carrier, ids in jobs] == [
        ("laposte", sorted(s.id for s in due))
    ]
    assert again == []
    assert set(
        Shipment.objects.filter(id__in=[s.id for s in due]).values_list("next_sync_at", flat=True)
    ) == {now + CLAIM_LEASE}
    assert len(callbacks) == 2  # enqueueing waits for the commit


def test_sync_dispatch_due_respects_the_courier_rate_limit(settings):
    # given more due DHL parcels than DHL's quota allows in one minute
    now = timezone.now()
    ShipmentFactory.create_batch(30, carrier="dhl", next_sync_at=now - timedelta(minutes=5))
    # when
    jobs = sync_dispatch_due(now=now)
    # then only one minute of quota (0.2 req/s * 60 s * 1 number) is handed out
    assert sum(len(ids) for _carrier, ids in jobs) == 12
    assert Shipment.objects.filter(next_sync_at__lte=now).count() == 18


def test_sync_dispatch_due_skips_a_courier_backing_off():
    now = timezone.now()
    ShipmentFactory(carrier="laposte", next_sync_at=now - timedelta(minutes=1))
    CarrierSyncState.objects.create(carrier="laposte", backoff_until=now + timedelta(minutes=5))
    assert sync_dispatch_due(now=now) == []


def test_carrier_batch_sync_follows_sandbox_journeys_to_their_end(sandbox, carrier_client):
    # given parcels whose sandbox journeys are complete
    signed = registered("dhl", "delivered_signed")
    mailbox = registered("laposte", "delivered_mailbox")
    returned = registered("laposte", "returned_to_sender")
    stuck = registered("laposte", "stuck")
    carrier_batch_sync(
        carrier="laposte", shipment_ids=[mailbox.id, returned.id, stuck.id], client=carrier_client
    )  # first sight anchors the journeys
    carrier_batch_sync(carrier="dhl", shipment_ids=[signed.id], client=carrier_client)
    sandbox.advance(JOURNEY_DONE)
    # when
    laposte = carrier_batch_sync(
        carrier="laposte", shipment_ids=[mailbox.id, returned.id, stuck.id], client=carrier_client
    )
    dhl = carrier_batch_sync(carrier="dhl", shipment_ids=[signed.id], client=carrier_client)
    # then
    assert (laposte.synced, laposte.fault, dhl.synced, dhl.fault) == (3, "", 1, "")
    for shipment in (signed, mailbox, returned, stuck):
        shipment.refresh_from_db()
    assert signed.status == "delivered" and signed.next_sync_at is None
    assert ProofOfDelivery.objects.get(shipment=signed).signed_by
    assert mailbox.status == "delivered" and mailbox.delivered_at is not None
    assert (returned.status, returned.substatus) == ("exception", "exception.returned_to_sender")
    assert returned.next_sync_at is None
    assert stuck.status == "in_transit" and stuck.next_sync_at is not None
    assert stuck.events.count() == 2


def test_carrier_batch_sync_courier_500_backs_off_and_keeps_every_shipment(sandbox, carrier_client):
    # given a courier answering 500 to everything
    shipments = [registered("laposte", "delivered_signed", i) for i in range(3)]
    sandbox.faults.set({"error_500": 1.0})
    now = timezone.now()
    # when
    outcome = carrier_batch_sync(
        carrier="laposte", shipment_ids=[s.id for s in shipments], client=carrier_client, now=now
    )
    # then the courier backs off, the parcels wait for it, nothing is lost or changed
    state = CarrierSyncState.objects.get(carrier="laposte")
    assert outcome.fault == "unavailable"
    assert (state.consecutive_failures, state.last_error_code) == (1, "unavailable")
    assert state.backoff_until == now + timedelta(seconds=30)
    assert set(Shipment.objects.values_list("next_sync_at", "status")) == {
        (state.backoff_until, "pending")
    }
    # and when the courier recovers, the next sync works and clears the back-off
    sandbox.faults.clear()
    later = carrier_batch_sync(
        carrier="laposte",
        shipment_ids=[s.id for s in shipments],
        client=carrier_client,
        now=state.backoff_until,
    )
    state.refresh_from_db()
    assert (later.synced, later.fault) == (3, "")
    assert (state.consecutive_failures, state.backoff_until) == (0, None)


def test_carrier_batch_sync_while_backing_off_reschedules_without_calling(sandbox, carrier_client):
    shipment = registered("laposte", "delivered_signed")
    until = timezone.now() + timedelta(minutes=3)
    CarrierSyncState.objects.create(carrier="laposte", backoff_until=until)
    outcome = carrier_batch_sync(
        carrier="laposte", shipment_ids=[shipment.id], client=carrier_client
    )
    shipment.refresh_from_db()
    assert outcome.fault == "backing_off"
    assert shipment.next_sync_at == until
    assert shipment.last_synced_at is None


def test_carrier_batch_sync_long_retry_after_sets_the_back_off(sandbox, carrier_client):
    shipment = registered("laposte", "delivered_signed")
    sandbox.faults.set({"error_429": 1.0, "retry_after_seconds": 600})
    now = timezone.now()
    outcome = carrier_batch_sync(
        carrier="laposte", shipment_ids=[shipment.id], client=carrier_client, now=now
    )
    shipment.refresh_from_db()
    assert outcome.fault == "rate_limited"
    assert shipment.next_sync_at == now + timedelta(seconds=600)


def test_carrier_batch_sync_malformed_body_is_a_courier_fault(sandbox, carrier_client):
    shipment = registered("dhl", "delivered_signed")
    sandbox.faults.set({"malformed": 1.0})
    outcome = carrier_batch_sync(carrier="dhl", shipment_ids=[shipment.id], client=carrier_client)
    shipment.refresh_from_db()
    assert outcome.fault == "malformed_payload"
    assert shipment.events.count() == 0
    assert CarrierSyncState.objects.get(carrier="dhl").last_error_code == "malformed_payload"


def test_carrier_batch_sync_unknown_number_backs_off_that_shipment_only(sandbox, carrier_client):
    # given a number the courier does not know, beside one it knows
    unknown = ShipmentFactory(carrier="laposte", tracking_number="6X00000000001")
    known = registered("laposte", "delivered_signed")
    now = timezone.now()
    # when
    outcome = carrier_batch_sync(
        carrier="laposte", shipment_ids=[unknown.id, known.id], client=carrier_client, now=now
    )
    # then
    unknown.refresh_from_db()
    known.refresh_from_db()
    assert (outcome.synced, outcome.number_errors) == (1, 1)
    assert unknown.sync_error_count == 1
    assert unknown.last_sync_error.startswith("not_found")
    assert unknown.next_sync_at == now + timedelta(hours=1)
    assert known.sync_error_count == 0 and known.events.exists()
    assert not CarrierSyncState.objects.filter(carrier="laposte", consecutive_failures__gt=0)


def test_shipments_expire_stale_the_30_day_edge(settings):
    # given parcels whose last news is a minute over and a minute under 30 days old
    settings.TRACKING_EXPIRE_AFTER_DAYS = 30
    now = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    over = ShipmentFactory(status="in_transit", last_event_at=now - timedelta(days=30, minutes=1))
    under = ShipmentFactory(
        status="in_transit", last_event_at=now - timedelta(days=30) + timedelta(minutes=1)
    )
    # when
    expired = shipments_expire_stale(now=now)
    # then only the one past the edge expires
    over.refresh_from_db()
    under.refresh_from_db()
    assert expired == 1
    assert (over.status, under.status) == ("expired", "in_transit")


def test_shipments_expire_stale_ends_parcels_without_news_for_30_days():
    now = timezone.now()
    stale = ShipmentFactory(status="in_transit", last_event_at=now - timedelta(days=31))
    fresh = ShipmentFactory(status="in_transit", last_event_at=now - timedelta(days=2))
    delivered = ShipmentFactory(
        status="delivered",
        delivered_at=now - timedelta(days=40),
        last_event_at=now - timedelta(days=40),
        next_sync_at=None,
    )
    assert shipments_expire_stale(now=now) == 1
    for shipment in (stale, fresh, delivered):
        shipment.refresh_from_db()
    assert (stale.status, stale.next_sync_at) == ("expired", None)
    assert fresh.status == "in_transit"
    assert delivered.status == "delivered"


def test_dispatch_task_runs_batches_through_django_q(
    sandbox, django_q_sync, django_capture_on_commit_callbacks
):
    # given a due parcel whose journey has started
    shipment = registered(
        "laposte",
        "failed_attempt_then_delivered",
        next_sync_at=timezone.now() - timedelta(minutes=1),
    )
    # when the scheduled task runs (django-q2 in sync mode runs the batch job inline)
    with django_capture_on_commit_callbacks(execute=True):
        dispatched = tasks.dispatch_due_syncs()
    # then
    shipment.refresh_from_db()
    assert dispatched == 1
    assert shipment.status == "info_received"
    assert shipment.last_synced_at is not None


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="SKIP LOCKED is PostgreSQL's")
def test_claim_due_concurrent_dispatchers_never_share_a_shipment():
    # given 400 due parcels and eight dispatchers racing for them
    now = timezone.now()
    ids = {
        s.id
        for s in ShipmentFactory.create_batch(
            400, carrier="laposte", next_sync_at=now - timedelta(minutes=1)
        )
    }
    claims: list[list[int]] = []
    barrier = threading.Barrier(8)
    # Each dispatcher keeps its claim's transaction (and so its row locks) open until all eight
    # have claimed, or five seconds pass: the claims overlap in time, so a claim that does not
    # skip the others' locked rows (or takes none) hands one parcel to two dispatchers.
    # A claim that waits for the others' locks (FOR UPDATE without SKIP LOCKED) breaks the
    # barrier: dispatchers must not queue behind each other.
    held = threading.Barrier(8)
    waited: list[bool] = []

    def dispatcher():
        barrier.wait()
        try:
            with transaction.atomic():
                claims.append(_claim_due("laposte", limit=80, now=now))
                try:
                    held.wait(timeout=5)
                except threading.BrokenBarrierError:
                    waited.append(True)
        finally:
            connection.close()

    threads = [threading.Thread(target=dispatcher) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then every parcel went to exactly one dispatcher, none waiting for another
    assert waited == []
    claimed = [i for claim in claims for i in claim]
    assert len(claimed) == len(set(claimed)) == 400
    assert set(claimed) == ids


def test_carrier_batch_sync_links_every_event_to_the_courier_answer(sandbox, carrier_client):
    # given a parcel followed over two syncs
    shipment = registered("laposte", "delivered_mailbox")
    carrier_batch_sync(carrier="laposte", shipment_ids=[shipment.id], client=carrier_client)
    sandbox.advance(JOURNEY_DONE)
    # when
    carrier_batch_sync(carrier="laposte", shipment_ids=[shipment.id], client=carrier_client)
    # then each event points at the first answer that carried it, kept whole
    first, second = RawPayload.objects.order_by("id")
    events = list(shipment.events.order_by("occurred_at"))
    assert events[0].raw_payload_id == first.id
    assert {e.raw_payload_id for e in events[1:]} == {second.id}
    assert shipment.tracking_number in second.body_text
    assert (second.kind, second.http_status, second.size_bytes) == ("poll", 200, len(second.body))


def test_raw_payloads_purge_keeps_events_and_drops_old_payloads(sandbox, carrier_client, settings):
    settings.RAW_PAYLOAD_RETENTION_DAYS = 30
    shipment = registered("laposte", "delivered_mailbox")
    carrier_batch_sync(carrier="laposte", shipment_ids=[shipment.id], client=carrier_client)
    assert raw_payloads_purge(now=timezone.now() + timedelta(days=29)) == 0
    assert raw_payloads_purge(now=timezone.now() + timedelta(days=31)) == 1
    assert shipment.events.get().raw_payload_id is None


@pytest.mark.parametrize(
    "carrier", [slug for slug in sandbox_carriers() if slug in ADAPTER_CLASSES]
)
def test_carrier_batch_sync_every_courier_through_the_sandbox(sandbox, carrier_client, carrier):
    # given two parcels of this courier, one the courier does not know
    shipment = registered(carrier, "delivered_signed")
    unknown = registered(carrier, "delivered_signed", index=1)
    unknown_number = (
        get_courier(carrier).unknown_prefix
        + unknown.tracking_number[len(get_courier(carrier).unknown_prefix) :]
    )
    Shipment.objects.filter(pk=unknown.pk).update(tracking_number=unknown_number)
    ids = [shipment.id, unknown.id]
    # when the sync job asks, then asks again once the journey is over
    carrier_batch_sync(carrier=carrier, shipment_ids=ids, client=carrier_client)
    first_status = Shipment.objects.get(pk=shipment.pk).status
    sandbox.advance(JOURNEY_DONE)
    outcome = carrier_batch_sync(carrier=carrier, shipment_ids=ids, client=carrier_client)
    # then the known parcel went from its first scan to its delivery, each event linked to
    # the answer it came in, and the unknown one waits with the courier's own error
    shipment.refresh_from_db()
    unknown.refresh_from_db()
    assert first_status == "info_received"
    assert (outcome.fault, shipment.status) == ("", "delivered")
    assert not shipment.events.filter(raw_payload__isnull=True).exists()
    assert unknown.status == "pending" and unknown.sync_error_count == 2
