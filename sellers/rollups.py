"""Daily rollups behind the seller dashboards (services: the only writer of ShipmentDayStat).

    schedule sellers.rollups_refresh (every 5 min) -> tasks.rollups_refresh -> rollups_refresh()
      1. rollups_mark_changed(): shipments whose updated_at passed the watermark (minus an
         overlap, for transactions that committed late) mark their (seller, day) dirty
      2. rollups_process_dirty(): claims dirty days with SKIP LOCKED, recomputes each day whole
         from the raw rows (rollup_day_recompute), deletes the mark unless re-marked meanwhile;
         each recomputed day marks its marketplace lane day dirty
      3. rollups_process_dirty_lanes(): re-sums those days into LaneDayStat (the marketplace
         per courier x destination x day), claimed the same way

Safe to run twice at once: the watermark row is claimed with SKIP LOCKED (the second sweeper
skips the sweep) and dirty days likewise (each day is recomputed by one job). A day recomputed
twice gives the same rows. After downtime the watermark is simply older: the next run marks
everything that changed since and catches up, DIRTY_BATCH days per transaction.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date, datetime, time, timedelta

from django.db import connection, transaction
from django.db.models import Min, Sum
from django.db.models.functions import TruncDate, TruncWeek
from django.utils import timezone

from sellers.metrics import (
    COUNTERS,
    HIST_FIELDS,
    ShipmentFacts,
    Totals,
    facts_from_values,
    local_tz,
    shipment_facts,
    shipments_with_facts,
)
from sellers.models import (
    LaneDayStat,
    RollupDirtyDay,
    RollupDirtyLaneDay,
    RollupWatermark,
    Seller,
    ShipmentDayStat,
    SummaryDayStat,
    WeekStat,
)
from tracking.models import Shipment

logger = logging.getLogger(__name__)

WATERMARK = "shipment_day_stats"
# Its value is when marketplace lane weeks were last summed; the row serialises those sums.
LANE_WEEKS_LOCK = "lane_week_stats"
# Ingest transactions are short; one that commits this long after its updated_at is still seen.
SWEEP_OVERLAP = timedelta(minutes=10)
# Days recomputed per transaction: a day of a large seller is a few thousand shipments, so a
# batch stays well under a second of locks while a catch-up still moves quickly.
DIRTY_BATCH = 50


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    tz = local_tz()
    start = datetime.combine(day, time.min, tzinfo=tz)
    return start, datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)


def summary_rows_from_facts(facts: list[ShipmentFacts]) -> list[SummaryDayStat]:
    """Unsaved seller x day and seller x courier x day rows of these facts."""
    by_seller: dict[tuple, Totals] = defaultdict(Totals)
    by_carrier: dict[tuple, Totals] = defaultdict(Totals)
    for fact in facts:
        by_seller[(fact.seller_id, fact.day)].add(fact)
        by_carrier[(fact.seller_id, fact.day, fact.carrier)].add(fact)
    grain = SummaryDayStat.Grain
    return [
        SummaryDayStat(grain=grain.SELLER, seller_id=seller_id, day=day, carrier="",
                       **totals.as_row())
        for (seller_id, day), totals in by_seller.items()
    ] + [
        SummaryDayStat(grain=grain.SELLER_CARRIER, seller_id=seller_id, day=day,
                       carrier=carrier, **totals.as_row())
        for (seller_id, day, carrier), totals in by_carrier.items()
    ]  # fmt: skip


def rollup_rows_from_facts(facts: list[ShipmentFacts]) -> list[ShipmentDayStat]:
    """Unsaved rollup rows of these facts, one per (seller, day, carrier, lane, service)."""
    groups: dict[tuple, Totals] = defaultdict(Totals)
    origins: dict[tuple, str] = {}
    for fact in facts:
        key = (fact.seller_id, fact.day, *fact.key)
        groups[key].add(fact)
        origins[key] = fact.origin_region
    now = timezone.now()
    return [
        ShipmentDayStat(
            seller_id=seller_id,
            day=day,
            carrier=carrier,
            destination_country=country,
            destination_region=region,
            service_level=service,
            origin_region=origins[key],
            computed_at=now,
            **totals.as_row(),
        )  # fmt: skip
        for key, totals in groups.items()
        for seller_id, day, carrier, country, region, service in [key]
    ]


@transaction.atomic
def rollup_day_recompute(*, seller_id: int, day: date) -> int:
    """Replace the rollup rows of one seller's day with rows computed from its raw shipments.
    Idempotent. Returns the number of rows written."""
    start, end = _day_bounds(day)
    facts = shipment_facts(
        Shipment.objects.filter(seller_id=seller_id, created_at__gte=start, created_at__lt=end)
    )
    ShipmentDayStat.objects.filter(seller_id=seller_id, day=day).delete()
    SummaryDayStat.objects.filter(seller_id=seller_id, day=day).delete()
    rows = rollup_rows_from_facts(facts)
    ShipmentDayStat.objects.bulk_create(rows, batch_size=1000)
    SummaryDayStat.objects.bulk_create(summary_rows_from_facts(facts), batch_size=1000)
    seller_week_recompute(seller_id=seller_id, week=week_of(day))
    _mark_lane_days([day])
    return len(rows)


def week_of(day: date) -> date:
    """The Monday of ``day``'s week (WeekStat.week)."""
    return day - timedelta(days=day.weekday())


