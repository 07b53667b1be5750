"""Proof of delivery a seller uploads when the courier cannot be queried (the long tail).

pod_upload() -> POD pending review (the parcel is not delivered yet for anybody)
pod_review(approve) -> a "delivered" event through events_ingest, so the one status rule
                       decides; pod_review(reject) -> stays undelivered, reason kept
"""

from __future__ import annotations

from datetime import datetime

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from core.errors import ApplicationError, PermissionDenied
from core.files import IMAGE_KINDS, PDF_KIND, sniffed_kind
from tracking.carriers.base import CarrierEvent, TrackingResult
from tracking.models import ProofOfDelivery, Shipment, TrackingEvent
from tracking.proof import delivery_predates_order
from tracking.services.ingest import ShipmentUpdate, events_ingest
from tracking.status import Status

POD_MAX_BYTES = 10 * 1024 * 1024  # a phone photo or a scanned PDF; larger is not a receipt
# A photo of the signed receipt or a scanned PDF.
POD_KINDS = IMAGE_KINDS | {PDF_KIND}


@transaction.atomic
def pod_upload(
    *, shipment: Shipment, upload: UploadedFile, delivered_at: datetime, signed_by: str = "",
    actor=None,
) -> ProofOfDelivery:  # fmt: skip
    """Attach a seller's proof (image or PDF) to a parcel, for finance to review.

    Raises ApplicationError when the file is not an image/PDF or too large, when the date is in
    the future, or when the courier's own POD already exists (it is authoritative).
    """
    if upload.size > POD_MAX_BYTES:
        raise ApplicationError("The proof must be 10 MB or less.", code="file_too_large",
                               field="file")  # fmt: skip
    if sniffed_kind(upload, allowed=POD_KINDS) is None:
        raise ApplicationError("The proof must be a PDF, PNG, JPEG or WebP file.",
                               code="unsupported_file", field="file")  # fmt: skip
    if timezone.is_naive(delivered_at):
        raise ApplicationError("The delivery time needs a time zone.", field="delivered_at")
    if delivered_at > timezone.now():
        raise ApplicationError("The delivery time is in the future.", field="delivered_at")
    if delivery_predates_order(
        delivered_at=delivered_at, order_created_at=shipment.order.created_at
    ):
        raise ApplicationError(
            "The delivery time is before the order was placed: this is not its parcel.",
            code="delivery_predates_order", field="delivered_at",
        )  # fmt: skip
    existing = ProofOfDelivery.objects.select_for_update().filter(shipment=shipment).first()
    if existing is not None and existing.source == ProofOfDelivery.Source.CARRIER:
        raise ApplicationError("The courier already proved this delivery.", code="pod_exists")
    pod = existing or ProofOfDelivery(shipment=shipment)
    pod.source = ProofOfDelivery.Source.SELLER_UPLOAD
    pod.delivered_at = delivered_at
    pod.signed_by = signed_by[:200]
    pod.location_type = ""
    pod.documents = []
    pod.review = ProofOfDelivery.Review.PENDING
    pod.reviewed_by = None
    pod.reviewed_at = None
    pod.review_note = ""
    pod.uploaded_file.save(f"{shipment.public_token[:12]}-{upload.name}"[-100:], upload,
                           save=False)  # fmt: skip
    pod.save()
    return pod


@transaction.atomic
def pod_review(*, pod: ProofOfDelivery, approve: bool, actor, note: str = "") -> ProofOfDelivery:
    """Finance approves or rejects a seller's proof. Needs tracking.review_pod; a rejection
    needs a reason. Approval records a delivery event, so the status rule applies as usual."""
    if not actor.has_perm("tracking.review_pod"):
        raise PermissionDenied("Reviewing proofs of delivery needs the finance permission.")
    pod = ProofOfDelivery.objects.select_for_update().select_related("shipment").get(pk=pod.pk)
    if pod.review != ProofOfDelivery.Review.PENDING:
        raise ApplicationError("This proof was already reviewed.", code="already_reviewed")
    if not approve and not note.strip():
        raise ApplicationError("Say why the proof is rejected.", field="note")
    now = timezone.now()
    pod.review = ProofOfDelivery.Review.APPROVED if approve else ProofOfDelivery.Review.REJECTED
    pod.reviewed_by, pod.reviewed_at, pod.review_note = actor, now, note.strip()[:500]
    pod.save()
    if approve:
        event = CarrierEvent(
            occurred_at=pod.delivered_at, status=Status.DELIVERED, substatus=None, code="POD",
            message="Delivery proven by the seller's document, approved by finance",
        )  # fmt: skip
        result = TrackingResult(pod.shipment.tracking_number, events=(event,))
        events_ingest(updates=[ShipmentUpdate(pod.shipment_id, result)],
                      source=TrackingEvent.Source.MANUAL, now=now)  # fmt: skip
    return pod
