from django.conf import settings
from rest_framework import serializers

from core.converters import MAX_DB_ID
from sellers.models import MAX_ORDER_AMOUNT, Order, OrderItem


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
    currency = serializers.RegexField(r"^[A-Za-z]{3}$", default="EUR")
    buyer_name = serializers.CharField(max_length=200, required=False, default="")
    buyer_email = serializers.EmailField(required=False, default="")
    buyer_phone = serializers.CharField(max_length=32, required=False, default="")
    buyer_locale = serializers.ChoiceField(choices=[c for c, _ in settings.LANGUAGES], default="fr")
    destination_postcode = serializers.CharField(max_length=16, required=False, default="")
    destination_country = serializers.RegexField(r"^[A-Za-z]{2}$", default="FR")
    promised_delivery_date = serializers.DateField(required=False, allow_null=True, default=None)
    items = OrderItemInput(many=True, required=False, max_length=500,
                           help_text="Optional order lines (what buyers may return).")  # fmt: skip


class OrderOutput(serializers.ModelSerializer):
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
            "created_at",
        ]


class OrderItemOutput(serializers.ModelSerializer):
    class Meta:
        model = OrderItem
        fields = ["id", "sku", "name", "quantity", "unit_amount"]


class OrderCreateOutput(OrderOutput):
    items = OrderItemOutput(many=True, read_only=True)

    class Meta(OrderOutput.Meta):
        fields = [*OrderOutput.Meta.fields, "items"]
