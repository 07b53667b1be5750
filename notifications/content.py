"""What buyers read: the email (HTML + text) and the SMS, in the buyer's language and the
seller's colours. Pure rendering: nothing here sends or writes."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from notifications.sms import fit_sms
from notifications.triggers import RETURN_TRIGGERS, Trigger
from tracking import carriers
from tracking.links import public_order_url, public_shipment_url
from tracking.models import OTHER_CARRIER

SUPPORTED_LOCALES = ("fr", "en", "de", "es", "it")

HEADLINES = {
    Trigger.SHIPPED: gettext_lazy("Your parcel is on its way"),
    Trigger.OUT_FOR_DELIVERY: gettext_lazy("Your parcel is out for delivery"),
    Trigger.AVAILABLE_FOR_PICKUP: gettext_lazy("Your parcel is waiting at the pickup point"),
    Trigger.FAILED_ATTEMPT: gettext_lazy("The courier could not deliver your parcel"),
    Trigger.DELAYED: gettext_lazy("Your parcel is delayed"),
    Trigger.DELIVERED: gettext_lazy("Your parcel has been delivered"),
    Trigger.EXCEPTION: gettext_lazy("There is a problem with your parcel"),
    Trigger.RETURNED: gettext_lazy("Your parcel is going back to the seller"),
    Trigger.RETURN_REQUESTED: gettext_lazy("Your return request is with the seller"),
    Trigger.RETURN_ACCEPTED: gettext_lazy("Your return was accepted"),
    Trigger.RETURN_REFUSED: gettext_lazy("Your return was refused"),
    Trigger.RETURN_RECEIVED: gettext_lazy("The seller received your return"),
}
DETAILS = {
    Trigger.SHIPPED: gettext_lazy("The courier has your parcel and it is moving towards you."),
    Trigger.OUT_FOR_DELIVERY: gettext_lazy("It should reach you today."),
    Trigger.AVAILABLE_FOR_PICKUP: gettext_lazy(
        "Collect it with an identity document before the pickup point sends it back."
    ),
    Trigger.FAILED_ATTEMPT: gettext_lazy(
        "The courier will try again or leave it at a pickup point: the tracking page says which."
    ),
    Trigger.DELAYED: gettext_lazy("The courier reported a delay. We keep an eye on it for you."),
    Trigger.DELIVERED: gettext_lazy("We hope you enjoy your order."),
    Trigger.EXCEPTION: gettext_lazy(
        "The courier reported an incident. The tracking page has the details and the seller "
        "can help you."
    ),
    Trigger.RETURNED: gettext_lazy("If you did not expect this, please contact the seller."),
    Trigger.RETURN_REQUESTED: gettext_lazy("The seller will accept or refuse it shortly."),
    Trigger.RETURN_ACCEPTED: gettext_lazy(
        "Send the items back and enter the return tracking number on the return page."
    ),
    Trigger.RETURN_REFUSED: gettext_lazy("The return page says why. The seller can help you."),
    Trigger.RETURN_RECEIVED: gettext_lazy(
        "Your refund or exchange is on its way: the return page has the details."
    ),
}

DEFAULT_PRIMARY = "#1f4e79"
DEFAULT_ACCENT = "#f2a900"
_HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{3}(?:[0-9a-fA-F]{3})?")


def buyer_locale(order) -> str:
    """The order's language if we write it ("fr-BE" reads as "fr"), else the marketplace's."""
    code = (order.buyer_locale or "").replace("_", "-").split("-")[0].lower()
    return code if code in SUPPORTED_LOCALES else settings.LANGUAGE_CODE


def carrier_name(shipment) -> str:
    if shipment.carrier == OTHER_CARRIER:
        return shipment.carrier_name
    try:
        return carriers.get_adapter(shipment.carrier).name
    except carriers.UnknownCarrier:
        return shipment.carrier


def _first(obj, *names: str) -> str:
    for name in names:
        value = getattr(obj, name, "") or ""
        if value:
            return str(value)
    return ""


def branding_for(seller) -> dict[str, str]:
    """The seller's colours, logo and message when sellers.SellerBranding exists for it, the
    marketplace's look otherwise. Colours are checked (they go into style attributes) and the
    logo must be an http(s) URL (it goes into an img src)."""
    branding = getattr(seller, "branding", None)  # a missing one-to-one raises AttributeError
    primary = _first(branding, "primary_color", "primary_colour")
    accent = _first(branding, "accent_color", "accent_colour")
    logo = _first(branding, "logo_url", "logo")
    return {
        "primary": primary if _HEX_COLOUR.fullmatch(primary) else DEFAULT_PRIMARY,
        "accent": accent if _HEX_COLOUR.fullmatch(accent) else DEFAULT_ACCENT,
        "logo_url": logo if logo.startswith(("https://", "http://")) else "",
        "message": _first(branding, "message", "tracking_message"),
    }


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def render_buyer_email(*, order, notifications: Sequence, locale: str) -> RenderedEmail:
    """One email about one order: one line per parcel (its latest news in ``notifications``)."""
    latest = {}
    for note in sorted(notifications, key=lambda n: (n.created_at, n.id)):
        latest[note.shipment_id] = note  # a parcel that moved twice in the window: its last news
    with translation.override(locale):
        parcels = []
        for note in sorted(latest.values(), key=lambda n: n.shipment_id):
            shipment = note.shipment
            eta = shipment.estimated_delivery_at
            parcels.append(
                {
                    "tracking_number": shipment.tracking_number,
                    "carrier": carrier_name(shipment),
                    "headline": str(HEADLINES[note.trigger]),
                    "detail": str(DETAILS[note.trigger]),
                    "url": public_shipment_url(shipment),
                    "eta": formats.date_format(timezone.localdate(eta), "DATE_FORMAT")
                    if eta
                    and note.trigger not in (Trigger.DELIVERED, Trigger.RETURNED)
                    and note.trigger not in RETURN_TRIGGERS
                    else "",
                }
            )
        seller = order.seller.name
        if len(parcels) == 1:
            subject = _("%(seller)s: %(headline)s") % {
                "seller": seller,
                "headline": parcels[0]["headline"],
            }
        else:
            subject = _("%(seller)s: news of your order %(reference)s") % {
                "seller": seller,
                "reference": order.reference,
            }
        context = {
            "subject": subject,
            "order": order,
            "seller_name": seller,
            "parcels": parcels,
            "order_url": public_order_url(order),
            "branding": branding_for(order.seller),
            "locale": locale,
        }
        text = render_to_string("notifications/email/buyer_update.txt", context)
        html = render_to_string("notifications/email/buyer_update.html", context)
    return RenderedEmail(subject=subject, text=text, html=html)


def render_buyer_sms(*, notification, locale: str) -> str:
    """One GSM-7 segment: "<seller>: <headline> <link>"."""
    shipment = notification.shipment
    with translation.override(locale):
        headline = str(HEADLINES[notification.trigger])
    return fit_sms(
        prefix=shipment.seller.name,
        text=f"{headline}.",
        link=public_shipment_url(shipment),
    )
