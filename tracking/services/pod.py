"""Proof of delivery a seller uploads when the courier cannot be queried (the long tail).

pod_upload() -> a new PodUploadVersion (kept for ever), pending review; the POD shows it
                unless a version was already approved (an approved POD is immutable)
pod_review(approve) -> the pending version becomes the POD; a "delivered" event through
                       events_ingest, so the one status rule decides;
pod_review(reject) -> the version is rejected, reason kept; an approved POD stays as it was
"""

from __future__ import annotations

from datetime import datetime

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from core.actors import actor_parts
from core.errors import ApplicationError, PermissionDenied
from core.files import IMAGE_KINDS, PDF_KIND, NotTheFileItClaims, clean_upload
from tracking.carriers.base import CarrierEvent, TrackingResult
from tracking.models import PodUploadVersion, ProofOfDelivery, Shipment, TrackingEvent
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

    Every upload is a new PodUploadVersion (who, when, which file), kept for ever. Until finance
    approves one, the POD shows the latest upload (pending); once a version is approved the POD
    is immutable: a later upload waits as a new pending version and changes nothing until
    finance approves it (an earlier version still waiting is superseded). Locks the POD row.
    Raises ApplicationError when the file is not an image/PDF or too large, when the date is in
    the future or before the order existed, or when the courier's own POD already exists (it
    is authoritative).
    """
    if upload.size > POD_MAX_BYTES:
        raise ApplicationError("The proof must be 10 MB or less.", code="file_too_large",
                               field="file")  # fmt: skip
    try:
        # An image is decoded whole and stored without its metadata (EXIF, GPS); a PDF needs
        # its header and trailer.
        clean = clean_upload(upload, allowed=POD_KINDS)
    except NotTheFileItClaims as exc:
        raise ApplicationError(f"The proof must be a PDF, PNG, JPEG or WebP file: {exc}.",
                               code="unsupported_file", field="file") from None  # fmt: skip
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
    pod = existing
    if pod is None:
        pod = ProofOfDelivery.objects.create(
            shipment=shipment, source=ProofOfDelivery.Source.SELLER_UPLOAD,
            delivered_at=delivered_at, review=ProofOfDelivery.Review.PENDING,
        )  # fmt: skip
    pod.versions.filter(review=PodUploadVersion.Review.PENDING).update(
        review=PodUploadVersion.Review.SUPERSEDED
    )
    last = pod.versions.order_by("-number").values_list("number", flat=True).first() or 0
    user, label = actor_parts(actor)
    version = PodUploadVersion(
        pod=pod, number=last + 1, delivered_at=delivered_at, signed_by=signed_by[:200],
        uploaded_by=user, uploaded_by_label=label,
    )  # fmt: skip
    version.uploaded_file.save(
        f"{shipment.public_token[:12]}-v{version.number}-{clean.content.name}"[-100:],
        clean.content,
        save=False,
    )
    version.save()
    if pod.review != ProofOfDelivery.Review.APPROVED:  # nothing approved yet: show the latest
        _show(pod, version)
        pod.review = ProofOfDelivery.Review.PENDING
        pod.reviewed_by, pod.reviewed_at, pod.review_note = None, None, ""
        pod.save()
    return pod


def _show(pod: ProofOfDelivery, version: PodUploadVersion) -> None:
    """Make ``version`` the proof the POD shows (its file, date and signatory)."""
    pod.source = ProofOfDelivery.Source.SELLER_UPLOAD
    pod.delivered_at = version.delivered_at
    pod.signed_by = version.signed_by
    pod.location_type = ""
    pod.documents = []
    pod.uploaded_file.name = version.uploaded_file.name


@transaction.atomic
def pod_review(*, pod: ProofOfDelivery, approve: bool, actor, note: str = "") -> ProofOfDelivery:
    """Finance approves or rejects the version of a seller's proof that waits for review.
    Needs tracking.review_pod; a rejection needs a reason. Approval makes that version the POD
    (it replaces an earlier approved version only now, by finance's decision) and records a
    delivery event, so the status rule applies as usual. Raises ApplicationError when no
    version waits."""
    if not actor.has_perm("tracking.review_pod"):
        raise PermissionDenied("Reviewing proofs of delivery needs the finance permission.")
    pod = ProofOfDelivery.objects.select_for_update().select_related("shipment").get(pk=pod.pk)
    version = pod.versions.filter(review=PodUploadVersion.Review.PENDING).first()
    if version is None:
        raise ApplicationError("This proof was already reviewed.", code="already_reviewed")
    if not approve and not note.strip():
        raise ApplicationError("Say why the proof is rejected.", field="note")
    now = timezone.now()
    version.review = (
        PodUploadVersion.Review.APPROVED if approve else (PodUploadVersion.Review.REJECTED)
    )
    version.reviewed_by, version.reviewed_at, version.review_note = actor, now, note.strip()[:500]
    version.save()
    if approve:
        _show(pod, version)
    if approve or pod.review == ProofOfDelivery.Review.PENDING:
        # A rejected later version leaves an approved POD as it was.
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
