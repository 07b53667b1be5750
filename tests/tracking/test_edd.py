"""Estimated delivery dates: business days and cut-off, lanes learnt from history, estimates
revised as events arrive (the history kept), and the accuracy back-test."""

import json
from datetime import date, datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils import timezone

from core.business_days import FRANCE, add_business_days, business_days_between
from tests.sellers.factories import OrderFactory
from tests.tracking.factories import ShipmentFactory, TrackingEventFactory
from tracking.models import DeliveryEstimate, Shipment
from tracking.services.edd import (
    DEFAULT_CONFIDENCE,
    TransitModel,
    edd_accuracy,
    estimates_refresh,
    handover_date,
    history_rows,
)

PARIS = ZoneInfo("Europe/Paris")


def test_add_business_days_skips_weekends_and_french_holidays():
    # Thursday 30 April 2026 + 1: Friday 1 May is Labour Day, then the weekend
    assert add_business_days(date(2026, 4, 30), 1, country=FRANCE) == date(2026, 5, 4)
    assert business_days_between(date(2026, 4, 30), date(2026, 5, 4), country=FRANCE) == 1
    assert business_days_between(date(2026, 5, 4), date(2026, 5, 4), country=FRANCE) == 0


def test_handover_date_moves_a_late_scan_to_the_next_business_day():
    assert handover_date(datetime(2026, 3, 2, 10, 0, tzinfo=PARIS)) == date(2026, 3, 2)
    assert handover_date(datetime(2026, 3, 2, 18, 30, tzinfo=PARIS)) == date(2026, 3, 3)
    assert handover_date(datetime(2026, 3, 7, 9, 0, tzinfo=PARIS)) == date(2026, 3, 9)  # Saturday


def history(carrier, postcode, transit_days, count, start=datetime(2026, 3, 2, 9, 0, tzinfo=PARIS)):
    rows = []
    for n in range(count):
        first = start + timedelta(days=7 * (n % 4))
        delivered = datetime.combine(
            add_business_days(first.date(), transit_days, country=FRANCE),
            datetime.min.time(),
            PARIS,
        ) + timedelta(hours=14)
        rows.append((carrier, "FR", postcode, first, delivered))
    return rows


def test_transit_model_uses_the_narrowest_lane_with_enough_history():
    model = TransitModel.build(
        history("laposte", "69003", 2, 12) + history("laposte", "13001", 4, 3)
    )
    lyon = model.stats("laposte", "FR", "69001")
    assert (lyon.low, lyon.expected, lyon.high, lyon.samples) == (2, 2, 2, 12)
    assert "laposte/FR/69" in lyon.basis
    # three parcels to Marseille are too few: the courier's whole country is used
    marseille = model.stats("laposte", "FR", "13008")
    assert marseille.samples == 15 and "laposte/FR:" in marseille.basis
    # a courier without history: every courier's; no history at all: the default
    assert model.stats("ups", "FR", "75011").basis == "all couriers: 15 delivered parcels"
    assert TransitModel().stats("ups", "FR", "75011").confidence == DEFAULT_CONFIDENCE


@pytest.mark.django_db
def test_estimates_refresh_predicts_from_history_and_revises_as_events_arrive():
    # given a lane where parcels take 2 business days, and a parcel first scanned today 10:00
    model = TransitModel.build(history("laposte", "69003", 2, 12))
    now = datetime(2026, 3, 10, 11, 0, tzinfo=PARIS)  # a Tuesday
    shipment = ShipmentFactory(order=OrderFactory(destination_postcode="69007"))
    TrackingEventFactory(shipment=shipment, occurred_at=now - timedelta(hours=1))
    Shipment.objects.filter(pk=shipment.pk).update(status="in_transit", updated_at=now)
    # when
    assert estimates_refresh(now=now, model=model) == 1
    # then: Thursday, within a two-day window
    estimate = DeliveryEstimate.objects.get()
    assert (estimate.source, estimate.expected_date) == ("predicted", date(2026, 3, 12))
    assert estimate.window_start_date <= estimate.expected_date <= estimate.window_end_date
    # a second run with nothing new adds nothing
    assert estimates_refresh(now=now + timedelta(minutes=15), model=model) == 0
    # when it goes out for delivery on Wednesday, the estimate becomes that day
    later = datetime(2026, 3, 11, 8, 0, tzinfo=PARIS)
    TrackingEventFactory(shipment=shipment, occurred_at=later, status="out_for_delivery")
    Shipment.objects.filter(pk=shipment.pk).update(status="out_for_delivery", updated_at=later)
    assert estimates_refresh(now=later + timedelta(minutes=1), model=model) == 1
    latest = DeliveryEstimate.objects.order_by("-computed_at").first()
    assert latest.expected_date == date(2026, 3, 11) and latest.confidence == 0.9
    assert DeliveryEstimate.objects.count() == 2  # the history


