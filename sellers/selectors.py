from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import TruncDate, TruncWeek
from django.utils import timezone

from core.access import Scope
from core.errors import ApplicationError, NotFound, PermissionDenied
from sellers.metrics import (
    COUNTERS,
    HIST_FIELDS,
    NOT_A_SCAN,
    Totals,
    lane_label,
    local_tz,
    region_of,
    wilson_lower_bound,
)
from sellers.models import (
    SLA_COUNTERS,
    LaneDayStat,
    Order,
    OrderProtection,
    Seller,
    SellerBranding,
    ShipmentDayStat,
    SummaryDayStat,
    TrackingUpload,
    WeekStat,
)
from tracking.models import Shipment, TrackingEvent
from tracking.status import RETURN_SUBSTATUSES, Status, Substatus


def order_list(*, scope: Scope, reference: str | None = None) -> QuerySet[Order]:
    qs = Order.objects.select_related("seller", "protection").order_by("-created_at", "-id")
    if scope.seller_id is not None:
        qs = qs.filter(seller_id=scope.seller_id)
    if reference:
        qs = qs.filter(reference=reference)
    return qs


def order_get(*, scope: Scope, order_id: int) -> Order:
    """The order if the scope may see it; NotFound otherwise (no hint that it exists)."""
    try:
        return order_list(scope=scope).get(pk=order_id)
    except Order.DoesNotExist:
        raise NotFound(f"No order {order_id}.") from None


def seller_branding_get(*, scope: Scope, seller_id: int) -> SellerBranding | None:
    """The seller's tracking-page branding, or None before the first save. Raises NotFound
    when the scope may not see that seller."""
    seller_id = _scoped_seller(scope, seller_id)
    if seller_id is None:
        raise NotFound("No such seller.")
    return SellerBranding.objects.filter(seller_id=seller_id).first()


def seller_get(*, scope: Scope, seller_id: int) -> Seller:
    if scope.seller_id not in (None, seller_id):
        raise NotFound(f"No seller {seller_id}.")
    try:
        return Seller.objects.get(pk=seller_id)
    except Seller.DoesNotExist:
        raise NotFound(f"No seller {seller_id}.") from None


# --- Dashboards: read from the daily rollups ----------------------------------------------


@dataclass(frozen=True)
class Period:
    """Days (Europe/Paris) of confirmation, both ends included."""

    start: date
    end: date

    @classmethod
    def last_days(cls, days: int, today: date | None = None) -> Period:
        today = today or timezone.localdate()
        return cls(start=today - timedelta(days=days - 1), end=today)

    @classmethod
    def parse(cls, start: str | None, end: str | None, default_days: int = 90) -> Period:
        """From ?from=&to= (ISO dates); ApplicationError for a bad or reversed pair."""
        default = cls.last_days(default_days)
        try:
            first = date.fromisoformat(start) if start else default.start
            last = date.fromisoformat(end) if end else default.end
        except ValueError:
            raise ApplicationError("Dates are written YYYY-MM-DD.", field="from") from None
        if first > last:
            raise ApplicationError("The period ends before it starts.", field="from")
        if (last - first).days > 3 * 366:
            raise ApplicationError("A period covers at most three years.", field="from")
        return cls(start=first, end=last)


@dataclass
class LaneFigures:
    carrier: str
    destination_country: str
    destination_region: str
    seller: Totals
    marketplace: Totals | None = None

    @property
    def destination(self) -> str:
        return lane_label(self.destination_country, self.destination_region)


_SUMS = {name: Sum(name) for name in (*COUNTERS, *HIST_FIELDS)}
# What the SLA figures need: no histogram, so marketplace-wide sums stay light.
_SLA_SUMS = {name: Sum(name) for name in SLA_COUNTERS}


def _scoped_seller(scope: Scope, seller_id: int | None) -> int | None:
    """The seller a read may cover: a seller scope only ever reads its own rows, whatever
    ``seller_id`` it asks for (another seller's id reads nothing: NotFound)."""
    if scope.seller_id is not None:
        if seller_id not in (None, scope.seller_id):
            raise NotFound(f"No seller {seller_id}.")
        return scope.seller_id
    return seller_id


