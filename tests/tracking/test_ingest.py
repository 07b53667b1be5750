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


# Found by `make mutate` (issue 22): what ingest stores field by field, its summary, the dedupe
# key's normalisation, the courier's ETA and the refused POD's audit row.


@pytest.mark.django_db
def test_events_ingest_truncates_long_courier_fields_to_the_columns():
    shipment = ShipmentFactory()
    long_event = CarrierEvent(
        occurred_at=T0, status=Status.IN_TRANSIT, substatus=None, code="C" * 60,
        message="m" * 700, location=Location(city="c" * 200, postcode="9" * 30, country="FRA"),
    )  # fmt: skip
    events_ingest(updates=[ShipmentUpdate(shipment.id, result("X", [long_event]))], now=T0)
    row = TrackingEvent.objects.get(shipment=shipment)
    assert (len(row.carrier_code), len(row.message), len(row.city), len(row.postcode)) == (
        40, 500, 120, 20,
    )  # fmt: skip
    assert row.country == "FR"
    assert (row.status, row.substatus, row.source, row.received_at) == (
        Status.IN_TRANSIT, "", TrackingEvent.Source.POLL, T0,
    )  # fmt: skip


@pytest.mark.django_db
def test_events_ingest_summary_and_sync_bookkeeping():
    shipment = ShipmentFactory()
    type(shipment).objects.filter(pk=shipment.pk).update(sync_error_count=3, last_sync_error="x")
    now = T0 + timedelta(days=3)
    summary = events_ingest(
        updates=[ShipmentUpdate(shipment.id, result("X", JOURNEY[:3])),
                 ShipmentUpdate(shipment.id + 999, result("Y", JOURNEY[:1]))],
        source=TrackingEvent.Source.PUSH, now=now,
    )  # fmt: skip
    # the unknown shipment is ignored: three events received for ours, three new
    assert (summary.shipments, summary.events_received, summary.events_stored) == (1, 3, 3)
    again = events_ingest(updates=[ShipmentUpdate(shipment.id, result("X", JOURNEY[:2]))], now=now)
    assert (again.shipments, again.events_received, again.events_stored) == (1, 2, 0)
    assert again.status_changes == []
    assert [(c.previous_status, c.status, c.occurred_at) for c in summary.status_changes] == [
        ("pending", Status.IN_TRANSIT, T0 + timedelta(hours=20))
    ]
    shipment.refresh_from_db()
    assert (shipment.last_synced_at, shipment.sync_error_count, shipment.last_sync_error) == (
        now, 0, "",
    )  # fmt: skip
    assert shipment.updated_at == now
    assert shipment.next_sync_at is not None and shipment.next_sync_at > now
    assert set(
        TrackingEvent.objects.filter(shipment=shipment).values_list("source", flat=True)
    ) == {TrackingEvent.Source.PUSH}
    assert events_ingest(updates=[]) == type(summary)(0, 0, 0, [])


def test_event_dedupe_key_ignores_spacing_and_case_of_the_words():
    from tracking.services.ingest import event_dedupe_key

    a = CarrierEvent(T0, Status.IN_TRANSIT, None, "PC1", "Colis  en\ttransit",
                     Location(city="LYON", postcode="69003"))  # fmt: skip
    b = CarrierEvent(T0.astimezone(timezone_paris()), Status.IN_TRANSIT, None, "PC1",
                     "colis en transit", Location(city="lyon", postcode="69003"))  # fmt: skip
    assert event_dedupe_key(1, a) == event_dedupe_key(1, b)
    # the shipment, the code, the status, the substatus, the postcode and the instant count
    assert event_dedupe_key(2, a) != event_dedupe_key(1, a)
    others = [
        CarrierEvent(T0, Status.IN_TRANSIT, None, "PC2", "colis en transit",
                     Location(city="lyon", postcode="69003")),
        CarrierEvent(T0, Status.OUT_FOR_DELIVERY, None, "PC1", "colis en transit",
                     Location(city="lyon", postcode="69003")),
        CarrierEvent(T0, Status.IN_TRANSIT, "in_transit.x", "PC1", "colis en transit",
                     Location(city="lyon", postcode="69003")),
        CarrierEvent(T0, Status.IN_TRANSIT, None, "PC1", "colis en transit",
                     Location(city="lyon", postcode="69001")),
        CarrierEvent(T0, Status.IN_TRANSIT, None, "PC1", "colis en transit",
                     Location(city="paris", postcode="69003")),
        CarrierEvent(T0 + timedelta(seconds=1), Status.IN_TRANSIT, None, "PC1",
                     "colis en transit", Location(city="lyon", postcode="69003")),
        CarrierEvent(T0, Status.IN_TRANSIT, None, "PC1", "colis en route",
                     Location(city="lyon", postcode="69003")),
    ]  # fmt: skip
    keys = {event_dedupe_key(1, e) for e in others}
    assert len(keys) == len(others) and event_dedupe_key(1, a) not in keys
    assert len(event_dedupe_key(1, a)) == 64  # sha256 hex


