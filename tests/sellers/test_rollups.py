import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from core.access import Scope
from core.business_days import business_days_between
from sellers import rollups, selectors
from sellers.metrics import Totals, region_of, shipment_facts
from sellers.models import RollupDirtyDay, ShipmentDayStat, SummaryDayStat, WeekStat
from tests.sellers.factories import SellerFactory, shipped_parcel
from tracking.models import Shipment

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")

JOURNEYS = [
    [(6, "in_transit", ""), (30, "out_for_delivery", ""), (34, "delivered", "delivered.signed")],
    [(20, "in_transit", ""), (50, "failed_attempt", "failed_attempt.recipient_absent"),
     (75, "delivered", "delivered.pickup_point")],
    [(3, "in_transit", ""), (90, "exception", "exception.returning_to_sender")],
    [(2, "in_transit", "")],
    [],
    [(10, "in_transit", ""), (200, "delivered", "delivered.mailbox")],
]  # fmt: skip


def _random_world(rng: random.Random, sellers, n: int, start: datetime) -> None:
    for _ in range(n):
        shipped = start + timedelta(hours=rng.randint(0, 24 * 40))
        shipped_parcel(
            seller=rng.choice(sellers),
            shipped_at=shipped,
            carrier=rng.choice(["laposte", "dhl", "gls"]),
            postcode=rng.choice(["75011", "69003", "20090", "20600", "97110", "13001"]),
            country=rng.choice(["FR", "FR", "FR", "DE"]),
            service_level=rng.choice(["standard", "express"]),
            promised=rng.choice([None, shipped.date() + timedelta(days=rng.randint(1, 6))]),
            expected_ship=rng.choice([None, shipped.date() + timedelta(days=rng.randint(-2, 2))]),
            events=rng.choice(JOURNEYS),
        )


def test_region_of_splits_corsica_and_overseas():
    assert [region_of("FR", p) for p in ["75011", "20090", "20600", "97110", "1234"]] == [
        "75", "2A", "2B", "971", ""]  # fmt: skip
    assert region_of("DE", "10115") == ""


def test_business_days_between_skips_weekends_and_both_countries_holidays():
    # given Friday 2026-05-01 (Labour Day in France and Germany) .. Tuesday 2026-05-05
    # then only Monday and Tuesday count
    assert business_days_between(date(2026, 4, 30), date(2026, 5, 5), country="FR") == 2
    # Belgian National Day (Tuesday 2026-07-21) counts only for a parcel going to Belgium
    assert business_days_between(date(2026, 7, 20), date(2026, 7, 22), country="FR") == 2
    assert business_days_between(date(2026, 7, 20), date(2026, 7, 22), country="BE") == 1


def test_rollups_equal_the_figures_computed_from_raw_shipments():
    # given a random marketplace of journeys over 40 days
    rng = random.Random(7)
    sellers = [SellerFactory(origin_postcode="69001"), SellerFactory()]
    start = datetime(2026, 3, 1, 8, tzinfo=PARIS)
    _random_world(rng, sellers, 160, start)
    # when the rollup job runs
    rollups.rollups_refresh()
    # then every dashboard grouping read from rollups equals the raw computation
    period = selectors.Period(start=date(2026, 3, 1), end=date(2026, 4, 15))
    market = {}
    for fact in shipment_facts(Shipment.objects.all()):
        market.setdefault((fact.carrier, fact.destination_country, fact.destination_region),
                          Totals()).add(fact)  # fmt: skip
    for seller in sellers:
        scope = Scope.for_seller(seller.id)
        raw = {}
        for fact in shipment_facts(Shipment.objects.filter(seller=seller)):
            raw.setdefault((fact.carrier, fact.destination_country, fact.destination_region),
                           Totals()).add(fact)  # fmt: skip
        rows = selectors.courier_performance(
            scope=scope, seller_id=None, period=period, by_destination=True
        )
        from_rollups = {(r.carrier, r.destination_country, r.destination_region): r.seller
                        for r in rows}  # fmt: skip
        assert {k: v.figures() for k, v in from_rollups.items()} == {
            k: v.figures() for k, v in raw.items()
        }
        assert from_rollups == raw  # the counters and histograms themselves, too
        # and the marketplace figure beside each lane is every seller's parcels on that lane
        assert {(r.carrier, r.destination_country, r.destination_region): r.marketplace
                for r in rows} == {key: market[key] for key in raw}  # fmt: skip
        whole, by_carrier = Totals(), {}
        for totals in raw.values():
            whole.merge(totals)
        for (carrier, _country, _region), totals in raw.items():
            by_carrier.setdefault(carrier, Totals()).merge(totals)
        couriers = selectors.courier_performance(scope=scope, seller_id=None, period=period)
        assert {r.carrier: r.seller for r in couriers} == by_carrier
        market_by_carrier = {}
        for (carrier, _country, _region), totals in market.items():
            market_by_carrier.setdefault(carrier, Totals()).merge(totals)
        assert {r.carrier: r.marketplace for r in couriers} == {
            c: market_by_carrier[c] for c in by_carrier
        }
        sla = {f.metric: f.value for f in selectors.seller_sla(scope=scope, seller_id=None,
                                                              period=period)}  # fmt: skip
        assert sla == {
            "valid_tracking_rate": whole.valid_tracking_rate,
            "on_time_delivery_rate": whole.on_time_rate,
            "on_time_delivery_rate_protected": whole.on_time_rate_protected,
            "late_shipment_rate": whole.late_shipment_rate,
            "delivery_rate": whole.delivery_rate,
        }