def _stats(*, scope: Scope, seller_id: int | None, period: Period) -> QuerySet[ShipmentDayStat]:
    """Rollup rows of a period, scoped (see ``_scoped_seller``)."""
    seller_id = _scoped_seller(scope, seller_id)
    qs = ShipmentDayStat.objects.filter(day__gte=period.start, day__lte=period.end)
    return qs if seller_id is None else qs.filter(seller_id=seller_id)


def _summary(
    *, scope: Scope, seller_id: int | None, period: Period, grain: str
) -> QuerySet[SummaryDayStat]:
    """Coarser rollup rows (see SummaryDayStat), scoped exactly like ``_stats``."""
    seller_id = _scoped_seller(scope, seller_id)
    qs = SummaryDayStat.objects.filter(grain=grain, day__gte=period.start, day__lte=period.end)
    return qs if seller_id is None else qs.filter(seller_id=seller_id)


def _full_weeks(period: Period) -> tuple[date, date] | None:
    """The first Monday and the last Sunday of the weeks wholly inside the period (None when
    there is none): those weeks are read from WeekStat, the days around them from daily rows."""
    first = period.start + timedelta(days=-period.start.weekday() % 7)
    last = period.end - timedelta(days=(period.end.weekday() + 1) % 7)
    return (first, last) if first + timedelta(days=6) <= last else None


def _by_weeks(
    period: Period, daily: QuerySet, weekly: QuerySet, *, edges_apart: bool = False
) -> list[QuerySet]:
    """Split a period's read into parts whose rows add up to the period: ``weekly`` (WeekStat
    rows of the right grain) for the full weeks, and ``daily`` (rows with ``day``, not yet
    narrowed to a period) for the days outside them, as one part (two day ranges OR-ed: a
    bitmap scan of both) or, with ``edges_apart``, one part per range (so a covering index is
    read index-only; measured slower where no index covers, the extra branch of the UNION
    tipping the planner into a parallel plan)."""
    weeks = _full_weeks(period)
    if weeks is None:
        return [daily.filter(day__gte=period.start, day__lte=period.end)]
    first, last = weeks
    parts = [weekly.filter(week__gte=first, week__lte=last - timedelta(days=6))]
    head = Q(day__gte=period.start, day__lt=first) if period.start < first else None
    tail = Q(day__gt=last, day__lte=period.end) if last < period.end else None
    ranges = [q for q in (head, tail) if q is not None]
    if edges_apart:
        parts += [daily.filter(q) for q in ranges]
    elif ranges:
        parts.append(daily.filter(ranges[0] | ranges[1] if len(ranges) == 2 else ranges[0]))
    return parts


def _week_stats(*, seller_id: int | None, grain: str) -> QuerySet[WeekStat]:
    qs = WeekStat.objects.filter(grain=grain)
    return qs if seller_id is None else qs.filter(seller_id=seller_id)


def _marketplace_stats(period: Period) -> QuerySet[ShipmentDayStat]:
    """Every seller's rows: only for marketplace-wide figures (never listed)."""
    return ShipmentDayStat.objects.filter(day__gte=period.start, day__lte=period.end)


def _lane_stats(period: Period) -> QuerySet[LaneDayStat]:
    """The marketplace per courier x destination x day (all sellers summed by the job)."""
    return LaneDayStat.objects.filter(day__gte=period.start, day__lte=period.end)


def _grouped(qs: QuerySet, *keys: str, sums: dict | None = None) -> dict[tuple, Totals]:
    return {
        tuple(row[k] for k in keys): Totals.from_row(row)
        for row in qs.values(*keys).annotate(**(sums or _SUMS)).order_by(*keys)
    }


