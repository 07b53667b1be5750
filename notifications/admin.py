"""Admin: rules (the seller-portal editor is a later issue), the delivery log, webhook
endpoints, events, deliveries and every attempt, with replay."""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

import core.converters  # noqa: F401 - registers the <id:…> converter
from notifications.models import (
    DeliveryFeedback,
    EventType,
    Notification,
    NotificationRule,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from notifications.selectors import delivery_log
from notifications.services import (
    webhook_endpoint_enable,
    webhook_endpoint_rotate_secret,
    webhook_replay,
)
from notifications.urlguard import webhook_url_error


@admin.register(NotificationRule)
class NotificationRuleAdmin(admin.ModelAdmin):
    list_display = ["trigger", "audience", "channel", "owner", "enabled", "updated_at"]
    list_editable = ["enabled"]
    list_filter = [("seller", admin.EmptyFieldListFilter), "channel", "audience", "trigger"]
    search_fields = ["seller__name", "seller__slug"]
    raw_id_fields = ["seller"]
    ordering = ["seller_id", "trigger", "audience", "channel"]

    @admin.display(description="Applies to", ordering="seller__name")
    def owner(self, rule):
        return rule.seller or "Marketplace default"


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    """The buyer delivery log: search by order reference or tracking number; each row links to
    the whole log of its order and of its parcel (emails, SMS and webhooks together)."""

    list_display = [
        "created_at",
        "channel",
        "trigger",
        "to",
        "state",
        "sent_at",
        "attempt_count",
        "last_error",
        "logs",
    ]
    list_filter = ["state", "channel", "trigger"]
    search_fields = ["=order__reference", "=shipment__tracking_number"]
    list_select_related = ["order", "shipment"]
    date_hierarchy = "created_at"
    exclude = ["recipient"]  # staff see the masked address only
    readonly_fields = ["to"]

    @admin.display(description="To")
    def to(self, note):
        return note.masked_recipient

    @admin.display(description="Delivery log")
    def logs(self, note):
        return format_html(
            '<a href="{}">order {}</a> · <a href="{}">parcel {}</a>',
            reverse("admin:notifications_delivery_log_order", args=[note.order_id]),
            note.order.reference,
            reverse("admin:notifications_delivery_log_shipment", args=[note.shipment_id]),
            note.shipment.tracking_number,
        )

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "log/order/<id:order_id>/",
                view(self.order_log),
                name="notifications_delivery_log_order",
            ),
            path(
                "log/shipment/<id:shipment_id>/",
                view(self.shipment_log),
                name="notifications_delivery_log_shipment",
            ),
            *super().get_urls(),
        ]

    def order_log(self, request, order_id: int):
        from sellers.models import Order

        order = get_object_or_404(Order, pk=order_id)
        return self._log(request, f"Delivery log of order {order.reference}", order_id=order_id)

    def shipment_log(self, request, shipment_id: int):
        from tracking.models import Shipment

        shipment = get_object_or_404(Shipment, pk=shipment_id)
        title = f"Delivery log of parcel {shipment.tracking_number}"
        return self._log(request, title, shipment_id=shipment_id)

    def _log(self, request, title, **scope):
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "entries": delivery_log(**scope),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "notifications/admin/delivery_log.html", context)


