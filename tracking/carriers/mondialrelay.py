"""Mondial Relay, through the SOAP web service ``WSI2_TracingColisDetaille``.

    POST {base_url}/Web_Services.asmx
    Content-Type: text/xml; charset=utf-8
    SOAPAction: "http://www.mondialrelay.fr/webservice/WSI2_TracingColisDetaille"
    <WSI2_TracingColisDetaille xmlns="http://www.mondialrelay.fr/webservice/">
        <Enseigne/><Expedition/><Langue>FR</Langue><Security/>
    </WSI2_TracingColisDetaille>

``Security`` is the upper-case MD5 of Enseigne + Expedition + Langue + the merchant's private key.

Format quirks this module deals with:

- One ``Expedition`` (8-digit parcel number) per call, and the answer does not repeat it: only
  ``track`` knows which number an answer is about. ``parse`` alone (an operator reading a saved
  answer) reports ``tracking_number`` "".
- ``STAT`` says everything at once: 80-83 are tracing states (registered, in progress,
  delivered, anomaly); any other value is an error (24 invalid number, 94 unknown parcel, 97 bad
  security key…), with no text: the message comes from Mondial Relay's STAT table. Account-level
  errors (bad enseigne or key, service down) are reported per number by ``parse`` and raised as
  courier faults by ``track`` so that the sync backs off the courier.
- Events (``Tracing/ret_WSI2_sub_TracingColisDetaille``) have no code at all: only a free-text
  ``Libelle`` in the requested language, read through a keyword table (``_LABEL_RULES``). Event
  codes stay "" rather than invented. When the newest label is one the table does not know, a
  final ``STAT`` (82 delivered, 83 anomaly) classifies it: nothing comes after a delivery, so the
  event keeps that status on later reads.
- ``Tracing`` is padded with empty entries (15 slots): those are skipped.
- ``Date`` is dd/mm/yy and ``Heure`` HH:MM, Mondial Relay's (French) local time: read in Paris
  time. The network's other countries (BE, LU, NL, ES, DE, AT, IT, PL) share that offset.
- Place: ``Emplacement`` is a town or, for scans abroad, a country name in French ("ESPAGNE");
  ``Relais_Num``/``Relais_Pays`` name the pickup point of events that happen there. The answer's
  own ``Relais_Libelle``/``Relais_Num`` are the parcel's pickup point: a delivery there is a
  pickup-point delivery.
- No proof of delivery, no estimated delivery. A delivery that stands gets a POD with its date
  and "pickup_point" when it happened at the relay.
- XML is parsed with the standard library; defusedxml is not installed, so a document declaring
  a DTD or an entity is refused before parsing (entity-expansion and external-entity attacks).
"""

from __future__ import annotations

import hashlib
import re
import xml.etree.ElementTree as ET  # noqa: S405 - only for type hints; parsing is tracking.carriers.soap's
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
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
    sort_events,
)
from tracking.carriers.soap import child_text, soap_envelope
from tracking.carriers.timeparse import country_timezone
from tracking.carriers.vocabulary import Status, Substatus

if TYPE_CHECKING:
    from tracking.carriers.http import CarrierHttpClient

SOAP_PATH = "/Web_Services.asmx"
SOAP_ACTION = "http://www.mondialrelay.fr/webservice/WSI2_TracingColisDetaille"
LANGUAGE = "FR"
_PARIS = country_timezone("FR")

# Tracing STAT -> our (status, substatus), from Mondial Relay's STAT table
# (mondialrelay_stat_codes.json). A summary of the parcel, not of one event: used only for the
# newest event when its label is unknown (see the module docstring).
STATUS_MAP: dict[str, tuple[str, str | None]] = {
    "80": (Status.INFO_RECEIVED, None),  # Colis enregistré
    "81": (Status.IN_TRANSIT, None),  # Colis en traitement chez Mondial Relay
    "82": (Status.DELIVERED, None),  # Colis livré
    "83": (Status.EXCEPTION, Substatus.EXCEPTION_OTHER),  # Anomalie
}
FINAL_STATS = frozenset({"82", "83"})

