from rest_framework import serializers

from core.converters import MAX_DB_ID
from tracking import carriers
from tracking.links import public_order_url, public_shipment_url
from tracking.models import (
    OTHER_CARRIER,
    ProofOfDelivery,
    Shipment,
    StatusChoices,
    TrackingEvent,
)


def carrier_choices() -> list[tuple[str, str]]:
    return [(a.slug, a.name) for a in carriers.all_adapters()] + [
        (OTHER_CARRIER, "Another courier (not queried: name it)")
    ]


class ShipmentRegisterInput(serializers.Serializer):
    order = serializers.IntegerField(
        min_value=1, max_value=MAX_DB_ID, help_text="Id of the order (see POST /orders/)."
    )
    carrier = serializers.ChoiceField(
        choices=[], required=False, allow_null=True, default=None,
        help_text="Courier slug (GET /carriers/); omit it to detect it from the number.",
    )  # fmt: skip
    tracking_number = serializers.CharField(max_length=80)
    carrier_name = serializers.CharField(
        max_length=100,
        required=False,
        default="",
        help_text='With carrier "other": who carries it.',
    )
    carrier_tracking_url = serializers.URLField(max_length=500, required=False, default="")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["carrier"].choices = carrier_choices()


class CarrierDetectInput(serializers.Serializer):
    tracking_number = serializers.CharField(max_length=80)


class CarrierCandidateOutput(serializers.Serializer):
    carrier = serializers.CharField()
    confidence = serializers.FloatField()
    checksum_valid = serializers.BooleanField(allow_null=True)


class CarrierDetectOutput(serializers.Serializer):
    tracking_number = serializers.CharField()
    ambiguous = serializers.BooleanField()
    candidates = CarrierCandidateOutput(many=True)


class PodUploadInput(serializers.Serializer):
    file = serializers.FileField(help_text="PDF, PNG, JPEG or WebP, 10 MB at most.")
    delivered_at = serializers.DateTimeField()
    signed_by = serializers.CharField(max_length=200, required=False, default="")


class ShipmentListFilterInput(serializers.Serializer):
    status = serializers.ChoiceField(choices=StatusChoices.choices, required=False)
    carrier = serializers.CharField(required=False, max_length=40)
    seller = serializers.IntegerField(required=False, min_value=1, max_value=MAX_DB_ID)
    order_reference = serializers.CharField(required=False, max_length=64)
    q = serializers.CharField(
        required=False,
        max_length=100,
        help_text=(
            "A tracking number (any spacing/case), or a part of an order reference, buyer email"
            " or name (accents and case aside)."
        ),
    )


class TrackingEventOutput(serializers.ModelSerializer):
    location = serializers.SerializerMethodField()
    substatus = serializers.SerializerMethodField()
    code = serializers.CharField(source="carrier_code")

    class Meta:
        model = TrackingEvent
        fields = ["occurred_at", "status", "substatus", "code", "message", "location", "source"]

    def get_location(self, event) -> dict[str, str]:
        return {"city": event.city, "postcode": event.postcode, "country": event.country}

    def get_substatus(self, event) -> str | None:
        return event.substatus or None


class EventListFilterInput(serializers.Serializer):
    shipment = serializers.IntegerField(required=False, min_value=1, max_value=MAX_DB_ID)
    status = serializers.ChoiceField(choices=StatusChoices.choices, required=False)


class EventFeedOutput(TrackingEventOutput):
    """An event in the feed, with its own id and its shipment's."""

    shipment = serializers.IntegerField(source="shipment_id")
    tracking_number = serializers.CharField(source="shipment.tracking_number")

    class Meta(TrackingEventOutput.Meta):
        fields = ["id", "shipment", "tracking_number", "received_at",
                  *TrackingEventOutput.Meta.fields]  # fmt: skip


class ProofOfDeliveryOutput(serializers.ModelSerializer):
    class Meta:
        model = ProofOfDelivery
        fields = ["delivered_at", "signed_by", "location_type", "documents", "source", "review"]


class ShipmentOutput(serializers.ModelSerializer):
    order_reference = serializers.CharField(source="order.reference")
    substatus = serializers.SerializerMethodField()
    tracking_page_url = serializers.SerializerMethodField()
    carrier_tracking_url = serializers.SerializerMethodField()

    class Meta:
        model = Shipment
        fields = [
            "id",
            "order",
            "order_reference",
            "seller",
            "carrier",
            "carrier_name",
            "tracking_number",
            "status",
            "substatus",
            "last_event_at",
            "estimated_delivery_at",
            "estimated_delivery_end_at",
            "delivered_at",
            "tracking_page_url",
            "carrier_tracking_url",
            "created_at",
        ]

    def get_substatus(self, shipment) -> str | None:
        return shipment.substatus or None

    def get_tracking_page_url(self, shipment) -> str:
        return public_shipment_url(shipment)

    def get_carrier_tracking_url(self, shipment) -> str:
        if shipment.carrier == OTHER_CARRIER:
            return shipment.carrier_tracking_url
        try:
            return carriers.get_adapter(shipment.carrier).tracking_url(shipment.tracking_number)
        except carriers.UnknownCarrier:
            return ""


class ShipmentDetailOutput(ShipmentOutput):
    events = TrackingEventOutput(many=True)
    pod = serializers.SerializerMethodField()

    class Meta(ShipmentOutput.Meta):
        fields = [
            *ShipmentOutput.Meta.fields,
            "next_sync_at",
            "last_synced_at",
            "last_sync_error",
            "pod",
            "events",
        ]

    def get_pod(self, shipment) -> dict | None:
        pod = getattr(shipment, "pod", None)
        return ProofOfDeliveryOutput(pod).data if pod else None


class OrderTrackingOutput(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    seller = serializers.IntegerField(source="seller_id")
    tracking_page_url = serializers.SerializerMethodField()
    shipments = ShipmentOutput(many=True)

    def get_tracking_page_url(self, order) -> str:
        return public_order_url(order)


class CarrierOutput(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    batch_size = serializers.IntegerField()
    supports_push = serializers.BooleanField()
    tracking_url_template = serializers.CharField()
