"""Ingest is the one place that decides whether a courier's POD counts (issue 15 item 2):
courier formats report the proof of their answer's delivery scan; the tracking record keeps it
only for the delivery that stands once every stored event is taken into account."""

from datetime import UTC, datetime, timedelta

import pytest

from sellers.models import Order
from tests.tracking.factories import ShipmentFactory
from tracking.carriers.base import CarrierEvent, PodData, TrackingResult
from tracking.models import ProofOfDelivery
from tracking.services.ingest import ShipmentUpdate, events_ingest
from tracking.status import DerivedState, pod_standing

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def _shipment(carrier: str):
    """A parcel whose order was placed the day before T0: its deliveries can prove it."""
    shipment = ShipmentFactory(carrier=carrier)
    Order.objects.filter(pk=shipment.order_id).update(created_at=T0 - timedelta(days=1))
    return shipment


def _event(hours: int, status: str, substatus: str | None = None) -> CarrierEvent:
    return CarrierEvent(T0 + timedelta(hours=hours), status, substatus, status.upper(), status)


def _ingest(shipment, *events: CarrierEvent, pod: PodData | None) -> None:
    result = TrackingResult(shipment.tracking_number, events=tuple(events), pod=pod)
    events_ingest(updates=[ShipmentUpdate(shipment.id, result)], now=T0 + timedelta(days=1))


def test_ingest_keeps_no_pod_for_a_delivery_undone_by_a_return_in_the_same_answer():
    shipment = _shipment("dhl")
    _ingest(
        shipment,
        _event(0, "delivered", "delivered.signed"),
        _event(5, "exception", "exception.returning_to_sender"),
        pod=PodData(delivered_at=None, signed_by="M. MARTIN"),
    )
    assert not ProofOfDelivery.objects.filter(shipment=shipment).exists()


def test_ingest_keeps_no_pod_when_a_return_was_stored_after_the_delivery_earlier():
    # given the return already stored, a late answer reports only the delivery and its proof
    shipment = _shipment("dhl")
    _ingest(shipment, _event(5, "exception", "exception.returned_to_sender"), pod=None)
    _ingest(shipment, _event(0, "delivered"), pod=PodData(delivered_at=None, signed_by="X"))
    assert not ProofOfDelivery.objects.filter(shipment=shipment).exists()


def test_ingest_dates_and_places_a_courier_pod_by_the_delivery_that_stands():
    shipment = _shipment("gls")
    _ingest(
        shipment,
        _event(0, "in_transit"),
        _event(3, "delivered", "delivered.neighbour"),
        pod=PodData(delivered_at=None),
    )
    pod = ProofOfDelivery.objects.get(shipment=shipment)
    assert (pod.delivered_at, pod.location_type) == (T0 + timedelta(hours=3), "neighbour")


def test_pod_standing_keeps_what_the_courier_said_over_the_record_defaults():
    state = DerivedState("delivered", "delivered.mailbox", T0, T0)
    given = PodData(delivered_at=T0 - timedelta(minutes=5), location_type="reception")
    assert pod_standing(given, state) == given
    assert pod_standing(given, DerivedState("exception", None, T0, None)) is None
