"""Admin pages: the ledger and the audit trail are read-only (append-only rows); payouts change
only through the finance console's services; commission rates go through their service."""

from django.contrib import admin

from payouts.models import (
    JournalEntry,
    JournalLine,
    Payout,
    PayoutEvent,
    ReleaseBatch,
    SellerCommission,
)
from payouts.services import seller_commission_set


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PayoutEventInline(admin.TabularInline):
    model = PayoutEvent
    extra = 0
    can_delete = False
    fields = ["created_at", "action", "from_status", "to_status", "actor_label", "reason",
              "is_override"]  # fmt: skip
    readonly_fields = fields
    ordering = ["created_at", "id"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Payout)
class PayoutAdmin(ReadOnlyAdmin):
    list_display = ["id", "order", "seller", "status", "hold_reason", "gross_amount",
                    "net_amount", "currency", "paid_at", "release_due_at",
                    "released_at"]  # fmt: skip
    list_filter = ["status", "hold_reason", "released_with_override"]
    search_fields = ["=order__reference", "seller__name", "=payment_reference"]
    list_select_related = ["order", "seller"]
    inlines = [PayoutEventInline]


class JournalLineInline(admin.TabularInline):
    model = JournalLine
    extra = 0
    can_delete = False
    fields = ["account", "amount", "currency", "seller"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "payout", "currency", "posted_at", "posted_by", "reverses"]
    list_filter = ["kind", "currency"]
    search_fields = ["=payout__id", "=payout__order__reference"]
    inlines = [JournalLineInline]


@admin.register(PayoutEvent)
class PayoutEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "payout", "action", "from_status", "to_status", "actor_label",
                    "is_override"]  # fmt: skip
    list_filter = ["action", "is_override"]
    search_fields = ["=payout__id", "actor_label"]


@admin.register(ReleaseBatch)
class ReleaseBatchAdmin(ReadOnlyAdmin):
    list_display = ["id", "created_by", "state", "total", "released", "failed", "created_at"]


@admin.register(SellerCommission)
class SellerCommissionAdmin(admin.ModelAdmin):
    list_display = ["seller", "rate", "note", "updated_at"]
    raw_id_fields = ["seller"]
    search_fields = ["seller__name"]

    def save_model(self, request, obj, form, change):
        saved = seller_commission_set(
            seller=obj.seller, rate=obj.rate, actor=request.user, note=obj.note
        )
        obj.pk = saved.pk
