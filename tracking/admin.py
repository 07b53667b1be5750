from django.contrib import admin

from tracking.models import CarrierSyncState, ProofOfDelivery, Shipment, TrackingEvent


class TrackingEventInline(admin.TabularInline):
    model = TrackingEvent
    extra = 0
    can_delete = False
    ordering = ["-occurred_at", "-id"]
    fields = [
        "occurred_at",
        "status",
        "substatus",
        "carrier_code",
        "message",
        "city",
        "postcode",
        "country",
        "source",
        "received_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class ProofOfDeliveryInline(admin.StackedInline):
    model = ProofOfDelivery
    extra = 0
    readonly_fields = ["source_event", "created_at", "updated_at"]


@admin.register(Shipment)
class ShipmentAdmin(admin.ModelAdmin):
    list_display = [
        "tracking_number",
        "carrier",
        "status",
        "substatus",
        "seller",
        "order",
        "last_event_at",
        "estimated_delivery_at",
        "next_sync_at",
    ]
    list_filter = ["status", "carrier"]
    search_fields = ["=tracking_number", "=order__reference", "seller__name"]
    list_select_related = ["seller", "order"]
    raw_id_fields = ["order", "seller"]
    readonly_fields = [
        "status",
        "substatus",
        "last_event_at",
        "delivered_at",
        "last_synced_at",
        "sync_error_count",
        "last_sync_error",
        "public_token",
        "created_at",
        "updated_at",
    ]
    inlines = [ProofOfDeliveryInline, TrackingEventInline]
    date_hierarchy = "created_at"


@admin.register(TrackingEvent)
class TrackingEventAdmin(admin.ModelAdmin):
    list_display = [
        "occurred_at",
        "shipment",
        "status",
        "substatus",
        "carrier_code",
        "message",
        "city",
        "country",
        "source",
    ]
    list_filter = ["status", "source"]
    search_fields = ["=shipment__tracking_number", "carrier_code"]
    list_select_related = ["shipment"]
    raw_id_fields = ["shipment"]
    readonly_fields = ["dedupe_key", "received_at"]


@admin.register(ProofOfDelivery)
class ProofOfDeliveryAdmin(admin.ModelAdmin):
    list_display = ["shipment", "delivered_at", "signed_by", "location_type", "source"]
    list_filter = ["source", "location_type"]
    search_fields = ["=shipment__tracking_number", "signed_by"]
    list_select_related = ["shipment"]
    raw_id_fields = ["shipment", "source_event"]


@admin.register(CarrierSyncState)
class CarrierSyncStateAdmin(admin.ModelAdmin):
    """Operators' view of courier health: who is failing, why, and until when we wait."""

    list_display = [
        "carrier",
        "consecutive_failures",
        "backoff_until",
        "last_error_code",
        "last_success_at",
        "last_failure_at",
        "requests_total",
        "failures_total",
    ]
    readonly_fields = [f.name for f in CarrierSyncState._meta.fields]