def timezone_paris():
    from zoneinfo import ZoneInfo

    return ZoneInfo("Europe/Paris")


@pytest.mark.django_db
def test_events_ingest_keeps_the_couriers_estimated_delivery():
    from datetime import date

    shipment = ShipmentFactory()
    end = T0 + timedelta(days=2, hours=4)
    answer = TrackingResult(
        "X", events=tuple(JOURNEY[:2]), estimated_delivery=date(2026, 11, 4),
        estimated_delivery_end=end,
    )  # fmt: skip
    events_ingest(updates=[ShipmentUpdate(shipment.id, answer)], now=T0 + timedelta(hours=4))
    shipment.refresh_from_db()
    # a date is the start of that day, local time (Paris)
    assert shipment.estimated_delivery_at == datetime(2026, 11, 4, tzinfo=timezone_paris())
    assert shipment.estimated_delivery_end_at == end
    # a datetime is kept as it is; an answer without ETA keeps the one known
    eta = T0 + timedelta(days=1, hours=3)
    answer = TrackingResult("X", events=tuple(JOURNEY[:3]), estimated_delivery=eta)
    events_ingest(updates=[ShipmentUpdate(shipment.id, answer)], now=T0 + timedelta(hours=21))
    shipment.refresh_from_db()
    assert (shipment.estimated_delivery_at, shipment.estimated_delivery_end_at) == (eta, None)
    events_ingest(updates=[ShipmentUpdate(shipment.id, result("X", JOURNEY[:4]))],
                  now=T0 + timedelta(hours=31))  # fmt: skip
    shipment.refresh_from_db()
    assert shipment.estimated_delivery_at == eta


@pytest.mark.django_db
def test_events_ingest_refused_pod_is_audited_with_its_reason():
    from tracking.models import ShipmentAudit

    # given an order placed long after the courier's delivery scan
    shipment = ShipmentFactory()
    Order.objects.filter(pk=shipment.order_id).update(created_at=T0 + timedelta(days=30))
    delivered = event(56, Status.DELIVERED, "DI1", Substatus.DELIVERED_MAILBOX)
    pod = PodData(delivered_at=None, signed_by="M. B")
    events_ingest(updates=[ShipmentUpdate(shipment.id, result("X", [delivered], pod))], now=T0)
    # then no POD, and one audit row saying why
    assert not ProofOfDelivery.objects.filter(shipment=shipment).exists()
    audit = ShipmentAudit.objects.get(shipment=shipment)
    assert (audit.action, audit.actor, audit.detail) == (
        "pod_refused", None,
        {"reason": "delivered before the order existed",
         "delivered_at": (T0 + timedelta(hours=56)).isoformat()},
    )  # fmt: skip
    # the same answer again: nothing new was delivered, no second audit row
    events_ingest(updates=[ShipmentUpdate(shipment.id, result("X", [delivered], pod))], now=T0)
    assert ShipmentAudit.objects.filter(shipment=shipment).count() == 1


@pytest.mark.django_db
def test_events_ingest_stores_the_couriers_pod_field_by_field():
    shipment = ShipmentFactory()
    Order.objects.filter(pk=shipment.order_id).update(created_at=T0)
    pod = PodData(delivered_at=T0 + timedelta(hours=55), signed_by="S" * 250,
                  location_type="L" * 60, documents=("https://pod.example/1.png",))  # fmt: skip
    events_ingest(updates=[ShipmentUpdate(shipment.id, result("X", JOURNEY, pod))], now=T0)
    stored_pod = ProofOfDelivery.objects.get(shipment=shipment)
    delivery = TrackingEvent.objects.get(shipment=shipment, status=Status.DELIVERED)
    assert (stored_pod.source, stored_pod.delivered_at, stored_pod.source_event_id) == (
        ProofOfDelivery.Source.CARRIER, T0 + timedelta(hours=55), delivery.id,
    )  # fmt: skip
    assert (len(stored_pod.signed_by), len(stored_pod.location_type)) == (200, 40)
    assert stored_pod.documents == ["https://pod.example/1.png"]
    # a later answer updates the courier's POD in place
    newer = PodData(delivered_at=None, signed_by="M. C", location_type="mailbox")
    events_ingest(updates=[ShipmentUpdate(shipment.id, result("X", JOURNEY, newer))], now=T0)
    stored_pod.refresh_from_db()
    # (without a time of its own, the POD is dated by the delivery that stands)
    assert (stored_pod.signed_by, stored_pod.location_type, stored_pod.delivered_at) == (
        "M. C", "mailbox", T0 + timedelta(hours=56),
    )  # fmt: skip
    assert stored_pod.source_event_id == delivery.id
    assert ProofOfDelivery.objects.filter(shipment=shipment).count() == 1
