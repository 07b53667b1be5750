from datetime import UTC, datetime

import factory

from payouts.services import payout_open_for_order
from returns.models import ReturnPolicy
from sellers.models import OrderItem
from tests.payouts.factories import proven_parcel
from tests.sellers.factories import OrderFactory
from tests.support.images import photo

ALL_REASONS = ["changed_mind", "wrong_size", "not_as_described", "damaged", "defective",
               "wrong_item"]  # fmt: skip


class OrderItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderItem

    order = factory.SubFactory(OrderFactory)
    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Lampe {n}")
    quantity = 1
    unit_amount = 1000


class ReturnPolicyFactory(factory.django.DjangoModelFactory):
    """A seller's policy version (seller None: a marketplace default)."""

    class Meta:
        model = ReturnPolicy

    seller = None
    version = factory.Sequence(lambda n: n + 100)
    accepts_returns = True
    window_days = 14
    allowed_reasons = factory.LazyFunction(lambda: list(ALL_REASONS))
    allowed_conditions = factory.LazyFunction(lambda: ["unopened", "like_new"])
    shipping_paid_by = "buyer"
    requires_description = False
    min_photos = 0
    resolutions = factory.LazyFunction(lambda: ["refund", "exchange"])
    effective_from = datetime(2000, 1, 1, tzinfo=UTC)


def marketplace_default() -> ReturnPolicy:
    """The default the migration creates, re-created when a transactional test's flush has
    emptied the table since."""
    existing = ReturnPolicy.objects.filter(seller__isnull=True).order_by("version").first()
    return existing or ReturnPolicyFactory(seller=None, version=1)


def delivered_order(*, days_ago: int = 3, seller=None, paid: bool = True, **order_fields):
    """An order of two lines (2 × 15.00 lamp, 1 × 20.00 shade: 50.00) delivered ``days_ago``
    days back with the courier's proof, paid into escrow. Returns (order, lamp, shade)."""
    marketplace_default()
    fields = {"total_amount": 5000, **order_fields}
    order = OrderFactory(seller=seller, **fields) if seller else OrderFactory(**fields)
    lamp = OrderItemFactory(order=order, sku="LAMP-1", name="Lampe Arco", quantity=2,
                            unit_amount=1500)  # fmt: skip
    shade = OrderItemFactory(order=order, sku="SHADE-1", name="Abat-jour lin", quantity=1,
                             unit_amount=2000)  # fmt: skip
    proven_parcel(order, days_ago=days_ago)
    if paid:
        payout_open_for_order(order=order, actor=None)
    return order, lamp, shade


PNG = photo("PNG")  # a real image: uploads are decoded


def requested_return(*, seller=None, photo: bool = False):
    """A return of one lamp, waiting for the seller, on a fresh delivered order (with a PNG
    photo when asked: set MEDIA_ROOT to a temporary directory first)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from returns.services import ItemChoice, return_request_create

    order, lamp, _shade = delivered_order(seller=seller)
    return return_request_create(
        order=order, items=[ItemChoice(lamp.id, 1, "like_new")], reason="wrong_size",
        resolution="refund",
        photos=[SimpleUploadedFile("lampe.png", PNG, "image/png")] if photo else (),
    )  # fmt: skip
