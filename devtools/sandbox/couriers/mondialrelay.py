"""Mondial Relay ``WSI2_TracingColisDetaille``, emulated:
``POST /mondialrelay/Web_Services.asmx`` with a SOAP 1.1 envelope
``WSI2_TracingColisDetaille{Enseigne, Expedition, Langue, Security}``.

``Security`` must be the upper-case MD5 of Enseigne + Expedition + Langue + private key. The
sandbox cannot know a real merchant's key: it checks against ``SANDBOX_PRIVATE_KEY``, the
placeholder ``config/settings.py`` uses when ``MONDIALRELAY_PRIVATE_KEY`` is unset.

Answers, all HTTP 200 as the real .asmx service: ``STAT`` 80-83 with ``Libelle01``, the parcel's
pickup point (``Relais_Libelle``, ``Relais_Num``) and ``Tracing`` padded to 15 entries with empty
ones (oldest first, ``Date`` dd/mm/yy and ``Heure`` HH:MM in Paris time, French upper-case
labels); or an error ``STAT`` alone: 2 (empty enseigne), 97 (bad security key), 24 (badly formed
number), 94 (unknown parcel). Faults are SOAP ``soap:Server`` faults.

Labels: "RÉCEPTION DES DONNÉES" and "PRISE EN CHARGE EN AGENCE" are Mondial Relay's own (real
sample); the others follow the same upper-case wording. The sandbox chooses the STAT a state gets
(80 announced, 81 moving or waiting, 82 delivered or back at the sender, 83 anomaly).

Numbers: 8 digits (no check digit in the format); ``99…`` is unknown.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from xml.sax.saxutils import escape

from devtools.sandbox.couriers.base import CourierRequest, ParcelSource, Reply, SandboxCourier
from devtools.sandbox.formats import to_paris
from devtools.sandbox.journeys import DELIVERED_KINDS, Journey, SeenStep, normalise_number

PATH = "/Web_Services.asmx"
XML = "text/xml; charset=utf-8"
SANDBOX_PRIVATE_KEY = "sandbox-private_key"
TRACING_SLOTS = 15

# Step kind -> Libelle (Langue FR).
MONDIALRELAY_LABELS: dict[str, str] = {
    "info_received": "RÉCEPTION DES DONNÉES",
    "picked_up": "PRISE EN CHARGE EN AGENCE",
    "in_transit_hub": "COLIS EN COURS D'ACHEMINEMENT",
    "arrived_delivery_site": "ARRIVÉE EN AGENCE DE LIVRAISON",
    "out_for_delivery": "COLIS EN COURS DE LIVRAISON",
    "failed_attempt": "DESTINATAIRE ABSENT - NOUVELLE PRÉSENTATION PRÉVUE",
    "available_for_pickup": "COLIS DISPONIBLE AU POINT RELAIS",
    "delivered": "COLIS LIVRÉ AU DESTINATAIRE",
    "delivered_mailbox": "COLIS LIVRÉ EN BOÎTE AUX LETTRES",
    "delivered_pickup_point": "COLIS RÉCUPÉRÉ PAR LE DESTINATAIRE AU POINT RELAIS",
    "address_issue": "ADRESSE INCOMPLÈTE OU ERRONÉE - COLIS EN ANOMALIE",
    "returning": "COLIS NON RETIRÉ - RETOUR VERS L'EXPÉDITEUR",
    "returned": "COLIS LIVRÉ À L'EXPÉDITEUR",
    "lost": "COLIS INTROUVABLE - ENQUÊTE EN COURS",
}
# Steps that happen at the pickup point: they carry its number and country.
_AT_RELAY = frozenset({"available_for_pickup", "delivered_pickup_point"})
_ANOMALY_KINDS = frozenset({"address_issue", "returning", "lost"})

STAT_LABELS = {
    "80": "COLIS ENREGISTRÉ",
    "81": "COLIS PRIS EN CHARGE",
    "82": "COLIS LIVRÉ",
    "83": "ANOMALIE",
}

_FIELD = re.compile(r"<(?:\w+:)?(Enseigne|Expedition|Langue|Security)>([^<]*)</")


def relay_number(journey: Journey) -> str:
    """The parcel's pickup point: a stable 6-digit id from its destination."""
    return (
        f"{int(hashlib.sha256(journey.destination.postcode.encode()).hexdigest(), 16) % 10**6:06d}"
    )


def _stat(seen: Sequence[SeenStep]) -> str:
    if not seen:
        return "80"
    last = seen[-1].step.kind
    if last in DELIVERED_KINDS or last == "returned":
        return "82"
    if last in _ANOMALY_KINDS:
        return "83"
    return "80" if last == "info_received" else "81"


