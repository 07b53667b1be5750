"""Estimated delivery dates: the courier's own when it gives one, otherwise a prediction from
the lane's history, revised as events arrive; every change appended (the EDD history).

    TransitModel.build(delivered parcels): business days from first scan (after the cut-off
      time: the next business day) to delivery, per courier x destination country x
      department, falling back to courier x country, courier, everybody
    estimate_for(shipment, model, today): the window [p10, p90] and median of its lane,
      counted from the first scan (or the upload + 1 business day), moved on by what has
      happened since (out for delivery: today; failed attempt: next business day; already
      late: from today)
    Business days are France's (core.business_days with country=FRANCE), as the lanes' history
    was counted.
    tracking.refresh_estimates (schedule) -> estimates_refresh: active parcels whose story
      changed since their last estimate get a new one
    edd_accuracy(): back-test on delivered parcels (older ones train, newer ones test):
      share delivered within the window, mean absolute error in days
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import F, Max, Min, OuterRef, Q, Subquery
from django.utils import timezone

from core.business_days import (
    FRANCE,
    add_business_days,
    business_days_between,
    next_business_day,
    on_or_after,
)
from tracking.models import OTHER_CARRIER, DeliveryEstimate, Shipment, TrackingEvent
from tracking.status import Status

# A parcel handed over after this local hour leaves the next business day.
CUTOFF_HOUR = 17
# Fewer delivered parcels than this in a lane: use the wider lane above it.
MIN_SAMPLES = 10
# History the model learns from: recent enough to reflect today's network.
HISTORY_DAYS = 180
HISTORY_MAX_ROWS = 200_000
# Without any history (a new marketplace): 2 business days, 1 to 4.
DEFAULT_TRANSIT = (1, 2, 4)
DEFAULT_CONFIDENCE = 0.3
COURIER_CONFIDENCE = 0.8
# Parcels re-estimated per run: bounded work per schedule tick.
REFRESH_BATCH = 5000
_DONE = [Status.DELIVERED, Status.EXPIRED]


def handover_date(moment: datetime) -> date:
    """The business day a parcel starts its transit: after the cut-off, the next one."""
    local = timezone.localtime(moment)
    day = local.date()
    if local.hour >= CUTOFF_HOUR:
        return next_business_day(day, country=FRANCE)
    return on_or_after(day, country=FRANCE)


def lane_keys(carrier: str, country: str, postcode: str) -> list[tuple]:
    """From the narrowest lane to the widest."""
    country = (country or "").upper()
    department = postcode[:2] if country == "FR" and postcode[:2].isdigit() else ""
    return [(carrier, country, department), (carrier, country), (carrier,), ()]


def _percentile(values: list[int], share: float) -> int:
    """Nearest-rank percentile of sorted values."""
    rank = max(1, math.ceil(share * len(values)))
    return values[rank - 1]


@dataclass(frozen=True)
class LaneStats:
    low: int
    expected: int
    high: int
    samples: int
    confidence: float
    basis: str


@dataclass
class TransitModel:
    transit_days: dict[tuple, list[int]] = field(default_factory=lambda: defaultdict(list))

    @classmethod
    def build(cls, rows: Iterable[tuple[str, str, str, datetime, datetime]]) -> TransitModel:
        """rows: (carrier, destination country, postcode, first scan, delivered at)."""
        model = cls()
        for carrier, country, postcode, first_scan, delivered_at in rows:
            start, delivered_day = handover_date(first_scan), timezone.localdate(delivered_at)
            if on_or_after(delivered_day, country=FRANCE) < start:
                continue  # delivered before it was handed over: a courier's clock error
            # a Saturday delivery of a parcel handed over on Monday (scanned on Friday after
            # the cut-off) took no business day
            days = business_days_between(start, max(start, delivered_day), country=FRANCE)
            for key in lane_keys(carrier, country, postcode):
                model.transit_days[key].append(days)
        for values in model.transit_days.values():
            values.sort()
        return model

    def stats(self, carrier: str, country: str, postcode: str) -> LaneStats:
        for key in lane_keys(carrier, country, postcode):
            values = self.transit_days.get(key, [])
            if len(values) >= MIN_SAMPLES:
                low, high = _percentile(values, 0.1), _percentile(values, 0.9)
                within = sum(1 for v in values if low <= v <= high) / len(values)
                # Shrunk towards uncertainty when the lane has few parcels.
                confidence = round(within * len(values) / (len(values) + MIN_SAMPLES), 2)
                basis = "/".join(k or "*" for k in key) or "all couriers"
                return LaneStats(
                    low, _percentile(values, 0.5), high, len(values), confidence,
                    f"{basis}: {len(values)} delivered parcels",
                )  # fmt: skip
        low, expected, high = DEFAULT_TRANSIT
        return LaneStats(low, expected, high, 0, DEFAULT_CONFIDENCE, "no history: default")


def history_rows(*, since: datetime | None = None, until: datetime | None = None):
    """Delivered parcels with their first scan: (carrier, country, postcode, first scan,
    delivered at), newest deliveries first, at most HISTORY_MAX_ROWS."""
    # Outbound parcels only: a return travels the lane backwards (buyer to seller), so its
    # transit time says nothing of the courier's lane towards the buyer.
    qs = Shipment.objects.filter(
        status=Status.DELIVERED, delivered_at__isnull=False, direction=Shipment.Direction.OUTBOUND
    ).exclude(carrier=OTHER_CARRIER)
    if since is not None:
        qs = qs.filter(delivered_at__gte=since)
    if until is not None:
        qs = qs.filter(delivered_at__lt=until)
    first_scan = (
        TrackingEvent.objects.filter(shipment_id=OuterRef("pk"))
        .order_by("occurred_at")
        .values("occurred_at")[:1]
    )
    return [
        row
        for row in qs.annotate(first_scan=Subquery(first_scan))
        .order_by("-delivered_at")
        .values_list(
            "carrier",
            "order__destination_country",
            "order__destination_postcode",
            "first_scan",
            "delivered_at",
        )[:HISTORY_MAX_ROWS]  # fmt: skip
        if row[3] is not None
    ]


def model_load(*, now: datetime | None = None) -> TransitModel:
    now = now or timezone.now()
    return TransitModel.build(history_rows(since=now - timedelta(days=HISTORY_DAYS)))


@dataclass(frozen=True)
class Estimate:
    source: str
    expected_date: date
    window_start_date: date
    window_end_date: date
    confidence: float
    basis: str

    def same_as(self, row: DeliveryEstimate | None) -> bool:
        return row is not None and (
            row.source,
            row.expected_date,
            row.window_start_date,
            row.window_end_date,
        ) == (self.source, self.expected_date, self.window_start_date, self.window_end_date)


def estimate_for(
    *,
    shipment: Shipment,
    model: TransitModel,
    today: date,
    first_scan_at: datetime | None,
    last_event_at: datetime | None = None,
) -> Estimate | None:
    """The parcel's estimate now; None once delivered or expired."""
    if shipment.status in _DONE:
        return None
    if shipment.estimated_delivery_at is not None:
        start = timezone.localdate(shipment.estimated_delivery_at)
        end = (
            timezone.localdate(shipment.estimated_delivery_end_at)
            if shipment.estimated_delivery_end_at
            else start
        )
        return Estimate(
            DeliveryEstimate.Source.CARRIER, start, start, max(start, end), COURIER_CONFIDENCE,
            "the courier's estimate",
        )  # fmt: skip
    order = shipment.order
    lane = model.stats(shipment.carrier, order.destination_country, order.destination_postcode)
    if shipment.status in (Status.OUT_FOR_DELIVERY, Status.AVAILABLE_FOR_PICKUP):
        day = (
            on_or_after(today, country=FRANCE)
            if shipment.status == Status.OUT_FOR_DELIVERY
            else today
        )
        return Estimate(DeliveryEstimate.Source.PREDICTED, day, day, day, 0.9,
                        f"{shipment.status} today")  # fmt: skip
    if first_scan_at is not None:
        start = handover_date(first_scan_at)
    else:  # not handed over yet: the seller usually drops it off the next business day
        start = next_business_day(handover_date(shipment.created_at), country=FRANCE)
    expected = add_business_days(start, lane.expected, country=FRANCE)
    low, high = (
        add_business_days(start, lane.low, country=FRANCE),
        add_business_days(start, lane.high, country=FRANCE),
    )
    confidence, basis = lane.confidence, lane.basis
    if shipment.status == Status.FAILED_ATTEMPT and last_event_at is not None:
        retry = next_business_day(timezone.localdate(last_event_at), country=FRANCE)
        expected, low, high = max(expected, retry), max(low, retry), max(high, retry)
        basis += "; failed attempt: next round"
    if expected < today:  # already late: from today on, with the lane's spread
        spread = max(1, lane.high - lane.expected)
        expected = on_or_after(today, country=FRANCE)
        low, high = expected, add_business_days(expected, spread, country=FRANCE)
        confidence = round(confidence / 2, 2)
        basis += "; late: re-estimated from today"
    low, high = min(low, expected), max(high, expected)
    return Estimate(DeliveryEstimate.Source.PREDICTED, expected, low, high, confidence, basis)


