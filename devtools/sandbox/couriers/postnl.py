"""PostNL Shippingstatus webservice v2, emulated.

    GET /postnl/shipment/v2/status/barcode/<barcode>?detail=true&language=NL|EN
    GET /postnl/shipment/v2/status/signature/<barcode>
    header ``apikey`` (any non-empty value; 401 without)

Bodies as PostNL's real answer (../shared/carriers/postnl_shippingstatus_*.json): with
``detail=true`` ``{"CompleteStatus": {"Shipment": {…, "Address": [receiver 01, sender 02],
"Event": [...], "Expectation": {ETAFrom, ETATo}, "Status": {...}, "OldStatus": [...]}}}``, events
and old statuses newest first, timestamps ``dd-MM-yyyy HH:mm:ss`` in Dutch local time (the
Netherlands and France share the EU summer-time rule, so Paris wall-clock time is Dutch time),
empty values as ``{}``; without ``detail`` ``{"CurrentStatus": …}`` with the current ``Status``
only. Descriptions in Dutch, or English with ``language=EN``.

The event codes and texts are PostNL's own (T & T event code table) for every step kind. The
signature answer ``{"Signature": {Barcode, SignatureDate, SignatureImage}}`` exists for parcels
handed over against a signature.

Error bodies, from PostNL's SDK documentation: 401/405/429 ``{"message", "http_status_code"}``,
500 ``{"fault": {"faultstring", "detail": {"errorcode"}}}``. Not documented, hence ours: a
malformed barcode is a 400 fault naming the barcode; an unknown barcode an HTTP 200 with only
``Warnings [{"Message", "Code"}]`` (code 16, PostNL's generic "{0} not found."); no signature a
404 fault.

Numbers: ``3S`` + customer code ``PRCL`` + 9 digits (PostNL 3S barcodes have no check digit);
``3SUNKN…`` is unknown.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import unquote

from devtools.sandbox.couriers.base import (
    CourierRequest,
    ParcelSource,
    Reply,
    SandboxCourier,
    refuses,
)
from devtools.sandbox.formats import delivery_step, newest_first, to_paris
from devtools.sandbox.journeys import FINAL_KINDS, Journey, SeenStep, normalise_number

BARCODE_PATH = "/shipment/v2/status/barcode/"
SIGNATURE_PATH = "/shipment/v2/status/signature/"
CUSTOMER_CODE = "PRCL"

# Step kind -> (event code, Dutch text, English text, StatusCode). PostNL's codes and texts.
POSTNL_EVENTS: dict[str, tuple[str, str, str, str]] = {
    "info_received": (
        "A01",
        "Zending wordt verwacht, maar zit nog niet in sorteerproces",
        "Shipment expected, but not yet arrived at PostNL",
        "1",
    ),
    "picked_up": ("B01", "Zending is bij PostNL", "Shipment received by PostNL", "2"),
    "in_transit_hub": ("J01", "Zending is gesorteerd", "Shipment has been sorted", "5"),
    "arrived_delivery_site": (
        "J27",
        "Zending gesorteerd door depot",
        "Shipment sorted by the depot",
        "5",
    ),
    "out_for_delivery": ("J05", "Bezorger is onderweg", "Driver is en route", "7"),
    "failed_attempt": (
        "Y10",
        "We hebben je gemist, we komen nog een keer",
        "We missed you; we'll try again",
        "8",
    ),
    "available_for_pickup": (
        "I08",
        "Zending beschikbaar op PostNL-punt",
        "Shipment available at PostNL outlet",
        "12",
    ),
    "delivered": ("I01", "Zending is bezorgd", "Shipment delivered", "11"),
    "delivered_mailbox": (
        "I05",
        "Zending is bezorgd in de brievenbus",
        "Shipment in letterbox",
        "11",
    ),
    "delivered_pickup_point": (
        "I22",
        "Zending is afgehaald bij PostNL-punt",
        "Shipment collected at PostNL outlet",
        "11",
    ),
    "address_issue": (
        "Y01",
        "Zending niet bezorgd, adres incorrect",
        "Shipment not delivered; incorrect address",
        "8",
    ),
    "returning": (
        "H03",
        "Zending niet afgehaald, gaat retour afzender",
        "Shipment not collected, return to sender",
        "8",
    ),
    "returned": ("J63", "Retourzending afgeleverd", "Return shipment delivered", "11"),
    "lost": ("Y71", "Zending is vermist", "Shipment missing", "8"),
}

# StatusCode -> (Dutch, English) description and its phase.
POSTNL_STATUSES: dict[str, tuple[str, str, str]] = {
    "1": ("Zending voorgemeld", "Shipment pre-alerted", "1"),
    "2": ("Zending in ontvangst genomen", "Shipment accepted", "1"),
    "5": ("Zending gesorteerd", "Shipment sorted", "2"),
    "7": ("Zending in distributieproces", "Shipment out for delivery", "3"),
    "8": ("Zending niet afgeleverd", "Shipment not delivered", "3"),
    "11": ("Zending afgeleverd", "Shipment delivered", "4"),
    "12": ("Zending beschikbaar op afhaallocatie", "Shipment at pick-up location", "4"),
}
POSTNL_PHASES = {
    "1": ("Collectie", "Collection"),
    "2": ("Sortering", "Sorting"),
    "3": ("Distributie", "Distribution"),
    "4": ("Afgeleverd", "Delivered"),
}
# Depot numbers standing in for PostNL's LocationCode, by the role of the step's place.
_DEPOTS = {"origin": "166241", "hub": "208801", "destination": "208802"}
# A 1x1 GIF: the real answer carries the signature drawing, base64-encoded.
SIGNATURE_GIF = "R0lGODdhAQABAIAAAP///wAAACwAAAAAAQABAAACAkQBADs="
EMPTY: dict[str, Any] = {}


def dutch_time(moment: datetime) -> str:
    """``31-07-2019 09:36:42``: Dutch wall-clock time, no offset."""
    return to_paris(moment).strftime("%d-%m-%Y %H:%M:%S")


def _local_iso(moment: datetime) -> str:
    return to_paris(moment).replace(tzinfo=None).isoformat()


def _address(kind: str, place: Any, company: str) -> dict[str, Any]:
    return {
        "AddressType": kind,
        "Building": EMPTY,
        "City": place.city,
        "CompanyName": company,
        "CountryCode": place.country,
        "DepartmentName": EMPTY,
        "District": EMPTY,
        "FirstName": EMPTY,
        "Floor": EMPTY,
        "HouseNumber": "42",
        "HouseNumberSuffix": EMPTY,
        "LastName": EMPTY,
        "Region": EMPTY,
        "Remark": EMPTY,
        "Street": "Rue de la Gare",
        "Zipcode": place.postcode,
    }


def _status(code: str, at: datetime, english: bool) -> dict[str, str]:
    dutch, english_text, phase = POSTNL_STATUSES[code]
    return {
        "TimeStamp": dutch_time(at),
        "StatusCode": code,
        "StatusDescription": english_text if english else dutch,
        "PhaseCode": phase,
        "PhaseDescription": POSTNL_PHASES[phase][1 if english else 0],
    }


def _depot(journey: Journey, step: SeenStep) -> str:
    if step.step.place == journey.destination:
        return _DEPOTS["destination"]
    if step.step.place == journey.origin:
        return _DEPOTS["origin"]
    return _DEPOTS["hub"]


def postnl_shipment(
    journey: Journey,
    seen: Sequence[SeenStep],
    *,
    planned_delivery: datetime,
    english: bool = False,
    detail: bool = True,
) -> dict[str, Any]:
    """The Shippingstatus answer for one known barcode."""
    steps = newest_first(seen)
    shipment: dict[str, Any] = {
        "MainBarcode": journey.number,
        "Barcode": journey.number,
        "ShipmentAmount": "1",
        "ShipmentCounter": "1",
        "Customer": {
            "CustomerCode": CUSTOMER_CODE,
            "CustomerNumber": "11223344",
            "Name": "Parcelle",
        },
        "ProductCode": "003085",
        "ProductDescription": "Standard shipment" if english else "Standaard zending",
        "Reference": EMPTY,
        "Dimension": {"Height": "105", "Length": "260", "Volume": "5051", "Weight": "400"},
        "Address": [
            _address("01", journey.destination, EMPTY),
            _address("02", journey.origin, "Parcelle Seller"),
        ],
    }
    if detail:
        events = []
        for step in steps:
            code, dutch, english_text, _status_code = POSTNL_EVENTS[step.step.kind]
            depot = _depot(journey, step)
            events.append(
                {
                    "Code": code,
                    "Description": english_text if english else dutch,
                    "DestinationLocationCode": _DEPOTS["destination"],
                    "LocationCode": depot,
                    "RouteCode": "217",
                    "RouteName": f"217 PostNL {step.step.place.city}",
                    "TimeStamp": dutch_time(step.at),
                }
            )
        shipment["Event"] = events
    if not any(s.step.kind in FINAL_KINDS for s in seen):
        start = planned_delivery
        shipment["Expectation"] = {
            "ETAFrom": _local_iso(start),
            "ETATo": _local_iso(start + timedelta(hours=2)),
        }
    latest = steps[0]
    shipment["Status"] = _status(POSTNL_EVENTS[latest.step.kind][3], latest.at, english)
    if detail:
        shipment["OldStatus"] = [
            _status(POSTNL_EVENTS[s.step.kind][3], s.at, english) for s in steps
        ]
        return {"CompleteStatus": {"Shipment": shipment}}
    return {"CurrentStatus": {"Shipment": shipment}}


def postnl_fault(faultstring: str, errorcode: str) -> dict[str, Any]:
    return {"fault": {"faultstring": faultstring, "detail": {"errorcode": errorcode}}}


def postnl_gateway_error(message: str, status: int) -> dict[str, Any]:
    return {"message": message, "http_status_code": status}


class PostNLSandbox(SandboxCourier):
    slug = "postnl"
    number_patterns = (re.compile(r"3S[A-Z]{4}(?:[0-9]{7}|[0-9]{9})"),)
    unknown_prefix = "3SUNKN"

    def candidate(self, value: int) -> str:
        return f"3S{CUSTOMER_CODE}{value % 10**9:09d}"

    def handle(self, request: CourierRequest, parcels: ParcelSource) -> Reply:
        if request.path.startswith(BARCODE_PATH):
            prefix = BARCODE_PATH
        elif request.path.startswith(SIGNATURE_PATH):
            prefix = SIGNATURE_PATH
        else:
            return Reply(404, postnl_fault("Resource not found", "messaging.adaptors.http.404"))
        if request.method != "GET":
            return Reply(405, postnl_gateway_error("Only GET requests allowed", 405))
        if refuses(request.header("apikey")):
            return Reply(
                401,
                postnl_gateway_error(
                    "Failed to resolve API Key variable 'request.header.apikey'", 401
                ),
            )
        number = normalise_number(unquote(request.path[len(prefix) :]))
        if not number:
            return Reply(400, postnl_fault("no barcode supplied in path", "InvalidBarcode"))
        if not self.is_well_formed(number):
            return Reply(400, postnl_fault(f"Invalid barcode {number}", "InvalidBarcode"))
        if self.is_unknown(number):
            return Reply(200, {"Warnings": [{"Message": "Barcode not found.", "Code": "16"}]})
        parcel = parcels.parcel(self.slug, number)
        if prefix == SIGNATURE_PATH:
            return self._signature(number, parcel.seen)
        return Reply(
            200,
            postnl_shipment(
                parcel.journey,
                parcel.seen,
                planned_delivery=parcel.planned_delivery,
                english=request.param("language").upper() == "EN",
                detail=request.param("detail").lower() == "true",
            ),
        )

    def _signature(self, number: str, seen: Sequence[SeenStep]) -> Reply:
        delivery = delivery_step(seen)
        if delivery is None or delivery.step.kind != "delivered":
            return Reply(404, postnl_fault(f"No signature found for {number}", "NoSignature"))
        return Reply(
            200,
            {
                "Signature": {
                    "Barcode": number,
                    "SignatureDate": to_paris(delivery.at).isoformat(timespec="milliseconds"),
                    "SignatureImage": SIGNATURE_GIF,
                }
            },
        )

    def fault_reply(self, fault: str, retry_after_seconds: int) -> Reply:
        if fault == "error_429":
            return Reply(
                429,
                postnl_gateway_error("Too many requests. Rate limit exceeded!", 429),
                headers=[("Retry-After", str(retry_after_seconds))],
            )
        return Reply(500, postnl_fault("Internal server error", "messaging.runtime.500"))


COURIER = PostNLSandbox()
