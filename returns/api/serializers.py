"""The returns API's shapes: inputs checked here, rules checked by returns.services."""

from rest_framework import serializers

from returns.models import Condition, Reason, Resolution, ReturnRequest
from tracking.api.serializers import ShipmentDetailOutput, ShipmentOutput


class ErrorOutput(serializers.Serializer):
    """The API's one error body (core/api/exceptions.py)."""

    code = serializers.CharField(help_text="Machine-readable, e.g. invalid_transition.")
    message = serializers.CharField(help_text="For a human: says what is wrong and why.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()), required=False,
        help_text="Per field, when one field is at fault.",
    )  # fmt: skip


class RefusalOutput(serializers.Serializer):
    """DRF's own refusals before the view runs (401 no credentials, 403 operation not allowed)."""

    detail = serializers.CharField()


class ReturnListFilterInput(serializers.Serializer):
    status = serializers.ChoiceField(choices=ReturnRequest.Status.choices, required=False)
    order_reference = serializers.CharField(required=False, max_length=64)
    requested_from = serializers.DateTimeField(
        required=False, help_text="Requested at or after (ISO 8601 with offset)."
    )
    requested_to = serializers.DateTimeField(
        required=False, help_text="Requested before (excluded)."
    )

    def validate(self, attrs):
        start, end = attrs.get("requested_from"), attrs.get("requested_to")
        if start and end and start >= end:
            raise serializers.ValidationError({"requested_to": ["Must be after requested_from."]})
        return attrs


class ReturnRefuseInput(serializers.Serializer):
    # Blank is let through on purpose: the service refuses it with its own message (one rule).
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=500,
        help_text="Why the return is refused: the buyer reads it. Required.",
    )  # fmt: skip


class ReturnItemOutput(serializers.Serializer):
    order_item = serializers.IntegerField(source="order_item_id")
    sku = serializers.CharField(source="order_item.sku")
    name = serializers.CharField(source="order_item.name")
    unit_amount = serializers.IntegerField(
        source="order_item.unit_amount", help_text="Minor units of the return's currency."
    )
    quantity = serializers.IntegerField()
    condition = serializers.ChoiceField(choices=Condition.choices)


class ReturnStepOutput(serializers.Serializer):
    from_status = serializers.CharField(allow_blank=True, help_text="Empty for the request.")
    to_status = serializers.ChoiceField(choices=ReturnRequest.Status.choices)
    actor = serializers.CharField(source="actor_label", help_text="Username, token:…, buyer.")
    note = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()


class ReturnOutput(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    order = serializers.IntegerField(source="order_id")
    order_reference = serializers.CharField(source="order.reference")
    seller = serializers.IntegerField(source="seller_id")
    status = serializers.ChoiceField(choices=ReturnRequest.Status.choices)
    reason = serializers.ChoiceField(choices=Reason.choices)
    description = serializers.CharField(allow_blank=True)
    resolution = serializers.ChoiceField(choices=Resolution.choices)
    refund_amount = serializers.IntegerField(help_text="Price of the returned items, minor units.")
    currency = serializers.CharField(help_text="ISO 4217.")
    refused_reason = serializers.SerializerMethodField()
    items = ReturnItemOutput(many=True)
    delivered_shipment = serializers.IntegerField(
        source="delivered_shipment_id", help_text="The parcel the items came in."
    )
    delivered_at = serializers.DateTimeField()
    return_shipment = ShipmentOutput(allow_null=True, help_text="The parcel going back.")
    requested_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    received_at = serializers.DateTimeField(allow_null=True)
    updated_at = serializers.DateTimeField()

    def get_refused_reason(self, request) -> str | None:
        return request.refused_reason or None


class ReturnDetailOutput(ReturnOutput):
    return_shipment = ShipmentDetailOutput(allow_null=True)
    policy_version = serializers.IntegerField(source="policy.version")
    photo_count = serializers.SerializerMethodField()
    steps = ReturnStepOutput(source="events", many=True)

    def get_photo_count(self, request) -> int:
        return len(request.photos.all())  # prefetched by the selector
