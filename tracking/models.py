import gzip
import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from sellers.models import new_public_token
from tracking.status import Status, Substatus

StatusChoices = models.TextChoices("StatusChoices", [(s.name, s.value) for s in Status])
SubstatusChoices = models.TextChoices("SubstatusChoices", [(s.name, s.value) for s in Substatus])


# The courier of a parcel Parcelle has no adapter for: registered and shown, never polled.
OTHER_CARRIER = "other"


class RawPayload(models.Model):
    """A courier's answer or push, kept whole (gzip) so an operator can see why a status was
    derived. Deleted after RAW_PAYLOAD_RETENTION_DAYS; events keep working without it."""

    class Kind(models.TextChoices):
        POLL = "poll", "Answer to our request"
        PUSH = "push", "Pushed by the courier"

    class State(models.TextChoices):
        RECEIVED = "received", "Received, not processed yet"
        PROCESSED = "processed", "Processed"
        MALFORMED = "malformed", "Malformed: kept for inspection"

    carrier = models.CharField(max_length=40)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    state = models.CharField(max_length=12, choices=State.choices, default=State.RECEIVED)
    url = models.CharField(max_length=500, blank=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    content_type = models.CharField(max_length=120, blank=True)
    body_gzip = models.BinaryField()
    body_sha256 = models.CharField(max_length=64)
    size_bytes = models.PositiveIntegerField()
    # A push's id at the courier: the same push re-sent is stored once.
    event_id = models.CharField(max_length=128, blank=True)
    note = models.TextField(blank=True, help_text="Why it was refused, or what could not match.")
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["carrier", "event_id"],
                condition=Q(kind="push"),
                name="raw_payload_push_once",
            ),
        ]
        indexes = [models.Index(fields=["received_at"], name="raw_payload_received")]

    def __str__(self) -> str:
        return f"{self.carrier} {self.kind} {self.received_at:%Y-%m-%d %H:%M:%S}"

    @property
    def body(self) -> bytes:
        return gzip.decompress(bytes(self.body_gzip))

    @property
    def body_text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class ShipmentQuerySet(models.QuerySet):
    def for_seller(self, seller_id: int | None):
        """Scope to one seller (None: the whole marketplace)."""
        return self if seller_id is None else self.filter(seller_id=seller_id)

    def due_for_sync(self, now):
        return self.filter(next_sync_at__lte=now)

    def live(self):
        """Parcels still followed: not voided (a voided parcel frees its number)."""
        return self.filter(voided_at__isnull=True)


