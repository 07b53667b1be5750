import json

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from core.errors import ApplicationError
from core.money import UnknownCurrency, currency_code
from core.phones import InvalidPhoneNumber, to_e164
from privacy import services as privacy
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
    actions = ["export_buyer_data", "erase_buyer_data"]

    @admin.action(description="Export the buyer's data (JSON, right of access)",
                  permissions=["export_buyer"])  # fmt: skip
    def export_buyer_data(self, request, queryset):
        order = self._one_order(request, queryset)
        if order is None:
            return None
        data = privacy.buyer_data_export(actor=request.user, order_reference=order.reference)
        response = HttpResponse(
            json.dumps(data, ensure_ascii=False, indent=2), content_type="application/json"
        )
        response["Content-Disposition"] = f'attachment; filename="buyer-{order.pk}.json"'
        return response

    @admin.action(description="Erase the buyer's personal data (right to erasure)",
                  permissions=["erase_buyer"])  # fmt: skip
    def erase_buyer_data(self, request, queryset):
        order = self._one_order(request, queryset)
        if order is None:
            return None
        if request.POST.get("confirm") != "yes":
            # Irreversible: say what goes, then ask once more.
            return TemplateResponse(
                request,
                "admin/privacy/erase_confirm.html",
                {**self.admin_site.each_context(request), "order": order,
                 "action": "erase_buyer_data", "opts": self.model._meta},
            )  # fmt: skip
        try:
            audit = privacy.buyer_data_erase(actor=request.user, order_reference=order.reference)
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return None
        self.message_user(
            request,
            f"Erased the buyer's personal data on {audit.counts['orders']} order(s) "
            f"(audit #{audit.pk}).",
            messages.SUCCESS,
        )
        return None

    def _one_order(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one order of the buyer.", messages.ERROR)
            return None
        return queryset.get()

    def has_export_buyer_permission(self, request) -> bool:
        return request.user.has_perm("privacy.export_buyer_data")

    def has_erase_buyer_permission(self, request) -> bool:
        return request.user.has_perm("privacy.erase_buyer_data")

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
