"""Return policies (versioned, per seller, with a marketplace default) and buyers' return requests.

A ReturnPolicy row is never changed: editing a policy adds a new version, in force from its
``effective_from``. A request is judged by the version in force when its order was delivered
(``returns.selectors.policy_in_force``), and keeps a link to it.

    requested -> accepted -> shipped (return tracking number) -> received (refund / exchange)
    requested -> refused (by the seller, with a reason)
    requested | accepted -> cancelled (by the buyer)
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Reason(models.TextChoices):
    CHANGED_MIND = "changed_mind", _("Changed my mind")
    WRONG_SIZE = "wrong_size", _("Wrong size or fit")
    NOT_AS_DESCRIBED = "not_as_described", _("Not as described")
    DAMAGED = "damaged", _("Arrived damaged")
    DEFECTIVE = "defective", _("Defective / does not work")
    WRONG_ITEM = "wrong_item", _("Wrong item sent")


class Condition(models.TextChoices):
    UNOPENED = "unopened", _("Unopened, in its packaging")
    LIKE_NEW = "like_new", _("Opened, as new")
    USED = "used", _("Used")
    DAMAGED = "damaged", _("Damaged")


class ShippingPayer(models.TextChoices):
    BUYER = "buyer", _("The buyer pays the return shipping")
    SELLER = "seller", _("The seller pays the return shipping")


class Resolution(models.TextChoices):
    REFUND = "refund", _("Refund")
    EXCHANGE = "exchange", _("Exchange")


class ReturnPolicy(models.Model):
    """One version of a seller's return rules (seller empty: the marketplace default)."""

    seller = models.ForeignKey(
        "sellers.Seller", null=True, blank=True, on_delete=models.CASCADE,
        related_name="return_policies", help_text="Empty: the marketplace default.",
    )  # fmt: skip
    version = models.PositiveIntegerField()
    accepts_returns = models.BooleanField(default=True)
    window_days = models.PositiveIntegerField(default=14, help_text="Days after delivery.")
    allowed_reasons = models.JSONField(default=list, help_text="Reason codes buyers may give.")
    allowed_conditions = models.JSONField(default=list, help_text="Item conditions accepted.")
    shipping_paid_by = models.CharField(
        max_length=10, choices=ShippingPayer.choices, default=ShippingPayer.BUYER
    )
    requires_description = models.BooleanField(default=False)
    min_photos = models.PositiveSmallIntegerField(default=0)
    # Which resolutions the buyer may ask for: ["refund"], ["exchange"] or both.
    resolutions = models.JSONField(default=list)
    effective_from = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "return policies"
        constraints = [
            models.UniqueConstraint(
                fields=["seller", "version"],
                condition=Q(seller__isnull=False),
                name="return_policy_version_once",
            ),  # fmt: skip
            models.UniqueConstraint(
                fields=["version"],
                condition=Q(seller__isnull=True),
                name="return_policy_default_version_once",
            ),  # fmt: skip
            models.CheckConstraint(
                condition=Q(window_days__lte=365), name="return_policy_window_at_most_a_year"
            ),
            models.CheckConstraint(condition=Q(min_photos__lte=5), name="return_policy_photos_0_5"),
        ]
        indexes = [models.Index(fields=["seller", "effective_from"], name="return_policy_in_force")]

    def __str__(self) -> str:
        owner = self.seller or "marketplace"
        return f"Return policy v{self.version} of {owner}"

    def reason_labels(self) -> list[str]:
        return [Reason(code).label for code in self.allowed_reasons if code in Reason.values]

    def condition_labels(self) -> list[str]:
        return [
            Condition(code).label for code in self.allowed_conditions if code in Condition.values
        ]


class ReturnRequest(models.Model):
    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested, waiting for the seller"
        ACCEPTED = "accepted", "Accepted, waiting for the parcel"
        SHIPPED = "shipped", "Parcel on its way back"
        RECEIVED = "received", "Received by the seller"
        REFUSED = "refused", "Refused by the seller"
        CANCELLED = "cancelled", "Cancelled by the buyer"

    OPEN_STATUSES = (Status.REQUESTED, Status.ACCEPTED, Status.SHIPPED)

    order = models.ForeignKey("sellers.Order", on_delete=models.PROTECT, related_name="returns")
    # Denormalised from the order: every scoped read starts from the seller.
    seller = models.ForeignKey("sellers.Seller", on_delete=models.PROTECT, related_name="returns")
    policy = models.ForeignKey(ReturnPolicy, on_delete=models.PROTECT, related_name="requests")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    description = models.TextField(blank=True)
    resolution = models.CharField(max_length=10, choices=Resolution.choices)
    # The outbound parcel the items came in (the courier the stats are about).
    delivered_shipment = models.ForeignKey(
        "tracking.Shipment", on_delete=models.PROTECT, related_name="+"
    )
    delivered_at = models.DateTimeField(help_text="When the order was delivered.")
    refund_amount = models.BigIntegerField(help_text="Price of the returned items, minor units.")
    currency = models.CharField(max_length=3)
    return_shipment = models.OneToOneField(
        "tracking.Shipment", null=True, blank=True, on_delete=models.PROTECT,
        related_name="return_request",
    )  # fmt: skip
    refused_reason = models.CharField(max_length=500, blank=True)
    requested_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["order"],
                condition=Q(status__in=["requested", "accepted", "shipped"]),
                name="return_one_open_per_order",
            ),  # fmt: skip
            models.CheckConstraint(
                condition=Q(refund_amount__gte=0), name="return_refund_not_negative"
            ),
            models.CheckConstraint(
                condition=~Q(status="refused") | ~Q(refused_reason=""),
                name="return_refusal_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["seller", "status"], name="return_seller_status"),
            models.Index(fields=["seller", "-requested_at"], name="return_seller_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} ({self.status})"

    @property
    def reference(self) -> str:
        return f"RET-{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class ReturnItem(models.Model):
    request = models.ForeignKey(ReturnRequest, on_delete=models.CASCADE, related_name="items")
    order_item = models.ForeignKey("sellers.OrderItem", on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    condition = models.CharField(max_length=10, choices=Condition.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["request", "order_item"], name="return_item_once"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="return_item_quantity_1"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.order_item.name}"


class ReturnPhoto(models.Model):
    request = models.ForeignKey(ReturnRequest, on_delete=models.CASCADE, related_name="photos")
    file = models.FileField(upload_to="returns/%Y/%m/")
    content_type = models.CharField(max_length=20)
    size_bytes = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.file.name


class ReturnEvent(models.Model):
    """The audit trail of a request: who moved it from which status to which, and why."""

    request = models.ForeignKey(ReturnRequest, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=10, blank=True)
    to_status = models.CharField(max_length=10)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    actor_label = models.CharField(max_length=150)
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["request", "created_at"], name="return_event_request")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.from_status}->{self.to_status}"
