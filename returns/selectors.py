"""Reads of the returns app, scoped by ``core.access.Scope`` (a seller sees its own only)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Prefetch, QuerySet, Sum
from django.utils import timezone

from core.access import Scope
from core.errors import ApplicationError, NotFound
from returns.models import (
    Reason,
    ReturnEvent,
    ReturnItem,
    ReturnPhoto,
    ReturnPolicy,
    ReturnRequest,
)
from sellers.models import Order, OrderItem
from tracking.models import Shipment, TrackingEvent
from tracking.status import RETURN_SUBSTATUSES


def policy_in_force(*, seller_id: int, at: datetime) -> ReturnPolicy:
    """The version that applies to an order of ``seller_id`` delivered at ``at``: the seller's
    latest version effective by then, else the marketplace default's. Raises ApplicationError
    when no policy at all exists (the migration creates the marketplace default)."""
    own = (
        ReturnPolicy.objects.filter(seller_id=seller_id, effective_from__lte=at)
        .order_by("-effective_from", "-version")
        .first()
    )
    if own is not None:
        return own
    defaults = ReturnPolicy.objects.filter(seller__isnull=True)
    default = (
        defaults.filter(effective_from__lte=at).order_by("-effective_from", "-version").first()
        or defaults.order_by("effective_from", "version").first()
    )
    if default is None:
        raise ApplicationError("No return policy is set up.", code="no_return_policy")
    return default


def policy_current(*, seller_id: int) -> ReturnPolicy:
    """What applies to an order delivered now (the seller's portal shows and edits it)."""
    return policy_in_force(seller_id=seller_id, at=timezone.now())


def policy_versions(*, scope: Scope, seller_id: int) -> QuerySet[ReturnPolicy]:
    if scope.seller_id not in (None, seller_id):
        return ReturnPolicy.objects.none()
    return ReturnPolicy.objects.filter(seller_id=seller_id).order_by("-version")


def return_list(*, scope: Scope, status: str | None = None) -> QuerySet[ReturnRequest]:
    """Requests newest first, with what a list row shows (order, items, return parcel)."""
    qs = (
        ReturnRequest.objects.select_related("order", "return_shipment", "delivered_shipment")
        .prefetch_related(
            Prefetch("items", queryset=ReturnItem.objects.select_related("order_item"))
        )
        .order_by("-requested_at", "-id")
    )
    if scope.seller_id is not None:
        qs = qs.filter(seller_id=scope.seller_id)
    if status:
        qs = qs.filter(status=status)
    return qs


def return_get(*, scope: Scope, return_id: int) -> ReturnRequest:
    """One request if the scope may see it; NotFound otherwise (no hint that it exists)."""
    try:
        return (
            return_list(scope=scope)
            .select_related("policy")
            .prefetch_related("photos", "events")
            .get(pk=return_id)
        )
    except ReturnRequest.DoesNotExist:
        raise NotFound(f"No return {return_id}.") from None


def return_search(
    *,
    scope: Scope,
    status: str | None = None,
    order_reference: str | None = None,
    requested_from: datetime | None = None,
    requested_to: datetime | None = None,
) -> QuerySet[ReturnRequest]:
    """The API's list: ``return_list`` (scoped, newest first, rows prefetched) narrowed by
    status, exact order reference and a requested-at range (``from`` included, ``to``
    excluded, so consecutive ranges never count a request twice)."""
    qs = return_list(scope=scope, status=status)
    if order_reference:
        qs = qs.filter(order__reference=order_reference)
    if requested_from is not None:
        qs = qs.filter(requested_at__gte=requested_from)
    if requested_to is not None:
        qs = qs.filter(requested_at__lt=requested_to)
    return qs


def return_detail_get(*, scope: Scope, return_id: int) -> ReturnRequest:
    """``return_get`` with what the API's detail shows: the steps in order and the return
    parcel with its events and proof. NotFound outside the scope (no hint that it exists)."""
    try:
        return (
            return_list(scope=scope)
            .select_related("return_shipment__order", "return_shipment__pod")
            .prefetch_related(
                Prefetch("events", queryset=ReturnEvent.objects.order_by("created_at", "id")),
                Prefetch(
                    "return_shipment__events",
                    queryset=TrackingEvent.objects.order_by("occurred_at", "id"),
                ),
                "photos",
            )
            .get(pk=return_id)
        )
    except ReturnRequest.DoesNotExist:
        raise NotFound(f"No return {return_id}.") from None


def return_photo_get(*, request: ReturnRequest, photo_id: int) -> ReturnPhoto:
    """One photo of a return the caller already may see (``return_get``); NotFound otherwise."""
    try:
        return ReturnPhoto.objects.get(request=request, pk=photo_id)
    except ReturnPhoto.DoesNotExist:
        raise NotFound(f"No photo {photo_id}.") from None


def order_lines(*, order: Order) -> list[OrderItem]:
    """The order's lines, in the order the marketplace sent them (the buyer's return form)."""
    return list(OrderItem.objects.filter(order=order).order_by("id"))


def buyer_return_get(*, order: Order, return_id: int) -> ReturnRequest:
    """One return of the order the buyer holds the token of; NotFound for any other id."""
    try:
        return ReturnRequest.objects.get(pk=return_id, order=order)
    except ReturnRequest.DoesNotExist:
        raise NotFound(f"No return {return_id}.") from None


def order_for_return_token(*, token: str) -> Order:
    """The order behind a buyer's link: an order token (/t/<token>/) or a parcel token
    (/t/s/<token>/). NotFound, with no detail, for any unknown token."""
    order = Order.objects.select_related("seller").filter(public_token=token).first()
    if order is None:
        shipment = (
            Shipment.objects.select_related("order__seller").filter(public_token=token).first()
        )
        order = shipment.order if shipment is not None else None
    if order is None:
        raise NotFound("No such order.")
    return order


def order_delivery(*, order: Order) -> Shipment | None:
    """The order's last delivered parcel to the buyer (returns are counted from it); a parcel
    the courier delivered back to the seller is not one."""
    return (
        Shipment.objects.filter(
            order=order,
            direction=Shipment.Direction.OUTBOUND,
            status="delivered",
            delivered_at__isnull=False,
        )
        .exclude(substatus__in=RETURN_SUBSTATUSES)
        .order_by("-delivered_at", "-id")
        .first()
    )


def returnable_quantities(*, order: Order) -> dict[int, int]:
    """Per order item: how many units may still be returned (bought minus those in returns
    that are open or received)."""
    taken = defaultdict(int)
    for item_id, quantity in ReturnItem.objects.filter(
        request__order=order,
        request__status__in=[*ReturnRequest.OPEN_STATUSES, ReturnRequest.Status.RECEIVED],
    ).values_list("order_item_id", "quantity"):
        taken[item_id] += quantity
    return {
        item.id: item.quantity - taken[item.id]
        for item in OrderItem.objects.filter(order=order).order_by("id")
    }


def buyer_returns(*, order: Order) -> list[ReturnRequest]:
    return list(
        ReturnRequest.objects.filter(order=order)
        .select_related("return_shipment")
        .prefetch_related(
            Prefetch("items", queryset=ReturnItem.objects.select_related("order_item"))
        )
        .order_by("-requested_at", "-id")
    )


# --- Numbers for the seller portal ------------------------------------------------------------


@dataclass(frozen=True)
class RateRow:
    key: str
    label: str
    units_sold: int
    units_returned: int
    # (reason label, requests), most frequent first
    reasons: tuple[tuple[str, int], ...] = ()

    @property
    def rate_percent(self) -> float:
        return round(100 * self.units_returned / self.units_sold, 1) if self.units_sold else 0.0


@dataclass(frozen=True)
class ReturnStats:
    orders_delivered: int
    orders_returned: int
    by_reason: list[tuple[str, int]]
    by_product: list[RateRow]
    by_courier: list[RateRow]

    @property
    def rate_percent(self) -> float:
        if not self.orders_delivered:
            return 0.0
        return round(100 * self.orders_returned / self.orders_delivered, 1)


# Refused and cancelled requests are not returns: they count in reasons, not in rates.
_COUNTED = [*ReturnRequest.OPEN_STATUSES, ReturnRequest.Status.RECEIVED]


def return_stats(*, scope: Scope, seller_id: int) -> ReturnStats:
    """Return rate (orders with a return among delivered orders), reasons, and per product
    (units returned / units sold on delivered orders) and per courier of the outbound parcel
    (orders returned / orders it delivered). A fixed number of GROUP BY queries."""
    if scope.seller_id not in (None, seller_id):
        raise NotFound(f"No seller {seller_id}.")
    delivered_orders = Shipment.objects.filter(
        seller_id=seller_id, direction=Shipment.Direction.OUTBOUND, status="delivered"
    ).values("order_id")
    requests = ReturnRequest.objects.filter(seller_id=seller_id)
    counted = requests.filter(status__in=_COUNTED)
    orders_delivered = Order.objects.filter(id__in=delivered_orders).count()
    orders_returned = counted.values("order_id").distinct().count()
    by_reason = [
        (_reason_label(row["reason"]), row["n"])
        for row in requests.order_by().values("reason").annotate(n=Count("id")).order_by("-n")
    ]
    # Reasons per product and per courier: every request, refused ones included (a refused
    # "arrived damaged" still says something about the courier).
    product_reasons = _reasons_by(
        ReturnItem.objects.filter(request__seller_id=seller_id), "order_item__sku",
        "request__reason", "request_id",
    )  # fmt: skip
    courier_reasons = _reasons_by(requests, "delivered_shipment__carrier", "reason", "id")
    sold = dict(
        OrderItem.objects.filter(order_id__in=delivered_orders)
        .order_by()
        .values("sku")
        .annotate(units=Sum("quantity"))
        .values_list("sku", "units")
    )
    names = dict(
        OrderItem.objects.filter(order__seller_id=seller_id).order_by("sku", "-id")
        .values_list("sku", "name")
    )  # fmt: skip
    returned = dict(
        ReturnItem.objects.filter(request__in=counted)
        .order_by()
        .values("order_item__sku")
        .annotate(units=Sum("quantity"))
        .values_list("order_item__sku", "units")
    )
    by_product = sorted(
        (
            RateRow(
                sku,
                names.get(sku, sku),
                sold.get(sku, 0),
                returned.get(sku, 0),
                product_reasons.get(sku, ()),
            )  # fmt: skip
            for sku in set(sold) | set(returned)
        ),
        key=lambda r: (-r.units_returned, -r.units_sold, r.key),
    )
    courier_sold = dict(
        Shipment.objects.filter(
            seller_id=seller_id, direction=Shipment.Direction.OUTBOUND, status="delivered"
        )
        .order_by()
        .values("carrier")
        .annotate(n=Count("order_id", distinct=True))
        .values_list("carrier", "n")
    )
    courier_returned = dict(
        counted.order_by()
        .values("delivered_shipment__carrier")
        .annotate(n=Count("order_id", distinct=True))
        .values_list("delivered_shipment__carrier", "n")
    )
    by_courier = sorted(
        (
            RateRow(
                c,
                _carrier_name(c),
                courier_sold.get(c, 0),
                courier_returned.get(c, 0),
                courier_reasons.get(c, ()),
            )  # fmt: skip
            for c in set(courier_sold) | set(courier_returned)
        ),
        key=lambda r: (-r.rate_percent, r.key),
    )
    return ReturnStats(orders_delivered, orders_returned, by_reason, by_product, by_courier)


def _reason_label(code: str) -> str:
    return str(Reason(code).label) if code in Reason.values else code


def _reasons_by(qs, key: str, reason: str, counted: str) -> dict[str, tuple[tuple[str, int], ...]]:
    """{key: ((reason label, distinct requests), …) most frequent first}, one GROUP BY."""
    grouped: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for value, code, n in (
        qs.order_by().values(key, reason).annotate(n=Count(counted, distinct=True))
        .values_list(key, reason, "n")
    ):  # fmt: skip
        grouped[value].append((_reason_label(code), n))
    return {k: tuple(sorted(v, key=lambda r: (-r[1], r[0]))) for k, v in grouped.items()}


def _carrier_name(slug: str) -> str:
    from tracking import carriers

    try:
        return carriers.get_adapter(slug).name
    except carriers.UnknownCarrier:
        return slug
