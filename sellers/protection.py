"""Delivery performance protection (issue 21): a seller who shipped right is not blamed for the
courier. The rule, its evidence, and the service that stores it.

    tracking.status_changes_recorded (first scan, delivery...) -> sellers.receivers
      -> job on commit: sellers.tasks.protections_refresh(order_ids)
      -> order_protections_refresh(order_ids) -> OrderProtection rows (+ dirty rollup days)
    a confirmed number (sellers.uploads.shipment_confirm) -> the same job on commit
    schedule sellers.protections_sweep (every 5 min) -> order_protections_sweep(): the orders of
      every shipment changed since its watermark (a lost job, a courier corrected by CS)

An order is protected when every parcel sent to the buyer (at least one):
  1. confirmed_in_time: its tracking number was confirmed no later than
     ``confirm_within_hours`` (24) after the courier's first scan, or on/before the order's
     expected ship date (Europe/Paris day);
  2. scanned: the courier scanned it at least once (valid tracking: a label is not a scan);
  3. courier_matches: detection from the number agrees with the courier named, or it is a
     long-tail courier (``other``) with a tracking URL;
  4. handed_over: the courier's first scan is on/before the expected ship date.
Each condition is kept per parcel with its verdict (True, False, or None: cannot be judged
before a first scan) and a sentence naming its times, so a page can say why.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from sellers.metrics import NOT_A_SCAN, local_tz
from sellers.models import Order, OrderProtection, RollupDirtyDay, RollupWatermark
from tracking.detection import NO_ADAPTER_PREFIX, detect
from tracking.models import OTHER_CARRIER, Shipment, TrackingEvent

Reason = OrderProtection.Reason
# Orders judged per transaction: an order is a handful of rows, so 500 keeps a batch's locks
# short while a catch-up after downtime still moves quickly.
PROTECTION_BATCH = 500
WATERMARK = "order_protection"
# Ingest transactions are short; one committing this long after its updated_at is still seen.
SWEEP_OVERLAP = timedelta(minutes=10)
# Couriers whose numbers detection cannot judge: the sandbox carries any number, and an
# aggregator's numbers belong to the courier behind it.
ANY_NUMBER_CARRIERS = ("sandbox", "aftership")

# The condition each failure code comes from, in the order a page lists them.
CONDITIONS = {
    "confirmed_in_time": Reason.CONFIRMED_LATE,
    "scanned": Reason.NOT_SCANNED,
    "courier_matches": Reason.COURIER_MISMATCH,
    "handed_over": Reason.HANDED_OVER_LATE,
}

# What the seller can do about each reason: the marketplace's advice for a valid tracking rate.
ADVICE = {
    Reason.NO_PARCEL: "Confirm the parcel's tracking number as soon as the label is printed.",
    Reason.CONFIRMED_LATE: (
        "Confirm tracking sooner: upload the number when you print the label, at the latest "
        "within a day of handing the parcel over."
    ),
    Reason.NOT_SCANNED: (
        "Check the number and the courier: the courier has not scanned this parcel. Hand it "
        "over to the courier (a printed label is not a scan)."
    ),
    Reason.COURIER_MISMATCH: (
        "Check the courier: the number does not match the courier you named. Correct the "
        "courier, or give the tracking URL of a courier we do not list."
    ),
    Reason.HANDED_OVER_LATE: "Hand the parcel over to the courier by the order's ship date.",
}


def thresholds() -> dict:
    return settings.SELLER_PROTECTION


@dataclass(frozen=True)
class ParcelTimeline:
    """What the rule reads about one parcel (from the tracking record)."""

    shipment_id: int
    tracking_number: str
    carrier: str
    carrier_tracking_url: str
    confirmed_at: datetime
    first_scan_at: datetime | None = None
    first_scan_code: str = ""
    first_scan_message: str = ""


def _hours(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.0f}" if abs(hours - round(hours)) < 0.05 else f"{hours:.1f}"


def _courier_verdict(parcel: ParcelTimeline) -> tuple[bool, str]:
    if parcel.carrier == OTHER_CARRIER:
        if parcel.carrier_tracking_url:
            return True, "a courier we do not query, with its tracking URL"
        return False, "a courier we do not query, without a tracking URL to check the number"
    if parcel.carrier in ANY_NUMBER_CARRIERS:
        return True, f"{parcel.carrier} carries any number"
    candidates = detect(parcel.tracking_number).candidates
    slugs = [c.carrier for c in candidates if c.checksum_valid is not False]
    if parcel.carrier in slugs:
        return True, f"the number {parcel.tracking_number} is a {parcel.carrier} number"
    found = [s.removeprefix(NO_ADAPTER_PREFIX) for s in slugs[:3]]
    looks = f"it looks like {', '.join(found)}" if found else "no courier uses this format"
    return False, f"the number {parcel.tracking_number} is not a {parcel.carrier} number ({looks})"


def parcel_conditions(
    parcel: ParcelTimeline, *, expected_ship_date: date | None, confirm_within: timedelta
) -> list[dict]:
    """The four conditions of one parcel, each ``{"code", "ok", "detail"}``; pure."""
    tz = local_tz()
    confirmed_day = parcel.confirmed_at.astimezone(tz).date()
    first_scan = parcel.first_scan_at
    ship = expected_ship_date.isoformat() if expected_ship_date else None
    confirmed_text = f"{parcel.confirmed_at.astimezone(tz):%Y-%m-%d %H:%M}"
    by_ship_date = expected_ship_date is not None and confirmed_day <= expected_ship_date

    # 1. confirmed in time
    if first_scan is not None and parcel.confirmed_at - first_scan <= confirm_within:
        gap = parcel.confirmed_at - first_scan
        if gap <= timedelta(0):
            detail = (f"confirmed {confirmed_text}, {_hours(-gap)} hours before the courier's "
                      "first scan")  # fmt: skip
        else:
            detail = (f"confirmed {confirmed_text}, {_hours(gap)} hours after the courier's "
                      f"first scan (at most {_hours(confirm_within)})")  # fmt: skip
        confirmed = (True, detail)
    elif by_ship_date:
        confirmed = (True, f"confirmed {confirmed_text}, by the ship date {ship}")
    elif first_scan is not None:
        gap = parcel.confirmed_at - first_scan
        confirmed = (False, f"confirmed {confirmed_text}, {_hours(gap)} hours after the "
                            f"courier's first scan (at most {_hours(confirm_within)}) and after "
                            f"the ship date {ship or '(none set)'}")  # fmt: skip
    else:
        confirmed = (None, f"confirmed {confirmed_text}, after the ship date {ship or '(none)'};"
                           " no courier scan yet to compare with")  # fmt: skip

    # 2. scanned (valid tracking)
    if first_scan is not None:
        scan_text = f"{first_scan.astimezone(tz):%Y-%m-%d %H:%M}"
        lag = first_scan - parcel.confirmed_at
        when = (f"{_hours(lag)} hours after confirmation" if lag >= timedelta(0)
                else f"{_hours(-lag)} hours before confirmation")  # fmt: skip
        what = " ".join(x for x in (parcel.first_scan_code, parcel.first_scan_message) if x)
        scanned = (True, f"first courier scan {scan_text} ({when}){': ' + what if what else ''}")
    else:
        scanned = (False, "no courier scan (a label is not a scan)")

    # 3. the courier matches the number
    courier = _courier_verdict(parcel)

    # 4. handed over by the ship date
    if expected_ship_date is None:
        handed = (False, "the order has no expected ship date: the handover cannot be shown "
                         "on time")  # fmt: skip
    elif first_scan is None:
        handed = (None, f"no courier scan yet (ship date {ship})")
    else:
        scan_day = first_scan.astimezone(tz).date()
        days = (scan_day - expected_ship_date).days
        if days <= 0:
            handed = (True, f"first scan on {scan_day}, by the ship date {ship}")
        else:
            handed = (False, f"first scan on {scan_day}, {days} day(s) after the ship date "
                             f"{ship}")  # fmt: skip

    verdicts = dict(zip(CONDITIONS, (confirmed, scanned, courier, handed), strict=True))
    return [{"code": code, "ok": ok, "detail": detail} for code, (ok, detail) in verdicts.items()]


@dataclass(frozen=True)
class Judgement:
    protected: bool
    reasons: list[str]
    evidence: list[dict]


def order_protection_judge(
    parcels: Sequence[ParcelTimeline],
    *,
    expected_ship_date: date | None,
    confirm_within: timedelta | None = None,
) -> Judgement:
    """The protection of an order with these parcels; pure (the parcels' order does not
    matter). Protected only when every condition of every parcel (at least one) holds."""
    if confirm_within is None:
        confirm_within = timedelta(hours=thresholds()["confirm_within_hours"])
    if not parcels:
        return Judgement(False, [Reason.NO_PARCEL.value], [])
    evidence, failed, tz = [], set(), local_tz()
    for parcel in sorted(parcels, key=lambda p: p.shipment_id):
        conditions = parcel_conditions(
            parcel, expected_ship_date=expected_ship_date, confirm_within=confirm_within
        )
        failed.update(CONDITIONS[c["code"]].value for c in conditions if c["ok"] is False)
        protected = all(c["ok"] is True for c in conditions)
        evidence.append({
            "shipment_id": parcel.shipment_id,
            "tracking_number": parcel.tracking_number,
            "carrier": parcel.carrier,
            # the marketplace's local time: the evidence is read by people
            "confirmed_at": parcel.confirmed_at.astimezone(tz).isoformat(),
            "first_scan_at": (parcel.first_scan_at.astimezone(tz).isoformat()
                              if parcel.first_scan_at else None),
            "expected_ship_date": expected_ship_date.isoformat() if expected_ship_date else None,
            "protected": protected,
            "conditions": conditions,
        })  # fmt: skip
    reasons = [r.value for r in CONDITIONS.values() if r.value in failed]
    protected = all(p["protected"] for p in evidence)
    return Judgement(protected, reasons, evidence)


def parcel_timelines(order_ids: Iterable[int]) -> dict[int, list[ParcelTimeline]]:
    """The parcels sent to the buyer of these orders (live, outbound), with their first courier
    scan: two queries."""
    first_scan = (
        TrackingEvent.objects.filter(shipment=OuterRef("pk"))
        .exclude(status__in=NOT_A_SCAN)
        .order_by("occurred_at", "id")
        .values("id")[:1]
    )
    rows = list(
        Shipment.objects.live()
        .filter(order_id__in=list(order_ids), direction=Shipment.Direction.OUTBOUND)
        .annotate(first_scan_id=Subquery(first_scan))
        .values("id", "order_id", "tracking_number", "carrier", "carrier_tracking_url",
                "created_at", "first_scan_id")
        .order_by("id")
    )  # fmt: skip
    scan_ids = [r["first_scan_id"] for r in rows if r["first_scan_id"]]
    scans = {
        e["id"]: e
        for e in TrackingEvent.objects.filter(id__in=scan_ids).values(
            "id", "occurred_at", "carrier_code", "message"
        )
    }
    timelines: dict[int, list[ParcelTimeline]] = defaultdict(list)
    for row in rows:
        scan = scans.get(row["first_scan_id"]) or {}
        timelines[row["order_id"]].append(
            ParcelTimeline(
                shipment_id=row["id"],
                tracking_number=row["tracking_number"],
                carrier=row["carrier"],
                carrier_tracking_url=row["carrier_tracking_url"],
                confirmed_at=row["created_at"],
                first_scan_at=scan.get("occurred_at"),
                first_scan_code=scan.get("carrier_code", ""),
                first_scan_message=scan.get("message", ""),
            )
        )
    return timelines


def _refresh_batch(order_ids: list[int], now: datetime) -> int:
    orders = list(Order.objects.filter(id__in=order_ids).values("id", "seller_id",
                                                                 "expected_ship_date"))  # fmt: skip
    timelines = parcel_timelines(order_ids)
    before = dict(
        OrderProtection.objects.filter(order_id__in=order_ids).values_list("order_id", "protected")
    )
    rows, flipped = [], []
    for order in orders:
        judged = order_protection_judge(
            timelines.get(order["id"], []), expected_ship_date=order["expected_ship_date"]
        )
        rows.append(
            OrderProtection(order_id=order["id"], seller_id=order["seller_id"],
                            protected=judged.protected, reasons=judged.reasons,
                            evidence=judged.evidence, computed_at=now)
        )  # fmt: skip
        if before.get(order["id"], False) != judged.protected:
            flipped.append(order["id"])
    OrderProtection.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["order"],
        update_fields=["protected", "reasons", "evidence", "computed_at"],
    )  # fmt: skip
    if flipped:
        _mark_rollup_days(flipped, now)
    return len(rows)


def _mark_rollup_days(order_ids: list[int], now: datetime) -> None:
    """The on-time counters of these orders' days changed: the rollup job recomputes them (it
    reads the stored protection, so a day recomputed twice gives the same rows)."""
    tz = local_tz()
    days = {
        (seller_id, created_at.astimezone(tz).date())
        for seller_id, created_at in Shipment.objects.filter(order_id__in=order_ids).values_list(
            "seller_id", "created_at"
        )
    }
    RollupDirtyDay.objects.bulk_create(
        [RollupDirtyDay(seller_id=s, day=d, marked_at=now) for s, d in sorted(days)],
        update_conflicts=True, unique_fields=["seller", "day"], update_fields=["marked_at"],
    )  # fmt: skip


def order_protections_refresh(*, order_ids: Sequence[int], now: datetime | None = None) -> int:
    """Judge these orders from their committed parcels and store each judgement with its
    evidence (one row per order, upserted). Idempotent: run twice, or by the job and the sweep
    at once, it writes the same rows. Marks the rollup days of orders whose protection flipped.
    Returns the number of orders judged."""
    now = now or timezone.now()
    ids = sorted(set(order_ids))
    done = 0
    for start in range(0, len(ids), PROTECTION_BATCH):
        with transaction.atomic():
            done += _refresh_batch(ids[start : start + PROTECTION_BATCH], now)
    return done


def order_protections_sweep(*, now: datetime | None = None) -> int:
    """The schedule behind the job: judge the orders of every shipment changed since the
    watermark (minus an overlap), then move it. Returns the orders judged, or -1 when another
    sweep holds the watermark (claimed with SKIP LOCKED: safe to run twice at once)."""
    now = now or timezone.now()
    skip = {"skip_locked": True} if connection.features.has_select_for_update_skip_locked else {}
    with transaction.atomic():
        RollupWatermark.objects.get_or_create(
            name=WATERMARK, defaults={"value": datetime(2000, 1, 1, tzinfo=local_tz())}
        )
        mark = RollupWatermark.objects.select_for_update(**skip).filter(name=WATERMARK).first()
        if mark is None:
            return -1
        order_ids = list(
            Shipment.objects.filter(updated_at__gt=mark.value - SWEEP_OVERLAP, updated_at__lte=now)
            .values_list("order_id", flat=True)
            .distinct()
            .order_by()
        )
        done = order_protections_refresh(order_ids=order_ids, now=now)
        mark.value = now
        mark.save(update_fields=["value"])
    return done


def order_is_protected(order_id: int) -> bool:
    """The stored judgement of an order (False until it has been judged); for payouts."""
    return OrderProtection.objects.filter(order_id=order_id, protected=True).exists()