def _as_date(value) -> date:
    return value.date() if isinstance(value, datetime) else value


def _sums_of(model) -> dict:
    """The counters' sums this model has: a migration's historical model may predate a
    counter (0005 sums weeks before 0008 adds ``late_protected``)."""
    names = {f.name for f in model._meta.get_fields()}
    return {name: agg for name, agg in _LANE_SUMS.items() if name in names}


def _row_for(model, totals: Totals) -> dict[str, int]:
    names = {f.name for f in model._meta.get_fields()}
    return {name: value for name, value in totals.as_row().items() if name in names}


def _weekly(qs, *keys: str):
    """Daily rows summed per (week, *keys)."""
    return (
        qs.annotate(week=TruncWeek("day"))
        .values("week", *keys)
        .annotate(**_sums_of(qs.model))
        .order_by()
    )


def _seller_week_rows(days, week_stat=None) -> list:
    """Unsaved seller_lane and seller rows of WeekStat from these ShipmentDayStat rows."""
    week_stat = week_stat or WeekStat
    rows, whole = [], defaultdict(Totals)
    for row in _weekly(days, "seller_id", *_LANE_KEYS):
        week, totals = _as_date(row["week"]), Totals.from_row(row)
        whole[(row["seller_id"], week)].merge(totals)
        rows.append(
            week_stat(
                grain="seller_lane",
                week=week,
                seller_id=row["seller_id"],
                carrier=row["carrier"],
                destination_country=row["destination_country"],
                destination_region=row["destination_region"],
                **_row_for(week_stat, totals),
            )
        )
    rows += [week_stat(grain="seller", week=week, seller_id=seller_id,
                       **_row_for(week_stat, totals))
             for (seller_id, week), totals in whole.items()]  # fmt: skip
    return rows


def _lane_week_rows(days, week_stat=None) -> list:
    """Unsaved lane rows of WeekStat from these LaneDayStat rows."""
    week_stat = week_stat or WeekStat
    return [
        week_stat(grain="lane", week=_as_date(row["week"]), carrier=row["carrier"],
                  destination_country=row["destination_country"],
                  destination_region=row["destination_region"],
                  **_row_for(week_stat, Totals.from_row(row)))
        for row in _weekly(days, *_LANE_KEYS)
    ]  # fmt: skip


@transaction.atomic
def seller_week_recompute(*, seller_id: int, week: date) -> int:
    """Replace one seller's WeekStat rows of ``week`` (a Monday) with the sums of its daily
    rows. Idempotent. Returns the rows written.

    Two jobs recomputing two days of the same seller's week would each miss the other's
    uncommitted day: the seller row is locked first (FOR NO KEY UPDATE, which does not block
    new orders or parcels), so the second waits for the first to commit and then reads both."""
    Seller.objects.select_for_update(no_key=True).filter(pk=seller_id).first()
    WeekStat.objects.filter(seller_id=seller_id, week=week).delete()
    days = ShipmentDayStat.objects.filter(
        seller_id=seller_id, day__gte=week, day__lte=week + timedelta(days=6)
    )
    rows = _seller_week_rows(days)
    WeekStat.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


