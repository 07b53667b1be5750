import logging
import math
import re
from collections.abc import Mapping, Sequence
from datetime import date

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.actors import actor_user
from core.business_days import FRANCE, add_business_days
from core.errors import ApplicationError
from core.money import UnknownCurrency, currency_code
from core.phones import InvalidPhoneNumber, to_e164
from core.weburls import strict_https_url
from sellers.models import MAX_ORDER_AMOUNT, Order, OrderItem, Seller, SellerBranding, ServiceLevel

logger = logging.getLogger(__name__)


@transaction.atomic
def order_create(
    *,
    seller: Seller,
    reference: str,
    total_amount: int,
    currency: str = "EUR",
    buyer_name: str = "",
    buyer_email: str = "",
    buyer_phone: str = "",
    buyer_locale: str = "fr",
    destination_postcode: str = "",
    destination_country: str = "FR",
    promised_delivery_date: date | None = None,
    items: Sequence[Mapping] = (),
    expected_ship_date: date | None = None,
    service_level: str = ServiceLevel.STANDARD,
) -> Order:
    """Record a paid order, with its lines when given (``items``: sku, name, quantity,
    unit_amount in minor units; buyers return items by line). Raises ApplicationError when the
    seller already has this reference, for a sku given twice, or when the lines cost more than
    the total (which may also include shipping).

    ``expected_ship_date`` (when the parcel must reach the courier, for the late shipment rate)
    defaults to today plus SELLER_HANDLING_DAYS business days.

    ``buyer_phone`` is read in the destination's numbering plan (an overseas department's
    own, from the country or the French postcode) and stored in E.164; ``currency`` must be an
    ISO 4217 code in circulation. Either refused is an ApplicationError at its field.
    """
    destination_country = destination_country.strip().upper()
    try:
        currency = currency_code(currency)
    except UnknownCurrency as exc:
        raise ApplicationError(str(exc), code="unknown_currency", field="currency") from None
    if buyer_phone.strip():
        try:
            buyer_phone = to_e164(
                buyer_phone, country=destination_country, postcode=destination_postcode
            )
        except InvalidPhoneNumber as exc:
            raise ApplicationError(str(exc), code="invalid_phone", field="buyer_phone") from None
    else:
        buyer_phone = ""
    if service_level not in ServiceLevel.values:
        raise ApplicationError(f"Unknown service level {service_level!r}.", field="service_level")
    if expected_ship_date is None:
        expected_ship_date = add_business_days(
            timezone.localdate(), settings.SELLER_HANDLING_DAYS, country=FRANCE
        )
    if not 0 <= total_amount <= MAX_ORDER_AMOUNT:
        raise ApplicationError(
            f"The amount must be between 0 and {MAX_ORDER_AMOUNT} minor units.",
            field="total_amount",
        )
    skus = [str(item["sku"]).strip() for item in items]
    if len(set(skus)) != len(skus):
        raise ApplicationError("Each sku appears once in an order.", field="items")
    lines_total = sum(int(item["quantity"]) * int(item["unit_amount"]) for item in items)
    if lines_total > total_amount:
        raise ApplicationError(
            f"The items cost {lines_total}, more than the order total ({total_amount}).",
            code="items_exceed_total", field="items",
        )  # fmt: skip
    try:
        with transaction.atomic():
            order = Order.objects.create(
                seller=seller,
                reference=reference.strip(),
                total_amount=total_amount,
                currency=currency,
                buyer_name=buyer_name,
                buyer_email=buyer_email,
                buyer_phone=buyer_phone,
                buyer_locale=buyer_locale,
                destination_postcode=destination_postcode.strip(),
                destination_country=destination_country,
                promised_delivery_date=promised_delivery_date,
                expected_ship_date=expected_ship_date,
                service_level=service_level,
            )
    except IntegrityError:
        raise ApplicationError(
            f"This seller already has an order {reference!r}.",
            code="duplicate_order",
            field="reference",
        ) from None
    OrderItem.objects.bulk_create(
        OrderItem(order=order, sku=sku, name=str(item["name"]).strip()[:200],
                  quantity=int(item["quantity"]), unit_amount=int(item["unit_amount"]))
        for sku, item in zip(skus, items, strict=True)
    )  # fmt: skip
    return order


# --- Branding of the buyer tracking page ----------------------------------------------------

# WCAG 2.x AA: normal-size text needs a contrast ratio of at least 4.5:1 with its background.
WCAG_AA_MIN_CONTRAST = 4.5
# What the tracking page writes on each colour (and the page background primary text sits on).
TEXT_ON_PRIMARY = "#FFFFFF"
PAGE_BACKGROUND = "#FFFFFF"
TEXT_ON_ACCENT = "#111111"
_HEX_COLOR = re.compile(r"#[0-9A-Fa-f]{6}")
BRANDING_URL_FIELDS = ("logo_url", "store_url", "contact_url", "returns_url")
BRANDING_MESSAGE_MAX_LENGTH = 280