@pytest.mark.django_db
def test_estimates_refresh_prefers_the_courier_estimate():
    now = timezone.now()
    shipment = ShipmentFactory()
    eta = now + timedelta(days=2)
    Shipment.objects.filter(pk=shipment.pk).update(
        status="in_transit", estimated_delivery_at=eta, updated_at=now
    )
    estimates_refresh(now=now, model=TransitModel())
    estimate = DeliveryEstimate.objects.get()
    assert (estimate.source, estimate.expected_date) == ("carrier", timezone.localdate(eta))


@pytest.mark.django_db
def test_estimates_refresh_re_estimates_a_late_parcel_from_today():
    model = TransitModel.build(history("laposte", "69003", 2, 12))
    now = datetime(2026, 3, 20, 11, 0, tzinfo=PARIS)  # a Friday
    shipment = ShipmentFactory(order=OrderFactory(destination_postcode="69007"))
    TrackingEventFactory(shipment=shipment, occurred_at=now - timedelta(days=10))
    Shipment.objects.filter(pk=shipment.pk).update(status="in_transit", updated_at=now)
    estimates_refresh(now=now, model=model)
    estimate = DeliveryEstimate.objects.get()
    assert estimate.expected_date == date(2026, 3, 20)
    assert "late" in estimate.basis


def delivered_parcel(first_scan, transit_days, postcode="69003"):
    shipment = ShipmentFactory(order=OrderFactory(destination_postcode=postcode))
    TrackingEventFactory(shipment=shipment, occurred_at=first_scan)
    delivered = datetime.combine(
        add_business_days(handover_date(first_scan), transit_days, country=FRANCE),
        datetime.min.time(),
        PARIS,
    ) + timedelta(hours=12)
    TrackingEventFactory(shipment=shipment, occurred_at=delivered, status="delivered")
    Shipment.objects.filter(pk=shipment.pk).update(status="delivered", delivered_at=delivered)
    return shipment


@pytest.mark.django_db
def test_edd_accuracy_back_tests_newer_parcels_on_older_ones():
    # given 20 parcels of one lane that all take 2 business days, then 5 that take 3
    start = timezone.now() - timedelta(days=60)
    for n in range(20):
        delivered_parcel(start.replace(hour=9) + timedelta(days=n), 2)
    for n in range(5):
        delivered_parcel(start.replace(hour=9) + timedelta(days=30 + n), 5)
    # when
    result = edd_accuracy(train_share=0.8)
    # then the 20 train, the 5 late ones test: outside the window, 3 business days off
    assert (result.trained_on, result.tested_on) == (20, 5)
    assert result.within_window == 0.0
    assert result.mae_days >= 3
    assert result.by_carrier["laposte"]["tested_on"] == 5


@pytest.mark.django_db
def test_tracking_edd_accuracy_command_prints_json():
    start = timezone.now() - timedelta(days=40)
    for n in range(12):
        delivered_parcel(start.replace(hour=9) + timedelta(days=n), 2)
    out = StringIO()
    call_command("tracking", "edd_accuracy", stdout=out)
    body = json.loads(out.getvalue())
    assert body["tested_on"] == 4 and body["within_window"] == 1.0 and body["mae_days"] == 0.0


@pytest.mark.django_db
def test_return_parcels_neither_teach_nor_get_a_lane_prediction():
    # given an outbound parcel and a return parcel, both delivered, and a return on its way
    start = timezone.now() - timedelta(days=30)
    delivered_parcel(start.replace(hour=9), 2)
    back = delivered_parcel(start.replace(hour=9) + timedelta(days=1), 6)
    Shipment.objects.filter(pk=back.pk).update(direction=Shipment.Direction.RETURN)
    moving_back = ShipmentFactory(direction=Shipment.Direction.RETURN)
    Shipment.objects.filter(pk=moving_back.pk).update(status="in_transit")
    # when
    rows = history_rows()
    written = estimates_refresh()
    # then only the outbound parcel is history, and the return parcel gets no prediction
    assert len(rows) == 1
    assert written == 0
    assert not DeliveryEstimate.objects.filter(shipment=moving_back).exists()
