"""Royal Mail Tracking API v2, emulated.

    GET /royalmail/mailpieces/v2/<barcode>/events
    GET /royalmail/mailpieces/v2/summary?mailPieceId=<a,b,…>
    GET /royalmail/mailpieces/v2/<barcode>/signature
    X-IBM-Client-Id, X-IBM-Client-Secret (401 without), X-Accept-RMG-Terms: yes (400 without)

Bodies as Royal Mail's published examples: ``{"mailPieces": {...}}`` with ``summary``,
``signature`` (signed deliveries), ``estimatedDelivery`` (while the item travels), ``events``
newest first with UK-time offsets, ``links``; errors ``{httpCode, httpMessage, moreInformation,
errors: [{errorCode, errorDescription, errorCause, errorResolution}]}`` (E1142 unknown barcode).

Codes: those of our partial code list, with its labels, for the steps it covers. For the steps
it does not (address problem, return, loss) the codes are ours and start with ``EVX`` so that
nobody mistakes them for Royal Mail's; their ``eventName`` carries the meaning. The summary's
``statusCategory`` values other than "IN TRANSIT" and "DELIVERED" are ours too.

Numbers: UPU S10 barcodes ending in GB with a valid check digit (``FQ087430672GB``); ``ZZ…`` is
unknown.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import unquote

from devtools.sandbox.couriers.base import (
    CourierRequest,
    ParcelSource,
    Reply,
    SandboxCourier,
    refuses,
)
from devtools.sandbox.formats import delivery_step, newest_first, paris_offset
from devtools.sandbox.journeys import FINAL_KINDS, Journey, SeenStep, normalise_number
from tracking.detection.checksums import s10_check

PREFIX = "/mailpieces/v2/"
MAX_SUMMARY_IDS = 30

# Step kind -> (eventCode, eventName, statusCategory, office kind suffix of locationName).
ROYAL_MAIL_EVENTS: dict[str, tuple[str, str, str, str]] = {
    "info_received": ("EVAIP", "Sender preparing/despatching item", "PENDING", ""),
    "picked_up": ("EVDAC", "Item Received", "IN TRANSIT", "MC"),
    "in_transit_hub": ("EVORI", "Arrived at Mail Centre", "IN TRANSIT", "MC"),
    "arrived_delivery_site": ("EVODO", "Item Despatched to Delivery Office", "IN TRANSIT", "DO"),
    "out_for_delivery": ("EVGPD", "Due to be delivered today", "IN TRANSIT", "DO"),
    "failed_attempt": ("EVKNA", "Delivery Attempted - No Answer", "ATTEMPTED", "DO"),
    "available_for_pickup": (
        "EVNDA",
        "Available for Redelivery or Collection",
        "READY FOR COLLECTION",
        "DO",
    ),
    "delivered": ("EVKSP", "Delivered and Signed", "DELIVERED", "DO"),
    "delivered_mailbox": ("EVKOP", "Delivered by letterbox", "DELIVERED", "DO"),
    "delivered_pickup_point": (
        "EVKOP",
        "Delivered by collection from Customer Service Point",
        "DELIVERED",
        "DO",
    ),
    "address_issue": ("EVXAD", "Unable to deliver - incorrect address", "ALERT", "DO"),
    "returning": ("EVXRT", "Item being returned to sender", "RETURNING", "MC"),
    "returned": ("EVXRS", "Item returned to sender", "RETURNED", "DO"),
    "lost": ("EVXLS", "Item lost - investigation opened", "ALERT", "MC"),
}
_ALPHA3 = {"FR": "FRA", "GB": "GBR", "DE": "DEU", "NL": "NLD"}
_COUNTRY_NAMES = {"FR": "France", "GB": "United Kingdom of Great Britain and Northern Ireland"}


def uk_iso(moment: datetime) -> str:
    """``2024-05-19T09:00:00+01:00``: UK time. The UK changes its clocks at the same instants
    as France (EU rule), one hour behind, so Paris's offset minus one hour is London's."""
    offset = paris_offset(moment) - timedelta(hours=1)
    return moment.astimezone(timezone(offset)).replace(microsecond=0).isoformat()


def mail_piece_id(number: str) -> str:
    """Royal Mail's 21-character unique item id, stable per barcode."""
    return hashlib.sha256(f"rm:{number}".encode()).hexdigest()[:21].upper()


