import secrets

from django.conf import settings
from django.db import models
from django.db.models.functions import Upper

# The largest order amount accepted, in minor units (10 billion in the currency).
MAX_ORDER_AMOUNT = 10**12


def new_public_token() -> str:
    """An unguessable token for public links (192 bits)."""
    return secrets.token_urlsafe(24)


class Seller(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
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