class Shipment(models.Model):
    """One parcel, followed with one courier under one tracking number.

    ``direction`` tells a parcel going to the buyer (outbound) from one a buyer sends back
    (return, registered by the returns app): only outbound parcels prove a delivery to payouts.

    ``status``/``substatus``/``last_event_at``/``delivered_at`` are derived from the events by
    ``tracking.status.derive_state``; only the ingest service writes them.
    """

    order = models.ForeignKey("sellers.Order", on_delete=models.PROTECT, related_name="shipments")
    # Denormalised from the order: every scoped read and index starts from the seller.
    seller = models.ForeignKey("sellers.Seller", on_delete=models.PROTECT, related_name="shipments")

    class Direction(models.TextChoices):
        OUTBOUND = "outbound", "To the buyer"
        RETURN = "return", "Returned by the buyer"

    carrier = models.CharField(
        max_length=40, help_text='Courier adapter slug, or "other" for a courier we cannot query.'
    )
    direction = models.CharField(
        max_length=10, choices=Direction.choices, default=Direction.OUTBOUND
    )
    # Only for carrier "other": who carries it and where a person can follow it.
    carrier_name = models.CharField(max_length=100, blank=True)
    carrier_tracking_url = models.URLField(max_length=500, blank=True)
    tracking_number = models.CharField(
        max_length=64, help_text="Normalised: upper case, no spaces."
    )
    status = models.CharField(max_length=32, choices=StatusChoices.choices, default=Status.PENDING)
    substatus = models.CharField(max_length=48, choices=SubstatusChoices.choices, blank=True)
    last_event_at = models.DateTimeField(null=True, blank=True)
    estimated_delivery_at = models.DateTimeField(null=True, blank=True)
    estimated_delivery_end_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    # None: nothing left to ask the courier (delivered, returned, expired).
    next_sync_at = models.DateTimeField(null=True, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    sync_error_count = models.PositiveIntegerField(default=0)
    last_sync_error = models.CharField(max_length=300, blank=True)
    public_token = models.CharField(max_length=64, unique=True, default=new_public_token)
    # Set when the parcel is cancelled or replaced (or was a duplicate found by migration
    # 0008): it no longer proves anything, is not synced, and its number may be registered again.
    voided_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ShipmentQuerySet.as_manager()

    class Meta:
        constraints = [
            # One parcel proves one delivery: a courier's number belongs to one live shipment,
            # whatever the order or the seller (issue 14). Voided parcels free their number.
            models.UniqueConstraint(
                fields=["carrier", "tracking_number"],
                condition=Q(voided_at__isnull=True),
                name="shipment_number_live_once",
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in Status]), name="shipment_status_known"
            ),
            models.CheckConstraint(
                condition=~Q(status=Status.DELIVERED) | Q(delivered_at__isnull=False),
                name="shipment_delivered_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(carrier=OTHER_CARRIER) | ~Q(carrier_name=""),
                name="shipment_other_carrier_named",
            ),
            models.CheckConstraint(
                condition=Q(direction__in=["outbound", "return"]), name="shipment_direction_known"
            ),
        ]
        indexes = [
            models.Index(fields=["tracking_number"], name="shipment_tracking_number"),
            models.Index(fields=["carrier", "next_sync_at"], name="shipment_sync_due"),
            models.Index(fields=["seller", "status"], name="shipment_seller_status"),
            models.Index(fields=["seller", "-created_at"], name="shipment_seller_recent"),
            # A seller's cursor pages (ORDER BY id DESC within the seller): core/api/pagination.py.
            models.Index(fields=["seller", "id"], name="shipment_seller_id"),
        ]

    def __str__(self) -> str:
        return f"{self.carrier} {self.tracking_number}"


class TrackingEvent(models.Model):
    """One courier scan, stored once (``dedupe_key``) whatever the number of deliveries."""

    class Source(models.TextChoices):
        POLL = "poll", "Courier API poll"
        PUSH = "push", "Courier push"
        MANUAL = "manual", "Entered by staff"

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="events")
    occurred_at = models.DateTimeField(help_text="When the courier says it happened (aware).")
    carrier_code = models.CharField(max_length=40, blank=True)
    message = models.CharField(max_length=500, blank=True)
    city = models.CharField(max_length=120, blank=True)
    postcode = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, blank=True)
    status = models.CharField(max_length=32, choices=StatusChoices.choices)
    substatus = models.CharField(max_length=48, choices=SubstatusChoices.choices, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.POLL)
    # The courier answer or push this event first came in (None once retention removed it).
    raw_payload = models.ForeignKey(
        RawPayload, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    dedupe_key = models.CharField(max_length=64, unique=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["shipment", "occurred_at"], name="event_shipment_time"),
            # One shipment's page of the events feed (ORDER BY id within the shipment).
            models.Index(fields=["shipment", "id"], name="event_shipment_id"),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.status} {self.carrier_code}"


class ProofOfDelivery(models.Model):
    """What proves the parcel reached the buyer: the courier's delivery data or a seller upload."""

    class Source(models.TextChoices):
        CARRIER = "carrier", "Courier"
        SELLER_UPLOAD = "seller_upload", "Seller upload"

    shipment = models.OneToOneField(Shipment, on_delete=models.CASCADE, related_name="pod")
    delivered_at = models.DateTimeField()
    signed_by = models.CharField(max_length=200, blank=True)
    location_type = models.CharField(max_length=40, blank=True)
    documents = models.JSONField(default=list, blank=True, help_text="URLs or kinds of proof.")

    class Review(models.TextChoices):
        NOT_REQUIRED = "not_required", "Not required (courier data)"
        PENDING = "pending", "Waiting for finance"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    source = models.CharField(max_length=20, choices=Source.choices, default=Source.CARRIER)
    source_event = models.ForeignKey(
        TrackingEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A seller's upload (image or PDF) for a courier we cannot query; finance reviews it.
    uploaded_file = models.FileField(upload_to="pod/%Y/%m/", blank=True)
    review = models.CharField(max_length=14, choices=Review.choices, default=Review.NOT_REQUIRED)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "proofs of delivery"
        permissions = [("review_pod", "Can approve or reject a seller-uploaded proof of delivery")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(source="seller_upload") | ~Q(review="not_required"),
                name="pod_upload_is_reviewed",
            ),
        ]

    def __str__(self) -> str:
        return f"POD {self.shipment} at {self.delivered_at:%Y-%m-%d %H:%M}"