def error_body(http_code: int, message: str, *, item_error: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "httpCode": str(http_code),
        "httpMessage": {400: "Bad Request", 401: "Unauthorized", 404: "Not Found"}.get(
            http_code, "Error"
        ),
        "moreInformation": message,
    }
    if item_error:
        body["errors"] = [
            {
                "errorCode": "E1142",
                "errorDescription": "Barcode reference mailPieceId isn't recognised",
                "errorCause": "A mail item with that barcode cannot be located",
                "errorResolution": "Check barcode and resubmit",
            }
        ]
    return body


def _event(seen: SeenStep) -> dict[str, Any]:
    code, name, _category, office = ROYAL_MAIL_EVENTS[seen.step.kind]
    place = seen.step.place.city + (f" {office}" if office else "")
    return {
        "eventCode": code,
        "eventName": name,
        "eventDateTime": uk_iso(seen.at),
        "locationName": place,
    }


def _summary(journey: Journey, latest: SeenStep) -> dict[str, Any]:
    code, name, category, _office = ROYAL_MAIL_EVENTS[latest.step.kind]
    origin, destination = journey.origin.country, journey.destination.country
    return {
        "uniqueItemId": mail_piece_id(journey.number),
        "oneDBarcode": journey.number,
        "productId": "SD2",
        "productName": "Special Delivery Guaranteed",
        "productDescription": "Our guaranteed next day service with tracking and a signature "
        "on delivery",
        "productCategory": "INTERNATIONAL"
        if "GB" not in {origin, destination}
        else "NON-INTERNATIONAL",
        "destinationCountryCode": _ALPHA3.get(destination, destination),
        "destinationCountryName": _COUNTRY_NAMES.get(destination, destination),
        "originCountryCode": _ALPHA3.get(origin, origin),
        "originCountryName": _COUNTRY_NAMES.get(origin, origin),
        "lastEventCode": code,
        "lastEventName": name,
        "lastEventDateTime": uk_iso(latest.at),
        "lastEventLocationName": _event(latest)["locationName"],
        "statusDescription": name,
        "statusCategory": category,
        "statusHelpText": f"The item status is {category.lower()}",
        "summaryLine": f"Item {journey.number}: {name} on {uk_iso(latest.at)[:10]}.",
    }


def royal_mail_events(
    journey: Journey, seen: Sequence[SeenStep], *, planned_delivery: datetime
) -> dict[str, Any]:
    ordered = newest_first(seen)
    piece_id = mail_piece_id(journey.number)
    piece: dict[str, Any] = {
        "mailPieceId": piece_id,
        "carrierShortName": "RM",
        "carrierFullName": "Royal Mail Group Ltd",
        "summary": _summary(journey, ordered[0]),
    }
    links: dict[str, Any] = {
        "summary": {
            "href": f"/mailpieces/v2/summary?mailPieceId={piece_id}",
            "title": "Summary",
            "description": "Get summary",
        }
    }
    delivery = delivery_step(seen)
    if delivery is not None and delivery.step.kind == "delivered":
        piece["signature"] = {
            "recipientName": journey.signed_by,
            "signatureDateTime": uk_iso(delivery.at),
            "imageId": piece_id[-6:],
        }
        links["signature"] = {
            "href": f"/mailpieces/v2/{piece_id}/signature",
            "title": "Signature",
            "description": "Get signature",
        }
    if not any(s.step.kind in FINAL_KINDS for s in seen):
        start = planned_delivery.replace(minute=0, second=0)
        piece["estimatedDelivery"] = {
            "date": uk_iso(start)[:10],
            "startOfEstimatedWindow": uk_iso(start)[11:],
            "endOfEstimatedWindow": uk_iso(start + timedelta(hours=3))[11:],
        }
    piece["events"] = [_event(s) for s in ordered]
    piece["links"] = links
    return {"mailPieces": piece}