def test_rollups_refresh_catches_up_on_changes_after_the_watermark():
    # given rollups built, then a parcel delivered later (its updated_at moves on)
    seller = SellerFactory()
    shipped = timezone.now() - timedelta(days=3)
    parcel = shipped_parcel(seller=seller, shipped_at=shipped, events=[(5, "in_transit", "")])
    rollups.rollups_refresh()
    assert ShipmentDayStat.objects.get(seller=seller).delivered == 0
    later = timezone.now() + timedelta(hours=1)
    Shipment.objects.filter(pk=parcel.pk).update(
        status="delivered", delivered_at=shipped + timedelta(days=1), updated_at=later
    )
    # when the job runs after that change (even after a long downtime)
    result = rollups.rollups_refresh(now=later + timedelta(days=2))
    # then the day is recomputed and nothing is left dirty
    assert result["processed"] == 1
    assert ShipmentDayStat.objects.get(seller=seller).delivered == 1
    assert not RollupDirtyDay.objects.exists()


def test_rollup_day_recompute_is_idempotent():
    seller = SellerFactory()
    shipped = datetime(2026, 3, 2, 9, tzinfo=PARIS)
    for _ in range(3):
        shipped_parcel(seller=seller, shipped_at=shipped, events=JOURNEYS[0])
    rollups.rollup_day_recompute(seller_id=seller.id, day=date(2026, 3, 2))
    first = list(ShipmentDayStat.objects.values("shipments", "delivered", "transit_01"))
    rollups.rollup_day_recompute(seller_id=seller.id, day=date(2026, 3, 2))
    assert list(ShipmentDayStat.objects.values("shipments", "delivered", "transit_01")) == first
    assert first == [{"shipments": 3, "delivered": 3, "transit_01": 3}]


def test_rollups_process_dirty_keeps_a_day_re_marked_while_it_was_recomputed():
    # given a dirty day whose mark is refreshed by a sweep after the job read it
    seller = SellerFactory()
    dirty = RollupDirtyDay.objects.create(seller=seller, day=date(2026, 3, 2))
    RollupDirtyDay.objects.filter(pk=dirty.pk).update(marked_at=timezone.now() + timedelta(1))
    # a stale copy (what a job claimed before the re-mark) is not allowed to delete it
    deleted, _ = RollupDirtyDay.objects.filter(pk=dirty.pk, marked_at=dirty.marked_at).delete()
    assert deleted == 0
    assert rollups.rollups_process_dirty() == 1
    assert not RollupDirtyDay.objects.exists()


def test_rollups_rebuild_all_matches_the_incremental_job():
    rng = random.Random(11)
    sellers = [SellerFactory(), SellerFactory()]
    _random_world(rng, sellers, 60, datetime(2026, 3, 1, 8, tzinfo=PARIS))
    rollups.rollups_refresh()
    columns = ["seller_id", "day", "carrier", "destination_country", "destination_region",
               "service_level", "shipments", "delivered", "on_time", "transit_02"]  # fmt: skip
    incremental = sorted(ShipmentDayStat.objects.values_list(*columns))
    rollups.rollups_rebuild_all()
    assert sorted(ShipmentDayStat.objects.values_list(*columns)) == incremental


