"""FedEx Track API v1, emulated, with its OAuth token endpoint.

- ``POST /fedex/oauth/token``: form ``grant_type=client_credentials&client_id=…&client_secret=…``
  (both non-empty) -> ``{"access_token", "token_type": "bearer", "expires_in": 3599, "scope"}``;
  otherwise 401 ``errors[{NOT.AUTHORIZED.ERROR}]``.
- ``POST /fedex/track/v1/trackingnumbers`` with ``Authorization: Bearer <token issued here>`` and
  ``{"includeDetailedScans": true, "trackingInfo": [{"trackingNumberInfo": {"trackingNumber"}}]}``,
  1 to 30 numbers. 200 ``output.completeTrackResults[]`` in the order asked: scan events newest
  first with FedEx's eventType/derivedStatusCode pairs and texts, times with their offset except
  the pickup scan, written as bare local time as FedEx does; an unknown or malformed number is a
  trackResult with ``error{TRACKING.TRACKINGNUMBER.NOTFOUND}``. No number (or more than 30):
  400 with top-level ``errors``. Missing or foreign token: 401 ``NOT.AUTHORIZED.ERROR``.
- ``POST /fedex/track/v1/trackingdocuments`` (same token) with ``{"trackDocumentDetail":
  {"documentType": "SIGNATURE_PROOF_OF_DELIVERY", "documentFormat": "PDF"},
  "trackDocumentSpecification": [{"trackingNumberInfo": {"trackingNumber"}}]}``: for a parcel
  delivered against a signature (the track answer lists the image in ``availableImages``), 200
  ``output{documentType, documentFormat, documents: [<base64 PDF>]}`` as FedEx's sandbox answers;
  otherwise 404 ``errors[{TRACKING.DOCUMENT.NOTFOUND}]`` (that code is ours: FedEx's error
  catalogue for documents is not published).

FedEx has no "lost" code: a lost parcel is a Shipment Exception (SE) whose text says it cannot
be located; a return reaching the shipper is a Delivered (DL) scan after Return to Shipper (RS).
Numbers: 12-digit FedEx Express numbers with their weighted mod-11 check digit; ``999…`` is
unknown.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

from devtools.sandbox.couriers.base import (
    CourierRequest,
    ParcelSource,
    Reply,
    SandboxCourier,
    refuses,
)
from devtools.sandbox.formats import delivery_step, newest_first, paris_iso, paris_local_iso
from devtools.sandbox.journeys import FINAL_KINDS, Journey, Place, SeenStep, normalise_number

OAUTH_PATH = "/oauth/token"
TRACK_PATH = "/track/v1/trackingnumbers"
DOCUMENTS_PATH = "/track/v1/trackingdocuments"
ISSUED_PREFIX = "fdx-sbx-"
MAX_NUMBERS = 30
WEIGHTS = (3, 1, 7, 3, 1, 7, 3, 1, 7, 3, 1)

# Step kind -> (eventType, derivedStatusCode, derivedStatus, eventDescription, exceptionCode,
# exceptionDescription, locationType).
FEDEX_SCANS: dict[str, tuple[str, str, str, str, str, str, str]] = {
    "info_received": (
        "OC",
        "IN",
        "Label created",
        "Shipment information sent to FedEx",
        "",
        "",
        "CUSTOMER",
    ),
    "picked_up": ("PU", "PU", "Picked up", "Picked up", "", "", "PICKUP_LOCATION"),
    "in_transit_hub": (
        "AR",
        "IT",
        "In transit",
        "Arrived at FedEx location",
        "",
        "",
        "FEDEX_FACILITY",
    ),
    "arrived_delivery_site": (
        "AR",
        "IT",
        "In transit",
        "At local FedEx facility",
        "",
        "",
        "DESTINATION_FEDEX_FACILITY",
    ),
    "out_for_delivery": (
        "OD",
        "IT",
        "In transit",
        "On FedEx vehicle for delivery",
        "",
        "",
        "VEHICLE",
    ),
    "failed_attempt": (
        "DE",
        "DE",
        "Delivery exception",
        "Delivery exception",
        "08",
        "Customer not available or business closed",
        "DELIVERY_LOCATION",
    ),
    "available_for_pickup": (
        "HP",
        "HP",
        "Ready for pickup",
        "Ready for recipient pickup",
        "",
        "",
        "FEDEX_OFFICE",
    ),
    "delivered": ("DL", "DL", "Delivered", "Delivered", "", "", "DELIVERY_LOCATION"),
    "delivered_mailbox": ("DL", "DL", "Delivered", "Delivered", "", "", "DELIVERY_LOCATION"),
    "delivered_pickup_point": (
        "DL",
        "DL",
        "Delivered",
        "Delivered",
        "",
        "",
        "FEDEX_OFFICE",
    ),
    "address_issue": (
        "DE",
        "DE",
        "Delivery exception",
        "Delivery exception",
        "03",
        "Incorrect address",
        "DELIVERY_LOCATION",
    ),
    "returning": (
        "RS",
        "RS",
        "Return to shipper",
        "Returning package to shipper",
        "",
        "",
        "FEDEX_FACILITY",
    ),
    "returned": ("DL", "DL", "Delivered", "Delivered", "", "", "DELIVERY_LOCATION"),
    "lost": (
        "SE",
        "DE",
        "Shipment exception",
        "Shipment exception",
        "",
        "Unable to locate package. An investigation is in progress",
        "FEDEX_FACILITY",
    ),
}

# deliveryDetails for each way of handing the parcel over.
DELIVERY_DETAILS: dict[str, dict[str, str]] = {
    "delivered": {"locationType": "RESIDENCE", "locationDescription": "Residence"},
    "delivered_mailbox": {"locationType": "RESIDENCE", "locationDescription": "Mailbox"},
    "delivered_pickup_point": {
        "locationType": "FEDEX_LOCATION",
        "locationDescription": "At FedEx location",
    },
}


def fedex_check_digit(serial: str) -> str:
    """FedEx Express 12-digit check digit: weights 3,1,7 over 11 digits, mod 11 then mod 10."""
    return str(sum(int(d) * w for d, w in zip(serial, WEIGHTS, strict=True)) % 11 % 10)


def fedex_errors(code: str, message: str) -> dict[str, Any]:
    return {"transactionId": str(uuid.uuid4()), "errors": [{"code": code, "message": message}]}


def _address(place: Place) -> dict[str, Any]:
    return {
        "streetLines": [""],
        "city": place.city.upper(),
        "postalCode": place.postcode,
        "countryCode": place.country,
        "residential": False,
        "countryName": "France" if place.country == "FR" else place.country,
    }


def _scan(seen: SeenStep) -> dict[str, Any]:
    event_type, derived, derived_text, text, exc_code, exc_text, location_type = FEDEX_SCANS[
        seen.step.kind
    ]
    # FedEx writes pickup scans as a bare local time; every other scan carries its offset.
    when = paris_local_iso(seen.at) if seen.step.kind == "picked_up" else paris_iso(seen.at)
    return {
        "date": when,
        "eventType": event_type,
        "eventDescription": text,
        "exceptionCode": exc_code,
        "exceptionDescription": exc_text,
        "scanLocation": _address(seen.step.place),
        "locationType": location_type,
        "derivedStatusCode": derived,
        "derivedStatus": derived_text,
    }


def fedex_track_result(
    journey: Journey, seen: Sequence[SeenStep], *, planned_delivery: datetime
) -> dict[str, Any]:
    scans = [_scan(s) for s in newest_first(seen)]
    latest = scans[0]
    result: dict[str, Any] = {
        "trackingNumberInfo": {
            "trackingNumber": journey.number,
            "trackingNumberUniqueId": f"12028~{journey.number}~FDEG",
            "carrierCode": "FDXE",
        },
        "shipperInformation": {"contact": {}, "address": _address(journey.origin)},
        "recipientInformation": {"contact": {}, "address": _address(journey.destination)},
        "latestStatusDetail": {
            "code": latest["eventType"],
            "derivedCode": latest["derivedStatusCode"],
            "statusByLocale": latest["derivedStatus"],
            "description": latest["eventDescription"],
            "scanLocation": latest["scanLocation"],
        },
        "dateAndTimes": [],
        "availableImages": [],
        "serviceDetail": {
            "type": "INTERNATIONAL_PRIORITY",
            "description": "FedEx International Priority",
        },
        "lastUpdatedDestinationAddress": _address(journey.destination),
        "scanEvents": scans,
    }
    kinds = [s.step.kind for s in seen]
    delivery = delivery_step(seen)
    if delivery is not None:
        result["dateAndTimes"].append(
            {"type": "ACTUAL_DELIVERY", "dateTime": paris_iso(delivery.at)}
        )
        details: dict[str, Any] = {
            "actualDeliveryAddress": _address(journey.destination),
            "deliveryAttempts": str(kinds.count("failed_attempt")),
            **DELIVERY_DETAILS[delivery.step.kind],
        }
        if delivery.step.kind == "delivered":
            details["receivedByName"] = journey.signed_by
            details["signedByName"] = journey.signed_by
            result["availableImages"].append({"type": "SIGNATURE_PROOF_OF_DELIVERY"})
        result["deliveryDetails"] = details
    elif not any(kind in FINAL_KINDS for kind in kinds):
        result["dateAndTimes"].append(
            {"type": "ESTIMATED_DELIVERY", "dateTime": paris_iso(planned_delivery)}
        )
    if "returned" in kinds:
        result["returnDetail"] = {"reasonDetail": [{"description": "Unclaimed", "type": "RETURN"}]}
    return result


def _not_found(number: str) -> dict[str, Any]:
    return {
        "trackingNumber": number,
        "trackResults": [
            {
                "trackingNumberInfo": {
                    "trackingNumber": number,
                    "trackingNumberUniqueId": "",
                    "carrierCode": "",
                },
                "error": {
                    "code": "TRACKING.TRACKINGNUMBER.NOTFOUND",
                    "message": "Tracking number cannot be found. Please correct the tracking "
                    "number and try again.",
                },
            }
        ],
    }


class FedexSandbox(SandboxCourier):
    slug = "fedex"
    number_patterns = (re.compile(r"[0-9]{12}"),)
    unknown_prefix = "999"

    def candidate(self, value: int) -> str:
        serial = f"{value % 10**11:011d}"
        return serial + fedex_check_digit(serial)

    def handle(self, request: CourierRequest, parcels: ParcelSource) -> Reply:
        if request.method == "POST" and request.path == OAUTH_PATH:
            return self._token(request)
        if request.method == "POST" and request.path == DOCUMENTS_PATH:
            return self._documents(request, parcels)
        if request.method != "POST" or request.path != TRACK_PATH:
            return Reply(404, fedex_errors("NOT.FOUND.ERROR", f"No route for {request.path}"))
        bearer = request.header("Authorization").removeprefix("Bearer ").strip()
        if not bearer.startswith(ISSUED_PREFIX):
            return Reply(
                401,
                fedex_errors(
                    "NOT.AUTHORIZED.ERROR",
                    "The given JWT is invalid. Please modify your request and try again.",
                ),
            )
        numbers = _asked_numbers(request.body)
        if numbers is None or not numbers:
            return Reply(
                400,
                fedex_errors("TRACKING.TRACKINGNUMBER.EMPTY", "Please provide tracking number."),
            )
        if len(numbers) > MAX_NUMBERS:
            return Reply(
                400,
                fedex_errors(
                    "TRACKING.TRACKINGNUMBERS.LIMIT.EXCEEDED",
                    f"Please provide at most {MAX_NUMBERS} tracking numbers.",
                ),
            )
        results = []
        for asked in numbers:
            number = normalise_number(asked)
            if not self.knows(number):
                results.append(_not_found(asked))
                continue
            parcel = parcels.parcel(self.slug, number)
            track_result = fedex_track_result(
                parcel.journey, parcel.seen, planned_delivery=parcel.planned_delivery
            )
            results.append({"trackingNumber": asked, "trackResults": [track_result]})
        return Reply(
            200,
            {"transactionId": str(uuid.uuid4()), "output": {"completeTrackResults": results}},
        )

    def _documents(self, request: CourierRequest, parcels: ParcelSource) -> Reply:
        """The signature proof of delivery of one parcel, as a base64 PDF."""
        bearer = request.header("Authorization").removeprefix("Bearer ").strip()
        if not bearer.startswith(ISSUED_PREFIX):
            return Reply(
                401,
                fedex_errors(
                    "NOT.AUTHORIZED.ERROR",
                    "The given JWT is invalid. Please modify your request and try again.",
                ),
            )
        number = _document_number(request.body)
        if number is None:
            return Reply(
                400,
                fedex_errors("TRACKING.TRACKINGNUMBER.EMPTY", "Please provide tracking number."),
            )
        delivery = None
        if self.knows(number):
            parcel = parcels.parcel(self.slug, number)
            delivery = delivery_step(parcel.seen)
        if delivery is None or delivery.step.kind != "delivered":
            return Reply(
                404,
                fedex_errors(
                    "TRACKING.DOCUMENT.NOTFOUND",
                    "No signature proof of delivery is available for this tracking number.",
                ),
            )
        pdf = signature_proof_pdf(number, parcel.journey.signed_by, paris_iso(delivery.at))
        return Reply(
            200,
            {
                "transactionId": str(uuid.uuid4()),
                "output": {
                    "localization": {"localeCode": "US", "languageCode": "en"},
                    "documentType": "SIGNATURE_PROOF_OF_DELIVERY",
                    "documentFormat": "PDF",
                    "documents": [base64.b64encode(pdf).decode()],
                },
            },
        )

    def _token(self, request: CourierRequest) -> Reply:
        form = parse_qs(request.body.decode("utf-8", "replace"))
        client_id = (form.get("client_id") or [""])[0]
        secret = (form.get("client_secret") or [""])[0]
        if form.get("grant_type") != ["client_credentials"] or refuses(client_id, secret):
            return Reply(
                401,
                fedex_errors(
                    "NOT.AUTHORIZED.ERROR",
                    "The given client credentials were not valid. Please modify your request "
                    "and try again.",
                ),
            )
        digest = hashlib.sha256(f"{client_id}:{secret}".encode()).hexdigest()[:24]
        return Reply(
            200,
            {
                "access_token": ISSUED_PREFIX + digest,
                "token_type": "bearer",
                "expires_in": 3599,
                "scope": "CXS",
            },
        )

    def fault_reply(self, fault: str, retry_after_seconds: int) -> Reply:
        if fault == "error_429":
            return Reply(
                429,
                fedex_errors(
                    "RATE.LIMIT.EXCEEDED",
                    "We have received too many requests in a short duration. Please wait a "
                    "while to try again.",
                ),
                headers=[("Retry-After", str(retry_after_seconds))],
            )
        return Reply(
            500,
            fedex_errors(
                "INTERNAL.SERVER.ERROR",
                "We encountered an unexpected error and are working to resolve the issue.",
            ),
        )


def _asked_numbers(body: bytes) -> list[str] | None:
    """The numbers of a track request body, None when the body is not that shape."""
    try:
        payload = json.loads(body or b"{}")
    except (UnicodeDecodeError, ValueError):
        return None
    infos = payload.get("trackingInfo") if isinstance(payload, dict) else None
    if not isinstance(infos, list):
        return None
    numbers = []
    for info in infos:
        number_info = info.get("trackingNumberInfo") if isinstance(info, dict) else None
        number = number_info.get("trackingNumber") if isinstance(number_info, dict) else None
        if not isinstance(number, str) or not number.strip():
            return None
        numbers.append(number.strip())
    return numbers


def _document_number(body: bytes) -> str | None:
    """The one number of a trackingdocuments request body, None when it is not that shape."""
    try:
        payload = json.loads(body or b"{}")
        specification = payload["trackDocumentSpecification"][0]
        number = specification["trackingNumberInfo"]["trackingNumber"]
    except (UnicodeDecodeError, ValueError, KeyError, IndexError, TypeError):
        return None
    return normalise_number(number) if isinstance(number, str) and number.strip() else None


def signature_proof_pdf(number: str, signed_by: str, delivered_at: str) -> bytes:
    """A one-page PDF saying who signed for ``number`` and when: a real PDF (objects, xref
    table with byte offsets, trailer) so that the adapter's validation reads it as FedEx's."""

    def text(value: str) -> str:
        return value.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    lines = [
        "Signature Proof of Delivery",
        f"Tracking number: {number}",
        f"Delivered: {delivered_at}",
        f"Signed for by: {signed_by}",
    ]
    stream = "BT /F1 12 Tf 72 720 Td 16 TL " + " ".join(f"({text(line)}) '" for line in lines)
    stream += " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R"
        " >> >> /Contents 5 0 R >>",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        f"<< /Length {len(stream.encode('latin-1', 'replace'))} >>\nstream\n{stream}\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for index, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{index} 0 obj\n{body}\nendobj\n".encode("latin-1", "replace")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


COURIER = FedexSandbox()