class PodUploadVersion(models.Model):
    """One upload of a seller's proof, kept for ever: who sent which file, when, and what
    finance decided (issue 14, item 4).

    The ProofOfDelivery shows the version in force: the latest upload until finance approves
    one, then the approved one, which a later upload never replaces; that later upload waits
    here for its own review. File, date and signatory of a version never change.
    """

    class Review(models.TextChoices):
        PENDING = "pending", "Waiting for finance"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        SUPERSEDED = "superseded", "Replaced by a later upload before review"

    pod = models.ForeignKey(ProofOfDelivery, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(help_text="1 for the first upload, then 2, 3, ...")
    uploaded_file = models.FileField(upload_to="pod/%Y/%m/")
    delivered_at = models.DateTimeField()
    signed_by = models.CharField(max_length=200, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    # Who sent it when no user did (an API token), or the user's name if the user is deleted.
    uploaded_by_label = models.CharField(max_length=150, blank=True)
    uploaded_at = models.DateTimeField(default=timezone.now)
    review = models.CharField(max_length=12, choices=Review.choices, default=Review.PENDING)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["pod", "number"], name="pod_version_number_once"),
            models.UniqueConstraint(
                fields=["pod"], condition=Q(review="pending"), name="pod_version_one_pending"
            ),
        ]

    def __str__(self) -> str:
        return f"POD {self.pod_id} version {self.number} ({self.review})"


def _evidence_token() -> str:
    return secrets.token_urlsafe(32)


