from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from core.errors import ApplicationError
from tracking.models import (
    CarrierSyncState,
    PodEvidence,
    PodUploadVersion,
    ProofOfDelivery,
    RawPayload,
    Shipment,
    TrackingEvent,
)
from tracking.services.pod import pod_review
from tracking.services.shipments import (
    shipment_void,
    tracking_number_claim_check,
    tracking_number_normalise,
)


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
    """Shown, never edited here: a POD comes from the courier or from a reviewed upload."""

    model = ProofOfDelivery
    extra = 0
    can_delete = False
    fields = ["source", "delivered_at", "signed_by", "location_type", "documents",
              "uploaded_file", "review", "reviewed_by", "reviewed_at", "review_note",
              "source_event", "courier_document", "created_at", "updated_at"]  # fmt: skip
    readonly_fields = fields

    @admin.display(description="Courier's document")
    def courier_document(self, pod: ProofOfDelivery) -> str:
        evidence = getattr(pod, "evidence", None)
        if evidence is None:
            return "—"
        if evidence.state != PodEvidence.State.STORED:
            return f"{evidence.get_state_display()} {evidence.last_error}".strip()
        return format_html(
            '<a href="{}" target="_blank" rel="noopener noreferrer">{}</a> ({}, {} bytes)',
            reverse("tracking:pod-evidence", args=[evidence.access_token]),
            evidence.kind, evidence.content_type, evidence.size,
        )  # fmt: skip

    def has_add_permission(self, request, obj=None):
        return False


class PodUploadVersionInline(admin.TabularInline):
    """Every upload of the seller's proof: who, when, which file, and finance's decision."""

    model = PodUploadVersion
    extra = 0
    can_delete = False
    ordering = ["-number"]
    fields = ["number", "uploaded_file", "delivered_at", "signed_by", "uploaded_by",
              "uploaded_by_label", "uploaded_at", "review", "reviewed_by", "reviewed_at",
              "review_note"]  # fmt: skip
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        # Whoever may see the proof sees its history.
        return request.user.has_perm("tracking.view_proofofdelivery")

    def has_change_permission(self, request, obj=None):
        return False


class ShipmentAdminForm(forms.ModelForm):
    """Staff edits obey the registration rule: the number is normalised and may not be another
    live parcel's (tracking_number_claim_check), so the admin is no way around it."""

    class Meta:
        model = Shipment
        fields = "__all__"  # noqa: DJ007 - the admin's own field list applies

    def clean(self):
        cleaned = super().clean()
        number, order = cleaned.get("tracking_number"), cleaned.get("order")
        carrier = cleaned.get("carrier")
        if not (number and order and carrier) or self.instance.voided_at:
            return cleaned
        cleaned["tracking_number"] = tracking_number_normalise(number)
        current = self.instance if self.instance.pk else None
        try:
            repeat = tracking_number_claim_check(
                order=order, carrier=carrier, tracking_number=number,
                direction=cleaned.get("direction") or Shipment.Direction.OUTBOUND,
                shipment=current,
            )  # fmt: skip
        except ApplicationError as error:
            raise forms.ValidationError({"tracking_number": error.message}) from None
        if repeat is not None:  # adding the same parcel twice
            raise forms.ValidationError({"tracking_number": "This order already has this parcel."})
        return cleaned


@admin.register(Shipment)
class ShipmentAdmin(admin.ModelAdmin):
    form = ShipmentAdminForm
    actions = ["void_shipments"]
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
        "delivery_log_link",
        "status",
        "substatus",
        "last_event_at",
        "delivered_at",
        "last_synced_at",
        "sync_error_count",
        "last_sync_error",
        "public_token",
        "voided_at",
        "void_reason",
        "created_at",
        "updated_at",
    ]
    inlines = [ProofOfDeliveryInline, TrackingEventInline]

    @admin.action(description="Void the selected parcels (cancelled or replaced: frees the number)")
    def void_shipments(self, request, queryset):
        for shipment in queryset.filter(voided_at__isnull=True):
            shipment_void(shipment=shipment, reason="Voided from the admin", actor=request.user)
        self.message_user(request, "Parcels voided.")

    date_hierarchy = "created_at"

    @admin.display(description="notifications")
    def delivery_log_link(self, shipment: Shipment) -> str:
        if shipment.pk is None:  # the add form: nothing sent yet
            return "-"
        url = reverse("admin:notifications_delivery_log_shipment", args=[shipment.id])
        return format_html('<a href="{}">What was sent about this parcel</a>', url)


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
    """Finance reviews sellers' uploaded proofs here (approve / reject actions)."""

    list_display = ["shipment", "delivered_at", "signed_by", "location_type", "source", "review"]
    list_filter = ["review", "source", "location_type"]
    readonly_fields = ["review", "reviewed_by", "reviewed_at", "review_note", "created_at"]
    actions = ["approve_uploads", "reject_uploads"]
    inlines = [PodUploadVersionInline]

    def get_readonly_fields(self, request, obj=None):
        # A POD is the courier's data or a reviewed upload: nobody rewrites it by hand, least
        # of all once approved (issue 14, item 4). New proofs arrive as uploads.
        if obj is not None:
            return [f.name for f in ProofOfDelivery._meta.concrete_fields]
        return self.readonly_fields

    @admin.action(description="Approve the selected uploaded proofs (marks the parcels delivered)")
    def approve_uploads(self, request, queryset):
        self._review(request, queryset, approve=True, note="")

    @admin.action(description="Reject the selected uploaded proofs (reason: not conclusive)")
    def reject_uploads(self, request, queryset):
        self._review(
            request, queryset, approve=False, note="Rejected from the admin: not conclusive"
        )

    def _review(self, request, queryset, *, approve: bool, note: str) -> None:
        done = 0
        # The proofs with an upload waiting (an approved POD may have a newer one waiting).
        waiting = queryset.filter(versions__review=PodUploadVersion.Review.PENDING).distinct()
        for pod in waiting:
            try:
                pod_review(pod=pod, approve=approve, actor=request.user, note=note)
                done += 1
            except ApplicationError as exc:
                self.message_user(request, f"{pod}: {exc.message}", messages.ERROR)
        self.message_user(request, f"{done} proof(s) reviewed.")

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


@admin.register(RawPayload)
class RawPayloadAdmin(admin.ModelAdmin):
    """What the courier really said: the body behind the events, kept for the retention period."""

    list_display = ["received_at", "carrier", "kind", "state", "http_status", "size_bytes", "note"]
    list_filter = ["carrier", "kind", "state"]
    search_fields = ["event_id", "url", "body_sha256"]
    date_hierarchy = "received_at"
    exclude = ["body_gzip"]
    readonly_fields = ["carrier", "kind", "state", "url", "http_status", "content_type",
                       "body_sha256", "size_bytes", "event_id", "note", "received_at",
                       "processed_at", "body_preview"]  # fmt: skip

    @admin.display(description="body")
    def body_preview(self, payload: RawPayload) -> str:
        return format_html("<pre style='white-space:pre-wrap'>{}</pre>", payload.body_text[:20000])

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(PodEvidence)
class PodEvidenceAdmin(admin.ModelAdmin):
    """Operators see which courier documents are stored, waiting or given up, and why."""

    list_display = ["pod", "carrier", "kind", "state", "attempts", "next_attempt_at", "fetched_at"]
    list_filter = ["state", "carrier"]
    fields = ["pod", "carrier", "kind", "state", "content_type", "size", "sha256", "fetched_at",
              "attempts", "next_attempt_at", "last_error", "created_at"]  # fmt: skip
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False