class RoyalMailSandbox(SandboxCourier):
    slug = "royalmail"
    number_patterns = (re.compile(r"[A-Z]{2}[0-9]{9}GB"),)
    unknown_prefix = "ZZ"

    def candidate(self, value: int) -> str:
        serial = f"{value % 10**8:08d}"
        return f"FQ{serial}{s10_check(serial)}GB"

    def handle(self, request: CourierRequest, parcels: ParcelSource) -> Reply:
        if request.method != "GET" or not request.path.startswith(PREFIX):
            return Reply(404, error_body(404, f"No resource for {request.path}"))
        if refuses(request.header("X-IBM-Client-Id"), request.header("X-IBM-Client-Secret")):
            return Reply(401, error_body(401, "Client id not registered."))
        if request.header("X-Accept-RMG-Terms").lower() != "yes":
            # Royal Mail's own answer (recorded by karrio): E0004, the header, not the item.
            body = error_body(400, "X-Accept-RMG-Terms header must be set to yes")
            body["errors"] = [
                {
                    "errorCode": "E0004",
                    "errorDescription": "Failed header validation for X-Accept-RMG-Terms",
                    "errorCause": "The submitted request was not valid against the required "
                    "header definition",
                    "errorResolution": "Please check the API request against the required "
                    "header definition and re-submit",
                }
            ]
            return Reply(400, body)
        rest = request.path[len(PREFIX) :]
        if rest == "summary":
            return self._summary(request, parcels)
        number, _, endpoint = rest.partition("/")
        number = normalise_number(unquote(number))
        if endpoint not in {"events", "signature"}:
            return Reply(404, error_body(404, f"No resource for {request.path}"))
        if not self.is_well_formed(number):
            return Reply(400, error_body(400, "mailPieceId is invalid"))
        if self.is_unknown(number):
            return Reply(404, error_body(404, "Not Found", item_error=True))
        parcel = parcels.parcel(self.slug, number)
        if endpoint == "events":
            return Reply(
                200,
                royal_mail_events(
                    parcel.journey, parcel.seen, planned_delivery=parcel.planned_delivery
                ),
            )
        return self._signature(parcel.journey, parcel.seen)

    def _summary(self, request: CourierRequest, parcels: ParcelSource) -> Reply:
        ids = [normalise_number(i) for i in request.param("mailPieceId").split(",") if i.strip()]
        if not ids or len(ids) > MAX_SUMMARY_IDS:
            return Reply(400, error_body(400, f"Between 1 and {MAX_SUMMARY_IDS} mailPieceIds"))
        items = []
        for number in ids:
            if not self.knows(number):
                item = error_body(404, "Not Found", item_error=True)
                items.append({"mailPieceId": number, "status": "404", "error": item["errors"][0]})
                continue
            parcel = parcels.parcel(self.slug, number)
            latest = newest_first(parcel.seen)[0]
            items.append(
                {
                    "mailPieceId": mail_piece_id(number),
                    "status": "200",
                    "carrierShortName": "RM",
                    "carrierFullName": "Royal Mail Group Ltd",
                    "summary": _summary(parcel.journey, latest),
                }
            )
        return Reply(200, {"mailPieces": items})

    def _signature(self, journey: Journey, seen: Sequence[SeenStep]) -> Reply:
        delivery = delivery_step(seen)
        if delivery is None or delivery.step.kind != "delivered":
            return Reply(404, error_body(404, "No signature is available for this item"))
        piece_id = mail_piece_id(journey.number)
        return Reply(
            200,
            {
                "mailPieces": {
                    "mailPieceId": piece_id,
                    "carrierShortName": "RM",
                    "carrierFullName": "Royal Mail Group Ltd",
                    "signature": {
                        "uniqueItemId": piece_id,
                        "oneDBarcode": journey.number,
                        "recipientName": journey.signed_by,
                        "signatureDateTime": uk_iso(delivery.at),
                        "imageFormat": "image/svg+xml",
                        "imageId": piece_id[-6:],
                        "height": 530,
                        "width": 660,
                        "image": '<svg xmlns="http://www.w3.org/2000/svg" width="660" '
                        'height="530"><path d="M10 400 C 120 80, 240 80, 650 380"/></svg>',
                    },
                }
            },
        )

    def fault_reply(self, fault: str, retry_after_seconds: int) -> Reply:
        if fault == "error_429":
            return Reply(
                429,
                {
                    "httpCode": "429",
                    "httpMessage": "Too Many Requests",
                    "moreInformation": "Rate Limit exceeded",
                },
                headers=[("Retry-After", str(retry_after_seconds))],
            )
        return Reply(
            500,
            {
                "httpCode": "500",
                "httpMessage": "Internal Server Error",
                "moreInformation": "The service is temporarily unavailable",
            },
        )


COURIER = RoyalMailSandbox()
