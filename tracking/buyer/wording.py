"""What the buyer tracking page says about a parcel: pure presentation, no queries, no writes.

    tracking.buyer.views (thin) -> tracking.buyer.selectors (reads)
    -> parcel_view(shipment, events)
    -> templates/buyer/*.html, rendered in the buyer's language (tracking.buyer.http)

Every sentence here is translated (locale/<lang>/LC_MESSAGES/django.po). The page never shows
the buyer's name, address, phone or email: the POD signatory is reduced to initials, and the
courier's own event wording (which can carry a signatory's full name or an address line) is
replaced by our normalised, translated status labels; the courier's page is linked for more.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time

from django.utils import formats, timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext

from core.weburls import strict_https_url
from tracking import carriers
from tracking.models import OTHER_CARRIER
from tracking.status import RETURN_SUBSTATUSES, Status, Substatus

# --- Vocabulary in plain words ----------------------------------------------------------------

# One short label per event in the timeline.
STATUS_LABELS: dict[str, Promise] = {
    Status.PENDING: _("Shipment created by the seller"),
    Status.INFO_RECEIVED: _("Courier has the shipping details"),
    Status.IN_TRANSIT: _("In transit"),
    Status.OUT_FOR_DELIVERY: _("Out for delivery"),
    Status.FAILED_ATTEMPT: _("Delivery attempt failed"),
    Status.AVAILABLE_FOR_PICKUP: _("Ready to collect"),
    Status.DELIVERED: _("Delivered"),
    Status.EXCEPTION: _("Problem reported by the courier"),
    Status.EXPIRED: _("No news from the courier"),
}
SUBSTATUS_LABELS: dict[str, Promise] = {
    Substatus.DELIVERED_TO_SENDER: _("Returned to the seller"),
    Substatus.EXCEPTION_ADDRESS_ISSUE: _("Address problem"),
    Substatus.EXCEPTION_REFUSED: _("Refused at delivery"),
    Substatus.EXCEPTION_DAMAGED: _("Damaged"),
    Substatus.EXCEPTION_LOST: _("Lost"),
    Substatus.EXCEPTION_CUSTOMS: _("Held at customs"),
    Substatus.EXCEPTION_DELAYED: _("Delayed"),
    Substatus.EXCEPTION_RETURNING_TO_SENDER: _("On its way back to the seller"),
    Substatus.EXCEPTION_RETURNED_TO_SENDER: _("Returned to the seller"),
    Substatus.EXCEPTION_CANCELLED: _("Shipment cancelled"),
}

# A buyer's return parcel (returns app): its own words, except when something goes wrong.
RETURN_HEADLINES: dict[str, Promise] = {
    Status.PENDING: _("Your return is waiting for the courier."),
    Status.INFO_RECEIVED: _("Your return is waiting for the courier."),
    Status.DELIVERED: _("Your return reached the seller."),
}
RETURN_MOVING_HEADLINE = _("Your return is on its way to the seller.")

# The current status as one sentence (the headline of a parcel).
HEADLINES: dict[str, Promise] = {
    Status.PENDING: _("The seller is preparing your parcel."),
    Status.INFO_RECEIVED: _("Your parcel is ready and waiting for the courier."),
    Status.IN_TRANSIT: _("Your parcel is on its way."),
    Status.OUT_FOR_DELIVERY: _("Your parcel is out for delivery today."),
    Status.FAILED_ATTEMPT: _("The courier tried to deliver your parcel but could not."),
    Status.AVAILABLE_FOR_PICKUP: _("Your parcel is ready to collect."),
    Status.DELIVERED: _("Your parcel has been delivered."),
    Status.EXCEPTION: _("There is a problem with your parcel."),
    Status.EXPIRED: _("The courier has not sent any news for several weeks."),
}
SUBSTATUS_HEADLINES: dict[str, Promise] = {
    Substatus.DELIVERED_TO_SENDER: _("Your parcel has been returned to the seller."),
    Substatus.FAILED_ATTEMPT_RECIPIENT_ABSENT: _(
        "The courier came to deliver your parcel but nobody was there."
    ),
    Substatus.FAILED_ATTEMPT_ACCESS_ISSUE: _("The courier could not get to your door."),
    Substatus.EXCEPTION_ADDRESS_ISSUE: _("The courier has a problem with the delivery address."),
    Substatus.EXCEPTION_REFUSED: _("The parcel was refused at delivery."),
    Substatus.EXCEPTION_DAMAGED: _("The courier reported your parcel as damaged."),
    Substatus.EXCEPTION_LOST: _("The courier cannot find your parcel."),
    Substatus.EXCEPTION_CUSTOMS: _("Your parcel is held at customs."),
    Substatus.EXCEPTION_DELAYED: _("Your parcel is delayed."),
    Substatus.EXCEPTION_RETURNING_TO_SENDER: _("Your parcel is on its way back to the seller."),
    Substatus.EXCEPTION_RETURNED_TO_SENDER: _("Your parcel has been returned to the seller."),
    Substatus.EXCEPTION_CANCELLED: _("The shipment was cancelled."),
}

# What to do, when something needs the buyer's attention (the headline says what happened).
ADVICE: dict[str, Promise] = {
    Status.FAILED_ATTEMPT: _(
        "The courier will try again on a coming working day or leave the parcel at a nearby "
        "post office or pickup point. The notice left in your mailbox and the courier's "
        "tracking page say which, and let you choose another delivery day."
    ),
    Substatus.FAILED_ATTEMPT_RECIPIENT_ABSENT: _(
        "Look for the notice left in your mailbox: it says where your parcel waits for you or "
        "when the next attempt is. On the courier's tracking page you can also choose another "
        "delivery day or a pickup point."
    ),
    Substatus.FAILED_ATTEMPT_ACCESS_ISSUE: _(
        "Make sure the courier can reach your door (entry code, gate, name on the mailbox) "
        "before the next attempt, shown on the courier's tracking page. If your address is "
        "incomplete, contact the seller."
    ),
    Status.AVAILABLE_FOR_PICKUP: _(
        "Take an identity document and the notice or code you received. Parcels are usually "
        "kept for 10 to 15 days, then sent back to the seller."
    ),
    Substatus.EXCEPTION_ADDRESS_ISSUE: _(
        "Contact the seller as soon as possible with your full address: they will correct it "
        "with the courier. Until then the courier keeps your parcel."
    ),
    Substatus.EXCEPTION_REFUSED: _(
        "The parcel is going back to the seller. If you did not refuse it, contact the seller."
    ),
    Substatus.EXCEPTION_DAMAGED: _(
        "Contact the seller: they will arrange a replacement or a refund with the courier. "
        "If you receive the parcel anyway, note the damage when you sign for it."
    ),
    Substatus.EXCEPTION_LOST: _(
        "Contact the seller: they will open an investigation with the courier and send a "
        "replacement or refund you."
    ),
    Substatus.EXCEPTION_CUSTOMS: _(
        "Customs may ask for duties, taxes or documents. Follow the instructions on the "
        "courier's tracking page; if you are unsure what to pay or send, contact the seller."
    ),
    Substatus.EXCEPTION_DELAYED: _(
        "You have nothing to do: your parcel is still moving. This page will show the new "
        "delivery date as soon as the courier gives one."
    ),
    Substatus.EXCEPTION_RETURNING_TO_SENDER: _(
        "The courier could not deliver your parcel and is sending it back to the seller. "
        "Contact the seller to arrange a new delivery or a refund."
    ),
    Substatus.EXCEPTION_RETURNED_TO_SENDER: _(
        "The seller has your parcel back. Contact the seller to arrange a new delivery or a refund."
    ),
    Substatus.DELIVERED_TO_SENDER: _(
        "The seller has your parcel back. Contact the seller to arrange a new delivery or a refund."
    ),
    Substatus.EXCEPTION_CANCELLED: _(
        "If you did not expect this, contact the seller about your order."
    ),
    Status.EXCEPTION: _(
        "The courier's tracking page has the details. If nothing changes within two working "
        "days, contact the seller."
    ),
    Status.EXPIRED: _(
        "Contact the seller: they can ask the courier to investigate, and arrange a "
        "replacement or a refund."
    ),
}

# Where the parcel was left, from the POD's location type or the delivery substatus.
DELIVERY_PLACES: dict[str, Promise] = {
    "mailbox": _("Left in your mailbox"),
    "neighbour": _("Left with a neighbour"),
    "pickup_point": _("Collected at the pickup point"),
    "locker": _("Collected from a parcel locker"),
    "front_door": _("Delivered to your door"),
    "reception": _("Left at reception"),
    "signed": _("Handed over against a signature"),
}
_PLACE_BY_SUBSTATUS = {
    Substatus.DELIVERED_MAILBOX: "mailbox",
    Substatus.DELIVERED_NEIGHBOUR: "neighbour",
    Substatus.DELIVERED_PICKUP_POINT: "pickup_point",
    Substatus.DELIVERED_LOCKER: "locker",
    Substatus.DELIVERED_FRONT_DOOR: "front_door",
    Substatus.DELIVERED_SIGNED: "signed",
}

# Countries couriers scan our parcels in; others show their ISO code.
COUNTRY_NAMES: dict[str, Promise] = {
    "AT": _("Austria"),
    "BE": _("Belgium"),
    "CH": _("Switzerland"),
    "CN": _("China"),
    "DE": _("Germany"),
    "ES": _("Spain"),
    "FR": _("France"),
    "GB": _("United Kingdom"),
    "IE": _("Ireland"),
    "IT": _("Italy"),
    "LU": _("Luxembourg"),
    "MC": _("Monaco"),
    "NL": _("Netherlands"),
    "PL": _("Poland"),
    "PT": _("Portugal"),
    "US": _("United States"),
}

# --- Progress ---------------------------------------------------------------------------------

STEP_ORDERED, STEP_REGISTERED, STEP_IN_TRANSIT, STEP_OUT_FOR_DELIVERY, STEP_DELIVERED = range(5)
STEP_LABELS = (_("Ordered"), _("Registered"), _("In transit"), _("Out for delivery"))
_STEP_OF_STATUS = {
    Status.PENDING: STEP_ORDERED,
    Status.INFO_RECEIVED: STEP_REGISTERED,
    Status.IN_TRANSIT: STEP_IN_TRANSIT,
    Status.EXCEPTION: STEP_IN_TRANSIT,
    Status.EXPIRED: STEP_IN_TRANSIT,
    Status.OUT_FOR_DELIVERY: STEP_OUT_FOR_DELIVERY,
    Status.FAILED_ATTEMPT: STEP_OUT_FOR_DELIVERY,
    Status.AVAILABLE_FOR_PICKUP: STEP_OUT_FOR_DELIVERY,
    Status.DELIVERED: STEP_DELIVERED,
}
# No more news will come: the page stops refreshing itself.
_SETTLED_SUBSTATUSES = frozenset(
    {
        Substatus.DELIVERED_TO_SENDER,
        Substatus.EXCEPTION_RETURNED_TO_SENDER,
        Substatus.EXCEPTION_CANCELLED,
    }
)
# Shown in the "returned" colour: a return (the one rule, tracking.status), and the two
# endings that lead to one or to nothing: the buyer refused the parcel, the order was cancelled.
_RETURNED_TONE = RETURN_SUBSTATUSES | {Substatus.EXCEPTION_REFUSED, Substatus.EXCEPTION_CANCELLED}


@dataclass(frozen=True)
class Step:
    label: str
    # done | current | problem | todo
    state: str


@dataclass(frozen=True)
class TimelineEntry:
    occurred_at: datetime
    label: str
    place: str
    is_problem: bool


@dataclass(frozen=True)
class DeliveryProof:
    delivered_at: datetime
    place: str
    signed_by: str  # initials only: "C. M."


@dataclass(frozen=True)
class ParcelView:
    number: int  # 1-based position in the order
    tracking_number: str
    carrier_name: str
    carrier_url: str
    status: str
    substatus: str
    # ok | done | attention | problem | returned: the colour of the headline and progress
    tone: str
    headline: str
    advice: str
    pickup_place: str
    estimated_delivery: str
    steps: tuple[Step, ...]
    timeline: tuple[TimelineEntry, ...]
    proof: DeliveryProof | None
    moving: bool
    # A parcel the buyer sends back to the seller (returns app), shown as such.
    is_return: bool = False


# --- Small rules ------------------------------------------------------------------------------


def initials(name: str) -> str:
    """A signatory as initials only, never the name: "Camille Martin" -> "C. M."; at most three
    letters; words that do not start with a letter ("2E") are skipped."""
    letters = [word[0].upper() for word in re.split(r"[\s.\-']+", name) if word[:1].isalpha()]
    return " ".join(f"{letter}." for letter in letters[:3])


def place_text(city: str, country: str) -> str:
    """ "Lyon, France" in the page's language; the postcode is left out (it can be the buyer's)."""
    country_name = str(COUNTRY_NAMES.get(country.upper(), country.upper())) if country else ""
    city = city.strip().title() if city.isupper() else city.strip()
    return ", ".join(part for part in (city, country_name) if part)


def carrier_link(shipment) -> tuple[str, str]:
    """(courier's name, its public tracking page or "") for a parcel."""
    if shipment.carrier == OTHER_CARRIER:
        url = shipment.carrier_tracking_url
        return shipment.carrier_name, url if url.startswith(("https://", "http://")) else ""
    try:
        adapter = carriers.get_adapter(shipment.carrier)
    except carriers.UnknownCarrier:
        return shipment.carrier.upper(), ""
    return adapter.name, adapter.tracking_url(shipment.tracking_number)


def is_settled(status: str, substatus: str) -> bool:
    """True when no more news is expected (delivered, returned, cancelled, expired)."""
    return status in (Status.DELIVERED, Status.EXPIRED) or substatus in _SETTLED_SUBSTATUSES


def format_day(value: datetime) -> str:
    """ "Tuesday 25 November" in the active language (each language's own word order)."""
    # Translators: a Django date format for a weekday and a day, e.g. "l j F" (fr), "l, F j" (en)
    return formats.date_format(timezone.localtime(value), pgettext("weekday and day", "l j F"))


def format_time(value: datetime) -> str:
    return formats.time_format(timezone.localtime(value), "TIME_FORMAT")


def estimated_delivery_text(start: datetime | None, end: datetime | None) -> str:
    """The courier's estimate as a day, a window of hours within a day, or a range of days."""
    if start is None:
        return ""
    local_start = timezone.localtime(start)
    if end is None or end <= start:
        return format_day(start)
    local_end = timezone.localtime(end)
    if local_start.date() == local_end.date():
        if local_start.time() == time.min:
            return format_day(start)
        return pgettext("delivery window", "%(day)s, between %(start)s and %(end)s") % {
            "day": format_day(start),
            "start": format_time(start),
            "end": format_time(end),
        }
    return pgettext("delivery window", "between %(first)s and %(last)s") % {
        "first": format_day(start),
        "last": format_day(end),
    }


def _tone(status: str, substatus: str) -> str:
    if substatus in _RETURNED_TONE:
        return "returned"
    if status == Status.DELIVERED:
        return "done"
    if status == Status.EXCEPTION and substatus == Substatus.EXCEPTION_DELAYED:
        return "attention"
    if status in (Status.EXCEPTION, Status.EXPIRED):
        return "problem"
    if status in (Status.FAILED_ATTEMPT, Status.AVAILABLE_FOR_PICKUP):
        return "attention"
    return "ok"


def progress_steps(status: str, substatus: str, reached: int, pickup: bool) -> tuple[Step, ...]:
    """The five steps with the state of each: done, current, problem (where it stands when it
    went wrong) or todo. ``reached`` is the furthest step the parcel's events ever got to."""
    labels = [str(label) for label in STEP_LABELS]
    if pickup:
        labels[STEP_OUT_FOR_DELIVERY] = str(_("Ready to collect"))
    labels.append(str(_("Collected") if pickup else _("Delivered")))
    tone = _tone(status, substatus)
    if tone == "done":
        return tuple(Step(label, "done") for label in labels)
    current = min(max(reached, _STEP_OF_STATUS.get(status, STEP_ORDERED)), STEP_DELIVERED - 1)
    current_state = "problem" if tone in ("problem", "returned") else "current"
    return tuple(
        Step(label, "done" if i < current else current_state if i == current else "todo")
        for i, label in enumerate(labels)
    )


def _label(status: str, substatus: str) -> str:
    return str(SUBSTATUS_LABELS.get(substatus) or STATUS_LABELS.get(status, status))


def _delivery_proof(shipment) -> DeliveryProof | None:
    if shipment.status != Status.DELIVERED or shipment.substatus == Substatus.DELIVERED_TO_SENDER:
        return None
    pod = getattr(shipment, "pod", None)  # a missing one-to-one raises: getattr's default
    kind = (pod.location_type if pod else "") or _PLACE_BY_SUBSTATUS.get(shipment.substatus, "")
    place = DELIVERY_PLACES.get(kind)
    return DeliveryProof(
        delivered_at=(pod.delivered_at if pod else None) or shipment.delivered_at,
        place=str(place) if place else "",
        signed_by=initials(pod.signed_by) if pod and pod.signed_by else "",
    )


def parcel_view(shipment, events: Sequence, *, number: int) -> ParcelView:
    """Everything the page shows about one parcel. ``events`` newest first."""
    status, substatus = shipment.status, shipment.substatus or ""
    name, url = carrier_link(shipment)
    reached = max(
        (_STEP_OF_STATUS.get(e.status, STEP_ORDERED) for e in events if e.status != "exception"),
        default=STEP_ORDERED,
    )
    pickup_event = next((e for e in events if e.status == Status.AVAILABLE_FOR_PICKUP), None)
    pickup = status == Status.AVAILABLE_FOR_PICKUP or (
        status == Status.DELIVERED and substatus == Substatus.DELIVERED_PICKUP_POINT
    )
    settled = is_settled(status, substatus)
    advice = ADVICE.get(substatus) or ADVICE.get(status)
    if status == Status.DELIVERED and substatus != Substatus.DELIVERED_TO_SENDER:
        advice = None
    tone = _tone(status, substatus)
    # An estimate is kept while the parcel moves normally or is only late, not once it is in
    # trouble (lost, address problem…) or on its way back: it would promise what will not come.
    show_estimate = not settled and tone in ("ok", "attention")
    is_return = getattr(shipment, "direction", "outbound") == "return"
    headline = SUBSTATUS_HEADLINES.get(substatus) or HEADLINES.get(status, status)
    if is_return and status not in (Status.EXCEPTION, Status.FAILED_ATTEMPT, Status.EXPIRED):
        headline = RETURN_HEADLINES.get(status, RETURN_MOVING_HEADLINE)
    return ParcelView(
        number=number,
        tracking_number=shipment.tracking_number,
        carrier_name=name,
        carrier_url=url,
        status=status,
        substatus=substatus,
        tone=tone,
        headline=str(headline),
        advice=str(advice) if advice else "",
        pickup_place=place_text(pickup_event.city, pickup_event.country)
        if pickup_event and status == Status.AVAILABLE_FOR_PICKUP
        else "",
        estimated_delivery=estimated_delivery_text(
            shipment.estimated_delivery_at, shipment.estimated_delivery_end_at
        )
        if show_estimate
        else "",
        steps=progress_steps(status, substatus, reached, pickup),
        timeline=tuple(
            TimelineEntry(
                occurred_at=e.occurred_at,
                label=_label(e.status, e.substatus or ""),
                place=place_text(e.city, e.country),
                is_problem=e.status in (Status.EXCEPTION, Status.FAILED_ATTEMPT),
            )
            for e in events
        ),
        proof=_delivery_proof(shipment),
        moving=not settled,
        is_return=is_return,
    )


# --- The seller's look ------------------------------------------------------------------------

_HEX_COLOR = re.compile(r"#[0-9A-Fa-f]{6}")


@dataclass(frozen=True)
class Brand:
    name: str
    logo_url: str
    primary: str
    accent: str
    message: str
    store_url: str
    contact_url: str
    returns_url: str
    # When it last changed (part of the page cache key).
    version: str

    @property
    def css(self) -> str:
        """The inline <style> carrying the colours as CSS custom properties (allowed by its
        hash in the Content-Security-Policy, so no 'unsafe-inline')."""
        return f":root{{--brand-primary:{self.primary};--brand-accent:{self.accent}}}"


def brand_for(seller) -> Brand:
    """The seller's branding (sellers.SellerBranding, validated when saved), or the
    marketplace's clean default look when the seller has none."""
    from sellers.models import SellerBranding

    branding = getattr(seller, "branding", None)  # a missing one-to-one raises: the default
    if branding is None:
        branding = SellerBranding(seller=seller)

    def color(value: str, default: str) -> str:
        # Checked again: it goes into a <style> element.
        return value.upper() if _HEX_COLOR.fullmatch(value or "") else default

    def https(url: str) -> str:
        # Stored before the strict rule (core/weburls.py)? Then the page shows no link.
        return url if strict_https_url(url) else ""

    return Brand(
        name=seller.name,
        logo_url=https(branding.logo_url),
        primary=color(branding.primary_color, SellerBranding.DEFAULT_PRIMARY_COLOR),
        accent=color(branding.accent_color, SellerBranding.DEFAULT_ACCENT_COLOR),
        message=branding.message,
        store_url=https(branding.store_url),
        contact_url=https(branding.contact_url),
        returns_url=https(branding.returns_url),
        version=branding.updated_at.isoformat() if branding.updated_at else "",
    )
