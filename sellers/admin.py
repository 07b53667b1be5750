from django import forms
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from core.money import UnknownCurrency, currency_code
from core.phones import InvalidPhoneNumber, to_e164
from sellers.models import Order, OrderItem, Seller, SellerBranding, SellerMember
from sellers.services import seller_branding_errors, seller_branding_update


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


class OrderItemInline(admin.TabularInline):
    model = OrderItem
    extra = 0


class OrderAdminForm(forms.ModelForm):
    """The intake rules of order_create at their fields: the phone read in the destination's
    numbering plan and stored in E.164, an ISO 4217 currency."""

    class Meta:
        model = Order
        fields = "__all__"  # noqa: DJ007 - the admin shows every field of the order

    def clean_currency(self) -> str:
        try:
            return currency_code(self.cleaned_data["currency"])
        except UnknownCurrency as exc:
            raise forms.ValidationError(str(exc), code="unknown_currency") from None

    def clean(self):
        data = super().clean()
        raw = (data.get("buyer_phone") or "").strip()
        if raw and "buyer_phone" not in self.errors:
            try:
                data["buyer_phone"] = to_e164(
                    raw,
                    country=data.get("destination_country") or "FR",
                    postcode=data.get("destination_postcode") or "",
                )
            except InvalidPhoneNumber as exc:
                self.add_error("buyer_phone", str(exc))
        return data


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    form = OrderAdminForm
    inlines = [OrderItemInline]
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


class SellerBrandingForm(forms.ModelForm):
    """Shows every refused value at its field, with the rule's own message (contrast ratio and
    the minimum, https only…), before the service is called."""

    class Meta:
        model = SellerBranding
        fields = [
            "seller",
            "logo_url",
            "primary_color",
            "accent_color",
            "message",
            "store_url",
            "contact_url",
            "returns_url",
        ]

    def clean(self):
        cleaned = super().clean()
        checked = ("logo_url", "primary_color", "accent_color", "message")
        checked += ("store_url", "contact_url", "returns_url")
        values = {name: cleaned.get(name) or "" for name in checked if name not in self.errors}
        for field, message in seller_branding_errors(**values).items():
            self.add_error(field, message)
        return cleaned


@admin.register(SellerBranding)
class SellerBrandingAdmin(admin.ModelAdmin):
    form = SellerBrandingForm
    list_display = ["seller", "primary_color", "accent_color", "updated_at", "updated_by"]
    list_select_related = ["seller", "updated_by"]
    search_fields = ["seller__name", "seller__slug"]
    autocomplete_fields = ["seller"]
    readonly_fields = ["updated_at", "updated_by"]

    def get_readonly_fields(self, request, obj=None):
        # A branding belongs to its seller for good: moving it would leave a seller unbranded.
        fields = super().get_readonly_fields(request, obj)
        return [*fields, "seller"] if obj is not None else fields

    def save_model(self, request, obj, form, change):
        # Through the service, like every write: same checks, same record of who changed it.
        data = form.cleaned_data
        branding = seller_branding_update(
            seller=obj.seller if change else data["seller"],
            logo_url=data["logo_url"],
            primary_color=data["primary_color"],
            accent_color=data["accent_color"],
            message=data["message"],
            store_url=data["store_url"],
            contact_url=data["contact_url"],
            returns_url=data["returns_url"],
            actor=request.user,
        )
        obj.pk = branding.pk
        obj.refresh_from_db()
