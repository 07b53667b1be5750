"""Daily rollups behind the seller dashboards (services: the only writer of ShipmentDayStat).

    schedule sellers.rollups_refresh (every 5 min) -> tasks.rollups_refresh -> rollups_refresh()
      1. rollups_mark_changed(): shipments whose updated_at passed the watermark (minus an
         overlap, for transactions that committed late) mark their (seller, day) dirty
      2. rollups_process_dirty(): claims dirty days with SKIP LOCKED, recomputes each day whole
         from the raw rows (rollup_day_recompute), deletes the mark unless re-marked meanwhile

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
from django.db.models import Min
from django.db.models.functions import TruncDate
from django.utils import timezone

from sellers.metrics import ShipmentFacts, Totals, local_tz, shipment_facts
from sellers.models import RollupDirtyDay, RollupWatermark, ShipmentDayStat
from tracking.models import Shipment

logger = logging.getLogger(__name__)

WATERMARK = "shipment_day_stats"
# Ingest transactions are short; one that commits this long after its updated_at is still seen.
SWEEP_OVERLAP = timedelta(minutes=10)
# Days recomputed per transaction: a day of a large seller is a few thousand shipments, so a
# batch stays well under a second of locks while a catch-up still moves quickly.
DIRTY_BATCH = 50


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    tz = local_tz()
    start = datetime.combine(day, time.min, tzinfo=tz)
    return start, datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)


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
    rows = rollup_rows_from_facts(facts)
    ShipmentDayStat.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


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
    logger.info("seller rollups refreshed", extra={"marked": marked, "processed": processed})
    return {"marked": marked, "processed": processed}


def rollups_rebuild_all() -> int:
    """Mark every day that has shipments dirty and recompute them (first install, repair)."""
    with transaction.atomic():
        RollupWatermark.objects.update_or_create(name=WATERMARK, defaults={"value": timezone.now()})
        days = (
            Shipment.objects.annotate(day=TruncDate("created_at", tzinfo=local_tz()))
            .values("seller_id", "day")
            .annotate(first=Min("id"))
            .values_list("seller_id", "day")
        )
        RollupDirtyDay.objects.bulk_create(
            [RollupDirtyDay(seller_id=s, day=d) for s, d in days],
            batch_size=1000, update_conflicts=True, unique_fields=["seller", "day"],
            update_fields=["marked_at"],
        )  # fmt: skip
    return rollups_process_dirty()
