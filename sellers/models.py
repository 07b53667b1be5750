import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils import timezone

# The largest order amount accepted, in minor units (10 billion in the currency).
MAX_ORDER_AMOUNT = 10**12
# The rollup counters the SLA figures need (sellers.selectors._SLA_SUMS): covered by indexes.
SLA_COUNTERS = ("shipments", "scanned", "delivered", "on_time_eligible", "on_time",
                "ship_date_known", "late_shipped", "late_protected")  # fmt: skip


def new_public_token() -> str:
    """An unguessable token for public links (192 bits)."""
    return secrets.token_urlsafe(24)


class ServiceLevel(models.TextChoices):
    """The parcel service the buyer paid for: couriers are compared within one level."""

    ECONOMY = "economy", "Economy"
    STANDARD = "standard", "Standard"
    EXPRESS = "express", "Express"


class Seller(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    # Where the seller ships from: the origin of its lanes in courier recommendations.
    origin_postcode = models.CharField(max_length=16, blank=True)
    origin_country = models.CharField(max_length=2, default="FR")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class SellerMember(models.Model):
    """A user who works for a seller: sees that seller's data and nothing else."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="seller_membership"
    )
    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="members")

    def __str__(self) -> str:
        return f"{self.user} @ {self.seller}"


class Order(models.Model):
    """A buyer's order with one seller; its parcels are tracking.Shipment rows."""

    seller = models.ForeignKey(Seller, on_delete=models.PROTECT, related_name="orders")
    reference = models.CharField(max_length=64, help_text="The marketplace's order reference.")
    buyer_name = models.CharField(max_length=200, blank=True)
    buyer_email = models.EmailField(blank=True)
    buyer_phone = models.CharField(max_length=32, blank=True)
    buyer_locale = models.CharField(max_length=10, default="fr")
    destination_postcode = models.CharField(max_length=16, blank=True)
    destination_country = models.CharField(max_length=2, default="FR")
    total_amount = models.BigIntegerField(help_text="Minor units (cents).")
    currency = models.CharField(max_length=3, default="EUR")
    promised_delivery_date = models.DateField(null=True, blank=True)
    # When the seller must have handed the parcel to the courier (SLA "late shipment").
    expected_ship_date = models.DateField(null=True, blank=True)
    service_level = models.CharField(
        max_length=10, choices=ServiceLevel.choices, default=ServiceLevel.STANDARD
    )
    public_token = models.CharField(max_length=64, unique=True, default=new_public_token)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["seller", "reference"], name="order_reference_per_seller"
            ),
            models.CheckConstraint(
                condition=models.Q(total_amount__gte=0), name="order_amount_not_negative"
            ),
        ]
        indexes = [
            models.Index(Upper("reference"), name="order_reference_upper"),
            models.Index(fields=["buyer_email"], name="order_buyer_email"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} ({self.seller})"


class SellerBranding(models.Model):
    """How a seller's buyer tracking page (and buyer emails) look: logo, colours, links.

    Written only through ``sellers.services.seller_branding_update``, which checks the colours'
    contrast (WCAG AA) and that every URL is https. A seller without a row gets the default
    marketplace look (``DEFAULT_PRIMARY_COLOR``/``DEFAULT_ACCENT_COLOR``).
    """

    # The page puts white text on the primary colour and dark text on the accent colour.
    DEFAULT_PRIMARY_COLOR = "#1F4E79"
    DEFAULT_ACCENT_COLOR = "#F2A900"

    seller = models.OneToOneField(Seller, on_delete=models.CASCADE, related_name="branding")
    # A URL rather than an upload: no image library, no file storage or content sniffing to
    # maintain, and the seller keeps its logo on its own CDN. https only (no mixed content).
    logo_url = models.URLField(max_length=500, blank=True)
    primary_color = models.CharField(
        max_length=7, blank=True, help_text="#RRGGBB; white text is written on it."
    )
    accent_color = models.CharField(
        max_length=7, blank=True, help_text="#RRGGBB; dark text (#111111) is written on it."
    )
    message = models.CharField(
        max_length=280, blank=True, help_text="A short note shown to buyers on the tracking page."
    )
    store_url = models.URLField(max_length=500, blank=True)
    contact_url = models.URLField(max_length=500, blank=True)
    returns_url = models.URLField(max_length=500, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name_plural = "seller brandings"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(primary_color="")
                | models.Q(primary_color__regex=r"^#[0-9A-F]{6}$"),
                name="branding_primary_color_hex",
            ),
            models.CheckConstraint(
                condition=models.Q(accent_color="")
                | models.Q(accent_color__regex=r"^#[0-9A-F]{6}$"),
                name="branding_accent_color_hex",
            ),
        ]

    def __str__(self) -> str:
        return f"Branding of {self.seller}"

    @property
    def primary(self) -> str:
        return self.primary_color or self.DEFAULT_PRIMARY_COLOR

    @property
    def accent(self) -> str:
        return self.accent_color or self.DEFAULT_ACCENT_COLOR


