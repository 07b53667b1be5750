"""The tracking record's calendar rules (stuck parcels, the hand-over cut-off) at every instant
of the calendar sweep, and at whatever instant the process clock reads (`make test-dates` moves
it with faketime)."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from core.business_days import FRANCE, is_business_day, next_business_day
from tests.support.calendar_instants import INSTANTS
from tests.tracking.factories import ShipmentFactory
from tracking.carriers.base import CarrierEvent, Location, TrackingResult
from tracking.models import Shipment
from tracking.services import ShipmentUpdate, events_ingest
from tracking.services.edd import CUTOFF_HOUR, handover_date
from tracking.services.exceptions import STUCK_AFTER_BUSINESS_DAYS, exceptions_detect, stuck_cutoff

PARIS = ZoneInfo("Europe/Paris")
# The sweep's instants, plus None: the process clock as it is (faketime moves it in the sweep).
NOWS = [pytest.param(instant, id=label) for label, instant in INSTANTS.items()]
NOWS.append(pytest.param(None, id="process-clock"))


def business_position(moment: datetime, origin: date) -> float:
    """Business days elapsed from ``origin`` (midnight, Paris) to ``moment``, counted the plain
    way: every business day before the moment's day is one, the moment's own day the share of
    its wall-clock hours gone when it is a business day, nothing when it is not (the business
    clock stands still on weekends and holidays). French business days never include a time
    change (those are Sundays), so their wall-clock hours are 24."""
    local = moment.astimezone(PARIS)
    whole = sum(
        1
        for offset in range((local.date() - origin).days)
        if is_business_day(origin + timedelta(days=offset), country=FRANCE)
    )
    if not is_business_day(local.date(), country=FRANCE):
        return whole
    seconds = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6
    return whole + seconds / 86400


# Hours back from now of the last scan: up to ten days, off the hour by 7 min 13 s so that no
# scan on a business day lands exactly on the cut-off instant (a boundary of measure zero).
SCAN_OFFSETS = [timedelta(hours=hours, minutes=7, seconds=13) for hours in range(0, 240, 3)]


@pytest.mark.parametrize("now", NOWS)
@pytest.mark.parametrize("days", sorted(set(STUCK_AFTER_BUSINESS_DAYS.values())))
def test_stuck_cutoff_counts_business_time_only(now, days):
    # given an instant, and last scans every few hours over the ten days before it
    now = now or timezone.now()
    origin = (now - timedelta(days=30)).astimezone(PARIS).date()
    cutoff = stuck_cutoff(now, days)
    for offset in SCAN_OFFSETS:
        scan = now - offset
        # when the rule judges the parcel, then it is stuck exactly when ``days`` business days
        # have gone by since the scan, counted independently of the product's arithmetic
        elapsed = business_position(now, origin) - business_position(scan, origin)
        assert (scan < cutoff) == (elapsed >= days), (now, scan, days, elapsed)


def test_stuck_cutoff_stands_still_over_a_weekend():
    # given the out-for-delivery threshold (one business day) on a Saturday and on a Sunday
    saturday = datetime(2026, 12, 12, 19, 0, tzinfo=PARIS)
    sunday = datetime(2026, 12, 13, 19, 0, tzinfo=PARIS)
    # then both wait for a scan of Friday, midnight: Friday is the last business day gone by
    friday_midnight = datetime(2026, 12, 11, 0, 0, tzinfo=PARIS)
    assert stuck_cutoff(saturday, 1) == stuck_cutoff(sunday, 1) == friday_midnight


def test_stuck_cutoff_skips_a_public_holiday():
    # given Thursday 15 July 2027, the day after Bastille Day, at 10:00
    now = datetime(2027, 7, 15, 10, 0, tzinfo=PARIS)
    # then one business day back is Tuesday 13 July, 10:00 (the 14th does not count)
    assert stuck_cutoff(now, 1) == datetime(2027, 7, 13, 10, 0, tzinfo=PARIS)


def ingest(shipment, when: datetime, status: str) -> None:
    result = TrackingResult(
        tracking_number=shipment.tracking_number,
        events=(
            CarrierEvent(occurred_at=when, status=status, substatus=None, code=status[:6],
                         message=status, location=Location(city="Lyon", country="FR")),
        ),
    )  # fmt: skip
    events_ingest(updates=[ShipmentUpdate(shipment.id, result)])


def stuck_ids(now: datetime) -> set[int]:
    exceptions_detect(now=now)
    return set(
        Shipment.objects.filter(exceptions__kind="stuck", exceptions__resolved_at=None).values_list(
            "id", flat=True
        )
    )


@pytest.mark.django_db
@pytest.mark.time_machine(datetime(2026, 12, 11, 18, 0, tzinfo=UTC), tick=False)
def test_exceptions_detect_a_friday_evening_scan_is_not_stuck_over_the_weekend():
    # given a parcel out for delivery scanned on Friday 11 December 2026 at 18:30, and a parcel
    # in transit scanned at the same time
    friday_evening = datetime(2026, 12, 11, 18, 30, tzinfo=PARIS)
    out = ShipmentFactory()
    ingest(out, friday_evening, "out_for_delivery")
    moving = ShipmentFactory()
    ingest(moving, friday_evening, "in_transit")
    # when the job runs on Saturday evening, on Sunday evening and on Monday morning
    weekend = [
        datetime(2026, 12, 12, 19, 0, tzinfo=PARIS),
        datetime(2026, 12, 13, 19, 0, tzinfo=PARIS),
        datetime(2026, 12, 14, 8, 30, tzinfo=PARIS),
    ]
    # then neither is stuck (no business time has gone by without a scan)
    for now in weekend:
        assert stuck_ids(now) == set(), now
    # and the one out for delivery is stuck on Monday once Monday's round is over (18:31)
    assert stuck_ids(datetime(2026, 12, 14, 18, 31, tzinfo=PARIS)) == {out.id}
    # and the one in transit after three business days (Monday to Wednesday): 16 December
    assert stuck_ids(datetime(2026, 12, 16, 18, 29, tzinfo=PARIS)) == {out.id}
    assert stuck_ids(datetime(2026, 12, 16, 18, 31, tzinfo=PARIS)) == {out.id, moving.id}


@pytest.mark.parametrize("now", NOWS)
def test_handover_date_is_a_business_day_and_after_the_cutoff_the_next_one(now):
    # given a parcel handed over at the instant
    now = now or timezone.now()
    local = timezone.localtime(now)
    # when
    day = handover_date(now)
    # then its transit starts on a business day: that day before the cut-off, else the next one
    assert is_business_day(day, country=FRANCE)
    if local.hour < CUTOFF_HOUR and is_business_day(local.date(), country=FRANCE):
        assert day == local.date()
    else:
        assert day == next_business_day(local.date(), country=FRANCE)