class WebhookEndpointForm(forms.ModelForm):
    event_types = forms.MultipleChoiceField(
        choices=EventType.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["seller", "name", "url", "event_types", "contact_email", "is_active"]

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        if error := webhook_url_error(url):
            raise forms.ValidationError(error)
        return url


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = [
        "name",
        "owner",
        "url",
        "is_active",
        "consecutive_failures",
        "failing_since",
        "disabled_at",
    ]
    list_filter = ["is_active", ("seller", admin.EmptyFieldListFilter)]
    search_fields = ["name", "url", "seller__name"]
    raw_id_fields = ["seller"]
    readonly_fields = [
        "secret",
        "previous_secret_expires_at",
        "disabled_at",
        "disabled_reason",
        "failing_since",
        "consecutive_failures",
        "created_at",
    ]
    actions = ["enable", "rotate_secret", "replay_last_three_days"]

    @admin.display(description="Owner", ordering="seller__name")
    def owner(self, endpoint):
        return endpoint.seller or "Marketplace (CRM)"

    @admin.action(description="Enable (after fixing the receiver)")
    def enable(self, request, queryset):
        for endpoint in queryset:
            webhook_endpoint_enable(endpoint_id=endpoint.id)
        self.message_user(request, f"{queryset.count()} endpoint(s) enabled.")

    @admin.action(description="Rotate the signing secret")
    def rotate_secret(self, request, queryset):
        for endpoint in queryset:
            webhook_endpoint_rotate_secret(endpoint_id=endpoint.id)
        hours = settings.WEBHOOK_SECRET_ROTATION_OVERLAP_SECONDS / 3600
        self.message_user(
            request,
            f"New secrets issued: give them to the receivers. The previous secrets sign beside "
            f"them for {hours:g} hours.",
        )

    @admin.action(description="Replay every event of the last three days to it")
    def replay_last_three_days(self, request, queryset):
        from datetime import timedelta

        from django.utils import timezone

        since = timezone.now() - timedelta(days=3)
        count = sum(
            len(webhook_replay(since=since, endpoint_id=endpoint.id)) for endpoint in queryset
        )
        self.message_user(request, f"{count} deliveries queued.", messages.SUCCESS)


class WebhookDeliveryInline(admin.TabularInline):
    model = WebhookDelivery
    extra = 0
    can_delete = False
    fields = [
        "endpoint",
        "state",
        "attempt_count",
        "last_status_code",
        "last_attempt_at",
        "next_attempt_at",
        "last_error",
    ]
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    """Filter by date (date hierarchy), select all, "Replay": everything since a date."""

    list_display = ["created_at", "type", "event_id", "seller", "shipment", "order"]
    list_filter = ["type"]
    search_fields = ["=event_id", "=shipment__tracking_number", "=order__reference"]
    list_select_related = ["seller", "shipment", "order"]
    date_hierarchy = "created_at"
    inlines = [WebhookDeliveryInline]
    actions = ["replay"]

    @admin.action(description="Replay the selected events to their endpoints")
    def replay(self, request, queryset):
        ids = webhook_replay(event_ids=list(queryset.values_list("id", flat=True)))
        self.message_user(request, f"{len(ids)} deliveries queued.", messages.SUCCESS)


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    ordering = ["-attempted_at"]
    fields = ["attempted_at", "status_code", "succeeded", "latency_ms", "error", "response_excerpt"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = [
        "event",
        "endpoint",
        "state",
        "attempt_count",
        "last_status_code",
        "last_attempt_at",
        "next_attempt_at",
        "dead_at",
    ]
    list_filter = ["state", "endpoint"]
    search_fields = ["=event__event_id"]
    list_select_related = ["event", "endpoint"]
    inlines = [WebhookAttemptInline]
    actions = ["replay"]

    @admin.action(description="Replay the selected deliveries")
    def replay(self, request, queryset):
        count = 0
        for endpoint_id, event_id in queryset.values_list("endpoint_id", "event_id"):
            count += len(webhook_replay(event_ids=[event_id], endpoint_id=endpoint_id))
        self.message_user(request, f"{count} deliveries queued.", messages.SUCCESS)


@admin.register(DeliveryFeedback)
class DeliveryFeedbackAdmin(admin.ModelAdmin):
    """What providers reported after sending (read-only: it is their word, not ours)."""

    list_display = ["occurred_at", "channel", "masked_address", "event", "suppresses", "provider"]
    list_filter = ["channel", "event", "suppresses", "provider"]
    search_fields = ["address", "provider_message_id"]
    readonly_fields = [f.name for f in DeliveryFeedback._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