# Error STAT -> (our error code, Mondial Relay's message from its STAT table).
ERROR_STATS: dict[str, tuple[str, str]] = {
    # The merchant account: the whole courier is unusable until credentials are fixed.
    "1": ("auth_failed", "Enseigne invalide"),
    "2": ("auth_failed", "Numéro d'enseigne vide ou inexistant"),
    "95": ("auth_failed", "Compte Enseigne non activé"),
    "97": ("auth_failed", "Clé de sécurité invalide"),
    # The number asked.
    "24": ("invalid_number", "Numéro de Colis Mondial Relay invalide"),
    "91": ("invalid_number", "Numéro d'expédition invalide"),
    "94": ("not_found", "Colis Inexistant"),
    # Our request.
    "74": ("invalid_request", "Langue invalide"),
    # Mondial Relay itself.
    "90": ("unavailable", "AS400 indisponible"),
    "98": ("unavailable", "Service Indisponible"),
    "99": ("courier_error", "Erreur générique du service"),
}

_D, _E, _F = Status.DELIVERED, Status.EXCEPTION, Status.FAILED_ATTEMPT

# Libelle keywords (casefolded) -> (status, substatus). First match wins: returns before
# deliveries ("livré à l'expéditeur"), a collection at the relay before a plain "livré".
_LABEL_RULES: tuple[tuple[str, tuple[str, str | None]], ...] = (
    ("livré à l'expéditeur", (_E, Substatus.EXCEPTION_RETURNED_TO_SENDER)),
    ("remis à l'expéditeur", (_E, Substatus.EXCEPTION_RETURNED_TO_SENDER)),
    ("retour", (_E, Substatus.EXCEPTION_RETURNING_TO_SENDER)),
    ("refus", (_E, Substatus.EXCEPTION_REFUSED)),
    ("endommag", (_E, Substatus.EXCEPTION_DAMAGED)),
    ("avarie", (_E, Substatus.EXCEPTION_DAMAGED)),
    ("introuvable", (_E, Substatus.EXCEPTION_LOST)),
    ("enquête", (_E, Substatus.EXCEPTION_LOST)),
    ("perdu", (_E, Substatus.EXCEPTION_LOST)),
    ("absent", (_F, Substatus.FAILED_ATTEMPT_RECIPIENT_ABSENT)),
    ("adresse", (_E, Substatus.EXCEPTION_ADDRESS_ISSUE)),
    ("anomalie", (_E, Substatus.EXCEPTION_OTHER)),
    ("disponible", (Status.AVAILABLE_FOR_PICKUP, None)),
    ("récupéré", (_D, Substatus.DELIVERED_PICKUP_POINT)),
    ("retiré par", (_D, Substatus.DELIVERED_PICKUP_POINT)),
    ("boîte aux lettres", (_D, Substatus.DELIVERED_MAILBOX)),
    ("livré", (_D, None)),
    ("en cours de livraison", (Status.OUT_FOR_DELIVERY, None)),
    ("en livraison", (Status.OUT_FOR_DELIVERY, None)),
    ("réception des données", (Status.INFO_RECEIVED, None)),
    ("colis enregistré", (Status.INFO_RECEIVED, None)),
    ("prise en charge", (Status.IN_TRANSIT, None)),
    ("pris en charge", (Status.IN_TRANSIT, None)),
    ("acheminement", (Status.IN_TRANSIT, None)),
    ("agence", (Status.IN_TRANSIT, None)),
    ("transit", (Status.IN_TRANSIT, None)),
)

# Emplacement values that are a country (French names), not a town.
_COUNTRY_NAMES = {
    "france": "FR",
    "espagne": "ES",
    "belgique": "BE",
    "luxembourg": "LU",
    "pays-bas": "NL",
    "pays bas": "NL",
    "allemagne": "DE",
    "autriche": "AT",
    "italie": "IT",
    "portugal": "PT",
    "pologne": "PL",
}