@transaction.atomic
def lane_week_recompute(*, week: date) -> int:
    """Replace the marketplace lane rows of ``week`` with the sums of its LaneDayStat rows.
    Serialised on a lock row (see ``seller_week_recompute``): lane days are claimed one by one,
    and two of the same week must not sum each other's uncommitted rows."""
    lock, _ = RollupWatermark.objects.get_or_create(
        name=LANE_WEEKS_LOCK, defaults={"value": timezone.now()}
    )
    RollupWatermark.objects.select_for_update().filter(pk=lock.pk).update(value=timezone.now())
    WeekStat.objects.filter(grain=WeekStat.Grain.LANE, week=week).delete()
    days = LaneDayStat.objects.filter(day__gte=week, day__lte=week + timedelta(days=6))
    rows = _lane_week_rows(days)
    WeekStat.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def rollups_rebuild_weeks(*, models: tuple | None = None) -> int:
    """Rebuild every WeekStat row from the daily rollups (after the table is added, or as a
    repair); the daily rows are not touched. ``models`` (ShipmentDayStat, LaneDayStat, WeekStat)
    lets a migration pass its historical models. Returns the rows written."""
    day_stat, lane_stat, week_stat = models or (ShipmentDayStat, LaneDayStat, WeekStat)
    written = 0
    with transaction.atomic():
        week_stat.objects.all().delete()
        for rows in (_seller_week_rows(day_stat.objects.all(), week_stat),
                     _lane_week_rows(lane_stat.objects.all(), week_stat)):  # fmt: skip
            week_stat.objects.bulk_create(rows, batch_size=2000)
            written += len(rows)
    return written


def _mark_lane_days(days) -> None:
    now = timezone.now()
    RollupDirtyLaneDay.objects.bulk_create(
        [RollupDirtyLaneDay(day=day, marked_at=now) for day in sorted(set(days))],
        batch_size=1000, update_conflicts=True, unique_fields=["day"], update_fields=["marked_at"],
    )  # fmt: skip


_LANE_SUMS = {name: Sum(name) for name in (*COUNTERS, *HIST_FIELDS)}
_LANE_KEYS = ("carrier", "destination_country", "destination_region")


@transaction.atomic
def lane_day_recompute(*, day: date) -> int:
    """Sum every seller's rollup rows of ``day`` into its LaneDayStat rows (replaced whole)."""
    sums = (
        ShipmentDayStat.objects.filter(day=day)
        .values(*_LANE_KEYS)
        .annotate(**_LANE_SUMS)
        .order_by()
    )
    rows = [LaneDayStat(day=day, **row) for row in sums]
    LaneDayStat.objects.filter(day=day).delete()
    LaneDayStat.objects.bulk_create(rows, batch_size=2000)
    carriers: dict[str, Totals] = defaultdict(Totals)
    for row in rows:
        carriers[row.carrier].merge(Totals.from_row(row.__dict__))
    SummaryDayStat.objects.filter(grain=SummaryDayStat.Grain.CARRIER, day=day).delete()
    SummaryDayStat.objects.bulk_create(
        SummaryDayStat(grain=SummaryDayStat.Grain.CARRIER, day=day, carrier=carrier,
                       **totals.as_row())
        for carrier, totals in carriers.items()
    )  # fmt: skip
    lane_week_recompute(week=week_of(day))
    return len(rows)


def rollups_process_dirty_lanes() -> int:
    """Re-sum the lane days marked dirty, claimed with SKIP LOCKED; a day re-marked meanwhile
    (a seller's day committed after our sum read) stays marked for the next run."""
    done = 0
    while True:
        with transaction.atomic():
            batch = list(
                RollupDirtyLaneDay.objects.select_for_update(**_skip_locked()).order_by("day")[
                    :DIRTY_BATCH
                ]
            )
            if not batch:
                break
            for dirty in batch:
                lane_day_recompute(day=dirty.day)
                RollupDirtyLaneDay.objects.filter(pk=dirty.pk, marked_at=dirty.marked_at).delete()
            done += len(batch)
    return done


def _skip_locked() -> dict:
    return {"skip_locked": True} if connection.features.has_select_for_update_skip_locked else {}


