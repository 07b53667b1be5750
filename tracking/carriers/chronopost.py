"""Chronopost, through the SOAP tracking web service ``TrackingServiceWS.trackSkybillV2``.

    POST {base_url}/tracking-cxf/TrackingServiceWS
    Content-Type: text/xml; charset=utf-8        SOAPAction: ""
    <soapenv:Envelope …><soapenv:Body><cxf:trackSkybillV2>
        <language>en_GB</language><skybillNumber>{number}</skybillNumber>
    </cxf:trackSkybillV2></soapenv:Body></soapenv:Envelope>

Format quirks this module deals with:

- ``trackSkybillV2`` takes exactly one ``skybillNumber`` (and a language), so one request per
  number. It takes no credentials: the ``account``/``password`` settings are kept for the
  authenticated operations of the same service (``trackSearch``) but are not sent here.
- The answer is ``return{errorCode, errorMessage, listEventInfoComp{events[], skybillNumber}}``.
  ``errorCode`` 0 is success; any other value is an error whose body names no number ("System
  Error" for ``errorCode`` 1). A success without any event means Chronopost does not know the
  number: it is reported as "not found", not as an empty shipment.
- Events are oldest first, ``code`` is 1 or 2 letters (DC, DB, DY, SC, TS, SD, TA, D…),
  ``eventDate`` ISO-8601 with its offset, ``eventLabel`` in the requested language.
- Chronopost publishes no exhaustive code list. ``STATUS_MAP`` holds the codes seen in a real
  answer; any other code is classified from its label (English and French keywords), falling back
  to "in transit". The label also says where a "D" (delivered) happened.
- Place: ``officeLabel`` (a depot name such as "ARRAS CHRONOPOST" or "HUB CHILLY MAZARIN
  CHRONOPOST", or "Web Services" for data received electronically), ``zipCode`` and ``NPC`` (the
  French département). No country field: an event carrying a département is in France.
- Proof of delivery: the "D" event's ``infoCompList`` entry "Consignee's name" (French answers:
  "Nom du destinataire") is the signatory. No image, no estimated delivery in this operation.
- XML is parsed with the standard library; defusedxml is not installed, so a document declaring
  a DTD or an entity is refused before parsing (entity-expansion and external-entity attacks).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # noqa: S405 - only for type hints; parsing is tracking.carriers.soap's
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from tracking.carriers.base import (
    CarrierAdapter,
    CarrierEvent,
    CarrierPayloadError,
    CarrierResponse,
    Location,
    ParseResult,
    PodData,
    TrackingError,
    TrackingResult,
    courier_number,
    real_signatory,
    sort_events,
)
from tracking.carriers.soap import child_text, soap_envelope
from tracking.carriers.timeparse import country_timezone, parse_datetime
from tracking.carriers.vocabulary import DELIVERY_LOCATION_TYPES, Status, Substatus

if TYPE_CHECKING:
    from tracking.carriers.http import CarrierHttpClient

SOAP_PATH = "/tracking-cxf/TrackingServiceWS"
LANGUAGE = "en_GB"
_HOME_TZ = country_timezone("FR")

# Chronopost event code -> our (status, substatus). Only the codes seen in a real answer
# (chronopost_trackskybillv2_delivered.xml): Chronopost publishes no exhaustive list. Other codes
# go through _LABEL_RULES.
STATUS_MAP: dict[str, tuple[str, str | None]] = {
    # Data received: the shipper printed the label, nothing physical yet.
    "DC": (Status.INFO_RECEIVED, None),  # Shipment in preparation to be shipped
    # Physical scans on the way.
    "DB": (Status.IN_TRANSIT, None),  # Shipment handed over by shipper
    "DY": (Status.IN_TRANSIT, None),  # Parcel Registered by the post office
    "SC": (Status.IN_TRANSIT, None),  # Sorted at departure location
    "TS": (Status.IN_TRANSIT, None),  # Shipment in transit
    "SD": (Status.IN_TRANSIT, None),  # Sorted at delivery location
    # Last mile.
    "TA": (Status.OUT_FOR_DELIVERY, None),  # Shipment in delivery to the consignee
    # Delivered; where and to whom comes from the label and infoCompList (see _delivered).
    "D": (Status.DELIVERED, None),
}
DELIVERED_CODE = "D"

_D, _E, _F = Status.DELIVERED, Status.EXCEPTION, Status.FAILED_ATTEMPT

# Label keywords (lowercase) for codes absent from STATUS_MAP. First match wins, so the most
# specific come first: a return "delivered to the sender" before any "delivered".
_LABEL_RULES: tuple[tuple[str, tuple[str, str | None]], ...] = (
    ("delivered to the sender", (_E, Substatus.EXCEPTION_RETURNED_TO_SENDER)),
    ("delivered to sender", (_E, Substatus.EXCEPTION_RETURNED_TO_SENDER)),
    ("livré à l'expéditeur", (_E, Substatus.EXCEPTION_RETURNED_TO_SENDER)),
    ("remis à l'expéditeur", (_E, Substatus.EXCEPTION_RETURNED_TO_SENDER)),
    ("return to sender", (_E, Substatus.EXCEPTION_RETURNING_TO_SENDER)),
    ("returned to sender", (_E, Substatus.EXCEPTION_RETURNING_TO_SENDER)),
    ("returning to the sender", (_E, Substatus.EXCEPTION_RETURNING_TO_SENDER)),
    ("being returned", (_E, Substatus.EXCEPTION_RETURNING_TO_SENDER)),
    ("retour expéditeur", (_E, Substatus.EXCEPTION_RETURNING_TO_SENDER)),
    ("retourné à l'expéditeur", (_E, Substatus.EXCEPTION_RETURNING_TO_SENDER)),
    ("refus", (_E, Substatus.EXCEPTION_REFUSED)),
    ("damaged", (_E, Substatus.EXCEPTION_DAMAGED)),
    ("endommag", (_E, Substatus.EXCEPTION_DAMAGED)),
    ("held in customs", (_E, Substatus.EXCEPTION_CUSTOMS)),
    ("retenu en douane", (_E, Substatus.EXCEPTION_CUSTOMS)),
    ("could not be located", (_E, Substatus.EXCEPTION_LOST)),
    ("cannot be located", (_E, Substatus.EXCEPTION_LOST)),
    ("investigation", (_E, Substatus.EXCEPTION_LOST)),
    ("enquête", (_E, Substatus.EXCEPTION_LOST)),
    ("introuvable", (_E, Substatus.EXCEPTION_LOST)),
    # Nobody in: a failed attempt (another will follow), before the address keywords because
    # such labels often mention "the address".
    ("absent", (_F, Substatus.FAILED_ATTEMPT_RECIPIENT_ABSENT)),
    ("not at home", (_F, Substatus.FAILED_ATTEMPT_RECIPIENT_ABSENT)),
    ("avis de passage", (_F, Substatus.FAILED_ATTEMPT_RECIPIENT_ABSENT)),
    ("incorrect address", (_E, Substatus.EXCEPTION_ADDRESS_ISSUE)),
    ("incomplete address", (_E, Substatus.EXCEPTION_ADDRESS_ISSUE)),
    ("address is incomplete", (_E, Substatus.EXCEPTION_ADDRESS_ISSUE)),
    ("address is incorrect", (_E, Substatus.EXCEPTION_ADDRESS_ISSUE)),
    ("adresse incompl", (_E, Substatus.EXCEPTION_ADDRESS_ISSUE)),
    ("adresse erron", (_E, Substatus.EXCEPTION_ADDRESS_ISSUE)),
    ("available for collection", (Status.AVAILABLE_FOR_PICKUP, None)),
    ("available at", (Status.AVAILABLE_FOR_PICKUP, None)),
    ("ready for pickup", (Status.AVAILABLE_FOR_PICKUP, None)),
    ("disponible", (Status.AVAILABLE_FOR_PICKUP, None)),
    ("out for delivery", (Status.OUT_FOR_DELIVERY, None)),
    ("in delivery", (Status.OUT_FOR_DELIVERY, None)),
    ("en cours de livraison", (Status.OUT_FOR_DELIVERY, None)),
    ("delivered", (_D, None)),
    ("livré", (_D, None)),
)

# Where a "D" happened, read from its label (first match wins).
_DELIVERED_PLACES: tuple[tuple[str, str], ...] = (
    ("pickup", Substatus.DELIVERED_PICKUP_POINT),
    ("relay point", Substatus.DELIVERED_PICKUP_POINT),
    ("relais", Substatus.DELIVERED_PICKUP_POINT),
    ("locker", Substatus.DELIVERED_LOCKER),
    ("en consigne", Substatus.DELIVERED_LOCKER),  # not "consignee"
    ("letter box", Substatus.DELIVERED_MAILBOX),
    ("letterbox", Substatus.DELIVERED_MAILBOX),
    ("mailbox", Substatus.DELIVERED_MAILBOX),
    ("boîte aux lettres", Substatus.DELIVERED_MAILBOX),
    ("neighbour", Substatus.DELIVERED_NEIGHBOUR),
    ("voisin", Substatus.DELIVERED_NEIGHBOUR),
)

# infoCompList names carrying the signatory, in the languages Chronopost answers in.
_SIGNATORY_NAMES = frozenset({"consignee's name", "nom du destinataire"})

# officeLabel is a depot name: "HUB CHILLY MAZARIN CHRONOPOST" -> "CHILLY MAZARIN".
_OFFICE_NOISE = re.compile(r"^(?:HUB|AGENCE)\s+|\s+CHRONOPOST$", re.IGNORECASE)
# Offices that are systems, not places.
_NOT_A_PLACE = frozenset({"web services"})

_ENVELOPE = (
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns:cxf="http://cxf.tracking.soap.chronopost.fr/">'
    "<soapenv:Header/><soapenv:Body><cxf:trackSkybillV2>"
    "<language>{language}</language><skybillNumber>{number}</skybillNumber>"
    "</cxf:trackSkybillV2></soapenv:Body></soapenv:Envelope>"
)


class ChronopostAdapter(CarrierAdapter):
    slug = "chronopost"
    production_url = "https://ws.chronopost.fr"
    credentials = ("account", "password")
    name = "Chronopost"
    number_patterns = (
        # UPU S10-style skybills (XN081879383FR, EE…FR): 2 letters, 8 digits, check digit, FR.
        re.compile(r"[A-Z]{2}\d{9}FR"),
        # Domestic skybills: 14 digits (89108749065090 in the real sample).
        re.compile(r"\d{14}"),
    )
    status_map = STATUS_MAP
    # trackSkybillV2 has a single skybillNumber parameter: one number per call.
    batch_size = 1
    # Chronopost publishes no quota for its tracking web service; 2 calls/s stays well below what
    # a SOAP endpoint shared by all merchants tolerates, until a contract gives a figure.
    requests_per_second = 2.0
    tracking_url_template = (
        "https://www.chronopost.fr/tracking-no-cms/suivi-page?listeNumerosLT={number}"
    )

    def __init__(self, *, base_url: str, api_key: str = "", **options: object) -> None:
        super().__init__(base_url=base_url, api_key=api_key, **options)
        # Not sent by trackSkybillV2 (see the module docstring); kept for trackSearch.
        self.account = str(options.get("account", ""))
        self.password = str(options.get("password", ""))

    def fetch(
        self, tracking_numbers: Sequence[str], *, client: CarrierHttpClient
    ) -> list[CarrierResponse]:
        """One SOAP POST per number."""
        headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}
        return [
            client.request(
                "POST",
                f"{self.base_url}{SOAP_PATH}",
                headers=headers,
                data=soap_request(number).encode(),
            )
            for number in tracking_numbers
        ]

    def parse(self, body: bytes) -> ParseResult:
        """A trackSkybillV2 SOAP answer -> one shipment, or one error.

        Raises CarrierPayloadError when the body is not that answer (not XML, a DTD, wrong shape).
        """
        root = soap_envelope(body, "Chronopost")
        answer = root.find("./Body/trackSkybillV2Response/return")
        if answer is None:
            raise CarrierPayloadError("Chronopost answer has no trackSkybillV2Response/return")
        error_code = child_text(answer, "errorCode")
        if not error_code.isdigit():
            raise CarrierPayloadError(f"Chronopost errorCode is not a number: {error_code!r}")
        listing = answer.find("listEventInfoComp")
        number = courier_number(child_text(listing, "skybillNumber")) if listing is not None else ""
        if error_code != "0":
            message = child_text(answer, "errorMessage") or f"Chronopost errorCode {error_code}"
            return ParseResult(errors=[TrackingError(number, "courier_error", message)])
        if listing is None:
            raise CarrierPayloadError("Chronopost errorCode 0 without listEventInfoComp")
        raw_events = listing.findall("events")
        if not raw_events:
            # Chronopost answers success with an empty list for a number it does not know.
            message = "Chronopost has no event for this skybill number"
            return ParseResult(errors=[TrackingError(number, "not_found", message)])
        if not number:
            raise CarrierPayloadError("Chronopost answer with events but no skybillNumber")
        return ParseResult(shipments=[self._shipment(number, raw_events)])

    # --- helpers ------------------------------------------------------------------------------

    def _shipment(self, number: str, raw_events: list[ET.Element]) -> TrackingResult:
        signatories: dict[int, str] = {}
        events = []
        for raw in raw_events:
            event, signed_by = self._event(number, raw)
            events.append(event)
            if signed_by:
                signatories[id(event)] = signed_by
        ordered = sort_events(events)  # Chronopost sends oldest first; sort anyway, stably
        result = TrackingResult(tracking_number=number, events=ordered)
        delivery = result.delivery
        if delivery is None:
            return result
        delivery = next(
            e for e in reversed(ordered) if e.status == Status.DELIVERED
        )  # the delivery that stands
        return replace(
            result,
            pod=PodData(
                delivered_at=delivery.occurred_at,
                signed_by=signatories.get(id(delivery), ""),
                location_type=DELIVERY_LOCATION_TYPES.get(delivery.substatus or "", ""),
            ),
        )

    def _event(self, number: str, raw: ET.Element) -> tuple[CarrierEvent, str]:
        code = child_text(raw, "code")
        label = child_text(raw, "eventLabel")
        if not code:
            raise CarrierPayloadError(f"Chronopost skybill {number}: event without code")
        location = _location(raw)
        try:
            # Chronopost writes the offset; were it missing, the time is French local time.
            occurred_at = parse_datetime(child_text(raw, "eventDate"), default_tz=_HOME_TZ)
        except ValueError as exc:
            raise CarrierPayloadError(f"Chronopost skybill {number}: bad eventDate") from exc
        signed_by = _signatory(raw) if code == DELIVERED_CODE else ""
        status, substatus = self._classify(code, label, signed=bool(signed_by))
        return CarrierEvent(occurred_at, status, substatus, code, label, location), signed_by

    def _classify(self, code: str, label: str, *, signed: bool) -> tuple[str, str | None]:
        text = label.casefold()
        if code in self.status_map:
            status, substatus = self.status_map[code]
        else:
            status, substatus = next(
                (refined for keyword, refined in _LABEL_RULES if keyword in text),
                (Status.IN_TRANSIT, None),
            )
        if status == Status.DELIVERED and substatus is None:
            places = (place for keyword, place in _DELIVERED_PLACES if keyword in text)
            substatus = next(places, None)
            if substatus is None and signed:
                substatus = Substatus.DELIVERED_SIGNED
        return status, substatus


def soap_request(number: str, language: str = LANGUAGE) -> str:
    """The trackSkybillV2 envelope for one number (escaped: a number is user input)."""
    return _ENVELOPE.format(language=escape(language), number=escape(number))


def _signatory(raw: ET.Element) -> str:
    for info in raw.findall("infoCompList"):
        if child_text(info, "name").casefold() in _SIGNATORY_NAMES:
            return real_signatory(child_text(info, "value"))
    return ""


def _location(raw: ET.Element) -> Location:
    office = child_text(raw, "officeLabel")
    city = "" if office.casefold() in _NOT_A_PLACE else _OFFICE_NOISE.sub("", office).strip()
    # NPC is the French département: only French depots carry one.
    return Location(
        city=city,
        postcode=child_text(raw, "zipCode"),
        country="FR" if child_text(raw, "NPC") else "",
    )
