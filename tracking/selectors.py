"""Reads of the tracking app. Every selector takes a Scope: a seller sees only its own rows."""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet, Value

from core.access import Scope
from core.errors import NotFound
from core.textsearch import Fold
from sellers.models import Order
from tracking.models import PodEvidence, Shipment, TrackingEvent
from tracking.services.shipments import tracking_number_normalise

# Shortest query matched as a part of a reference, email or name (trigram indexes need three).
QUERY_PARTIAL_MIN_LENGTH = 3


def event_list(
    *, scope: Scope, shipment_id: int | None = None, status: str | None = None
) -> QuerySet[TrackingEvent]:
    """Courier events of the shipments the scope may see, unordered (the paginator orders them
    by id, the order they were stored), optionally of one shipment or one status."""
    qs = TrackingEvent.objects.select_related("shipment")
    if scope.seller_id is not None:
        qs = qs.filter(shipment__seller_id=scope.seller_id)
    if shipment_id is not None:
        qs = qs.filter(shipment_id=shipment_id)
    if status:
        qs = qs.filter(status=status)
    return qs


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
    (any spacing or case) exactly, or a part of the order reference, the buyer's email or name
    (from three characters, accents and case aside: "MAI-2026110", "client5", "helene")."""
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
    query = " ".join((query or "").split())
    if query:
        match = Q(tracking_number=tracking_number_normalise(query)) | Q(order__reference=query)
        if len(query) >= QUERY_PARTIAL_MIN_LENGTH:
            folded = Fold(Value(query))
            qs = qs.annotate(
                _fold_reference=Fold("order__reference"),
                _fold_email=Fold("order__buyer_email"),
                _fold_name=Fold("order__buyer_name"),
            )
            match |= (
                Q(_fold_reference__contains=folded)
                | Q(_fold_email__contains=folded)
                | Q(_fold_name__contains=folded)
            )
        qs = qs.filter(match)
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


# Who may open a courier's proof document besides the parcel's seller: staff with one of these
# (finance reviews PODs; the model's own view permission lets an admin grant it to others).
EVIDENCE_VIEWER_PERMISSIONS = (
    "tracking.review_pod",
    "payouts.view_finance_console",
    "tracking.view_podevidence",
)


def pod_evidence_for_viewer(*, user, token: str) -> PodEvidence:
    """The stored courier proof document behind ``token`` when ``user`` may open it: staff with
    a finance/POD permission, or a member of the parcel's seller (sellers see their PODs in the
    API). NotFound otherwise, the same answer whether the document does not exist or the user
    may not see it, so a token cannot be probed."""
    evidence = (
        PodEvidence.objects.filter(access_token=token, state=PodEvidence.State.STORED)
        .select_related("pod__shipment")
        .first()
    )
    if evidence is None or not _may_view_evidence(user, evidence):
        raise NotFound("No such document.")
    return evidence


def _may_view_evidence(user, evidence: PodEvidence) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_staff and any(user.has_perm(p) for p in EVIDENCE_VIEWER_PERMISSIONS):
        return True
    membership = getattr(user, "seller_membership", None)
    return membership is not None and membership.seller_id == evidence.pod.shipment.seller_id
