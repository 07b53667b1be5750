"""DHL Express's MyDHL API (tracking), emulated.

- ``GET /dhlexpress/shipments/<shipmentTrackingNumber>/tracking`` (one number) and
  ``GET /dhlexpress/tracking?shipmentTrackingNumber=<a>&shipmentTrackingNumber=<b>…`` (several),
  both with ``trackingView``/``levelOfDetail`` accepted and HTTP Basic ``username:password`` (both
  non-empty). 200 ``{"shipments": [...]}`` in MyDHL's shape: events newest first with ``date``,
  ``time`` (Paris wall clock), ``typeCode`` (DHL Express checkpoint codes), ``description``,
  ``serviceArea[{code, description: "Paris-FR"}]`` and ``signedBy``; ``GMTOffset`` on every other
  event only, so adapters meet both the offset and its absence. A parcel only announced has no
  event yet, just its ``shipmentTimestamp``. ``estimatedTimeOfDelivery`` (local, no offset) until
  the story is over.
- Errors are MyDHL problem bodies ``{instance, detail, title, message, status: "<code>"}``: 404 for
  a single unknown number or a batch of only unknown ones (unknown numbers are left out of a batch
  answer otherwise), 400 for a malformed number, 401 for missing credentials.
Numbers: 10 digits with DHL Express's mod-7 check digit; ``99…`` is unknown.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from devtools.sandbox.couriers.base import (
    CourierRequest,
    ParcelSource,
    Reply,
    SandboxCourier,
    refuses,
)
from devtools.sandbox.formats import paris_offset, to_paris
from devtools.sandbox.journeys import FINAL_KINDS, Journey, Place, SeenStep, normalise_number

SINGLE_PATH = re.compile(r"^/shipments/(?P<number>[^/]+)/tracking$")
MULTI_PATH = "/tracking"
INSTANCE_PREFIX = "/expressapi"

# Step kind -> (typeCode, description), in DHL Express's checkpoint codes and wording. The
# announcement ("info_received") is no checkpoint: MyDHL only knows the shipment's data then.
DHLEXPRESS_EVENTS: dict[str, tuple[str, str]] = {
    "picked_up": ("PU", "Shipment picked up"),
    "in_transit_hub": ("AF", "Arrived at DHL Sort Facility {city}"),
    "arrived_delivery_site": ("AR", "Arrived at DHL Delivery Facility {city}"),
    "out_for_delivery": ("WC", "With delivery courier"),
    "failed_attempt": ("NH", "Recipient not home - delivery will be attempted again"),
    "available_for_pickup": ("CC", "Awaiting collection by recipient at DHL Service Point"),
    "delivered": ("OK", "Delivered"),
    "delivered_mailbox": ("OK", "Delivered - left in mailbox"),
    "delivered_pickup_point": ("OK", "Delivered - collected at DHL Service Point"),
    "address_issue": ("BA", "Bad address - the delivery address is incomplete or incorrect"),
    "returning": ("RT", "Returned to consignor"),
    # DHL closes a return with a delivery at the shipper's: only the text tells it apart.
    "returned": ("OK", "Delivered - returned to shipper"),
    "lost": ("OH", "On hold - shipment could not be located, investigation opened"),
}
# The hub's departure scan after its arrival one, for the second hub of a journey.
DEPARTED_HUB = ("DF", "Departed Facility in {city}")

# Service areas (IATA-style codes) of the sandbox's towns and hubs.
SERVICE_AREAS = {
    "Paris": "PAR",
    "Lyon": "LYS",
    "Marseille": "MRS",
    "Toulouse": "TLS",
    "Bordeaux": "BOD",
    "Lille": "LIL",
    "Nantes": "NTE",
    "Strasbourg": "SXB",
    "Rennes": "RNS",
    "Montpellier": "MPL",
    "Nice": "NCE",
    "Grenoble": "GNB",
    "Dijon": "DIJ",
    "Tours": "TUF",
    "Clermont-Ferrand": "CFE",
    "Angers": "ANE",
    "Wissous": "ORY",
    "Moissy-Cramayel": "PAR",
    "Saint-Priest": "LYS",
    "Cestas": "BOD",
    "Vitrolles": "MRS",
    "Lesquin": "LIL",
    "Bonneuil-sur-Marne": "PAR",
    "Saint-Pierre-des-Corps": "TUF",
}

_SIGNED_KINDS = frozenset({"delivered", "delivered_pickup_point", "returned"})


def _service_area(place: Place) -> dict[str, str]:
    code = SERVICE_AREAS.get(place.city) or re.sub(r"[^A-Z]", "", place.city.upper())[:3]
    return {"code": code, "description": f"{place.city}-{place.country}"}


def _gmt_offset(moment: datetime) -> str:
    minutes = int(paris_offset(moment).total_seconds() // 60)
    return f"+{minutes // 60:02d}:{minutes % 60:02d}"


def _event(journey: Journey, seen: SeenStep, *, departed: bool) -> dict[str, Any]:
    code, description = DEPARTED_HUB if departed else DHLEXPRESS_EVENTS[seen.step.kind]
    local = to_paris(seen.at)
    event: dict[str, Any] = {
        "date": local.date().isoformat(),
        "time": local.strftime("%H:%M:%S"),
    }
    # MyDHL documents GMTOffset; leaving it out of every other event makes adapters cope with
    # its absence (the service area then tells the zone).
    if seen.step.offset % 2 == 0:
        event["GMTOffset"] = _gmt_offset(seen.at)
    event.update(
        {
            "typeCode": code,
            "description": description.format(city=seen.step.place.city),
            "serviceArea": [_service_area(seen.step.place)],
            "signedBy": journey.signed_by if seen.step.kind in _SIGNED_KINDS else "",
        }
    )
    return event


def _party(name: str, place: Place) -> dict[str, Any]:
    return {
        "name": name,
        "postalAddress": {
            "cityName": place.city,
            "postalCode": place.postcode,
            "countryCode": place.country,
        },
        "serviceArea": [_service_area(place)],
    }


def dhlexpress_shipment(
    journey: Journey, seen: Sequence[SeenStep], *, planned_delivery: datetime
) -> dict[str, Any]:
    """One entry of ``shipments`` for a known number."""
    scans = [s for s in seen if s.step.kind != "info_received"]
    hubs_seen = 0
    events = []
    for step in sorted(scans, key=lambda s: (s.at, s.step.offset)):
        departed = step.step.kind == "in_transit_hub" and hubs_seen > 0
        hubs_seen += step.step.kind == "in_transit_hub"
        events.append(_event(journey, step, departed=departed))
    events.reverse()  # newest first, as MyDHL lists them
    created = to_paris(seen[0].at) if seen else to_paris(planned_delivery)
    shipment: dict[str, Any] = {
        "shipmentTrackingNumber": journey.number,
        "status": "Success",
        "shipmentTimestamp": created.replace(tzinfo=None).isoformat(),
        "productCode": "N",
        "description": "EXPRESS DOMESTIC",
        "shipperDetails": _party("Vendeur Parcelle", journey.origin),
        "receiverDetails": _party("Acheteur Parcelle", journey.destination),
        "totalWeight": 1.2,
        "unitOfMeasurements": "metric",
        "numberOfPieces": 1,
        "events": events,
    }
    if not any(s.step.kind in FINAL_KINDS for s in seen):
        local = to_paris(planned_delivery).replace(tzinfo=None)
        shipment["estimatedTimeOfDelivery"] = local.isoformat()
        shipment["estimatedDeliveryDate"] = local.date().isoformat()
    return shipment


def dhlexpress_problem(status: int, title: str, detail: str, instance: str) -> dict[str, Any]:
    """A MyDHL problem body (``status`` is a string there)."""
    return {
        "instance": f"{INSTANCE_PREFIX}{instance}",
        "detail": detail,
        "title": title,
        "message": title,
        "status": str(status),
    }


def dhlexpress_check_digit(serial: str) -> str:
    """DHL Express mod-7 check digit of the 9-digit serial."""
    return str(int(serial) % 7)


def _credentials_ok(authorization: str) -> bool:
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return False
    try:
        decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return False
    username, colon, password = decoded.partition(":")
    return bool(colon) and not refuses(username, password)


class DhlExpressSandbox(SandboxCourier):
    slug = "dhlexpress"
    number_patterns = (re.compile(r"[0-9]{10}"),)
    unknown_prefix = "99"

    def candidate(self, value: int) -> str:
        serial = f"{value % 10**9:09d}"
        return serial + dhlexpress_check_digit(serial)

    def handle(self, request: CourierRequest, parcels: ParcelSource) -> Reply:
        single = SINGLE_PATH.match(request.path)
        if request.method != "GET" or (single is None and request.path != MULTI_PATH):
            return Reply(
                404, dhlexpress_problem(404, "Not Found", "No such resource", request.path)
            )
        if not _credentials_ok(request.header("Authorization")):
            return Reply(
                401,
                dhlexpress_problem(401, "Unauthorized", "Invalid Credentials", request.path),
            )
        if single is not None:
            numbers = [normalise_number(single.group("number"))]
            instance = request.path
        else:
            numbers = [normalise_number(n) for n in request.query.get("shipmentTrackingNumber", [])]
            numbers = [n for n in numbers if n]
            instance = f"{MULTI_PATH}?{urlencode([('shipmentTrackingNumber', n) for n in numbers])}"
        if not numbers:
            detail = "Missing mandatory parameters: shipmentTrackingNumber"
            return Reply(400, dhlexpress_problem(400, "Missing parameters", detail, instance))
        malformed = [n for n in numbers if not self.is_well_formed(n)]
        if malformed:
            detail = f"Invalid value for shipmentTrackingNumber: {malformed[0]} (10 digits)"
            return Reply(400, dhlexpress_problem(400, "Bad Request", detail, instance))
        known = [n for n in numbers if not self.is_unknown(n)]
        if not known:
            detail = "No shipment found for the given shipmentTrackingNumber"
            return Reply(404, dhlexpress_problem(404, "Not Found", detail, instance))
        shipments = []
        for number in known:
            parcel = parcels.parcel(self.slug, number)
            shipments.append(
                dhlexpress_shipment(
                    parcel.journey, parcel.seen, planned_delivery=parcel.planned_delivery
                )
            )
        return Reply(200, {"shipments": shipments})

    def fault_reply(self, fault: str, retry_after_seconds: int) -> Reply:
        if fault == "error_429":
            return Reply(
                429,
                dhlexpress_problem(429, "Too Many Requests", "Rate limit exceeded", MULTI_PATH),
                headers=[("Retry-After", str(retry_after_seconds))],
            )
        return Reply(
            500,
            dhlexpress_problem(500, "Internal Server Error", "Unexpected error", MULTI_PATH),
        )


COURIER = DhlExpressSandbox()