def _entry(seen: SeenStep | None, journey: Journey) -> str:
    if seen is None:
        return (
            "<ret_WSI2_sub_TracingColisDetaille><Libelle /><Date /><Heure /><Emplacement />"
            "<Relais_Num /><Relais_Pays /></ret_WSI2_sub_TracingColisDetaille>"
        )
    local = to_paris(seen.at)
    kind = seen.step.kind
    place = "" if kind == "info_received" else seen.step.place.city.upper()
    relay, country = (relay_number(journey), "FR") if kind in _AT_RELAY else ("", "")
    return (
        "<ret_WSI2_sub_TracingColisDetaille>"
        f"<Libelle>{escape(MONDIALRELAY_LABELS[kind])}</Libelle>"
        f"<Date>{local:%d/%m/%y}</Date><Heure>{local:%H:%M}</Heure>"
        f"<Emplacement>{escape(place)}</Emplacement>"
        f"<Relais_Num>{relay}</Relais_Num><Relais_Pays>{country}</Relais_Pays>"
        "</ret_WSI2_sub_TracingColisDetaille>"
    )


def _envelope(result: str) -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xmlns:xsd="http://www.w3.org/2001/XMLSchema"><soap:Body>'
        '<WSI2_TracingColisDetailleResponse xmlns="http://www.mondialrelay.fr/webservice/">'
        f"<WSI2_TracingColisDetailleResult>{result}</WSI2_TracingColisDetailleResult>"
        "</WSI2_TracingColisDetailleResponse></soap:Body></soap:Envelope>"
    )


def mondialrelay_answer(journey: Journey, seen: Sequence[SeenStep]) -> str:
    ordered = sorted(seen, key=lambda s: (s.at, s.step.offset))
    stat = _stat(ordered)
    entries = [_entry(s, journey) for s in ordered[:TRACING_SLOTS]]
    entries += [_entry(None, journey)] * (TRACING_SLOTS - len(entries))
    return _envelope(
        f"<STAT>{stat}</STAT><Libelle01>{escape(STAT_LABELS[stat])}</Libelle01>"
        f"<Relais_Libelle>{escape(journey.destination.city.upper())}</Relais_Libelle>"
        f"<Relais_Num>{relay_number(journey)}</Relais_Num><Libelle02 />"
        f"<Tracing>{''.join(entries)}</Tracing>"
    )


def mondialrelay_error(stat: str) -> str:
    return _envelope(
        f"<STAT>{stat}</STAT><Libelle01 /><Relais_Libelle /><Relais_Num /><Libelle02 />"
    )


def soap_fault(code: str, message: str) -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
        f"<soap:Fault><faultcode>{code}</faultcode><faultstring>{escape(message)}</faultstring>"
        "</soap:Fault></soap:Body></soap:Envelope>"
    )


def expected_security(enseigne: str, number: str, language: str) -> str:
    raw = f"{enseigne}{number}{language}{SANDBOX_PRIVATE_KEY}".encode()
    return hashlib.md5(raw, usedforsecurity=False).hexdigest().upper()


class MondialRelaySandbox(SandboxCourier):
    slug = "mondialrelay"
    number_patterns = (re.compile(r"[0-9]{8}"),)
    unknown_prefix = "99"

    def candidate(self, value: int) -> str:
        return f"{value % 10**8:08d}"

    def handle(self, request: CourierRequest, parcels: ParcelSource) -> Reply:
        if request.path != PATH:
            return Reply(404, soap_fault("soap:Client", f"No service at {request.path}"), XML)
        if request.method != "POST":
            return Reply(405, soap_fault("soap:Client", "POST a SOAP envelope"), XML)
        text = request.body.decode("utf-8", "replace")
        if "WSI2_TracingColisDetaille" not in text:
            return Reply(500, soap_fault("soap:Client", "Unknown SOAP operation"), XML)
        fields = {name: value.strip() for name, value in _FIELD.findall(text)}
        enseigne, language = fields.get("Enseigne", ""), fields.get("Langue", "")
        number = normalise_number(fields.get("Expedition", ""))
        if not enseigne:
            return Reply(200, mondialrelay_error("2"), XML)
        if fields.get("Security", "") != expected_security(
            enseigne, fields.get("Expedition", ""), language
        ):
            return Reply(200, mondialrelay_error("97"), XML)
        if not self.is_well_formed(number):
            return Reply(200, mondialrelay_error("24"), XML)
        if self.is_unknown(number):
            return Reply(200, mondialrelay_error("94"), XML)
        parcel = parcels.parcel(self.slug, number)
        return Reply(200, mondialrelay_answer(parcel.journey, parcel.seen), XML)

    def fault_reply(self, fault: str, retry_after_seconds: int) -> Reply:
        if fault == "error_429":
            return Reply(
                429,
                soap_fault("soap:Server", "Too many requests"),
                XML,
                headers=[("Retry-After", str(retry_after_seconds))],
            )
        return Reply(500, soap_fault("soap:Server", "Server was unable to process request."), XML)


COURIER = MondialRelaySandbox()
