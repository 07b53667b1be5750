from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.converters import MAX_DB_ID
from sellers.models import MAX_ORDER_AMOUNT, Order, OrderItem, OrderProtection, ServiceLevel
from sellers.protection import ADVICE


class OrderItemInput(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    name = serializers.CharField(max_length=200)
    quantity = serializers.IntegerField(min_value=1, max_value=10_000)
    unit_amount = serializers.IntegerField(
        min_value=0, max_value=MAX_ORDER_AMOUNT, help_text="Minor units (cents)."
    )


class OrderCreateInput(serializers.Serializer):
    seller = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_DB_ID,
        help_text="Required with a marketplace token.",
    )
    reference = serializers.CharField(max_length=64)
    # A trillion cents is far above any order; it keeps every amount well inside bigint.
    total_amount = serializers.IntegerField(
        min_value=0, max_value=MAX_ORDER_AMOUNT, help_text="Minor units (cents)."
    )
    currency = serializers.RegexField(
        r"^[A-Za-z]{3}$", default="EUR", help_text="ISO 4217 code in circulation (EUR, JPY, KWD…)."
    )
    buyer_name = serializers.CharField(max_length=200, required=False, default="")
    buyer_email = serializers.EmailField(required=False, default="")
    buyer_phone = serializers.CharField(
        max_length=32, required=False, default="", allow_blank=True,
        help_text="As the buyer typed it; read in the destination's numbering plan (an overseas "
        "department's own, from the country or the French postcode) and stored in E.164.",
    )  # fmt: skip
    buyer_locale = serializers.ChoiceField(choices=[c for c, _ in settings.LANGUAGES], default="fr")
    destination_postcode = serializers.CharField(max_length=16, required=False, default="")
    destination_country = serializers.RegexField(r"^[A-Za-z]{2}$", default="FR")
    promised_delivery_date = serializers.DateField(required=False, allow_null=True, default=None)
    items = OrderItemInput(many=True, required=False, max_length=500,
                           help_text="Optional order lines (what buyers may return).")  # fmt: skip
    expected_ship_date = serializers.DateField(
        required=False, allow_null=True, default=None,
        help_text="When the parcel must reach the courier (default: today + handling days).",
    )  # fmt: skip
    service_level = serializers.ChoiceField(choices=ServiceLevel.choices, default="standard")


