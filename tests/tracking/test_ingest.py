from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sellers.models import Order
from tests.tracking.factories import ShipmentFactory
from tracking.carriers.base import CarrierEvent, Location, PodData, TrackingResult
from tracking.models import ProofOfDelivery, TrackingEvent
from tracking.services import ShipmentUpdate, events_ingest
from tracking.signals import status_changes_recorded
from tracking.status import Status, Substatus

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


def event(
    hours: float, status: str, code: str, substatus: str | None = None, city: str = "Lyon"
) -> CarrierEvent:
    return CarrierEvent(
        occurred_at=T0 + timedelta(hours=hours),
        status=status,
        substatus=substatus,
        code=code,
        message=f"{code} scan",
        location=Location(city=city, postcode="69003", country="FR"),
    )


# A journey with a failed attempt, a delivery and a late hub scan after it.
JOURNEY = [
    event(0, Status.INFO_RECEIVED, "DR1"),
    event(3, Status.IN_TRANSIT, "PC1", city="Paris"),
    event(20, Status.IN_TRANSIT, "ET1", city="Lyon"),
    event(30, Status.OUT_FOR_DELIVERY, "MD2"),
    event(31, Status.FAILED_ATTEMPT, "ND1", Substatus.FAILED_ATTEMPT_RECIPIENT_ABSENT),
    event(54, Status.OUT_FOR_DELIVERY, "MD2"),
    event(56, Status.DELIVERED, "DI1", Substatus.DELIVERED_MAILBOX),
    event(60, Status.IN_TRANSIT, "ET1", city="Villeurbanne"),
]


def result(number: str, events, pod: PodData | None = None) -> TrackingResult:
    return TrackingResult(tracking_number=number, events=tuple(events), pod=pod)


def stored(shipment):
    return sorted(
        TrackingEvent.objects.filter(shipment=shipment).values_list(
            "occurred_at", "status", "substatus", "carrier_code", "city"
        )
    )


@pytest.mark.django_db
def test_events_ingest_derives_state_and_schedules_nothing_after_delivery():
    # given
    shipment = ShipmentFactory()
    Order.objects.filter(pk=shipment.order_id).update(created_at=T0)  # ordered before
    pod = PodData(delivered_at=T0 + timedelta(hours=56), location_type="mailbox")
    # when
    summary = events_ingest(updates=[ShipmentUpdate(shipment.id, result("X", JOURNEY, pod))])
    # then
    shipment.refresh_from_db()
    assert summary.events_received == len(JOURNEY)
    assert (shipment.status, shipment.substatus) == (Status.DELIVERED, Substatus.DELIVERED_MAILBOX)
    assert shipment.delivered_at == T0 + timedelta(hours=56)
    assert shipment.last_event_at == T0 + timedelta(hours=60)
    assert shipment.next_sync_at is None
    pod = ProofOfDelivery.objects.get(shipment=shipment)
    assert pod.location_type == "mailbox"
    assert pod.source_event == shipment.events.get(status=Status.DELIVERED)


@pytest.mark.django_db
def test_events_ingest_twice_stores_each_event_once():
    shipment = ShipmentFactory()
    update = ShipmentUpdate(shipment.id, result("X", JOURNEY))
    events_ingest(updates=[update])
    second = events_ingest(updates=[update, update])
    assert TrackingEvent.objects.filter(shipment=shipment).count() == len(JOURNEY)
    assert second.status_changes == []


@pytest.mark.django_db
def test_events_ingest_announces_each_status_change_once():
    # given a receiver of the status-change signal
    received = []

    def receiver(sender, changes, **kwargs):
        received.extend(changes)

    status_changes_recorded.connect(receiver)
    try:
        shipment = ShipmentFactory()
        # when
        events_ingest(updates=[ShipmentUpdate(shipment.id, result("X", JOURNEY[:4]))])
    finally:
        status_changes_recorded.disconnect(receiver)
    # then
    assert [(c.shipment_id, c.previous_status, c.status, c.direction) for c in received] == [
        (shipment.id, Status.PENDING, Status.OUT_FOR_DELIVERY, "outbound")
    ]


@pytest.mark.django_db
def test_events_ingest_pending_shipment_with_empty_answer_stays_pending():
    shipment = ShipmentFactory()
    events_ingest(updates=[ShipmentUpdate(shipment.id, result("X", []))])
    shipment.refresh_from_db()
    assert shipment.status == Status.PENDING
    assert shipment.next_sync_at is not None


@pytest.mark.django_db
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    deliveries=st.lists(
        st.lists(st.sampled_from(range(len(JOURNEY))), min_size=0, max_size=12),
        min_size=1,
        max_size=5,
    ).map(lambda chunks: chunks + [list(range(len(JOURNEY)))]),
    order=st.randoms(use_true_random=False),
)
def test_events_ingest_any_permutation_and_duplication_gives_same_result(deliveries, order):
    # given the journey split into deliveries (each may repeat or miss events), plus one
    # complete answer, delivered in a random order
    order.shuffle(deliveries)
    reference = ShipmentFactory()
    events_ingest(updates=[ShipmentUpdate(reference.id, result("R", JOURNEY))])
    shipment = ShipmentFactory()
    # when
    for indexes in deliveries:
        picked = [JOURNEY[i] for i in indexes]
        order.shuffle(picked)
        events_ingest(updates=[ShipmentUpdate(shipment.id, result("X", picked))])
    # then the stored events and the final state equal those of one clean ingest
    shipment.refresh_from_db()
    reference.refresh_from_db()
    assert stored(shipment) == stored(reference)
    assert (shipment.status, shipment.substatus, shipment.delivered_at, shipment.last_event_at) == (
        reference.status,
        reference.substatus,
        reference.delivered_at,
        reference.last_event_at,
    )
    assert (shipment.status, shipment.substatus) == (Status.DELIVERED, Substatus.DELIVERED_MAILBOX)


@pytest.mark.django_db(transaction=True)
def test_events_ingest_status_changes_recorded_inside_the_transaction():
    # given a receiver that writes inside the ingest transaction, and an ingest that fails after
    from django.db import transaction

    seen_in_transaction = []

    def receiver(sender, changes, **kwargs):
        seen_in_transaction.append(transaction.get_connection().in_atomic_block)

    status_changes_recorded.connect(receiver)
    try:
        shipment = ShipmentFactory()
        with pytest.raises(RuntimeError), transaction.atomic():
            events_ingest(updates=[ShipmentUpdate(shipment.id, result("X", JOURNEY[:2]))])
            raise RuntimeError("the caller's transaction fails")
    finally:
        status_changes_recorded.disconnect(receiver)
    # then the receiver ran inside the transaction, which rolled everything back
    shipment.refresh_from_db()
    assert seen_in_transaction == [True]
    assert shipment.status == "pending"
    assert not TrackingEvent.objects.exists()


@pytest.mark.django_db
def test_events_ingest_pod_arriving_later_links_the_stored_delivery_event():
    # given a delivery stored without POD, then the same answer again with the courier's POD
    shipment = ShipmentFactory()
    Order.objects.filter(pk=shipment.order_id).update(created_at=T0)  # ordered before
    events_ingest(updates=[ShipmentUpdate(shipment.id, result("X", JOURNEY))])
    pod = PodData(delivered_at=T0 + timedelta(hours=56), signed_by="C. MARTIN")
    # when
    events_ingest(updates=[ShipmentUpdate(shipment.id, result("X", JOURNEY, pod))])
    # then the POD points at the delivery event stored the first time
    stored = ProofOfDelivery.objects.get(shipment=shipment)
    assert stored.source_event == shipment.events.get(status=Status.DELIVERED)
