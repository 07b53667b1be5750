"""Seller dashboards at marketplace scale: the real selectors on the daily rollups, beside the
same figures computed directly from the raw shipments, in the same run.

    prepare (not timed)   TRUNCATE; SELLERS sellers (a long tail of small ones); SHIPMENTS orders
                          and shipments with realistic journeys (info received, first scan after a
                          lag, failed attempts, delivery after 1-6 business days, a few returns,
                          losses, parcels never scanned) and their ~4 events each, all written with
                          psycopg 3 COPY; then rollups_rebuild_all() (timed and reported, not a
                          goal; --dash-keep-rollups keeps an earlier run's daily rollups and only
                          rebuilds the weekly sums) and a check that rollup figures equal the raw
                          ones
    runs (timed)          each dashboard's selector REPEATS times, p50/p95/max:
                          performance by courier, performance by destination, SLA with trends,
                          SLA drill-down first page, courier recommendation, marketplace ranking;
                          then the same figures from raw rows (shipment_facts + Totals), fewer
                          times (they are slow by design)

Goal: every dashboard p95 < GOAL_P95_MS through the rollups. Standalone:
``python -m benchmarks.run seller_dashboards [--dash-shipments N]`` (PostgreSQL only).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from datetime import time as time_of_day

from benchmarks.common import (
    machine_markdown,
    markdown_table,
    record_section,
    settle_database,
    text_table,
    timed,
    truncate,
    verify,
)
from benchmarks.rows import TableRows, copy_rows, reset_sequence

NAME = "seller_dashboards"
SMOKE = {"dash_shipments": 3000, "dash_sellers": 30, "dash_repeats": 2}
GOAL_P95_MS = 100.0
DEFAULT_SHIPMENTS = 1_000_000
DEFAULT_SELLERS = 1000
DEFAULT_REPEATS = 40
RAW_REPEATS = 3
# Shipments per COPY round (with their events): bounds the memory of the generator.
COPY_CHUNK = 100_000
PERIOD_DAYS = 90
HISTORY_DAYS = 365
CARRIERS = ["laposte", "chronopost", "dhl", "dpd", "gls", "mondialrelay", "ups", "fedex"]
# courier -> business days in transit to pick from (domestic)
TRANSIT = {
    "laposte": [1, 2, 2, 2, 3, 3, 4], "chronopost": [1, 1, 1, 2], "dhl": [1, 2, 2, 3],
    "dpd": [1, 2, 2, 3, 3], "gls": [2, 3, 3, 4, 5], "mondialrelay": [3, 4, 4, 5, 6],
    "ups": [1, 1, 2, 2, 3], "fedex": [1, 2, 2, 3],
}  # fmt: skip
ABROAD = ["DE", "BE", "ES", "IT", "NL", "GB", "CH", "US"]
ORIGINS = ["69", "75", "13", "33", "59", "44", "31", "67", "06", "35"]


def add_arguments(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    parser.add_argument(
        "--dash-shipments", type=int, default=DEFAULT_SHIPMENTS, help="(default: %(default)s)"
    )
    parser.add_argument(
        "--dash-sellers", type=int, default=DEFAULT_SELLERS, help="(default: %(default)s)"
    )
    parser.add_argument(
        "--dash-repeats", type=int, default=DEFAULT_REPEATS, help="(default: %(default)s)"
    )
    parser.add_argument(
        "--dash-reuse",
        action="store_true",
        help="keep the shipments of a previous run when their count matches (skip the COPY)",
    )
    parser.add_argument(
        "--dash-keep-rollups",
        action="store_true",
        help="with --dash-reuse: keep the daily rollups of a previous run too and only rebuild "
        "the weekly sums from them (rollups_rebuild_weeks) instead of rollups_rebuild_all()",
    )


# --- Data ----------------------------------------------------------------------------------


def _departments() -> list[str]:
    deps = [f"{n:02d}" for n in range(1, 96) if n != 20] + ["2A", "2B", "971", "972", "974"]
    return deps


def _postcode(dep: str, rng: random.Random) -> str:
    if dep == "2A":
        return "20090"
    if dep == "2B":
        return "20600"
    if len(dep) == 3:
        return f"{dep}{rng.randint(10, 99)}"
    return f"{dep}{rng.randint(0, 999):03d}"


def _add_weekdays(day: date, n: int) -> date:
    while n > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            n -= 1
    return day


def generate(shipments: int, sellers: int, seed: int = 20261202) -> dict[str, int]:
    """COPY sellers, orders, shipments and events. Returns counts and the biggest seller."""
    from django.db import connection, transaction
    from django.utils import timezone

    from sellers.metrics import local_tz
    from sellers.models import Order, RollupDirtyDay, RollupWatermark, Seller, ShipmentDayStat
    from tracking.models import Shipment, TrackingEvent

    truncate(ShipmentDayStat, RollupDirtyDay, RollupWatermark, TrackingEvent, Shipment, Order,
             Seller)  # fmt: skip
    rng = random.Random(seed)
    tz = local_tz()
    now = timezone.now()
    today = timezone.localdate()
    deps = _departments()
    dep_weights = [8 if d == "75" else 3 if d in ("69", "13", "59", "33", "92", "93") else 1
                   for d in deps]  # fmt: skip
    # a long tail: seller i gets a share proportional to 1 / (i + 1)
    seller_weights = [1 / (i + 1) for i in range(sellers)]
    seller_carriers = [rng.sample(CARRIERS, rng.randint(2, 5)) for _ in range(sellers)]
    seller_origins = [rng.choice(ORIGINS) for _ in range(sellers)]
    counts = {"events": 0}
    with transaction.atomic(), connection.cursor() as cursor:
        copy_rows(Seller, ["id", "name", "slug", "origin_postcode", "origin_country",
                           "created_at"],
                  ((i + 1, f"Bench seller {i}", f"bench-{i}", f"{seller_origins[i]}000", "FR",
                    now) for i in range(sellers)), now=now)  # fmt: skip
        owners = rng.choices(range(sellers), weights=seller_weights, k=shipments)
        # Schema-checked before the first row (benchmarks/rows.py): the columns not named here
        # get the model's defaults, and a new NOT NULL column without one stops the run at once.
        order_rows = TableRows(Order, ["id", "seller_id", "reference", "buyer_locale",
                                       "destination_postcode", "destination_country",
                                       "total_amount", "currency", "promised_delivery_date",
                                       "expected_ship_date", "service_level", "public_token",
                                       "created_at"], now=now)  # fmt: skip
        ship_rows_of = TableRows(Shipment, ["id", "order_id", "seller_id", "carrier",
                                            "tracking_number", "status", "substatus",
                                            "last_event_at", "delivered_at", "public_token",
                                            "created_at", "updated_at"], now=now)  # fmt: skip
        event_rows_of = TableRows(TrackingEvent, ["shipment_id", "occurred_at", "message",
                                                  "status", "substatus", "source", "dedupe_key",
                                                  "received_at"], now=now)  # fmt: skip
        raw = cursor.cursor
        plans = []
        with raw.copy(order_rows.copy_sql()) as copy:
            for sid in range(1, shipments + 1):
                owner = owners[sid - 1]
                carrier = rng.choice(seller_carriers[owner])
                abroad = rng.random() < 0.12
                if abroad:
                    country, postcode = rng.choice(ABROAD), f"{rng.randint(1000, 99999)}"
                else:
                    country = "FR"
                    postcode = _postcode(rng.choices(deps, weights=dep_weights)[0], rng)
                ship_day = today - timedelta(days=rng.randint(0, HISTORY_DAYS))
                service = rng.choices(["standard", "express", "economy"], weights=[75, 15, 10])[0]
                promised = ship_day + timedelta(days={"standard": 4, "express": 2,
                                                      "economy": 6}[service])  # fmt: skip
                expected = ship_day - timedelta(days=1) if rng.random() < 0.03 else ship_day
                hour, minute = rng.randint(8, 19), rng.randint(0, 59)
                shipped_at = datetime.combine(ship_day, time_of_day(hour, minute), tzinfo=tz)
                copy.write_row(order_rows.row((sid, owner + 1, f"B{sid}", "fr", postcode,
                                               country, 2990, "EUR", promised, expected,
                                               service, f"bo{sid}", shipped_at)))  # fmt: skip
                plans.append((owner + 1, carrier, country, shipped_at, ship_day))
        # shipments and their events in chunks: one COPY open at a time per connection, and
        # the events' foreign key is checked at commit (Django's constraints are deferred)
        for chunk_start in range(0, len(plans), COPY_CHUNK):
            ship_rows, event_rows = [], []
            chunk = plans[chunk_start : chunk_start + COPY_CHUNK]
            for sid, (seller_id, carrier, country, shipped_at, ship_day) in enumerate(
                chunk, chunk_start + 1
            ):
                story = _journey(rng, carrier, country, shipped_at, ship_day, today, now, tz)
                last_at, status, substatus = story[-1]
                ship_rows.append(ship_rows_of.row((sid, sid, seller_id, carrier,
                                                   f"BN{sid:010d}", status, substatus, last_at,
                                                   last_at if status == "delivered" else None,
                                                   f"bs{sid}", shipped_at, now)))  # fmt: skip
                for i, (at, ev_status, ev_substatus) in enumerate(story):
                    event_rows.append(event_rows_of.row((sid, at, ev_status, ev_status,
                                                         ev_substatus, "poll", f"b{sid}-{i}",
                                                         at)))  # fmt: skip
            with raw.copy(ship_rows_of.copy_sql()) as copy:
                for row in ship_rows:
                    copy.write_row(row)
            with raw.copy(event_rows_of.copy_sql()) as copy:
                for row in event_rows:
                    copy.write_row(row)
            counts["events"] += len(event_rows)
        for model in (Seller, Order, Shipment):
            reset_sequence(model)
    biggest = max(range(sellers), key=lambda i: seller_weights[i]) + 1
    return {"sellers": sellers, "shipments": shipments, "events": counts["events"],
            "biggest_seller": biggest}  # fmt: skip


def _journey(rng, carrier, country, shipped_at, ship_day, today, now, tz) -> list[tuple]:
    """A parcel's events: label, first scan after a lag, then delivery (sometimes after a
    failed attempt), a return or a loss; a few are never scanned, recent ones still moving."""
    story = [(shipped_at + timedelta(hours=1), "info_received", "")]
    roll = rng.random()
    recent = (today - ship_day).days < 3
    if roll < 0.03 or (recent and roll < 0.5):
        return story  # never scanned (yet)
    story.append((shipped_at + timedelta(hours=rng.randint(1, 36)), "in_transit", ""))
    transit = rng.choice(TRANSIT[carrier]) + (1 if country != "FR" else 0)
    arrival = _add_weekdays(ship_day, transit)
    at = datetime(arrival.year, arrival.month, arrival.day, 12, tzinfo=tz)
    if at > now:
        return story  # still on its way
    if roll < 0.06:
        story.append((at, "exception", "exception.returned_to_sender"))
    elif roll < 0.075:
        story.append((at, "exception", "exception.lost"))
    else:
        if roll < 0.12:
            story.append((at - timedelta(hours=3), "failed_attempt",
                          "failed_attempt.recipient_absent"))  # fmt: skip
            at += timedelta(days=1)
        story.append((at - timedelta(hours=4), "out_for_delivery", ""))
        story.append((at, "delivered", "delivered.signed"))
    return story


# --- Runs ----------------------------------------------------------------------------------


def _measure(fn: Callable[[], object], repeats: int) -> list[float]:
    fn()  # warm the connection and the plan cache
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def _p(samples: list[float], q: float) -> float:
    if len(samples) == 1:
        return samples[0]
    return statistics.quantiles(samples, n=100, method="inclusive")[int(q) - 1]


def run(options: argparse.Namespace) -> bool:
    from benchmarks.common import setup_django

    setup_django()
    from django.db.models import Count
    from django.utils import timezone

    from core.access import Scope
    from sellers import rollups, selectors
    from sellers.metrics import Totals, shipment_facts
    from sellers.models import ShipmentDayStat
    from tracking.models import Shipment

    n, repeats = options.dash_shipments, options.dash_repeats
    print(f"prepare: COPY {n} shipments for {options.dash_sellers} sellers…", flush=True)
    from sellers.models import Seller

    reuse = (
        options.dash_reuse
        and Shipment.objects.count() == n
        and Seller.objects.count() == options.dash_sellers
    )
    with timed() as generation:
        if reuse:
            from tracking.models import TrackingEvent

            info = {"sellers": options.dash_sellers, "shipments": n,
                    "events": TrackingEvent.objects.count(), "biggest_seller": 1}  # fmt: skip
        else:
            info = generate(n, options.dash_sellers)
    print(f"  {info['events']} events in {generation.seconds:.0f} s", flush=True)
    keep = (
        reuse and getattr(options, "dash_keep_rollups", False) and ShipmentDayStat.objects.exists()
    )
    with timed() as build:
        rows = rollups.rollups_rebuild_weeks() if keep else rollups.rollups_rebuild_all()
    builder = "rollups_rebuild_weeks" if keep else "rollups_rebuild_all"
    print(f"{builder}: {rows} rollup rows in {build.seconds:.0f} s", flush=True)
    # what autovacuum does after the rebuild's burst of inserts (PostgreSQL 13+ vacuums on
    # inserts): the visibility map lets the ranking's covering indexes read index-only
    from django.db import connection

    with connection.cursor() as cursor:
        for table in ("sellers_weekstat", "sellers_summarydaystat"):
            cursor.execute(f"VACUUM {table}")
    settle_database("sellers_shipmentdaystat", "sellers_lanedaystat", "sellers_summarydaystat",
                    "sellers_weekstat", "tracking_shipment", "tracking_trackingevent",
                    "sellers_order")  # fmt: skip

    big = info["biggest_seller"]
    # a mid-sized seller: the 21st largest (or the smallest, in a smoke run's few sellers)
    by_size = (
        Shipment.objects.values("seller_id").annotate(n=Count("id")).order_by("-n", "seller_id")
    )
    mid = by_size[min(20, by_size.count() - 1)]["seller_id"]
    period = selectors.Period.last_days(PERIOD_DAYS)
    tz_start = timezone.make_aware(datetime.combine(period.start, datetime.min.time()))
    tz_end = timezone.make_aware(datetime.combine(period.end + timedelta(days=1),
                                                  datetime.min.time()))  # fmt: skip
    scope_big, scope_mid = Scope.for_seller(big), Scope.for_seller(mid)
    seller_big = Shipment.objects.filter(seller_id=big, created_at__gte=tz_start,
                                         created_at__lt=tz_end)  # fmt: skip
    big_count = seller_big.count()
    market_count = Shipment.objects.filter(created_at__gte=tz_start, created_at__lt=tz_end).count()

    def raw_totals(qs, key) -> dict:
        grouped: dict = {}
        for fact in shipment_facts(qs):
            grouped.setdefault(key(fact), Totals()).add(fact)
        return grouped

    in_period = Shipment.objects.filter(created_at__gte=tz_start, created_at__lt=tz_end)
    dashboards = [
        ("performance by courier (largest seller)",
         lambda: selectors.courier_performance(scope=scope_big, seller_id=big, period=period),
         lambda: raw_totals(seller_big, lambda f: f.carrier)),
        ("performance by courier (21st seller)",
         lambda: selectors.courier_performance(scope=scope_mid, seller_id=mid, period=period),
         None),
        ("performance by destination (largest seller)",
         lambda: selectors.courier_performance(scope=scope_big, seller_id=big, period=period,
                                               by_destination=True),
         lambda: raw_totals(seller_big, lambda f: (f.carrier, f.destination_country,
                                                   f.destination_region))),
        ("courier comparison on FR-75 (largest seller)",
         lambda: selectors.courier_performance(scope=scope_big, seller_id=big, period=period,
                                               destination=("FR", "75")),
         None),
        ("SLA with weekly trends (largest seller)",
         lambda: selectors.seller_sla(scope=scope_big, seller_id=big, period=period),
         lambda: raw_totals(seller_big, lambda f: f.day - timedelta(days=f.day.weekday()))),
        ("SLA drill-down, first page (largest seller)",
         lambda: list(selectors.sla_shipments(scope=scope_big, seller_id=big, period=period,
                                              metric="valid_tracking_rate")[:50]),
         None),
        ("recommendation 69 -> FR-75 standard",
         lambda: selectors.courier_recommendation(scope=scope_big, origin_region="69",
                                                  destination=("FR", "75"),
                                                  service_level="standard"),
         None),
        ("marketplace SLA ranking (all sellers)",
         lambda: selectors.marketplace_sla_ranking(scope=Scope.marketplace(), period=period),
         lambda: raw_totals(in_period, lambda f: f.seller_id)),
    ]  # fmt: skip

    # correctness at scale, rollups == raw: the largest seller's figures per courier and per
    # destination (weekly rows + edge days), and every seller's SLA counters in the ranking
    from_rollups = {r.carrier: r.seller for r in dashboards[0][1]()}
    from_raw = dashboards[0][2]()
    by_destination = {(r.carrier, r.destination_country, r.destination_region): r.seller
                      for r in dashboards[2][1]()}  # fmt: skip
    sla = ("shipments", "scanned", "delivered", "on_time_eligible", "on_time", "ship_date_known",
           "late_shipped")  # fmt: skip
    ranking = {s.seller.id: [getattr(s.totals, n) for n in sla] for s in dashboards[-1][1]()}
    ranking_raw = {k: [getattr(v, n) for n in sla] for k, v in dashboards[-1][2]().items()}
    equal = from_rollups == from_raw
    equal_destination = by_destination == dashboards[2][2]()
    equal_ranking = ranking == ranking_raw
    print(f"per destination equal: {equal_destination}; ranking equal: {equal_ranking}")
    equal = equal and equal_destination and equal_ranking
    print(f"largest seller: {big_count} shipments in {PERIOD_DAYS} days; rollups == raw: {equal}")
    verify(
        equal,
        "rollups differ from the raw shipments: "
        f"per courier {from_rollups == from_raw}, per destination {equal_destination}, "
        f"ranking {equal_ranking}",
    )

    results = []
    for label, selector, raw in dashboards:
        samples = _measure(selector, repeats)
        raw_p95 = ""
        if raw is not None:
            raw_samples = _measure(raw, RAW_REPEATS if "marketplace" not in label else 1)
            raw_p95 = f"{max(raw_samples):.0f}"
        p95 = _p(samples, 95)
        results.append((label, statistics.median(samples), p95, max(samples), raw_p95,
                        p95 < GOAL_P95_MS))  # fmt: skip
        print(f"  {label}: p95 {p95:.1f} ms (raw: {raw_p95 or '-'} ms)", flush=True)

    ok = equal and all(r[-1] for r in results)
    copy_note = (
        "kept from an earlier run's COPY (--dash-reuse)"
        if reuse
        else f"written with COPY in {generation.seconds:.0f} s"
    )
    from sellers.models import WeekStat

    week_rows = WeekStat.objects.count()
    if keep:
        build_note = (
            f"The daily rollups ({ShipmentDayStat.objects.count():,} rows) were kept from an "
            f"earlier run's `rollups_rebuild_all()` (`--dash-keep-rollups`); "
            f"`rollups_rebuild_weeks()` summed them into {week_rows:,} weekly rows in "
            f"{build.seconds:.0f} s."
        )
    else:
        build_note = (
            f"`rollups_rebuild_all()` built {ShipmentDayStat.objects.count():,} daily rollup "
            f"rows (and {week_rows:,} weekly rows) in {build.seconds:.0f} s."
        )
    headers = ["dashboard", "p50 ms", "p95 ms", "max ms", f"goal p95 < {GOAL_P95_MS:.0f} ms",
               "raw rows (max of runs) ms"]  # fmt: skip
    table_rows = [[r[0], f"{r[1]:.1f}", f"{r[2]:.1f}", f"{r[3]:.1f}",
                   "PASS" if r[5] else "FAIL", r[4] or "—"] for r in results]  # fmt: skip
    print(text_table(headers, table_rows))
    record_section(
        NAME,
        f"""## Seller dashboards (rollups) at {n:,} shipments

Measured {timezone.now():%Y-%m-%d %H:%M} UTC.

{machine_markdown()}

Data: {info["sellers"]} sellers (long tail: seller *i* ships in proportion to 1/(*i*+1)),
{n:,} shipments over {HISTORY_DAYS} days with {info["events"]:,} events, {copy_note}
(not timed below). {build_note} Period of every dashboard: the last {PERIOD_DAYS} days;
the largest seller has {big_count:,} shipments in it, the marketplace {market_count:,}.
Rollup figures equal the raw figures (the largest seller per courier and per destination, every
seller's SLA counters in the ranking): **{equal}**.

Each dashboard is its real selector, called {repeats} times after one warm-up (p50/p95/max);
"raw rows" is the same figures computed directly from the raw shipments and events
(`shipment_facts` + `Totals`, what the dashboards would cost without rollups), the max of
{RAW_REPEATS} runs (1 for the marketplace ranking).

{markdown_table(headers, table_rows)}

Result: **{"PASS" if ok else "FAIL"}** (goal: every dashboard p95 < {GOAL_P95_MS:.0f} ms).
""",
    )
    return ok