class ProtectionReasonOutput(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    advice = serializers.CharField(help_text="What the seller can do about it.")


class ProtectionOutput(serializers.Serializer):
    """Delivery performance protection of an order (README "SLA"): a review system may strike a
    late-delivery complaint on a protected order as "not caused by the seller"."""

    protected = serializers.BooleanField()
    reasons = serializers.SerializerMethodField()
    evidence = serializers.JSONField(
        help_text="Per parcel: confirmation and first-scan times and each condition "
        "(code, ok: true/false/null, detail)."
    )
    computed_at = serializers.DateTimeField()

    @extend_schema_field(ProtectionReasonOutput(many=True))
    def get_reasons(self, protection) -> list[dict]:
        labels = dict(OrderProtection.Reason.choices)
        return [{"code": r, "label": labels.get(r, r), "advice": ADVICE.get(r, "")}
                for r in protection.reasons]  # fmt: skip


def protection_of(order) -> OrderProtection | None:
    try:
        return order.protection
    except OrderProtection.DoesNotExist:
        return None


class OrderProtectionFields(serializers.Serializer):
    """``protected`` (null until the order's parcels have been judged) and its reasons."""

    protected = serializers.SerializerMethodField()
    protection = serializers.SerializerMethodField()

    def _order(self, obj):
        return obj

    def get_protected(self, obj) -> bool | None:
        protection = protection_of(self._order(obj))
        return None if protection is None else protection.protected

    @extend_schema_field(ProtectionOutput(allow_null=True))
    def get_protection(self, obj) -> dict | None:
        protection = protection_of(self._order(obj))
        return None if protection is None else ProtectionOutput(protection).data


class OrderOutput(OrderProtectionFields, serializers.ModelSerializer):
    """An order, with its delivery performance protection (``protected``: null until judged)."""

    class Meta:
        model = Order
        fields = [
            "id",
            "seller",
            "reference",
            "total_amount",
            "currency",
            "buyer_locale",
            "destination_postcode",
            "destination_country",
            "promised_delivery_date",
            "expected_ship_date",
            "service_level",
            "created_at",
            "protected",
            "protection",
        ]


class OrderItemOutput(serializers.ModelSerializer):
    class Meta:
        model = OrderItem
        fields = ["id", "sku", "name", "quantity", "unit_amount"]


class OrderCreateOutput(OrderOutput):
    """The order created, with its lines (``protected`` is null: nothing judged yet)."""

    items = OrderItemOutput(many=True, read_only=True)

    class Meta(OrderOutput.Meta):
        fields = [*OrderOutput.Meta.fields, "items"]


class ShipmentConfirmInput(serializers.Serializer):
    order_reference = serializers.CharField(max_length=64)
    carrier = serializers.CharField(max_length=40, help_text='Courier slug, or "other".')
    tracking_number = serializers.CharField(max_length=80)
    carrier_name = serializers.CharField(max_length=100, required=False, default="")


class ShipmentConfirmOutput(serializers.Serializer):
    shipment = serializers.IntegerField()
    order_reference = serializers.CharField()
    carrier = serializers.CharField()
    tracking_number = serializers.CharField()
    created = serializers.BooleanField()


class RecommendationInput(serializers.Serializer):
    origin = serializers.RegexField(
        r"^[0-9A-Za-z]{0,3}$", required=False, default=None, allow_null=True,
        help_text="Origin département (default: the seller's).",
    )  # fmt: skip
    destination = serializers.RegexField(
        r"^[A-Za-z]{2}(-[0-9A-Za-z]{1,3})?$", help_text='"FR-75", "FR-2A", "DE".'
    )
    service_level = serializers.ChoiceField(choices=ServiceLevel.choices, default="standard")


class FiguresOutput(serializers.Serializer):
    shipments = serializers.IntegerField()
    delivery_rate = serializers.FloatField(allow_null=True)
    valid_tracking_rate = serializers.FloatField(allow_null=True)
    on_time_rate = serializers.FloatField(allow_null=True)
    late_shipment_rate = serializers.FloatField(allow_null=True)
    failed_attempt_rate = serializers.FloatField(allow_null=True)
    exception_rate = serializers.FloatField(allow_null=True)
    return_rate = serializers.FloatField(allow_null=True)
    median_transit_days = serializers.IntegerField(allow_null=True)
    p90_transit_days = serializers.IntegerField(allow_null=True)
    first_scan_lag_hours = serializers.FloatField(allow_null=True)


class CourierOptionOutput(serializers.Serializer):
    rank = serializers.IntegerField(allow_null=True)
    carrier = serializers.CharField()
    confidence = serializers.CharField()
    judged_parcels = serializers.IntegerField()
    on_time_lower_bound = serializers.FloatField()
    figures = FiguresOutput()


class RecommendationOutput(serializers.Serializer):
    origin = serializers.CharField()
    destination = serializers.CharField()
    service_level = serializers.CharField()
    recommended = serializers.CharField(allow_null=True)
    couriers = CourierOptionOutput(many=True)


class PerformanceInput(serializers.Serializer):
    seller = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_DB_ID,
        help_text="Required with a marketplace token.",
    )
    start = serializers.DateField(required=False, help_text="First day (default: 90 days ago).")
    end = serializers.DateField(required=False, help_text="Last day (default: today).")
    destination = serializers.RegexField(r"^[A-Za-z]{2}(-[0-9A-Za-z]{1,3})?$", required=False)


class LaneOutput(serializers.Serializer):
    carrier = serializers.CharField()
    destination = serializers.CharField()
    seller = FiguresOutput()
    marketplace = FiguresOutput(allow_null=True)