def _grouped_parts(parts: list[QuerySet], *keys: str, sums: dict | None = None) -> dict:
    """``_grouped`` over the parts of a period (``_by_weeks``: full weeks and edge days), summed
    together in SQL (one query: UNION ALL of the parts' rows, grouped once), so Python only sees
    one row per group. Counters and histograms add up exactly: the result equals the daily
    rows' sums."""
    if len(parts) == 1:
        return _grouped(parts[0], *keys, sums=sums)
    names = list(sums or _SUMS)
    quote = connection.ops.quote_name
    compiled = [qs.values_list(*keys, *names).order_by().query.sql_with_params()
                for qs in parts]  # fmt: skip
    key_sql = ", ".join(quote(k) for k in keys)
    sums_sql = ", ".join(f"SUM({quote(n)})" for n in names)
    # only the ORM's own compiled SQL (values bound as params) and quoted field names of ours
    union = " UNION ALL ".join(
        f"SELECT * FROM ({sql}) AS part{i}"  # noqa: S608 - compiled ORM SQL
        for i, (sql, _) in enumerate(compiled)
    )
    sql = (
        f"SELECT {key_sql}, {sums_sql} FROM ({union}) AS parts "  # noqa: S608 - field names
        f"GROUP BY {key_sql} ORDER BY {key_sql}"
    )
    params = [param for _, params in compiled for param in params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    width = len(keys)
    return {row[:width]: Totals.from_row(dict(zip(names, row[width:], strict=True)))
            for row in rows}  # fmt: skip


def courier_performance(
    *,
    scope: Scope,
    seller_id: int | None,
    period: Period,
    destination: tuple[str, str] | None = None,
    by_destination: bool = False,
) -> list[LaneFigures]:
    """The seller's figures per courier (and per destination when ``by_destination``), each
    beside the marketplace-wide figure for the same courier on the same lane. ``destination``
    (country, département or "") narrows to one lane. Two grouped queries, four per destination
    (full weeks from WeekStat, the days at the period's edges from the daily rows)."""
    if destination is None and not by_destination:
        # all destinations: the seller x courier x day sums, far fewer rows
        grain = SummaryDayStat.Grain
        mine = _summary(scope=scope, seller_id=seller_id, period=period,
                        grain=grain.SELLER_CARRIER)  # fmt: skip
        market = SummaryDayStat.objects.filter(
            grain=grain.CARRIER, day__gte=period.start, day__lte=period.end
        )
        mine, market = [mine], [market]
    else:
        # per destination: the weeks wholly inside the period from WeekStat, the rest by day
        seller_id = _scoped_seller(scope, seller_id)
        grain = WeekStat.Grain
        days = ShipmentDayStat.objects.all()
        if seller_id is not None:
            days = days.filter(seller_id=seller_id)
        mine = _by_weeks(period, days, _week_stats(seller_id=seller_id, grain=grain.SELLER_LANE))
        market = _by_weeks(period, LaneDayStat.objects.all(),
                           _week_stats(seller_id=None, grain=grain.LANE))  # fmt: skip
    if destination is not None:
        country, region = destination
        lane = {"destination_country": country}
        if region:
            lane["destination_region"] = region
        mine, market = _narrowed(mine, **lane), _narrowed(market, **lane)
    keys = ["carrier"]
    if by_destination:
        keys += ["destination_country", "destination_region"]
    seller_groups = _grouped_parts(mine, *keys)
    if not seller_groups:
        return []
    carriers = sorted({key[0] for key in seller_groups})
    market = _narrowed(market, carrier__in=carriers)
    if by_destination:
        countries = sorted({key[1] for key in seller_groups})
        market = _narrowed(market, destination_country__in=countries)
    market_groups = _grouped_parts(market, *keys)
    rows = []
    for key, totals in seller_groups.items():
        country = key[1] if by_destination else (destination or ("", ""))[0]
        region = key[2] if by_destination else (destination or ("", ""))[1]
        rows.append(LaneFigures(key[0], country, region, totals, market_groups.get(key)))
    rows.sort(key=lambda r: (-r.seller.shipments, r.carrier, r.destination))
    return rows


def _narrowed(parts: list[QuerySet], **lookups) -> list[QuerySet]:
    return [qs.filter(**lookups) for qs in parts]


def seller_destinations(
    *, scope: Scope, seller_id: int | None, period: Period, limit: int = 30
) -> list[tuple[str, int]]:
    """The seller's destinations by volume ("FR-75", "DE"), for the lane picker."""
    rows = (
        _stats(scope=scope, seller_id=seller_id, period=period)
        .values("destination_country", "destination_region")
        .annotate(n=Sum("shipments"))
        .order_by("-n", "destination_country", "destination_region")[:limit]
    )
    return [(lane_label(r["destination_country"], r["destination_region"]), r["n"]) for r in rows]


SLA_METRICS = {
    # metric -> (label, property of Totals, "min" target or "max" target)
    "valid_tracking_rate": ("Valid tracking rate", "valid_tracking_rate", "min"),
    "on_time_delivery_rate": ("On-time delivery rate", "on_time_rate", "min"),
    # the same, with protected lateness counted as the courier's (issue 21): same target
    "on_time_delivery_rate_protected": (
        "On-time delivery rate, protected lateness excluded",
        "on_time_rate_protected",
        "min",
    ),
    "late_shipment_rate": ("Late shipment rate", "late_shipment_rate", "max"),
    "delivery_rate": ("Delivery rate", "delivery_rate", "min"),
}


def sla_target(metric: str) -> float:
    """The marketplace's target of a SLA figure; the protected on-time rate has the on-time
    target (it is the same promise, judged on the seller's own lateness)."""
    if metric == "on_time_delivery_rate_protected":
        metric = "on_time_delivery_rate"
    return settings.SELLER_SLA_TARGETS[metric]


def ranking_metrics() -> dict[str, tuple[str, str, str]]:
    """The figures the marketplace ranking judges sellers on: one on-time rate, the protected
    one unless the marketplace turned that effect off (SELLER_PROTECTION)."""
    drop = ("on_time_delivery_rate" if settings.SELLER_PROTECTION["on_time_excludes_protected"]
            else "on_time_delivery_rate_protected")  # fmt: skip
    return {m: v for m, v in SLA_METRICS.items() if m != drop}


@dataclass
class SlaFigure:
    metric: str
    label: str
    value: float | None
    target: float
    direction: str
    trend: list[tuple[date, float | None]]

    @property
    def meets_target(self) -> bool | None:
        if self.value is None:
            return None
        if self.direction == "min":
            return self.value >= self.target
        return self.value < self.target


def sla_trend_weeks(period: Period) -> list[date]:
    first = period.start - timedelta(days=period.start.weekday())
    return [first + timedelta(weeks=i) for i in range((period.end - first).days // 7 + 1)]


def seller_sla(*, scope: Scope, seller_id: int | None, period: Period) -> list[SlaFigure]:
    """The SLA figures of one seller over the period (the on-time rate twice: as measured, and
    with protected lateness left out), each with a weekly trend and its target
    (settings.SELLER_SLA_TARGETS). Two queries."""
    stats = _summary(scope=scope, seller_id=seller_id, period=period,
                     grain=SummaryDayStat.Grain.SELLER)  # fmt: skip
    total = Totals.from_row(stats.aggregate(**_SLA_SUMS))
    weekly = _grouped(stats.annotate(week=TruncWeek("day")), "week", sums=_SLA_SUMS)
    weeks = sla_trend_weeks(period)
    figures = []
    for metric, (label, attribute, direction) in SLA_METRICS.items():
        trend = []
        for week in weeks:
            totals = weekly.get((week,)) or weekly.get((_as_datetime_key(week),))
            trend.append((week, getattr(totals, attribute) if totals else None))
        figures.append(
            SlaFigure(metric, label, getattr(total, attribute),
                      sla_target(metric), direction, trend)
        )  # fmt: skip
    return figures


def _as_datetime_key(week: date):
    # TruncWeek on a DateField returns a date on PostgreSQL and SQLite alike; kept for safety.
    return datetime.combine(week, datetime.min.time())


@dataclass(frozen=True, slots=True)
class SellerName:
    """What the ranking shows of a seller: a thousand model instances would cost more to build
    (and to garbage-collect) than the figures beside them."""

    id: int
    name: str


@dataclass
class SellerStanding:
    seller: SellerName
    totals: Totals
    breaches: list[str]


def marketplace_sla_ranking(*, scope: Scope, period: Period) -> list[SellerStanding]:
    """Every seller's SLA figures, worst first (most targets missed, then lowest valid tracking
    rate); on time is judged by ``ranking_metrics`` (the protected rate by default).
    Marketplace scope only: a seller scope gets PermissionDenied."""
    if not scope.is_marketplace:
        raise PermissionDenied("The marketplace view is for marketplace staff.")
    everyone = SummaryDayStat.objects.filter(grain=SummaryDayStat.Grain.SELLER)
    weekly = _week_stats(seller_id=None, grain=WeekStat.Grain.SELLER)
    parts = _by_weeks(period, everyone, weekly, edges_apart=True)  # index-only, all three
    grouped = _grouped_parts(parts, "seller_id", sums=_SLA_SUMS)
    # every seller (most of them have rows): no list of a thousand ids to bind into the query
    names = dict(Seller.objects.values_list("id", "name")) if grouped else {}
    standings = []
    for (seller_id,), totals in grouped.items():
        breaches = []
        for metric, (label, attribute, direction) in ranking_metrics().items():
            value, target = getattr(totals, attribute), sla_target(metric)
            if value is None:
                continue
            if (direction == "min" and value < target) or (direction == "max" and value >= target):
                breaches.append(label)
        standings.append(SellerStanding(SellerName(seller_id, names[seller_id]), totals, breaches))
    standings.sort(
        key=lambda s: (-len(s.breaches), s.totals.valid_tracking_rate or 0, s.seller.name)
    )
    return standings


def sla_shipments(
    *, scope: Scope, seller_id: int | None, period: Period, metric: str
) -> QuerySet[Shipment]:
    """The raw shipments that make a SLA figure fall short (the drill-down behind each figure):
    never scanned, delivered late (or lost, returned, expired past the promise), confirmed
    after the expected ship date, or not delivered. Scoped like every read."""
    if scope.seller_id is not None:
        if seller_id not in (None, scope.seller_id):
            raise NotFound(f"No seller {seller_id}.")
        seller_id = scope.seller_id
    if metric not in SLA_METRICS:
        raise NotFound(f"No SLA metric {metric!r}.")
    tz = local_tz()
    start = datetime.combine(period.start, datetime.min.time(), tzinfo=tz)
    end = datetime.combine(period.end + timedelta(days=1), datetime.min.time(), tzinfo=tz)
    qs = Shipment.objects.filter(created_at__gte=start, created_at__lt=end)
    if seller_id is not None:
        qs = qs.filter(seller_id=seller_id)
    events = TrackingEvent.objects.filter(shipment=OuterRef("pk"))
    if metric == "valid_tracking_rate":
        qs = qs.exclude(Exists(events.exclude(status__in=NOT_A_SCAN)))
    elif metric in ("on_time_delivery_rate", "on_time_delivery_rate_protected"):
        delivered_late = Q(status=Status.DELIVERED) & Q(
            delivered_day__gt=F("order__promised_delivery_date")
        )
        not_delivered = (
            Q(status=Status.EXPIRED)
            | Q(substatus__in=[*RETURN_SUBSTATUSES, Substatus.EXCEPTION_LOST])
            | Exists(events.filter(substatus__in=RETURN_SUBSTATUSES))
        ) & ~Q(status=Status.DELIVERED)
        qs = qs.filter(order__promised_delivery_date__isnull=False).annotate(
            delivered_day=TruncDate("delivered_at", tzinfo=tz)
        )
        qs = qs.filter(delivered_late | not_delivered)
        if metric == "on_time_delivery_rate_protected":
            # the courier's lateness (a protected order) does not pull the seller's rate down
            qs = qs.exclude(order__protection__protected=True)
    elif metric == "late_shipment_rate":
        qs = qs.annotate(shipped_day=TruncDate("created_at", tzinfo=tz)).filter(
            order__expected_ship_date__isnull=False,
            shipped_day__gt=F("order__expected_ship_date"),
        )
    else:
        qs = qs.exclude(status=Status.DELIVERED)
    return qs.select_related("order").order_by("-created_at", "-id")


# --- Courier recommendation ---------------------------------------------------------------


@dataclass
class CourierOption:
    carrier: str
    totals: Totals
    on_time_lower_bound: float
    enough_data: bool

    @property
    def confidence(self) -> str:
        if not self.enough_data:
            return "not enough data"
        n = self.totals.on_time_eligible
        return "high" if n >= 4 * settings.RECOMMENDATION_MIN_SAMPLE else "medium"


@dataclass
class Recommendation:
    origin_region: str
    destination_country: str
    destination_region: str
    service_level: str
    ranked: list[CourierOption]
    not_enough_data: list[CourierOption]

    @property
    def best(self) -> CourierOption | None:
        return self.ranked[0] if self.ranked else None


def courier_recommendation(
    *,
    scope: Scope,
    origin_region: str,
    destination: tuple[str, str],
    service_level: str,
    today: date | None = None,
) -> Recommendation:
    """Couriers for a lane (origin département, destination, service level) ranked on the
    marketplace's last RECOMMENDATION_WINDOW_DAYS: by the 95% lower bound of their on-time rate
    (so a lucky small sample does not win), then by median transit. A courier with fewer than
    RECOMMENDATION_MIN_SAMPLE judged parcels on the lane is listed as "not enough data", never
    ranked. Marketplace-wide aggregate figures only: no seller's rows are exposed. One query."""
    country, region = destination
    period = Period.last_days(settings.RECOMMENDATION_WINDOW_DAYS, today)
    qs = _marketplace_stats(period).filter(destination_country=country, service_level=service_level)
    if region:
        qs = qs.filter(destination_region=region)
    if origin_region:
        qs = qs.filter(origin_region=origin_region)
    ranked, thin = [], []
    for (carrier,), totals in _grouped(qs, "carrier").items():
        enough = (
            totals.on_time_eligible >= settings.RECOMMENDATION_MIN_SAMPLE
            and totals.transit_count >= settings.RECOMMENDATION_MIN_SAMPLE
        )
        option = CourierOption(
            carrier, totals, wilson_lower_bound(totals.on_time, totals.on_time_eligible), enough
        )
        (ranked if enough else thin).append(option)
    ranked.sort(key=lambda o: (-o.on_time_lower_bound, o.totals.median_transit_days, o.carrier))
    thin.sort(key=lambda o: (-o.totals.shipments, o.carrier))
    return Recommendation(origin_region, country, region, service_level, ranked, thin)


def seller_origin_region(*, scope: Scope, seller_id: int | None) -> str:
    if seller_id is None:
        return ""
    seller = seller_get(scope=scope, seller_id=seller_id)
    return region_of(seller.origin_country, seller.origin_postcode)


def order_by_reference(*, scope: Scope, reference: str) -> Order:
    """The scope's order with this reference; NotFound otherwise (another seller's reference
    reads exactly like one that does not exist)."""
    if scope.seller_id is None:
        raise NotFound("Name the seller's order through the API with a seller token.")
    order = order_list(scope=scope).filter(reference=reference.strip()).first()
    if order is None:
        raise NotFound(f"You have no order {reference.strip()!r}.", field="order")
    return order


def tracking_upload_list(*, scope: Scope) -> QuerySet[TrackingUpload]:
    qs = TrackingUpload.objects.defer("content").order_by("-created_at", "-id")
    return qs if scope.seller_id is None else qs.filter(seller_id=scope.seller_id)


def tracking_upload_get(*, scope: Scope, upload_id: int) -> TrackingUpload:
    try:
        return tracking_upload_list(scope=scope).get(pk=upload_id)
    except TrackingUpload.DoesNotExist:
        raise NotFound(f"No upload {upload_id}.") from None


# --- Couriers held to account (delivery performance protection, issue 21) -------------------


@dataclass
class CourierAccount:
    """One courier on one lane: its protected late parcels (late through no fault of the
    seller) and the buyers' claims routed to it, each as a count and a share."""

    carrier: str
    destination_country: str
    destination_region: str
    shipments: int
    judged: int
    late_protected: int
    courier_claims: int = 0

    @property
    def destination(self) -> str:
        return lane_label(self.destination_country, self.destination_region)

    @property
    def late_protected_share(self) -> float | None:
        """Of the parcels judged on time (delivered, lost, returned, expired)."""
        return self.late_protected / self.judged if self.judged else None

    @property
    def courier_claim_share(self) -> float | None:
        """Of the parcels confirmed on the lane in the period."""
        return self.courier_claims / self.shipments if self.shipments else None


def courier_accountability(
    *,
    scope: Scope,
    seller_id: int | None,
    period: Period,
    claims: dict[tuple[str, str, str], int] | None = None,
) -> list[CourierAccount]:
    """Per courier and lane over the period: parcels, judged parcels and protected late ones
    from the rollups (the whole marketplace from LaneDayStat when ``seller_id`` is None and the
    scope allows it, else the seller's own rows), with ``claims`` — courier claims per
    (carrier, country, region), read by the caller from payouts — beside them. Worst first
    (most protected late parcels plus claims). One grouped query."""
    seller_id = _scoped_seller(scope, seller_id)
    if seller_id is None:
        rows = _lane_stats(period)
    else:
        rows = _stats(scope=scope, seller_id=seller_id, period=period)
    sums = {"shipments": Sum("shipments"), "judged": Sum("on_time_eligible"),
            "late": Sum("late_protected")}  # fmt: skip
    grouped = (
        rows.values("carrier", "destination_country", "destination_region")
        .annotate(**sums)
        .order_by()
    )
    claims = dict(claims or {})
    accounts = []
    for row in grouped:
        key = (row["carrier"], row["destination_country"], row["destination_region"])
        accounts.append(CourierAccount(*key, row["shipments"] or 0, row["judged"] or 0,
                                       row["late"] or 0, claims.pop(key, 0)))  # fmt: skip
    # claims on parcels confirmed before the period still hold their courier to account
    accounts += [CourierAccount(*key, 0, 0, 0, n) for key, n in claims.items()]
    accounts.sort(key=lambda a: (-(a.late_protected + a.courier_claims), -a.shipments,
                                 a.carrier, a.destination))  # fmt: skip
    return accounts


# --- The seller's protection (portal) ---------------------------------------------------------


@dataclass
class ProtectionShare:
    orders: int
    protected: int

    @property
    def share(self) -> float | None:
        return self.protected / self.orders if self.orders else None


def period_bounds(period: Period) -> tuple[datetime, datetime]:
    tz = local_tz()
    start = datetime.combine(period.start, datetime.min.time(), tzinfo=tz)
    return start, datetime.combine(period.end + timedelta(days=1), datetime.min.time(), tzinfo=tz)


def protections_in_period(*, scope: Scope, seller_id: int | None, period: Period) -> QuerySet:
    """The stored protection of the seller's orders placed in the period, scoped; with the
    order (one query)."""
    seller_id = _scoped_seller(scope, seller_id)
    start, end = period_bounds(period)
    qs = OrderProtection.objects.filter(order__created_at__gte=start, order__created_at__lt=end)
    if seller_id is not None:
        qs = qs.filter(seller_id=seller_id)
    return qs.select_related("order")


def protection_share(*, scope: Scope, seller_id: int | None, period: Period) -> ProtectionShare:
    """How many of the seller's judged orders of the period are protected (one query)."""
    counts = protections_in_period(scope=scope, seller_id=seller_id, period=period).aggregate(
        orders=Count("id"), protected=Count("id", filter=Q(protected=True))
    )
    return ProtectionShare(counts["orders"] or 0, counts["protected"] or 0)


def unprotected_orders(*, scope: Scope, seller_id: int | None, period: Period) -> QuerySet:
    """The seller's orders of the period the protection does not cover, newest first."""
    return (
        protections_in_period(scope=scope, seller_id=seller_id, period=period)
        .filter(protected=False)
        .order_by("-order__created_at", "-order_id")
    )