class PodEvidence(models.Model):
    """The courier's own proof document for a POD (FedEx's signature proof PDF, Royal Mail's and
    PostNL's signature image, GLS's delivery record), fetched once after the delivery and kept
    with the POD (issue 16, item 6).

    The row is written, pending, in the transaction that records the delivery; the fetch job
    (and, behind it, the sweep) fills it in once: a stored document is never fetched again.
    A courier fault or a refused document leaves it pending with the next attempt's time, until
    MAX attempts mark it failed for an operator to look at.
    """

    class State(models.TextChoices):
        PENDING = "pending", "Waiting for the courier"
        STORED = "stored", "Stored"
        FAILED = "failed", "Gave up (see the last error)"

    pod = models.OneToOneField(ProofOfDelivery, on_delete=models.CASCADE, related_name="evidence")
    carrier = models.CharField(max_length=40, help_text="The courier the document came from.")
    kind = models.CharField(max_length=40, help_text="signature, signature_proof_of_delivery…")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    # The file's name in storage is random (upload_to below), and the viewing URL carries this
    # token: neither can be guessed from an id or a tracking number.
    access_token = models.CharField(max_length=64, unique=True, default=_evidence_token)
    file = models.FileField(upload_to="pod/evidence/%Y/%m/", blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    size = models.PositiveIntegerField(null=True, blank=True, help_text="Bytes.")
    sha256 = models.CharField(max_length=64, blank=True)
    fetched_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "POD evidence"
        constraints = [
            models.CheckConstraint(
                condition=~Q(state="stored")
                | (Q(size__isnull=False) & Q(fetched_at__isnull=False) & ~Q(sha256="")),
                name="pod_evidence_stored_is_complete",
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(state="pending"),
                name="pod_evidence_due",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} of POD {self.pod_id} ({self.state})"


class CarrierSyncState(models.Model):
    """Per-courier health: operators see here which courier is failing and until when we wait."""

    carrier = models.CharField(max_length=40, primary_key=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    backoff_until = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    last_error_code = models.CharField(max_length=40, blank=True)
    last_error_message = models.CharField(max_length=500, blank=True)
    requests_total = models.PositiveBigIntegerField(default=0)
    failures_total = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return self.carrier


# --- Customer service: exceptions, notes, EDD history, agents' actions ------------------------


class ExceptionKind(models.TextChoices):
    """The CS exception queues. Some come from the courier's status (ingestion), others from
    the clock (the detection job): see tracking/services/exceptions.py."""

    DELAYED = "delayed", "Delayed (past the estimated or promised date)"
    STUCK = "stuck", "Stuck (no scan for too long)"
    FAILED_ATTEMPT = "failed_attempt", "Failed delivery attempt"
    ADDRESS_ISSUE = "address_issue", "Address problem"
    CUSTOMS = "customs", "Held at customs"
    RETURNING = "returning", "Returning / returned to sender"
    LOST_DAMAGED = "lost_damaged", "Lost or damaged"
    NO_FIRST_SCAN = "no_first_scan", "No first scan 48 h after upload"


class ShipmentException(models.Model):
    """One incident on one parcel, worked by CS: opened by detection, assigned to an agent,
    resolved with a reason. At most one open exception per parcel and kind (database rule)."""

    class Resolution(models.TextChoices):
        NONE = "", "—"
        HANDLED = "handled", "Handled by an agent"
        COURIER_RESOLVED = "courier_resolved", "Resolved by the courier's later scans"
        RESHIPPED = "reshipped", "Parcel re-shipped"
        REFUNDED = "refunded", "Buyer refunded"
        FALSE_ALARM = "false_alarm", "False alarm"

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="exceptions")
    kind = models.CharField(max_length=20, choices=ExceptionKind.choices)
    detail = models.CharField(max_length=300, blank=True)
    opened_at = models.DateTimeField(default=timezone.now)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    assigned_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    resolution = models.CharField(max_length=20, choices=Resolution.choices, blank=True)
    resolution_note = models.CharField(max_length=500, blank=True)

    class Meta:
        permissions = [("use_cs_console", "Can use the customer service console")]
        constraints = [
            models.UniqueConstraint(
                fields=["shipment", "kind"],
                condition=Q(resolved_at__isnull=True),
                name="shipment_exception_open_once",
            ),
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True, resolution="")
                | Q(resolved_at__isnull=False) & ~Q(resolution=""),
                name="shipment_exception_resolved_has_reason",
            ),
        ]
        indexes = [
            models.Index(
                fields=["kind", "opened_at"],
                condition=Q(resolved_at__isnull=True),
                name="shipment_exception_queue",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} on {self.shipment_id}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


class ShipmentNote(models.Model):
    """An agent's internal note on a parcel (never shown to the buyer or the seller)."""

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    # The CRM's name for whoever wrote it through the API (a token has no user).
    author_label = models.CharField(max_length=100, blank=True)
    body = models.TextField(max_length=4000)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["shipment", "created_at"], name="shipment_note_time")]

    def __str__(self) -> str:
        return f"note on {self.shipment_id} at {self.created_at:%Y-%m-%d %H:%M}"


class ShipmentAudit(models.Model):
    """What staff did to a parcel (courier corrected, resync asked, exception worked), and who."""

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="audit")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    action = models.CharField(max_length=40)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["shipment", "created_at"], name="shipment_audit_time")]

    def __str__(self) -> str:
        return f"{self.action} on {self.shipment_id}"


class DeliveryEstimate(models.Model):
    """One estimate of a parcel's delivery date: the courier's own, or Parcelle's prediction
    from the lane's history. Appended whenever it changes: the rows are the EDD history."""

    class Source(models.TextChoices):
        CARRIER = "carrier", "Courier's estimate"
        PREDICTED = "predicted", "Predicted from history"

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="estimates")
    source = models.CharField(max_length=10, choices=Source.choices)
    expected_date = models.DateField()
    window_start_date = models.DateField()
    window_end_date = models.DateField()
    confidence = models.FloatField(help_text="0-1: the share of similar parcels in the window.")
    basis = models.CharField(max_length=200, blank=True, help_text="Which history it used.")
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(window_start_date__lte=models.F("expected_date"))
                & Q(expected_date__lte=models.F("window_end_date")),
                name="delivery_estimate_window_ordered",
            ),
            models.CheckConstraint(
                condition=Q(confidence__gte=0) & Q(confidence__lte=1),
                name="delivery_estimate_confidence_range",
            ),
        ]
        indexes = [
            models.Index(fields=["shipment", "-computed_at"], name="delivery_estimate_latest"),
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.expected_date} for {self.shipment_id}"
