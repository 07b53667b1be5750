"""Delivery performance protection (issue 21): the rule on concrete timelines, on both sides of
each threshold's edge, and how it is stored and kept up to date (the fan-out job, the sweep).

Times are Europe/Paris (the marketplace's day); the order must reach the courier by Tuesday
10 March 2026 (``SHIP``)."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils.module_loading import import_string
from django_q.models import OrmQ

from sellers.models import OrderProtection
from sellers.protection import (
    ParcelTimeline,
    order_protection_judge,
    order_protections_refresh,
    order_protections_sweep,
)
from tests.sellers.factories import OrderFactory
from tests.support.ingest import courier_says
from tests.tracking.factories import ShipmentFactory, TrackingEventFactory
from tracking.carriers.base import CarrierEvent, Location
from tracking.models import Shipment

PARIS = ZoneInfo("Europe/Paris")
SHIP = date(2026, 3, 10)
NOW = datetime(2026, 3, 20, 12, 0, tzinfo=PARIS)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=PARIS)


def parcel(confirmed_at, first_scan_at=None, *, carrier="laposte", number="6A12345678901",
           url="") -> ParcelTimeline:  # fmt: skip
    return ParcelTimeline(
        shipment_id=1, tracking_number=number, carrier=carrier, carrier_tracking_url=url,
        confirmed_at=confirmed_at, first_scan_at=first_scan_at, first_scan_code="PC1",
        first_scan_message="Pris en charge",
    )  # fmt: skip


def judge(*parcels, ship=SHIP):
    return order_protection_judge(list(parcels), expected_ship_date=ship)


def verdict(judgement, code: str):
    (evidence,) = judgement.evidence
    return next(c for c in evidence["conditions"] if c["code"] == code)


# --- 1. tracking confirmed within 24 hours of the first scan, or by the ship date -------------


def test_protection_confirmed_exactly_24_hours_after_the_first_scan_is_in_time():
    # given a parcel scanned on the ship date at 09:00, confirmed after the ship date
    first_scan = at(10, 9)
    # when it was confirmed exactly 24 hours after the scan
    judged = judge(parcel(at(11, 9), first_scan))
    # then every condition holds
    assert judged.protected is True
    assert judged.reasons == []
    assert verdict(judged, "confirmed_in_time")["ok"] is True
    assert (
        "24 hours after the courier's first scan" in verdict(judged, "confirmed_in_time")["detail"]
    )


def test_protection_confirmed_one_minute_past_24_hours_and_past_the_ship_date_is_late():
    # given the same scan, confirmed 24 h 01 min later (on 11 March, after the ship date)
    judged = judge(parcel(at(11, 9, 1), at(10, 9)))
    # then the order is not protected, because of the confirmation alone
    assert judged.protected is False
    assert judged.reasons == ["confirmed_late"]
    detail = verdict(judged, "confirmed_in_time")["detail"]
    assert detail.startswith("confirmed 2026-03-11 09:01, 24 hours after the courier's first")
    assert "after the ship date 2026-03-10" in detail


def test_protection_confirmed_on_the_ship_date_is_in_time_whatever_the_scan():
    # given a parcel scanned two days before the ship date, its number confirmed at 23:59 on
    # the ship date (63 hours after the scan)
    judged = judge(parcel(at(10, 23, 59), at(8, 8, 59)))
    # then the ship-date branch holds
    assert verdict(judged, "confirmed_in_time")["ok"] is True
    assert judged.protected is True
    # and one minute later (00:00 the next day, Paris) it does not
    late = judge(parcel(at(11, 0, 0), at(8, 8, 59)))
    assert late.protected is False
    assert late.reasons == ["confirmed_late"]


def test_protection_threshold_is_the_marketplace_setting(settings):
    # given the marketplace allows 36 hours instead of 24
    settings.SELLER_PROTECTION = {**settings.SELLER_PROTECTION, "confirm_within_hours": 36}
    # when a number is confirmed 31 hours after the first scan, after the ship date
    judged = judge(parcel(at(11, 16), at(10, 9)))
    # then it is in time under this marketplace's rule
    assert judged.protected is True
    # and 37 hours is not
    assert judge(parcel(at(11, 22), at(10, 9))).reasons == ["confirmed_late"]


# --- 2. scanned by the courier at least once (valid tracking) ---------------------------------


def test_protection_needs_a_courier_scan():
    # given a parcel confirmed on time and never scanned
    judged = judge(parcel(at(9, 18)))
    # then it is not protected for want of a scan, and the handover is not judged
    assert judged.protected is False
    assert judged.reasons == ["not_scanned"]
    assert verdict(judged, "scanned")["ok"] is False
    assert verdict(judged, "handed_over")["ok"] is None
    # and one scan is enough
    assert judge(parcel(at(9, 18), at(10, 8))).protected is True


def test_protection_evidence_names_the_hours_between_confirmation_and_first_scan():
    # given a number confirmed on 9 March at 10:00, scanned 31 hours later (17:00 on the 10th)
    judged = judge(parcel(at(9, 10), at(10, 17)))
    # then the evidence says so, with the courier's code
    detail = verdict(judged, "scanned")["detail"]
    assert detail == (
        "first courier scan 2026-03-10 17:00 (31 hours after confirmation): PC1 Pris en charge"
    )


# --- 3. the courier matches the number ---------------------------------------------------------


def test_protection_courier_must_match_the_number():
    # given a La Poste number declared as UPS
    judged = judge(parcel(at(9, 18), at(10, 8), carrier="ups"))
    # then the courier check fails, saying what the number looks like
    assert judged.reasons == ["courier_mismatch"]
    assert "it looks like laposte" in verdict(judged, "courier_matches")["detail"]
    # and the same number with La Poste matches
    assert judge(parcel(at(9, 18), at(10, 8), carrier="laposte")).protected is True


def test_protection_accepts_either_operator_of_a_shared_french_s10_number():
    # given the demo's Chronopost parcel: an XS…FR number, an S10 numbering Chronopost and
    # La Poste share (detection ranks both)
    for courier in ("chronopost", "laposte"):
        judged = judge(parcel(at(9, 18), at(10, 8), carrier=courier, number="XS605592346FR"))
        # then the number matches the courier the seller named, either of the two
        assert judged.protected is True, judged.reasons
    # and not a third one
    wrong = judge(parcel(at(9, 18), at(10, 8), carrier="ups", number="XS605592346FR"))
    assert wrong.reasons == ["courier_mismatch"]
    assert "it looks like chronopost, laposte" in verdict(wrong, "courier_matches")["detail"]


def test_protection_long_tail_courier_needs_a_tracking_url():
    # given a courier we do not query, without then with its tracking URL
    bare = judge(parcel(at(9, 18), at(10, 8), carrier="other", number="ZX123"))
    with_url = judge(parcel(at(9, 18), at(10, 8), carrier="other", number="ZX123",
                            url="https://courier.example/t/ZX123"))  # fmt: skip
    # then only the one with a URL is protected
    assert bare.reasons == ["courier_mismatch"]
    assert with_url.protected is True


# --- 4. handed to the courier by the expected ship date ----------------------------------------


def test_protection_first_scan_at_23_59_on_the_ship_date_is_handed_over_in_time():
    judged = judge(parcel(at(10, 8), at(10, 23, 59)))
    assert verdict(judged, "handed_over")["ok"] is True
    assert judged.protected is True


def test_protection_first_scan_at_midnight_after_the_ship_date_is_late():
    # given a parcel confirmed at 08:00 on the ship date, first scanned at 00:00 the next day
    # (Paris time: 23:00 UTC on the ship date)
    judged = judge(parcel(at(10, 8), at(11, 0, 0)))
    # then it was handed over a day late
    assert judged.reasons == ["handed_over_late"]
    assert verdict(judged, "handed_over")["detail"] == (
        "first scan on 2026-03-11, 1 day(s) after the ship date 2026-03-10"
    )


def test_protection_without_a_ship_date_cannot_show_the_handover():
    judged = judge(parcel(at(10, 8), at(10, 9)), ship=None)
    assert judged.protected is False
    assert judged.reasons == ["handed_over_late"]


# --- the order: every parcel ------------------------------------------------------------------


def test_protection_needs_every_parcel_and_at_least_one():
    # given two parcels, one handed over a day late
    good = parcel(at(9, 18), at(10, 8))
    late = ParcelTimeline(2, "6A12345678902", "laposte", "", at(9, 18), at(11, 8))
    judged = judge(good, late)
    # then the order is not protected, and the evidence tells which parcel failed
    assert judged.protected is False
    assert judged.reasons == ["handed_over_late"]
    assert [(e["shipment_id"], e["protected"]) for e in judged.evidence] == [(1, True), (2, False)]
    # and the parcels' order does not matter
    assert judge(late, good) == judged
    # and an order with no parcel is not protected
    assert judge().reasons == ["no_parcel"]


# --- stored, and kept up to date ---------------------------------------------------------------


def _shipment(order, *, confirmed_at, scans=(), **kwargs):
    shipment = ShipmentFactory(order=order, **kwargs)
    Shipment.objects.filter(pk=shipment.pk).update(created_at=confirmed_at)
    for when, status in scans:
        TrackingEventFactory(shipment=shipment, occurred_at=when, status=status)
    return shipment


@pytest.mark.django_db
def test_order_protections_refresh_stores_the_judgement_with_its_evidence():
    # given an order whose parcel was confirmed at 18:00 the day before the ship date and
    # scanned the next morning, and one whose parcel only has a label
    good = OrderFactory(expected_ship_date=SHIP)
    _shipment(good, confirmed_at=at(9, 18), scans=[(at(9, 17), "info_received"),
                                                   (at(10, 8), "in_transit")])  # fmt: skip
    label_only = OrderFactory(expected_ship_date=SHIP)
    _shipment(label_only, confirmed_at=at(9, 18), scans=[(at(9, 17), "info_received")])
    # when they are judged (twice: idempotent)
    assert order_protections_refresh(order_ids=[good.id, label_only.id]) == 2
    order_protections_refresh(order_ids=[good.id, label_only.id])
    # then one row each, with reasons and the first real scan as evidence
    rows = {p.order_id: p for p in OrderProtection.objects.all()}
    assert len(rows) == 2
    assert rows[good.id].protected is True
    assert rows[good.id].evidence[0]["first_scan_at"] == at(10, 8).isoformat()
    assert rows[label_only.id].protected is False
    assert rows[label_only.id].reasons == ["not_scanned"]


@pytest.mark.django_db
def test_a_first_scan_ingested_queues_the_protection_job_which_protects_the_order(
    django_capture_on_commit_callbacks,
):
    # given a parcel confirmed at 18:00 the day before its ship date, not scanned yet
    with time_machine.travel(at(10, 12), tick=False):
        order = OrderFactory(expected_ship_date=SHIP)
        shipment = _shipment(order, confirmed_at=at(9, 18))
        OrmQ.objects.all().delete()
        # when the courier's first scan (08:00 on the ship date) is ingested and commits
        with django_capture_on_commit_callbacks(execute=True):
            courier_says(shipment, CarrierEvent(at(10, 8), "in_transit", None, "PC1", "Pris",
                                                Location("Lyon", "69003", "FR")))  # fmt: skip
        # then the protection job is queued for that order (not run inline in the sync)
        jobs = [(q.task["func"], tuple(q.task["args"])) for q in OrmQ.objects.all()]
        assert ("sellers.tasks.protections_refresh", ([order.id],)) in jobs
        assert not OrderProtection.objects.filter(order=order).exists()
        # and when a worker runs it, the order is protected
        import_string("sellers.tasks.protections_refresh")([order.id])
    assert OrderProtection.objects.get(order=order).protected is True


@pytest.mark.django_db
def test_a_lost_protection_job_is_done_by_the_sweep():
    # given a parcel scanned in time whose protection job was lost
    with time_machine.travel(at(10, 12), tick=False):
        order = OrderFactory(expected_ship_date=SHIP)
        _shipment(order, confirmed_at=at(9, 18), scans=[(at(10, 8), "in_transit")])
    # when the sweep runs
    with time_machine.travel(at(10, 12, 5), tick=False):
        assert order_protections_sweep() >= 1
    # then the order is judged
    assert OrderProtection.objects.get(order=order).protected is True
    # and a sweep once the overlap has passed, nothing changed, judges nothing and keeps the row
    with time_machine.travel(at(10, 12, 30), tick=False):
        order_protections_sweep()
    with time_machine.travel(at(10, 13), tick=False):
        assert order_protections_sweep() == 0
    assert OrderProtection.objects.get(order=order).protected is True


@pytest.mark.django_db
def test_return_parcels_do_not_count_in_the_protection():
    # given an order whose outbound parcel is protected and a buyer's return parcel never scanned
    order = OrderFactory(expected_ship_date=SHIP)
    _shipment(order, confirmed_at=at(9, 18), scans=[(at(10, 8), "in_transit")])
    _shipment(order, confirmed_at=at(15, 9), direction=Shipment.Direction.RETURN,
              tracking_number="6A99999999999")  # fmt: skip
    # when it is judged, then the return parcel is not one of its parcels
    order_protections_refresh(order_ids=[order.id])
    protection = OrderProtection.objects.get(order=order)
    assert protection.protected is True
    assert len(protection.evidence) == 1


def test_protection_judgement_ignores_now():
    # the rule reads the parcels' times only: judged today or in a year, the same
    with time_machine.travel(NOW, tick=False):
        first = judge(parcel(at(9, 18), at(10, 8)))
    with time_machine.travel(NOW + timedelta(days=365), tick=False):
        assert judge(parcel(at(9, 18), at(10, 8))) == first
