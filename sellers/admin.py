from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from sellers.models import Order, Seller, SellerMember


@admin.register(Seller)
class SellerAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(SellerMember)
class SellerMemberAdmin(admin.ModelAdmin):
    list_display = ["user", "seller"]
    list_select_related = ["user", "seller"]
    autocomplete_fields = ["seller"]
    raw_id_fields = ["user"]


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = [
        "reference",
        "seller",
        "destination_country",
        "total_amount",
        "currency",
        "promised_delivery_date",
        "created_at",
    ]
    list_filter = ["destination_country", "currency"]
    search_fields = ["reference", "buyer_email", "seller__name"]
    list_select_related = ["seller"]
    autocomplete_fields = ["seller"]
    readonly_fields = ["delivery_log_link", "public_token", "created_at"]

    @admin.display(description="notifications")
    def delivery_log_link(self, order: Order) -> str:
        url = reverse("admin:notifications_delivery_log_order", args=[order.id])
        return format_html('<a href="{}">What was sent about this order</a>', url)
