from django.conf import settings
from rest_framework import serializers

from core.converters import MAX_DB_ID
from sellers.models import MAX_ORDER_AMOUNT, Order, ServiceLevel


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
    expected_ship_date = serializers.DateField(
        required=False, allow_null=True, default=None,
        help_text="When the parcel must reach the courier (default: today + handling days).",
    )  # fmt: skip
    service_level = serializers.ChoiceField(choices=ServiceLevel.choices, default="standard")


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
            "expected_ship_date",
            "service_level",
            "created_at",
        ]