_ENVELOPE = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xmlns:xsd="http://www.w3.org/2001/XMLSchema"><soap:Body>'
    '<WSI2_TracingColisDetaille xmlns="http://www.mondialrelay.fr/webservice/">'
    "<Enseigne>{enseigne}</Enseigne><Expedition>{number}</Expedition>"
    "<Langue>{language}</Langue><Security>{security}</Security>"
    "</WSI2_TracingColisDetaille></soap:Body></soap:Envelope>"
)


def security_key(enseigne: str, number: str, language: str, private_key: str) -> str:
    """Mondial Relay's ``Security`` parameter: upper-case MD5 of the parameters in order plus the
    private key (MD5 is Mondial Relay's choice, not a protection we rely on)."""
    digest = hashlib.md5(  # noqa: S324 - the courier's signature scheme
        f"{enseigne}{number}{language}{private_key}".encode(), usedforsecurity=False
    )
    return digest.hexdigest().upper()


class MondialRelayAdapter(CarrierAdapter):
    slug = "mondialrelay"
    production_url = "https://api.mondialrelay.com"
    credentials = ("enseigne", "private_key")
    name = "Mondial Relay"
    # Expedition numbers: 8 digits (the number on the label and in the merchant's back-office).
    number_patterns = (re.compile(r"\d{8}"),)
    status_map = STATUS_MAP
    # WSI2_TracingColisDetaille has a single Expedition parameter: one parcel per call.
    batch_size = 1
    # Mondial Relay publishes no quota for Web_Services.asmx; its integration guide asks merchants
    # not to poll aggressively, so we pace at 1 call/s until a contract gives a figure.
    requests_per_second = 1.0
    tracking_url_template = "https://www.mondialrelay.fr/suivi-de-colis/?NumeroExpedition={number}"

    def __init__(self, *, base_url: str, api_key: str = "", **options: object) -> None:
        super().__init__(base_url=base_url, api_key=api_key, **options)
        self.enseigne = str(options.get("enseigne", ""))
        self.private_key = str(options.get("private_key", ""))

    def soap_request(self, number: str, language: str = LANGUAGE) -> str:
        security = security_key(self.enseigne, number, language, self.private_key)
        return _ENVELOPE.format(
            enseigne=escape(self.enseigne),
            number=escape(number),
            language=escape(language),
            security=security,
        )

    def fetch(
        self, tracking_numbers: Sequence[str], *, client: CarrierHttpClient
    ) -> list[CarrierResponse]:
        """One SOAP POST per number, in the order asked (``track`` relies on it)."""
        headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{SOAP_ACTION}"'}
        return [
            client.request(
                "POST",
                f"{self.base_url}{SOAP_PATH}",
                headers=headers,
                data=self.soap_request(number).encode(),
            )
            for number in tracking_numbers
        ]

    def parse(self, body: bytes) -> ParseResult:
        """A WSI2_TracingColisDetaille answer -> one shipment or one error, numbered "" (the
        answer does not carry the number; ``track`` supplies it).

        Raises CarrierPayloadError when the body is not that answer.
        """
        return self.parse_for(body, "")

    def parse_for(self, body: bytes, number: str) -> ParseResult:
        """``parse`` for an answer known to be about ``number``."""
        root = soap_envelope(body, "Mondial Relay")
        answer = root.find(
            "./Body/WSI2_TracingColisDetailleResponse/WSI2_TracingColisDetailleResult"
        )
        if answer is None:  # the result element alone, without its response wrapper
            answer = root.find("./Body/WSI2_TracingColisDetailleResult")
        if answer is None:
            raise CarrierPayloadError("Mondial Relay answer has no WSI2_TracingColisDetailleResult")
        stat = child_text(answer, "STAT")
        if not stat.isdigit():
            raise CarrierPayloadError(f"Mondial Relay STAT is not a number: {stat!r}")
        stat = str(int(stat))
        if stat not in STATUS_MAP:
            code, message = ERROR_STATS.get(stat, ("courier_error", f"Mondial Relay STAT {stat}"))
            return ParseResult(errors=[TrackingError(number, code, message)])
        return ParseResult(shipments=[self._shipment(number, stat, answer)])

    # --- helpers ------------------------------------------------------------------------------

    def _shipment(self, number: str, stat: str, answer: ET.Element) -> TrackingResult:
        relay_number = child_text(answer, "Relais_Num")
        relay_name = child_text(answer, "Relais_Libelle")
        tracing = answer.find("Tracing")
        entries = (
            tracing.findall("ret_WSI2_sub_TracingColisDetaille") if tracing is not None else []
        )
        parsed = [
            self._event(number, entry, relay_number, relay_name)
            for entry in entries
            if any(child_text(entry, key) for key in ("Libelle", "Date", "Heure"))  # padding
        ]
        # Entries come oldest first; a stable sort keeps same-minute steps in order.
        parsed.sort(key=lambda item: item[0].occurred_at)
        events = [event for event, _known in parsed]
        if parsed and not parsed[-1][1] and stat in FINAL_STATS:
            status, substatus = STATUS_MAP[stat]
            events[-1] = replace(events[-1], status=status, substatus=substatus)
        events = _mark_pickup_point_delivery(events)
        result = TrackingResult(tracking_number=number, events=sort_events(events))
        delivery = result.delivery
        if delivery is None:
            return result
        at_relay = delivery.substatus == Substatus.DELIVERED_PICKUP_POINT
        location_type = "pickup_point" if at_relay else ""
        if delivery.substatus == Substatus.DELIVERED_MAILBOX:
            location_type = "mailbox"
        return replace(
            result, pod=PodData(delivered_at=delivery.occurred_at, location_type=location_type)
        )

    def _event(
        self, number: str, entry: ET.Element, relay_number: str, relay_name: str
    ) -> tuple[CarrierEvent, bool]:
        """The event and whether its label was recognised."""
        label = child_text(entry, "Libelle")
        day, hour = child_text(entry, "Date"), child_text(entry, "Heure")
        try:
            naive = datetime.strptime(f"{day} {hour}", "%d/%m/%y %H:%M")  # noqa: DTZ007
        except ValueError as exc:
            raise CarrierPayloadError(
                f"Mondial Relay parcel {number or '?'}: bad Date/Heure {day!r} {hour!r}"
            ) from exc
        occurred_at = naive.replace(tzinfo=_PARIS)  # Mondial Relay's local (French) time
        text = label.casefold()
        classified = next((refined for keyword, refined in _LABEL_RULES if keyword in text), None)
        status, substatus = classified or (Status.IN_TRANSIT, None)
        if status == Status.DELIVERED and substatus is None and child_text(entry, "Relais_Num"):
            substatus = Substatus.DELIVERED_PICKUP_POINT  # scanned at a pickup point
        location = _location(entry, relay_number, relay_name)
        return CarrierEvent(occurred_at, status, substatus, "", label, location), bool(classified)


def _mark_pickup_point_delivery(events: list[CarrierEvent]) -> list[CarrierEvent]:
    """A "livré" after the parcel waited at the relay is the buyer collecting it there."""
    marked: list[CarrierEvent] = []
    waiting_at_relay = False
    for event in events:
        if event.status == Status.AVAILABLE_FOR_PICKUP:
            waiting_at_relay = True
        if waiting_at_relay and event.status == Status.DELIVERED and event.substatus is None:
            event = replace(event, substatus=Substatus.DELIVERED_PICKUP_POINT)
        marked.append(event)
    return marked


def _location(entry: ET.Element, relay_number: str, relay_name: str) -> Location:
    place = child_text(entry, "Emplacement")
    country = child_text(entry, "Relais_Pays").upper()
    named_country = _COUNTRY_NAMES.get(place.casefold())
    if named_country:
        return Location(country=named_country)
    city = place
    if not city and relay_number and child_text(entry, "Relais_Num") == relay_number:
        city = relay_name  # an event at the parcel's pickup point, named by the answer
    return Location(city=city, country=country if len(country) == 2 else "")