@transaction.atomic
def estimates_refresh(
    *,
    shipment_ids: list[int] | None = None,
    now: datetime | None = None,
    model: TransitModel | None = None,
) -> int:
    """Re-estimate the active parcels whose story changed since their last estimate (or the
    given ones) and append a DeliveryEstimate where it differs from the last one. Idempotent:
    a second run with nothing new adds nothing. Returns the number of rows appended."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    latest = DeliveryEstimate.objects.filter(shipment_id=OuterRef("pk")).order_by(
        "-computed_at", "-id"
    )
    # A return parcel has no lane history to predict from (see history_rows): the courier's own
    # estimate is all there is for it.
    qs = (
        Shipment.objects.exclude(status__in=_DONE)
        .filter(direction=Shipment.Direction.OUTBOUND)
        .select_related("order")
    )
    if shipment_ids is not None:
        qs = qs.filter(pk__in=shipment_ids)
    else:
        qs = qs.annotate(last_estimated_at=Subquery(latest.values("computed_at")[:1])).filter(
            Q(last_estimated_at__isnull=True) | Q(updated_at__gt=F("last_estimated_at"))
        )
    shipments = list(qs.order_by("id")[:REFRESH_BATCH])
    if not shipments:
        return 0
    model = model or model_load(now=now)
    scans = {
        row["shipment_id"]: (row["first"], row["last"])
        for row in TrackingEvent.objects.filter(shipment_id__in=[s.id for s in shipments])
        .values("shipment_id")
        .annotate(first=Min("occurred_at"), last=Max("occurred_at"))
    }
    previous = {}
    for row in DeliveryEstimate.objects.filter(shipment_id__in=[s.id for s in shipments]).order_by(
        "shipment_id", "computed_at", "id"
    ):
        previous[row.shipment_id] = row  # the last one wins
    rows, unchanged = [], []
    for shipment in shipments:
        first, last = scans.get(shipment.id, (None, None))
        estimate = estimate_for(
            shipment=shipment, model=model, today=today, first_scan_at=first, last_event_at=last
        )
        if estimate is None:
            continue
        if estimate.same_as(previous.get(shipment.id)):
            unchanged.append(previous[shipment.id].pk)
            continue
        rows.append(
            DeliveryEstimate(
                shipment=shipment, source=estimate.source, expected_date=estimate.expected_date,
                window_start_date=estimate.window_start_date,
                window_end_date=estimate.window_end_date, confidence=estimate.confidence,
                basis=estimate.basis[:200], computed_at=now,
            )
        )  # fmt: skip
    # Nothing new to say: touch the last row so these parcels are not re-read every run.
    DeliveryEstimate.objects.filter(pk__in=unchanged).update(computed_at=now)
    DeliveryEstimate.objects.bulk_create(rows)
    return len(rows)


@dataclass(frozen=True)
class Accuracy:
    trained_on: int
    tested_on: int
    within_window: float | None
    mae_days: float | None
    by_carrier: dict[str, dict[str, float | int]]

    def as_dict(self) -> dict[str, object]:
        return {
            "trained_on": self.trained_on,
            "tested_on": self.tested_on,
            "within_window": self.within_window,
            "mae_days": self.mae_days,
            "by_carrier": self.by_carrier,
        }


def edd_accuracy(*, train_share: float = 0.7, now: datetime | None = None) -> Accuracy:
    """Back-test the prediction on delivered parcels: the oldest ``train_share`` of deliveries
    build the model, each newer parcel is predicted as at its first scan (no later revision)
    and compared with its delivery: within the window or not, and the error in calendar days
    between the expected and the real delivery date."""
    now = now or timezone.now()
    rows = sorted(history_rows(since=now - timedelta(days=HISTORY_DAYS * 2)), key=lambda r: r[4])
    cut = int(len(rows) * train_share)
    train, test = rows[:cut], rows[cut:]
    model = TransitModel.build(train)
    within, errors = 0, []
    per_carrier: dict[str, list[tuple[bool, int]]] = defaultdict(list)
    for carrier, country, postcode, first_scan, delivered_at in test:
        lane = model.stats(carrier, country, postcode)
        start = handover_date(first_scan)
        expected = add_business_days(start, lane.expected, country=FRANCE)
        low, high = (
            add_business_days(start, lane.low, country=FRANCE),
            add_business_days(start, lane.high, country=FRANCE),
        )
        actual = timezone.localdate(delivered_at)
        hit = low <= actual <= high
        error = abs((actual - expected).days)
        within += hit
        errors.append(error)
        per_carrier[carrier].append((hit, error))
    by_carrier = {
        carrier: {
            "tested_on": len(values),
            "within_window": round(sum(h for h, _ in values) / len(values), 3),
            "mae_days": round(sum(e for _, e in values) / len(values), 2),
        }
        for carrier, values in sorted(per_carrier.items())
    }
    return Accuracy(
        trained_on=len(train),
        tested_on=len(test),
        within_window=round(within / len(test), 3) if test else None,
        mae_days=round(sum(errors) / len(errors), 2) if errors else None,
        by_carrier=by_carrier,
    )