def relative_luminance(color: str) -> float:
    """WCAG relative luminance of a #RRGGBB colour (0 black .. 1 white)."""

    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(int(color[i : i + 2], 16)) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(first: str, second: str) -> float:
    """WCAG contrast ratio between two #RRGGBB colours, from 1.0 to 21.0."""
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def _ratio_text(ratio: float) -> str:
    # Rounded down: a ratio of 4.497 must not read "4.50:1" next to "at least 4.5:1".
    return f"{math.floor(ratio * 100) / 100:.2f}:1"


def seller_branding_errors(
    *,
    logo_url: str = "",
    primary_color: str = "",
    accent_color: str = "",
    message: str = "",
    store_url: str = "",
    contact_url: str = "",
    returns_url: str = "",
) -> dict[str, str]:
    """Every reason these branding values would be refused, by field (empty when valid).

    Colours are #RRGGBB or empty (empty: the marketplace default). The primary colour carries
    white text and is itself the colour of links on the white page (the same pair of colours);
    the accent colour carries dark text (#111111). Each must reach WCAG AA (4.5:1). URLs are
    https only: the page is https, and a javascript: or http: link must never reach it.
    """
    errors: dict[str, str] = {}
    checks = {
        "primary_color": (primary_color, TEXT_ON_PRIMARY, "white text and the white page"),
        "accent_color": (accent_color, TEXT_ON_ACCENT, "the dark text (#111111) written on it"),
    }
    for field, (value, text_color, against) in checks.items():
        value = value.strip()
        if not value:
            continue
        if not _HEX_COLOR.fullmatch(value):
            errors[field] = f"{value!r} is not a colour written as #RRGGBB (e.g. #1F4E79)."
            continue
        ratio = contrast_ratio(value.upper(), text_color)
        if ratio < WCAG_AA_MIN_CONTRAST:
            errors[field] = (
                f"{value.upper()} has a contrast ratio of {_ratio_text(ratio)} with {against}; "
                f"WCAG AA needs at least {WCAG_AA_MIN_CONTRAST}:1 for normal text. "
                + ("Choose a darker colour." if text_color == TEXT_ON_PRIMARY else "")
                + ("Choose a lighter colour." if text_color == TEXT_ON_ACCENT else "")
            )
    urls = {
        "logo_url": logo_url,
        "store_url": store_url,
        "contact_url": contact_url,
        "returns_url": returns_url,
    }
    for field, value in urls.items():
        value = value.strip()
        if not value:
            continue
        if len(value) > 500:
            errors[field] = "A link has at most 500 characters."
            continue
        if not strict_https_url(value):
            errors[field] = (
                "Enter a full https:// address with a host name and no user name, spaces, "
                "quotes, commas or semicolons (http and other schemes are refused)."
            )
    if len(message.strip()) > BRANDING_MESSAGE_MAX_LENGTH:
        errors["message"] = (
            f"The message has at most {BRANDING_MESSAGE_MAX_LENGTH} characters "
            f"({len(message.strip())} given)."
        )
    return errors


@transaction.atomic
def seller_branding_update(
    *,
    seller: Seller,
    logo_url: str = "",
    primary_color: str = "",
    accent_color: str = "",
    message: str = "",
    store_url: str = "",
    contact_url: str = "",
    returns_url: str = "",
    actor=None,
) -> SellerBranding:
    """Set the whole branding of ``seller``'s tracking page (an empty value clears that field:
    default colour, no logo, no link). Creates the row on first use; records who changed it.

    Raises ApplicationError (code ``invalid_branding``, ``field`` set) for the first value
    refused by ``seller_branding_errors``: a colour under WCAG AA contrast, a non-https URL,
    a message too long.
    """
    errors = seller_branding_errors(
        logo_url=logo_url,
        primary_color=primary_color,
        accent_color=accent_color,
        message=message,
        store_url=store_url,
        contact_url=contact_url,
        returns_url=returns_url,
    )
    if errors:
        field, error = next(iter(errors.items()))
        raise ApplicationError(error, code="invalid_branding", field=field)
    branding, _created = SellerBranding.objects.select_for_update().get_or_create(seller=seller)
    branding.logo_url = logo_url.strip()
    branding.primary_color = primary_color.strip().upper()
    branding.accent_color = accent_color.strip().upper()
    branding.message = message.strip()
    branding.store_url = store_url.strip()
    branding.contact_url = contact_url.strip()
    branding.returns_url = returns_url.strip()
    branding.updated_by = actor_user(actor)
    branding.save()
    logger.info(
        "seller branding updated",
        extra={"seller_id": seller.pk, "actor_id": getattr(actor, "pk", None)},
    )
    return branding