class OrderItem(models.Model):
    """One line of an order: what the buyer bought (and may return). Optional: orders created
    before lines existed, or by clients that do not send them, have none."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    sku = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    quantity = models.PositiveIntegerField(default=1)
    unit_amount = models.BigIntegerField(help_text="Price of one unit, minor units (cents).")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["order", "sku"], name="order_item_sku_once"),
            models.CheckConstraint(
                condition=models.Q(quantity__gte=1), name="order_item_quantity_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(unit_amount__gte=0), name="order_item_amount_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.name} ({self.sku})"

    @property
    def line_amount(self) -> int:
        return self.quantity * self.unit_amount


class OrderProtection(models.Model):
    """Whether the marketplace's delivery performance protection covers an order, and why
    (README "SLA: delivery performance protection"). Written only by
    ``sellers.protection.order_protections_refresh`` when the order's parcels change
    (confirmation, first scan, delivery); dashboards, payouts and the APIs read it as stored.

    ``reasons`` are the codes of the conditions some parcel failed (empty when protected);
    ``evidence`` is one entry per parcel: its times and each condition with its verdict and the
    sentence that explains it ("first courier scan 31 hours after confirmation...").
    """

    class Reason(models.TextChoices):
        NO_PARCEL = "no_parcel", "No parcel confirmed"
        CONFIRMED_LATE = "confirmed_late", "Tracking confirmed too late"
        NOT_SCANNED = "not_scanned", "No courier scan (invalid tracking)"
        COURIER_MISMATCH = "courier_mismatch", "Courier does not match the number"
        HANDED_OVER_LATE = "handed_over_late", "Handed to the courier after the ship date"

    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="protection")
    # Denormalised from the order: the portal's list and share start from the seller.
    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="+")
    protected = models.BooleanField(default=False)
    reasons = models.JSONField(default=list, blank=True)
    evidence = models.JSONField(default=list, blank=True)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["seller", "protected"], name="order_protection_seller"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}: {'protected' if self.protected else 'not protected'}"


class RollupCounts(models.Model):
    """What every rollup row counts (``COUNTERS`` and ``HIST_FIELDS`` in sellers.metrics), summed
    in SQL over any set of rows. ``transit_NN`` count delivered parcels by business days in
    transit (``transit_15`` is "15 or more"): a histogram, so medians and p90 merge exactly."""

    shipments = models.PositiveIntegerField(default=0)
    scanned = models.PositiveIntegerField(default=0)
    delivered = models.PositiveIntegerField(default=0)
    on_time_eligible = models.PositiveIntegerField(default=0)
    on_time = models.PositiveIntegerField(default=0)
    ship_date_known = models.PositiveIntegerField(default=0)
    late_shipped = models.PositiveIntegerField(default=0)
    # Judged late (on_time_eligible, not on_time) on an order the delivery performance
    # protection covers: the courier's lateness, not the seller's (issue 21).
    late_protected = models.PositiveIntegerField(default=0)
    failed_attempt = models.PositiveIntegerField(default=0)
    exception = models.PositiveIntegerField(default=0)
    returned = models.PositiveIntegerField(default=0)
    first_scan_lag_seconds = models.BigIntegerField(default=0)
    transit_00 = models.PositiveIntegerField(default=0)
    transit_01 = models.PositiveIntegerField(default=0)
    transit_02 = models.PositiveIntegerField(default=0)
    transit_03 = models.PositiveIntegerField(default=0)
    transit_04 = models.PositiveIntegerField(default=0)
    transit_05 = models.PositiveIntegerField(default=0)
    transit_06 = models.PositiveIntegerField(default=0)
    transit_07 = models.PositiveIntegerField(default=0)
    transit_08 = models.PositiveIntegerField(default=0)
    transit_09 = models.PositiveIntegerField(default=0)
    transit_10 = models.PositiveIntegerField(default=0)
    transit_11 = models.PositiveIntegerField(default=0)
    transit_12 = models.PositiveIntegerField(default=0)
    transit_13 = models.PositiveIntegerField(default=0)
    transit_14 = models.PositiveIntegerField(default=0)
    transit_15 = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True


class ShipmentDayStat(RollupCounts):
    """Daily rollup of the shipments a seller confirmed on one day (Europe/Paris) with one courier
    to one destination: the dashboards read these, never the raw shipments.

    A row is recomputed whole from the raw rows of its (seller, day) cohort by
    ``sellers.services.rollups``, so replaying it is harmless. ``transit_NN`` count delivered
    parcels by business days in transit (a histogram, summed in SQL), so medians and p90 over any
    set of rows merge exactly.
    """

    day = models.DateField()
    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="day_stats")
    carrier = models.CharField(max_length=40)
    origin_region = models.CharField(max_length=3, blank=True)
    destination_country = models.CharField(max_length=2)
    # French département ("75", "2A", "971") for domestic parcels, "" abroad.
    destination_region = models.CharField(max_length=3, blank=True)
    service_level = models.CharField(max_length=10, choices=ServiceLevel.choices)
    # The base field again, with the help text the admin shows for the finest rollup.
    scanned = models.PositiveIntegerField(default=0, help_text="With at least one courier scan.")
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "seller",
                    "day",
                    "carrier",
                    "destination_country",
                    "destination_region",
                    "service_level",
                ],
                name="day_stat_once",
            ),  # fmt: skip
        ]
        indexes = [
            models.Index(fields=["seller", "day"], name="day_stat_seller_day"),
            models.Index(
                fields=["destination_country", "destination_region", "day"], name="day_stat_lane"
            ),
            models.Index(fields=["day"], name="day_stat_day"),
        ]

    def __str__(self) -> str:
        return f"{self.seller_id} {self.day} {self.carrier} {self.destination_country}"


class LaneDayStat(RollupCounts):
    """The whole marketplace per courier x destination x day (every seller and service level
    summed from ShipmentDayStat): the "marketplace figure for the same lane" beside a seller's,
    without summing every seller's rows on each page view."""

    day = models.DateField()
    carrier = models.CharField(max_length=40)
    destination_country = models.CharField(max_length=2)
    destination_region = models.CharField(max_length=3, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "carrier", "destination_country", "destination_region"],
                name="lane_day_stat_once",
            ),
        ]
        indexes = [models.Index(fields=["day", "carrier"], name="lane_day_stat_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.carrier} {self.destination_country}{self.destination_region}"


class SummaryDayStat(RollupCounts):
    """Coarser sums of the same daily rollups, for pages that do not split by destination:
    ``grain`` "seller" (seller x day: SLA, marketplace ranking), "seller_carrier" (seller x
    courier x day: couriers side by side over all destinations) and "carrier" (the marketplace
    per courier x day). Written with the finer rows by ``sellers.rollups``."""

    class Grain(models.TextChoices):
        SELLER = "seller", "Seller x day"
        SELLER_CARRIER = "seller_carrier", "Seller x courier x day"
        CARRIER = "carrier", "Marketplace courier x day"

    grain = models.CharField(max_length=16, choices=Grain.choices)
    day = models.DateField()
    seller = models.ForeignKey(
        Seller, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    carrier = models.CharField(max_length=40, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["grain", "day", "seller", "carrier"], name="summary_day_stat_once"
            ),
        ]
        indexes = [
            models.Index(fields=["grain", "seller", "day"], name="summary_stat_seller"),
            models.Index(fields=["grain", "day"], name="summary_stat_day"),
            # the marketplace ranking's edge days, index-only
            models.Index(
                fields=["day", "seller", *SLA_COUNTERS],
                condition=Q(grain="seller"),
                name="summary_stat_seller_sla",
            ),  # fmt: skip
        ]

    def __str__(self) -> str:
        return f"{self.grain} {self.day} {self.seller_id} {self.carrier}"


class WeekStat(RollupCounts):
    """Weekly sums (Monday to Sunday, ``week`` is the Monday) of the daily rollups, for the
    dashboards that read many rows over a long period: ``grain`` "seller" (seller x week:
    marketplace ranking), "seller_lane" (seller x courier x destination x week: performance by
    destination) and "lane" (the marketplace per courier x destination x week). A period reads
    the weeks wholly inside it from here and only its partial weeks at the edges from the daily
    rows. Recomputed from the daily rows by ``sellers.rollups`` whenever one of its days is."""

    class Grain(models.TextChoices):
        SELLER = "seller", "Seller x week"
        SELLER_LANE = "seller_lane", "Seller x courier x destination x week"
        LANE = "lane", "Marketplace courier x destination x week"

    grain = models.CharField(max_length=16, choices=Grain.choices)
    week = models.DateField(help_text="The Monday.")
    seller = models.ForeignKey(
        Seller, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    carrier = models.CharField(max_length=40, blank=True)
    destination_country = models.CharField(max_length=2, blank=True)
    destination_region = models.CharField(max_length=3, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "grain",
                    "week",
                    "seller",
                    "carrier",
                    "destination_country",
                    "destination_region",
                ],
                name="week_stat_once",
            ),  # fmt: skip
        ]
        indexes = [
            models.Index(fields=["grain", "seller", "week"], name="week_stat_seller"),
            models.Index(fields=["grain", "week"], name="week_stat_week"),
            # the marketplace ranking's whole read, index-only (the seller rows are scattered
            # among the far more numerous seller_lane rows)
            models.Index(
                fields=["week", "seller", *SLA_COUNTERS],
                condition=Q(grain="seller"),
                name="week_stat_seller_sla",
            ),  # fmt: skip
        ]

    def __str__(self) -> str:
        return f"{self.grain} {self.week} {self.seller_id} {self.carrier}"


class RollupDirtyLaneDay(models.Model):
    """A day whose LaneDayStat rows must be summed again (after any seller's day changed)."""

    day = models.DateField(unique=True)
    marked_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return str(self.day)


class RollupDirtyDay(models.Model):
    """A (seller, day) cohort whose rollup rows must be recomputed. Fed by the rollup job's sweep
    of changed shipments; claimed with SKIP LOCKED so two jobs never recompute the same day."""

    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    marked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["seller", "day"], name="rollup_dirty_day_once")
        ]

    def __str__(self) -> str:
        return f"{self.seller_id} {self.day}"


class RollupWatermark(models.Model):
    """How far the sweep of changed shipments got (``Shipment.updated_at``)."""

    name = models.CharField(max_length=40, primary_key=True)
    value = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} @ {self.value:%Y-%m-%d %H:%M:%S}"


class TrackingUpload(models.Model):
    """A seller's CSV of tracking numbers, applied by a django-q2 job with its progress and
    per-row errors kept here."""

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="tracking_uploads")
    filename = models.CharField(max_length=200, blank=True)
    content = models.TextField(help_text="The decoded CSV text.")
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    applied_rows = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The running job's lease (renewed at every progress write) and its id: a job whose worker
    # died leaves a lease that expires, and the next job resumes after processed_rows.
    claimed_until = models.DateTimeField(null=True, blank=True)
    run_token = models.CharField(max_length=32, blank=True)

    def __str__(self) -> str:
        return f"Upload {self.pk} of {self.seller_id} ({self.state})"

    @property
    def percent(self) -> int:
        return 100 if not self.total_rows else int(100 * self.processed_rows / self.total_rows)
