"""Reads of the payouts app, scoped: a seller sees its own payouts, the marketplace all."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet

from core.access import Scope
from core.errors import NotFound
from core.money import currencies_by_exponent
from payouts.models import CourierClaim, Payout, PayoutEvent
from tracking.models import Shipment, TrackingEvent

# The console's queues, in the order of its tabs.
QUEUES = {
    "awaiting_pod": ("Awaiting POD", Q(status=Payout.Status.HELD, pod_complete=False)),
    "claim_window": ("In claim window", Q(status=Payout.Status.HELD, pod_complete=True)),
    "eligible": ("Eligible", Q(status=Payout.Status.ELIGIBLE)),
    "on_hold": ("On hold", Q(status=Payout.Status.ON_HOLD)),
    "released": ("Released", Q(status=Payout.Status.RELEASED)),
    "closed": (
        "Refunded / cancelled",
        Q(status__in=[Payout.Status.REFUNDED, Payout.Status.CANCELLED]),
    ),
}


@dataclass(frozen=True)
class PayoutFilters:
    """The console's filters; amounts in minor units, dates on the payment date."""

    queue: str | None = None
    seller_id: int | None = None
    carrier: str | None = None
    paid_from: date | None = None
    paid_to: date | None = None
    # Currency units (12.50), compared in each payout's own minor units.
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None


def payout_ids_open_for_orders(*, order_ids: Iterable[int]) -> list[int]:
    ids = list(order_ids)
    if not ids:
        return []
    return list(
        Payout.objects.filter(order_id__in=ids, status__in=Payout.OPEN_STATUSES)
        .order_by("id")
        .values_list("id", flat=True)
    )


def payout_list(*, scope: Scope, filters: PayoutFilters | None = None) -> QuerySet[Payout]:
    """Payouts the scope may see, newest payment first, with their order and seller loaded."""
    filters = filters or PayoutFilters()
    qs = (
        Payout.objects.for_seller(scope.seller_id)
        .select_related("order", "seller")
        .order_by("-paid_at", "-id")
    )
    if filters.queue:
        qs = qs.filter(QUEUES[filters.queue][1])
    if filters.seller_id:
        qs = qs.filter(seller_id=filters.seller_id)
    if filters.carrier:
        qs = qs.filter(
            Exists(Shipment.objects.filter(order_id=OuterRef("order_id"), carrier=filters.carrier))
        )
    if filters.paid_from:
        qs = qs.filter(paid_at__date__gte=filters.paid_from)
    if filters.paid_to:
        qs = qs.filter(paid_at__date__lte=filters.paid_to)
    if filters.amount_min is not None or filters.amount_max is not None:
        qs = qs.filter(_gross_between(filters.amount_min, filters.amount_max))
    return qs


def _gross_between(minimum: Decimal | None, maximum: Decimal | None) -> Q:
    """Payouts whose gross, in their own currency's units, lies between the bounds: one branch
    per minor-unit exponent (12.50 is 1250 cents of EUR but 13 yen at least and 12 at most)."""
    branches = Q(pk__in=[])
    for exponent, codes in currencies_by_exponent().items():
        branch = Q(currency__in=sorted(codes))
        if minimum is not None:
            branch &= Q(gross_amount__gte=math.ceil(minimum.scaleb(exponent)))
        if maximum is not None:
            branch &= Q(gross_amount__lte=math.floor(maximum.scaleb(exponent)))
        branches |= branch
    return branches


def payout_list_with_parcels(*, scope: Scope, filters: PayoutFilters | None = None):
    """The console table: each payout with its parcels (carrier, status) in one more query."""
    return payout_list(scope=scope, filters=filters).prefetch_related(
        Prefetch(
            "order__shipments",
            queryset=Shipment.objects.only(
                "id", "order_id", "carrier", "tracking_number", "status"
            ).order_by("id"),
        )
    )


def payout_get(*, scope: Scope, payout_id: int) -> Payout:
    """The payout if the scope may see it; NotFound otherwise (no hint that it exists)."""
    try:
        return payout_list(scope=scope).get(pk=payout_id)
    except Payout.DoesNotExist:
        raise NotFound(f"No payout {payout_id}.") from None


def payout_get_for_order(*, scope: Scope, order_id: int) -> Payout:
    try:
        return payout_list(scope=scope).get(order_id=order_id)
    except Payout.DoesNotExist:
        raise NotFound(f"No payout for order {order_id}.") from None


def payout_events(*, payout: Payout) -> QuerySet[PayoutEvent]:
    return payout.events.select_related("actor").order_by("created_at", "id")


def audit_events(*, scope: Scope, filters: PayoutFilters | None = None) -> QuerySet[PayoutEvent]:
    """The audit trail of the payouts a filter selects (the CSV export), oldest first."""
    payouts = payout_list(scope=scope, filters=filters).values("id")
    return (
        PayoutEvent.objects.filter(payout_id__in=payouts)
        .select_related("payout", "payout__order", "actor")
        .order_by("created_at", "id")
    )


def payout_parcels(*, payout: Payout) -> QuerySet[Shipment]:
    """The POD viewer: the order's parcels with their proof, the event the proof came from, the
    courier's proof document and every delivery-related event (delivered, returns), in three
    queries."""
    return (
        Shipment.objects.filter(order_id=payout.order_id)
        .select_related("pod", "pod__source_event", "pod__reviewed_by", "pod__evidence")
        .prefetch_related(
            Prefetch(
                "events",
                queryset=TrackingEvent.objects.order_by("occurred_at", "id"),
                to_attr="timeline",
            )
        )
        .order_by("id")
    )


# --- The courier-claim queue (delivery performance protection, issue 21) ---------------------


# The courier-claim queue's tabs (the consoles' ?status=, the CRM API's status filter).
COURIER_CLAIM_TABS = ("open", "closed", "all")


def courier_claim_tab(raw: str | None) -> str:
    """The tab a request asks for; anything else is the open claims."""
    return raw if raw in COURIER_CLAIM_TABS else "open"


def courier_claim_queue(*, scope: Scope, status: str = "open") -> QuerySet:
    """Claims the marketplace takes up with the couriers (a tab of COURIER_CLAIM_TABS), newest
    first, with their parcel, order and seller (one query). Marketplace staff (finance, CS)
    only: a seller scope sees its own claims."""
    qs = CourierClaim.objects.select_related("shipment", "order", "seller", "payout")
    if scope.seller_id is not None:
        qs = qs.filter(seller_id=scope.seller_id)
    if status != "all":
        qs = qs.filter(status=status)
    return qs.order_by("-opened_at", "-id")


def courier_claim_counts(
    *, start, end, seller_id: int | None = None, by_lane: bool = True
) -> dict[tuple, int]:
    """Courier claims opened in [start, end) per (carrier, country, region) — or per carrier
    with ``by_lane=False`` — counted as parcels; one grouped query."""
    qs = CourierClaim.objects.filter(opened_at__gte=start, opened_at__lt=end)
    if seller_id is not None:
        qs = qs.filter(seller_id=seller_id)
    keys = ("carrier", "destination_country", "destination_region") if by_lane else ("carrier",)
    rows = qs.values(*keys).annotate(n=Count("id")).order_by()
    return {tuple(row[k] for k in keys): row["n"] for row in rows}
