"""Chronopost ``TrackingServiceWS.trackSkybillV2``, emulated:
``POST /chronopost/tracking-cxf/TrackingServiceWS`` with a SOAP 1.1 envelope.

The operation takes no credentials (Chronopost's real one does not either), so there is no
unauthorised answer. Body ``trackSkybillV2{language, skybillNumber}``; answer
``trackSkybillV2Response/return{errorCode 0, listEventInfoComp{events[], skybillNumber}}``, events
oldest first, ``eventDate`` Paris time with its offset, English labels (``language`` en_GB).
A number Chronopost does not know (unknown or badly formed) gets ``errorCode`` 0 with no event, as
the real service answers; a request that is not a trackSkybillV2 envelope gets ``errorCode`` 1
"System Error" (the real error sample); faults are SOAP ``soap:Server`` faults.

Codes: DC, DB, SC, TS, SD, TA and D are the ones seen in a real answer. Chronopost publishes no
list for the other steps (failed attempt, waiting at a pickup point, address problem, return,
lost): the sandbox gives them stand-in codes ``XA``, ``XP``, ``XD``, ``XR``, ``XE``, ``XL`` that
the adapter does not know, so they exercise its reading of the label, as an unlisted real code
would.

Numbers: S10-style skybills ``XS`` + 8 digits + UPU check digit + ``FR``; ``XU…FR`` is unknown.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from xml.sax.saxutils import escape

from devtools.sandbox.couriers.base import CourierRequest, ParcelSource, Reply, SandboxCourier
from devtools.sandbox.formats import paris_iso
from devtools.sandbox.journeys import Journey, Place, SeenStep, normalise_number

PATH = "/tracking-cxf/TrackingServiceWS"
XML = "text/xml;charset=UTF-8"

# Step kind -> (code, eventLabel). The first seven codes and labels are Chronopost's own (real
# sample); the X* codes are sandbox stand-ins (see the module docstring).
CHRONOPOST_EVENTS: dict[str, tuple[str, str]] = {
    "info_received": ("DC", "Shipment in preparation to be shipped"),
    "picked_up": ("DB", "Shipment handed over by shipper"),
    "in_transit_hub": ("TS", "Shipment in transit"),
    "arrived_delivery_site": ("SD", "Sorted at delivery location"),
    "out_for_delivery": ("TA", "Shipment in delivery to the consignee"),
    "delivered": ("D", "Delivered"),
    "delivered_mailbox": ("D", "Delivered in the consignee's letter box"),
    "delivered_pickup_point": ("D", "Delivered to the consignee at the Pickup relay point"),
    "failed_attempt": ("XA", "Consignee absent, a delivery notice has been left"),
    "available_for_pickup": ("XP", "Shipment available for collection at the Pickup relay point"),
    "address_issue": ("XD", "Delivery impossible: the address is incomplete"),
    "returning": ("XR", "Shipment being returned to the sender"),
    "returned": ("XE", "Shipment delivered to the sender"),
    "lost": ("XL", "Shipment could not be located, an investigation is open"),
}
SEEN_CODES = frozenset({"DC", "DB", "DY", "SC", "TS", "SD", "TA", "D"})

_SKYBILL = re.compile(r"<(?:\w+:)?skybillNumber>([^<]*)</(?:\w+:)?skybillNumber>")


def s10_check_digit(serial: str) -> str:
    """UPU S10 check digit of 8 serial digits (weights 8 6 4 2 3 5 9 7, modulo 11)."""
    total = sum(int(d) * w for d, w in zip(serial, (8, 6, 4, 2, 3, 5, 9, 7), strict=True))
    check = 11 - total % 11
    return {10: "0", 11: "5"}.get(check, str(check))


def _envelope(inner: str) -> str:
    return (
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
        f"{inner}</soap:Body></soap:Envelope>"
    )


def _response(inner: str) -> str:
    return _envelope(
        '<ns2:trackSkybillV2Response xmlns:ns2="http://cxf.tracking.soap.chronopost.fr/">'
        f"<return>{inner}</return></ns2:trackSkybillV2Response>"
    )


def _office(seen: SeenStep) -> tuple[str, str, str]:
    """(officeLabel, zipCode, NPC): the label is data, not a depot, before the parcel moves."""
    if seen.step.kind == "info_received":
        return "Web Services", "", ""
    place: Place = seen.step.place
    return f"{place.city.upper()} CHRONOPOST", place.postcode, place.postcode[:2]


def _event(seen: SeenStep, journey: Journey) -> str:
    code, label = CHRONOPOST_EVENTS[seen.step.kind]
    office, zip_code, npc = _office(seen)
    info = ""
    if seen.step.kind == "delivered":
        info = (
            "<infoCompList><name>Consignee's name</name>"
            f"<value>{escape(journey.signed_by)}</value></infoCompList>"
        )
    elif seen.step.kind == "info_received":
        info = (
            "<infoCompList><name>Partner number</name>"
            f"<value>GEO/{journey.number}</value></infoCompList>"
        )
    high_priority = "true" if code == "D" else "false"
    return (
        f"<events><code>{code}</code><eventDate>{paris_iso(seen.at)}</eventDate>"
        f"<eventLabel>{escape(label)}</eventLabel><highPriority>{high_priority}</highPriority>"
        f"<NPC>{npc}</NPC><officeLabel>{escape(office)}</officeLabel>"
        f"<zipCode>{zip_code}</zipCode>{info}</events>"
    )


def chronopost_answer(number: str, journey: Journey | None, seen: Sequence[SeenStep]) -> str:
    """errorCode 0 with the events (oldest first); no event at all for an unknown number."""
    ordered = sorted(seen, key=lambda s: (s.at, s.step.offset))
    events = "".join(_event(s, journey) for s in ordered) if journey else ""
    return _response(
        "<errorCode>0</errorCode>"
        f"<listEventInfoComp>{events}<skybillNumber>{escape(number)}</skybillNumber>"
        "</listEventInfoComp>"
    )


def chronopost_error(message: str = "System Error") -> str:
    return _response(f"<errorCode>1</errorCode><errorMessage>{escape(message)}</errorMessage>")


def soap_fault(code: str, message: str) -> str:
    return _envelope(
        f"<soap:Fault><faultcode>{code}</faultcode><faultstring>{escape(message)}</faultstring>"
        "</soap:Fault>"
    )


def _skybill(body: bytes) -> str | None:
    """The skybillNumber of a trackSkybillV2 request, None when the body is not one."""
    text = body.decode("utf-8", "replace")
    if "trackSkybillV2" not in text or "<!DOCTYPE" in text.upper():
        return None
    match = _SKYBILL.search(text)
    return normalise_number(match.group(1)) if match else None


class ChronopostSandbox(SandboxCourier):
    slug = "chronopost"
    number_patterns = (re.compile(r"X[A-Z][0-9]{9}FR"),)
    unknown_prefix = "XU"

    def candidate(self, value: int) -> str:
        serial = f"{value % 10**8:08d}"
        return f"XS{serial}{s10_check_digit(serial)}FR"

    def handle(self, request: CourierRequest, parcels: ParcelSource) -> Reply:
        if request.path != PATH:
            return Reply(404, soap_fault("soap:Client", f"No service at {request.path}"), XML)
        if request.method != "POST":
            return Reply(405, soap_fault("soap:Client", "POST a SOAP envelope"), XML)
        number = _skybill(request.body)
        if number is None:
            return Reply(200, chronopost_error(), XML)
        if not self.knows(number):
            return Reply(200, chronopost_answer(number, None, ()), XML)
        parcel = parcels.parcel(self.slug, number)
        return Reply(200, chronopost_answer(number, parcel.journey, parcel.seen), XML)

    def fault_reply(self, fault: str, retry_after_seconds: int) -> Reply:
        if fault == "error_429":
            return Reply(
                429,
                soap_fault("soap:Server", "Too many requests"),
                XML,
                headers=[("Retry-After", str(retry_after_seconds))],
            )
        return Reply(500, soap_fault("soap:Server", "Internal server error"), XML)


COURIER = ChronopostSandbox()
