"""The marketplace's delivery metrics, defined once: per-shipment facts and how they add up.

    shipment_facts(queryset)  -> one ShipmentFacts per raw shipment (what the rollup job stores)
    Totals.add(facts) / Totals.from_row(rollup sums)  -> the same counters, whichever the source
    Totals.delivery_rate, .median_transit_days, ...   -> the figures the dashboards show

Definitions (a shipment belongs to the day, Europe/Paris, its tracking number was confirmed):
- scanned: at least one courier scan (an event past ``info_received``: a label is not a scan).
- delivered: status ``delivered`` now (a return after delivery is not a delivery).
- transit time: business days from the confirmation day to the delivery day, skipping weekends
  and the public holidays of France and of the destination country (``core.business_days``).
- first-scan lag: from confirmation to the first courier scan.
- on time: delivered on or before the order's promised date; eligible are the parcels with a
  promised date that were delivered, returned, lost or expired (still moving: not judged yet).
- late shipment: confirmed after the order's expected ship date.
- late, protected: judged late (eligible, not on time) on an order the delivery performance
  protection covers (sellers.protection, stored in OrderProtection): the courier's lateness.
  The protected on-time rate leaves those parcels out (on time ÷ (eligible − late protected)).
- failed attempt / exception / return: at least one such event in the parcel's story.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Min, Q, QuerySet

from core.business_days import business_days_between
from tracking.status import RETURN_SUBSTATUSES, Status, Substatus

# Transit-time histogram buckets: 0..14 business days, and 15 for "15 or more".
HIST_BUCKETS = 16
NOT_A_SCAN = (Status.PENDING, Status.INFO_RECEIVED)
COUNTERS = (
    "shipments", "scanned", "delivered", "on_time_eligible", "on_time", "ship_date_known",
    "late_shipped", "late_protected", "failed_attempt", "exception", "returned",
    "first_scan_lag_seconds",
)  # fmt: skip
HIST_FIELDS = tuple(f"transit_{i:02d}" for i in range(HIST_BUCKETS))


def local_tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def region_of(country: str, postcode: str) -> str:
    """The French département of a domestic postcode ("75", "2A"/"2B" for Corsica, "971".."976"
    overseas); "" abroad or when the postcode is not a French one."""
    code = (postcode or "").strip().replace(" ", "")
    if (country or "").upper() != "FR" or len(code) != 5 or not code.isdigit():
        return ""
    if code.startswith("20"):
        return "2A" if int(code) < 20200 else "2B"
    if code.startswith(("97", "98")):
        return code[:3]
    return code[:2]


def lane_label(country: str, region: str) -> str:
    return f"{country}-{region}" if region else country


def lane_parse(value: str) -> tuple[str, str]:
    """ "FR-75" -> ("FR", "75"), "DE" -> ("DE", ""). Raises ValueError for anything else."""
    text = (value or "").strip().upper()
    country, _, region = text.partition("-")
    if len(country) != 2 or not country.isalpha():
        raise ValueError(f"{value!r} is not a destination such as FR-75 or DE.")
    if region and not (1 <= len(region) <= 3 and region.isalnum()):
        raise ValueError(f"{value!r} is not a destination such as FR-75 or DE.")
    return country, region


@dataclass(slots=True)
class ShipmentFacts:
    shipment_id: int
    seller_id: int
    day: date
    carrier: str
    origin_region: str
    destination_country: str
    destination_region: str
    service_level: str
    scanned: bool
    delivered: bool
    on_time_eligible: bool
    on_time: bool
    ship_date_known: bool
    late_shipped: bool
    failed_attempt: bool
    exception: bool
    returned: bool
    first_scan_lag_seconds: int
    transit_days: int | None
    late_protected: bool = False

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.carrier, self.destination_country, self.destination_region,
                self.service_level)  # fmt: skip


def shipments_with_facts(queryset: QuerySet) -> QuerySet:
    """The shipments with what their facts need, events folded in by one grouped join (no
    per-shipment subquery, no N+1)."""
    return queryset.values(
        "id", "seller_id", "carrier", "created_at", "status", "substatus", "delivered_at",
        "order__destination_country", "order__destination_postcode",
        "order__promised_delivery_date", "order__expected_ship_date", "order__service_level",
        "seller__origin_country", "seller__origin_postcode", "order__protection__protected",
    ).annotate(
        first_scan_at=Min("events__occurred_at", filter=~Q(events__status__in=NOT_A_SCAN)),
        had_failed_attempt=Count("events", filter=Q(events__status=Status.FAILED_ATTEMPT)),
        had_exception=Count("events", filter=Q(events__status=Status.EXCEPTION)),
        had_return=Count("events", filter=Q(events__substatus__in=RETURN_SUBSTATUSES)),
    ).order_by()  # fmt: skip


def facts_from_values(row: dict, tz: ZoneInfo | None = None) -> ShipmentFacts:
    tz = tz or local_tz()
    shipped_at: datetime = row["created_at"]
    day = shipped_at.astimezone(tz).date()
    country = (row["order__destination_country"] or "").upper()
    delivered = row["status"] == Status.DELIVERED and row["delivered_at"] is not None
    delivered_day = row["delivered_at"].astimezone(tz).date() if delivered else None
    returned = bool(row["had_return"]) or row["substatus"] in RETURN_SUBSTATUSES
    promised = row["order__promised_delivery_date"]
    judged = delivered or returned or row["status"] == Status.EXPIRED
    judged = judged or row["substatus"] == Substatus.EXCEPTION_LOST
    expected_ship = row["order__expected_ship_date"]
    first_scan_at = row["first_scan_at"]
    lag = 0
    if first_scan_at is not None:
        lag = max(0, int((first_scan_at - shipped_at).total_seconds()))
    on_time_eligible = promised is not None and judged
    on_time = promised is not None and delivered and delivered_day <= promised
    transit = None
    if delivered:
        # delivered before confirmation (a number uploaded late) counts as no transit time
        transit = business_days_between(day, delivered_day, country=country)
        transit = min(max(0, transit), HIST_BUCKETS - 1)
    return ShipmentFacts(
        shipment_id=row["id"],
        seller_id=row["seller_id"],
        day=day,
        carrier=row["carrier"],
        origin_region=region_of(row["seller__origin_country"], row["seller__origin_postcode"]),
        destination_country=country,
        destination_region=region_of(country, row["order__destination_postcode"]),
        service_level=row["order__service_level"],
        scanned=first_scan_at is not None,
        delivered=delivered,
        on_time_eligible=on_time_eligible,
        on_time=on_time,
        ship_date_known=expected_ship is not None,
        late_shipped=expected_ship is not None and day > expected_ship,
        failed_attempt=bool(row["had_failed_attempt"]),
        exception=bool(row["had_exception"]),
        returned=returned,
        first_scan_lag_seconds=lag,
        transit_days=transit,
        late_protected=(on_time_eligible and not on_time
                        and bool(row.get("order__protection__protected"))),
    )  # fmt: skip


def shipment_facts(queryset: QuerySet) -> list[ShipmentFacts]:
    tz = local_tz()
    return [facts_from_values(row, tz) for row in shipments_with_facts(queryset).iterator(2000)]


def wilson_lower_bound(successes: int, total: int, z: float = 1.96) -> float:
    """The 95% Wilson score lower bound of a rate: small samples are not ranked on luck."""
    if total == 0:
        return 0.0
    p = successes / total
    centre = p + z * z / (2 * total)
    spread = z * math.sqrt((p * (1 - p) + z * z / (4 * total)) / total)
    return (centre - spread) / (1 + z * z / total)


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


@dataclass
class Totals:
    """Counters of a set of shipments (from raw facts or summed rollup rows) and their figures."""

    shipments: int = 0
    scanned: int = 0
    delivered: int = 0
    on_time_eligible: int = 0
    on_time: int = 0
    ship_date_known: int = 0
    late_shipped: int = 0
    late_protected: int = 0
    failed_attempt: int = 0
    exception: int = 0
    returned: int = 0
    first_scan_lag_seconds: int = 0
    hist: list[int] = field(default_factory=lambda: [0] * HIST_BUCKETS)

    @classmethod
    def from_row(cls, row: dict) -> Totals:
        """From a dict of summed rollup columns (``COUNTERS`` + ``HIST_FIELDS``)."""
        totals = cls(**{name: int(row.get(name) or 0) for name in COUNTERS})
        totals.hist = [int(row.get(name) or 0) for name in HIST_FIELDS]
        return totals

    def add(self, facts: ShipmentFacts) -> None:
        # spelled out: this runs once per shipment when rollups are rebuilt
        self.shipments += 1
        self.scanned += facts.scanned
        self.delivered += facts.delivered
        self.on_time_eligible += facts.on_time_eligible
        self.on_time += facts.on_time
        self.ship_date_known += facts.ship_date_known
        self.late_shipped += facts.late_shipped
        self.late_protected += facts.late_protected
        self.failed_attempt += facts.failed_attempt
        self.exception += facts.exception
        self.returned += facts.returned
        self.first_scan_lag_seconds += facts.first_scan_lag_seconds
        if facts.transit_days is not None:
            self.hist[facts.transit_days] += 1

    def merge(self, other: Totals) -> None:
        for f in fields(self):
            if f.name == "hist":
                self.hist = [a + b for a, b in zip(self.hist, other.hist, strict=True)]
            else:
                setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def as_row(self) -> dict[str, int]:
        row = {name: getattr(self, name) for name in COUNTERS}
        row.update(zip(HIST_FIELDS, self.hist, strict=True))
        return row

    def percentile(self, fraction: float) -> int | None:
        """Nearest-rank percentile of the transit histogram (exact, whatever rows were merged)."""
        count = sum(self.hist)
        if not count:
            return None
        rank = max(1, math.ceil(fraction * count))
        running = 0
        for days, n in enumerate(self.hist):
            running += n
            if running >= rank:
                return days
        return HIST_BUCKETS - 1  # pragma: no cover - the loop always reaches the rank

    @property
    def transit_count(self) -> int:
        return sum(self.hist)

    @property
    def median_transit_days(self) -> int | None:
        return self.percentile(0.5)

    @property
    def p90_transit_days(self) -> int | None:
        return self.percentile(0.9)

    @property
    def delivery_rate(self) -> float | None:
        return _ratio(self.delivered, self.shipments)

    @property
    def valid_tracking_rate(self) -> float | None:
        return _ratio(self.scanned, self.shipments)

    @property
    def on_time_rate(self) -> float | None:
        return _ratio(self.on_time, self.on_time_eligible)

    @property
    def on_time_rate_protected(self) -> float | None:
        """The on-time rate the seller answers for: protected late parcels are the courier's
        lateness, left out of the judged parcels."""
        return _ratio(self.on_time, self.on_time_eligible - self.late_protected)

    @property
    def late_protected_rate(self) -> float | None:
        """Share of judged parcels late through no fault of the seller (the courier's)."""
        return _ratio(self.late_protected, self.on_time_eligible)

    @property
    def late_shipment_rate(self) -> float | None:
        return _ratio(self.late_shipped, self.ship_date_known)

    @property
    def failed_attempt_rate(self) -> float | None:
        return _ratio(self.failed_attempt, self.shipments)

    @property
    def exception_rate(self) -> float | None:
        return _ratio(self.exception, self.shipments)

    @property
    def return_rate(self) -> float | None:
        return _ratio(self.returned, self.shipments)

    @property
    def first_scan_lag_hours(self) -> float | None:
        if not self.scanned:
            return None
        return self.first_scan_lag_seconds / self.scanned / 3600

    def figures(self) -> dict[str, float | int | None]:
        """Every figure, for tests, the API and CSV."""
        return {
            "shipments": self.shipments,
            "delivery_rate": self.delivery_rate,
            "valid_tracking_rate": self.valid_tracking_rate,
            "on_time_rate": self.on_time_rate,
            "on_time_rate_protected": self.on_time_rate_protected,
            "late_protected": self.late_protected,
            "late_shipment_rate": self.late_shipment_rate,
            "failed_attempt_rate": self.failed_attempt_rate,
            "exception_rate": self.exception_rate,
            "return_rate": self.return_rate,
            "median_transit_days": self.median_transit_days,
            "p90_transit_days": self.p90_transit_days,
            "first_scan_lag_hours": self.first_scan_lag_hours,
        }