def _week_rows(**filters) -> list[tuple]:
    columns = ["grain", "week", "seller_id", "carrier", "destination_country",
               "destination_region", "shipments", "delivered", "on_time", "late_shipped",
               "first_scan_lag_seconds", "transit_01", "transit_02", "transit_05"]  # fmt: skip
    return sorted(WeekStat.objects.filter(**filters).values_list(*columns), key=str)


def test_week_stats_equal_the_raw_shipments_of_each_week():
    # given a random marketplace over 40 days (six weeks, two of them partial)
    rng = random.Random(13)
    sellers = [SellerFactory(), SellerFactory()]
    _random_world(rng, sellers, 120, datetime(2026, 3, 1, 8, tzinfo=PARIS))
    # when the rollup job runs
    rollups.rollups_refresh()
    # then each weekly row is exactly the raw parcels confirmed in that week
    raw_lanes, raw_sellers, raw_market = {}, {}, {}
    for fact in shipment_facts(Shipment.objects.all()):
        week = fact.day - timedelta(days=fact.day.weekday())
        lane = (fact.carrier, fact.destination_country, fact.destination_region)
        raw_lanes.setdefault((week, fact.seller_id, *lane), Totals()).add(fact)
        raw_sellers.setdefault((week, fact.seller_id), Totals()).add(fact)
        raw_market.setdefault((week, *lane), Totals()).add(fact)

    def weekly(grain: str, *keys: str) -> dict:
        return {
            (row["week"], *(row[k] for k in keys)): Totals.from_row(row)
            for row in WeekStat.objects.filter(grain=grain).values()
        }

    lane_keys = ("carrier", "destination_country", "destination_region")
    assert weekly("seller_lane", "seller_id", *lane_keys) == raw_lanes
    assert weekly("seller", "seller_id") == raw_sellers
    assert weekly("lane", *lane_keys) == raw_market
    assert all(week.weekday() == 0 for week, *_ in raw_sellers)


def test_week_recompute_is_idempotent_and_rebuild_weeks_matches_the_incremental_job():
    rng = random.Random(17)
    sellers = [SellerFactory(), SellerFactory()]
    _random_world(rng, sellers, 60, datetime(2026, 3, 1, 8, tzinfo=PARIS))
    rollups.rollups_refresh()
    incremental = _week_rows()
    assert incremental
    # when a week is recomputed again, and when every week is rebuilt from the daily rows
    rollups.seller_week_recompute(seller_id=sellers[0].id, week=date(2026, 3, 2))
    rollups.lane_week_recompute(week=date(2026, 3, 2))
    assert _week_rows() == incremental
    assert rollups.rollups_rebuild_weeks() == len(incremental)
    # then nothing changes; the full rebuild of every rollup gives the same weeks too
    assert _week_rows() == incremental
    rollups.rollups_rebuild_all()
    assert _week_rows() == incremental


