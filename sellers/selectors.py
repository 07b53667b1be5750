from django.db.models import QuerySet

from core.access import Scope
from core.errors import NotFound
from sellers.models import Order, Seller


def order_list(*, scope: Scope, reference: str | None = None) -> QuerySet[Order]:
    qs = Order.objects.select_related("seller").order_by("-created_at", "-id")
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


def seller_get(*, scope: Scope, seller_id: int) -> Seller:
    if scope.seller_id not in (None, seller_id):
        raise NotFound(f"No seller {seller_id}.")
    try:
        return Seller.objects.get(pk=seller_id)
    except Seller.DoesNotExist:
        raise NotFound(f"No seller {seller_id}.") from None