def rollups_mark_changed(*, now: datetime | None = None) -> int:
    """Mark dirty the (seller, day) of every shipment changed since the watermark; move it.
    Returns the number of days marked, or -1 when another sweeper holds the watermark."""
    now = now or timezone.now()
    with transaction.atomic():
        RollupWatermark.objects.get_or_create(
            name=WATERMARK, defaults={"value": datetime(2000, 1, 1, tzinfo=local_tz())}
        )
        mark = (
            RollupWatermark.objects.select_for_update(**_skip_locked())
            .filter(name=WATERMARK)
            .first()
        )
        if mark is None:
            return -1
        since = mark.value - SWEEP_OVERLAP
        changed = (
            Shipment.objects.filter(updated_at__gt=since, updated_at__lte=now)
            .annotate(day=TruncDate("created_at", tzinfo=local_tz()))
            .values("seller_id", "day")
            .annotate(first=Min("id"))
            .values_list("seller_id", "day")
        )
        marks = [RollupDirtyDay(seller_id=s, day=d, marked_at=now) for s, d in changed]
        RollupDirtyDay.objects.bulk_create(
            marks, batch_size=1000, update_conflicts=True, unique_fields=["seller", "day"],
            update_fields=["marked_at"],
        )  # fmt: skip
        mark.value = now
        mark.save(update_fields=["value"])
    return len(marks)


def rollups_process_dirty(*, limit: int | None = None) -> int:
    """Recompute dirty days, DIRTY_BATCH per transaction, until none is left (or ``limit``
    days). Days another job holds are skipped. Returns the number of days recomputed."""
    done = 0
    while limit is None or done < limit:
        with transaction.atomic():
            batch = list(
                RollupDirtyDay.objects.select_for_update(**_skip_locked()).order_by("day", "id")[
                    :DIRTY_BATCH
                ]
            )
            if not batch:
                break
            for dirty in batch:
                rollup_day_recompute(seller_id=dirty.seller_id, day=dirty.day)
                # re-marked while we worked: keep the mark so the next run sees the new change
                RollupDirtyDay.objects.filter(pk=dirty.pk, marked_at=dirty.marked_at).delete()
            done += len(batch)
    return done


def rollups_refresh(*, now: datetime | None = None) -> dict[str, int]:
    """The scheduled job: sweep changes, then recompute the dirty days."""
    marked = rollups_mark_changed(now=now)
    processed = rollups_process_dirty()
    lanes = rollups_process_dirty_lanes()
    logger.info(
        "seller rollups refreshed", extra={"marked": marked, "processed": processed, "lanes": lanes}
    )
    return {"marked": marked, "processed": processed, "lane_days": lanes}


def rollups_rebuild_all() -> int:
    """Recompute every rollup row from the raw shipments in one streamed pass ordered by seller
    (one grouped join over all events, not a query per seller), replacing each seller's rows
    as its shipments end (first install, repair, benchmark). The watermark moves to the start
    of the rebuild, so changes made while it runs are swept by the next run. Returns the rows
    written."""
    started = timezone.now()
    with transaction.atomic():
        RollupWatermark.objects.update_or_create(name=WATERMARK, defaults={"value": started})
    written = 0
    tz = local_tz()
    stream = shipments_with_facts(Shipment.objects.all()).order_by("seller_id")
    current, facts, seen = None, [], set()

    def flush(seller_id: int, seller_facts: list[ShipmentFacts]) -> int:
        with transaction.atomic():
            ShipmentDayStat.objects.filter(seller_id=seller_id).delete()
            SummaryDayStat.objects.filter(seller_id=seller_id).delete()
            rows = rollup_rows_from_facts(seller_facts)
            ShipmentDayStat.objects.bulk_create(rows, batch_size=2000)
            SummaryDayStat.objects.bulk_create(
                summary_rows_from_facts(seller_facts), batch_size=2000
            )
            WeekStat.objects.filter(seller_id=seller_id).delete()
            WeekStat.objects.bulk_create(
                _seller_week_rows(ShipmentDayStat.objects.filter(seller_id=seller_id)),
                batch_size=2000,
            )
            RollupDirtyDay.objects.filter(seller_id=seller_id, marked_at__lte=started).delete()
        return len(rows)

    with transaction.atomic():  # a server-side cursor needs a transaction on PostgreSQL
        for row in stream.iterator(chunk_size=5000):
            if row["seller_id"] != current:
                if facts:
                    written += flush(current, facts)
                current, facts = row["seller_id"], []
                seen.add(current)
            facts.append(facts_from_values(row, tz))
        if facts:
            written += flush(current, facts)
        ShipmentDayStat.objects.exclude(seller_id__in=seen).delete()  # sellers with no parcel left
        SummaryDayStat.objects.filter(seller__isnull=False).exclude(seller_id__in=seen).delete()
        WeekStat.objects.filter(seller__isnull=False).exclude(seller_id__in=seen).delete()
    with transaction.atomic():
        _mark_lane_days(ShipmentDayStat.objects.values_list("day", flat=True).distinct())
    rollups_process_dirty_lanes()
    return written