def test_week_stats_catch_up_on_changes_after_the_watermark():
    # given weekly rows built, then a parcel delivered later (its updated_at moves on)
    seller = SellerFactory()
    shipped = timezone.now() - timedelta(days=10)
    parcel = shipped_parcel(seller=seller, shipped_at=shipped, events=[(5, "in_transit", "")])
    rollups.rollups_refresh()
    week = rollups.week_of(timezone.localtime(shipped).date())
    assert WeekStat.objects.get(grain="seller", seller=seller, week=week).delivered == 0
    later = timezone.now() + timedelta(hours=1)
    Shipment.objects.filter(pk=parcel.pk).update(
        status="delivered", delivered_at=shipped + timedelta(days=1), updated_at=later
    )
    # when the job runs after that change (even after a long downtime)
    rollups.rollups_refresh(now=later + timedelta(days=2))
    # then the seller's week and the marketplace lane week both count the delivery
    assert WeekStat.objects.get(grain="seller", seller=seller, week=week).delivered == 1
    assert WeekStat.objects.get(grain="seller_lane", seller=seller, week=week).delivered == 1
    assert WeekStat.objects.get(grain="lane", week=week).delivered == 1


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (date(2026, 3, 1), date(2026, 4, 15)),  # partial weeks at both edges
        (date(2026, 3, 2), date(2026, 3, 29)),  # exactly four weeks
        (date(2026, 3, 4), date(2026, 3, 8)),  # no full week: daily rows only
        (date(2026, 3, 3), date(2026, 3, 3)),
    ],
)
def test_weekly_dashboards_equal_raw_figures_whatever_the_period_edges(start, end):
    # given a random marketplace and rollups
    rng = random.Random(19)
    sellers = [SellerFactory(), SellerFactory(), SellerFactory()]
    _random_world(rng, sellers, 150, datetime(2026, 3, 1, 8, tzinfo=PARIS))
    rollups.rollups_refresh()
    period = selectors.Period(start=start, end=end)
    facts = [f for f in shipment_facts(Shipment.objects.all()) if start <= f.day <= end]
    # when the marketplace ranks the sellers and each looks at performance by destination
    ranking = selectors.marketplace_sla_ranking(scope=Scope.marketplace(), period=period)
    # then every figure equals the raw parcels confirmed in the period
    per_seller, market = {}, {}
    for fact in facts:
        per_seller.setdefault(fact.seller_id, Totals()).add(fact)
        market.setdefault((fact.carrier, fact.destination_country, fact.destination_region),
                          Totals()).add(fact)  # fmt: skip
    sla = ("shipments", "scanned", "delivered", "on_time_eligible", "on_time", "ship_date_known",
           "late_shipped")  # fmt: skip
    assert {s.seller.id: [getattr(s.totals, n) for n in sla] for s in ranking} == {
        k: [getattr(v, n) for n in sla] for k, v in per_seller.items()
    }
    for seller in sellers:
        raw = {}
        for fact in facts:
            if fact.seller_id == seller.id:
                raw.setdefault((fact.carrier, fact.destination_country, fact.destination_region),
                               Totals()).add(fact)  # fmt: skip
        rows = selectors.courier_performance(
            scope=Scope.for_seller(seller.id), seller_id=None, period=period, by_destination=True
        )
        assert {(r.carrier, r.destination_country, r.destination_region): r.seller
                for r in rows} == raw  # fmt: skip
        assert {(r.carrier, r.destination_country, r.destination_region): r.marketplace
                for r in rows} == {key: market[key] for key in raw}  # fmt: skip


def test_full_weeks_of_a_period():
    full = selectors._full_weeks
    # Sunday 1 March .. Wednesday 15 April 2026: Monday 2 March .. Sunday 12 April
    assert full(selectors.Period(date(2026, 3, 1), date(2026, 4, 15))) == (
        date(2026, 3, 2), date(2026, 4, 12))  # fmt: skip
    assert full(selectors.Period(date(2026, 3, 2), date(2026, 3, 8))) == (
        date(2026, 3, 2), date(2026, 3, 8))  # fmt: skip
    assert full(selectors.Period(date(2026, 3, 3), date(2026, 3, 9))) is None


@pytest.mark.time_machine(datetime(2027, 11, 8, 9, 0, tzinfo=PARIS), tick=False)
def test_rollups_count_a_parcel_on_its_paris_day_not_its_utc_day():
    # given parcels confirmed just after midnight in Paris, still the day before in UTC: on
    # New Year's night, and on both sides of the autumn time change (UTC+2, then UTC+1)
    seller = SellerFactory()
    confirmed = [
        datetime(2026, 12, 31, 22, 30, tzinfo=UTC),  # 23:30 on 31 December in Paris
        datetime(2026, 12, 31, 23, 30, tzinfo=UTC),  # 00:30 on 1 January in Paris
        datetime(2027, 10, 30, 22, 30, tzinfo=UTC),  # 00:30 CEST on Sunday 31 October
        datetime(2027, 10, 31, 23, 30, tzinfo=UTC),  # 00:30 CET on Monday 1 November
    ]
    for at in confirmed:
        shipped_parcel(seller=seller, shipped_at=at, events=[(30, "delivered", "delivered.signed")])
    # when the job runs
    rollups.rollups_refresh()
    # then each parcel counts on its Paris day, and in the week of that day
    days = dict(
        SummaryDayStat.objects.filter(grain="seller", seller=seller).values_list("day", "shipments")
    )
    assert days == {
        date(2026, 12, 31): 1, date(2027, 1, 1): 1, date(2027, 10, 31): 1, date(2027, 11, 1): 1,
    }  # fmt: skip
    weeks = dict(
        WeekStat.objects.filter(grain="seller", seller=seller).values_list("week", "shipments")
    )
    assert weeks == {date(2026, 12, 28): 2, date(2027, 10, 25): 1, date(2027, 11, 1): 1}
