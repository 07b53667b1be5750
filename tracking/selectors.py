"""Reads of the tracking app. Every selector takes a Scope: a seller sees only its own rows."""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet

from core.access import Scope
from core.errors import NotFound
from sellers.models import Order
from tracking.models import Shipment, TrackingEvent
from tracking.services.shipments import tracking_number_normalise


def shipment_list(
    *,
    scope: Scope,
    status: str | None = None,
    carrier: str | None = None,
    seller_id: int | None = None,
    order_reference: str | None = None,
    query: str | None = None,
) -> QuerySet[Shipment]:
    """Shipments the scope may see, newest first, filtered; ``query`` matches a tracking number
    (any spacing or case) or an order reference exactly."""
    qs = (
        Shipment.objects.for_seller(scope.seller_id)
        .select_related("order", "seller")
        .order_by("-created_at", "-id")
    )
    if status:
        qs = qs.filter(status=status)
    if carrier:
        qs = qs.filter(carrier=carrier)
    if seller_id is not None:
        qs = qs.filter(seller_id=seller_id)
    if order_reference:
        qs = qs.filter(order__reference=order_reference)
    if query:
        qs = qs.filter(
            Q(tracking_number=tracking_number_normalise(query)) | Q(order__reference=query.strip())
        )
    return qs


def shipment_get(*, scope: Scope, shipment_id: int) -> Shipment:
    """One shipment with its events (oldest first) and POD; NotFound outside the scope."""
    events = TrackingEvent.objects.order_by("occurred_at", "id")
    try:
        return (
            Shipment.objects.for_seller(scope.seller_id)
            .select_related("order", "seller", "pod")
            .prefetch_related(Prefetch("events", queryset=events))
            .get(pk=shipment_id)
        )
    except Shipment.DoesNotExist:
        raise NotFound(f"No shipment {shipment_id}.") from None


def order_tracking_get(*, scope: Scope, order_id: int) -> Order:
    """An order with its shipments (and their POD); NotFound outside the scope."""
    qs = Order.objects.select_related("seller").prefetch_related(
        Prefetch(
            "shipments",
            queryset=Shipment.objects.select_related("pod").order_by("created_at", "id"),
        )
    )
    if scope.seller_id is not None:
        qs = qs.filter(seller_id=scope.seller_id)
    try:
        return qs.get(pk=order_id)
    except Order.DoesNotExist:
        raise NotFound(f"No order {order_id}.") from None
