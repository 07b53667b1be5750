"""Admin pages: policies and requests are read-only here (they change through the seller
portal's and the buyer's services, which audit and move the money)."""

from django.contrib import admin

from returns.models import ReturnEvent, ReturnItem, ReturnPhoto, ReturnPolicy, ReturnRequest


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ReturnItemInline(ReadOnlyInline):
    model = ReturnItem
    fields = readonly_fields = ["order_item", "quantity", "condition"]


class ReturnPhotoInline(ReadOnlyInline):
    model = ReturnPhoto
    fields = readonly_fields = ["file", "content_type", "size_bytes", "created_at"]


class ReturnEventInline(ReadOnlyInline):
    model = ReturnEvent
    fields = readonly_fields = ["created_at", "from_status", "to_status", "actor_label", "note"]
    ordering = ["created_at", "id"]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ReturnRequest)
class ReturnRequestAdmin(ReadOnlyAdmin):
    list_display = ["id", "seller", "order", "status", "reason", "resolution", "refund_amount",
                    "requested_at"]  # fmt: skip
    list_filter = ["status", "reason", "resolution"]
    search_fields = ["order__reference", "return_shipment__tracking_number"]
    list_select_related = ["seller", "order"]
    raw_id_fields = ["order", "delivered_shipment", "return_shipment", "policy"]
    inlines = [ReturnItemInline, ReturnPhotoInline, ReturnEventInline]


@admin.register(ReturnPolicy)
class ReturnPolicyAdmin(ReadOnlyAdmin):
    list_display = ["id", "seller", "version", "accepts_returns", "window_days", "effective_from"]
    list_filter = ["accepts_returns"]
    list_select_related = ["seller"]
