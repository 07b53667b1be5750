"""USPS Tracking API v3, emulated, with its OAuth token endpoint.

- ``POST /usps/oauth2/v3/token``: JSON (or form) ``client_id``, ``client_secret`` (both
  non-empty), ``grant_type=client_credentials`` -> ``{"access_token", "token_type": "Bearer",
  "expires_in": 28799, …}``; otherwise 401 in USPS's error shape.
- ``GET /usps/tracking/v3/tracking/<trackingNumber>?expand=DETAIL`` with ``Authorization: Bearer
  <token issued here>``. 200: the sample's top-level fields and ``trackingEvents`` newest first,
  each with ``eventTimestamp`` (local, no offset), ``GMTTimestamp`` (UTC, to the second) and
  ``GMTOffset``, Pub 199 ``eventCode`` and USPS's ``eventType`` text. The sandbox's parcels travel
  in France (international mail), so events name the country ("FRANCE") as USPS does abroad.
  400 (malformed number), 404 (unknown), 401 (no or foreign token): ``{"apiVersion", "error":
  {code, message, errors[{status, code, title, detail}]}}``.

USPS has no "lost" scan: a parcel nobody can deliver nor return becomes a Dead Letter (code 11,
sent to the Mail Recovery Center), which is how the sandbox renders "lost". A return reaching the
sender is code 01 "Delivered, To Original Sender".
Numbers: 22-digit IMpb ``94001…`` with the mod-10 check digit; ``9499…`` is unknown.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, unquote

from devtools.sandbox.couriers.base import (
    CourierRequest,
    ParcelSource,
    Reply,
    SandboxCourier,
    refuses,
)
from devtools.sandbox.formats import newest_first, paris_iso, paris_local_iso, to_paris, utc_iso
from devtools.sandbox.journeys import FINAL_KINDS, Journey, Place, SeenStep, normalise_number

OAUTH_PATH = "/oauth2/v3/token"
TRACK_PREFIX = "/tracking/v3/tracking/"
ISSUED_PREFIX = "usps-sbx-"
API_VERSION = "/tracking/v3"

# Step kind -> (Pub 199 eventCode, eventType).
USPS_EVENTS: dict[str, tuple[str, str]] = {
    "info_received": ("GX", "Shipping Label Created, USPS Awaiting Item"),
    "picked_up": ("03", "USPS in possession of item"),
    "in_transit_hub": ("A1", "Arrived at USPS Regional Facility"),
    "arrived_delivery_site": ("07", "Arrived at Post Office"),
    "out_for_delivery": ("OF", "Out for Delivery"),
    "failed_attempt": ("02", "Notice Left (No Authorized Recipient Available)"),
    "available_for_pickup": ("16", "Available for Pickup"),
    "delivered": ("01", "Delivered, Left with Individual"),
    "delivered_mailbox": ("01", "Delivered, In/At Mailbox"),
    "delivered_pickup_point": ("01", "Delivered, Individual Picked Up at Post Office"),
    "address_issue": ("05", "Undeliverable as Addressed"),
    "returning": ("27", "Unclaimed/Being Returned to Sender"),
    "returned": ("01", "Delivered, To Original Sender"),
    "lost": ("11", "Dead Letter/Sent to Mail Recovery Center"),
}
# statusCategory USPS shows for the latest event of each kind.
STATUS_CATEGORIES = {
    "info_received": "Pre-Shipment",
    "out_for_delivery": "Out for Delivery",
    "failed_attempt": "Delivery Attempt",
    "available_for_pickup": "Available for Pickup",
    "delivered": "Delivered",
    "delivered_mailbox": "Delivered",
    "delivered_pickup_point": "Delivered",
    "address_issue": "Alert",
    "returning": "Return to Sender",
    "returned": "Delivered",
    "lost": "Alert",
}
COUNTRY_NAMES = {"FR": "FRANCE", "US": None}


def usps_check_digit(serial: str) -> str:
    """IMpb mod-10: from the rightmost digit, alternately weighted 3 and 1."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(serial)))
    return str((10 - total % 10) % 10)


def usps_error(status: int, title: str, detail: str) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "error": {
            "code": str(status),
            "message": detail,
            "errors": [
                {"status": str(status), "code": str(status), "title": title, "detail": detail}
            ],
        },
    }


def _offset(moment: datetime) -> str:
    raw = to_paris(moment).strftime("%z")
    return f"{raw[:3]}:{raw[3:]}"


def _event(seen: SeenStep, journey: Journey) -> dict[str, Any]:
    code, text = USPS_EVENTS[seen.step.kind]
    place: Place = seen.step.place
    return {
        "eventType": text,
        "eventTimestamp": paris_local_iso(seen.at),
        "GMTTimestamp": utc_iso(seen.at),
        "GMTOffset": _offset(seen.at),
        "eventCountry": COUNTRY_NAMES.get(place.country, place.country),
        "eventCity": place.city.upper(),
        "eventState": None,
        "eventZIP": place.postcode,
        "firm": None,
        "name": journey.signed_by if seen.step.kind == "delivered" else None,
        "authorizedAgent": "false",
        "eventCode": code,
        "additionalProp": None,
    }


def usps_answer(
    journey: Journey, seen: Sequence[SeenStep], *, planned_delivery: datetime
) -> dict[str, Any]:
    events = [_event(s, journey) for s in newest_first(seen)]
    latest_kind = newest_first(seen)[0].step.kind
    answer: dict[str, Any] = {
        "destinationCity": journey.destination.city.upper(),
        "destinationState": None,
        "destinationZIP": journey.destination.postcode,
        "emailEnabled": "true",
        "mailClass": "Priority Mail International<SUP>&reg;</SUP>",
        "mailType": "IM",
        "originCity": journey.origin.city.upper(),
        "originState": None,
        "originZIP": journey.origin.postcode,
        "proofOfDeliveryEnabled": "false",
        "status": events[0]["eventType"],
        "statusCategory": STATUS_CATEGORIES.get(latest_kind, "In Transit"),
        "statusSummary": f"{events[0]['eventType']} in {events[0]['eventCity']}.",
        "trackingEvents": events,
        "trackingNumber": journey.number,
    }
    if not any(s.step.kind in FINAL_KINDS for s in seen):
        answer["expectedDeliveryTimeStamp"] = paris_iso(planned_delivery)
        answer["expectedDeliveryType"] = "EXPECTED"
    return answer


class UspsSandbox(SandboxCourier):
    slug = "usps"
    number_patterns = (re.compile(r"9[1-5][0-9]{20}"),)
    unknown_prefix = "9499"

    def candidate(self, value: int) -> str:
        serial = "94001" + f"{value % 10**16:016d}"
        return serial + usps_check_digit(serial)

    def handle(self, request: CourierRequest, parcels: ParcelSource) -> Reply:
        if request.method == "POST" and request.path == OAUTH_PATH:
            return self._token(request)
        if request.method != "GET" or not request.path.startswith(TRACK_PREFIX):
            return Reply(404, usps_error(404, "Not Found", f"No route for {request.path}"))
        bearer = request.header("Authorization").removeprefix("Bearer ").strip()
        if not bearer.startswith(ISSUED_PREFIX):
            return Reply(
                401,
                usps_error(401, "Unauthorized", "Invalid or expired OAuth access token."),
            )
        number = normalise_number(unquote(request.path[len(TRACK_PREFIX) :]))
        if not self.is_well_formed(number):
            return Reply(
                400,
                usps_error(400, "Invalid Tracking Number", "The tracking number is invalid."),
            )
        if self.is_unknown(number):
            return Reply(
                404,
                usps_error(
                    404,
                    "Tracking Number Not Found",
                    "The tracking number may be incorrect or the status update is not yet "
                    "available.",
                ),
            )
        parcel = parcels.parcel(self.slug, number)
        return Reply(
            200,
            usps_answer(parcel.journey, parcel.seen, planned_delivery=parcel.planned_delivery),
        )

    def _token(self, request: CourierRequest) -> Reply:
        fields = _token_fields(request)
        client_id, secret = fields.get("client_id", ""), fields.get("client_secret", "")
        if fields.get("grant_type") != "client_credentials" or refuses(client_id, secret):
            return Reply(401, usps_error(401, "Unauthorized", "Invalid client credentials."))
        digest = hashlib.sha256(f"{client_id}:{secret}".encode()).hexdigest()[:24]
        return Reply(
            200,
            {
                "access_token": ISSUED_PREFIX + digest,
                "token_type": "Bearer",
                "issued_at": 1716105600000,
                "expires_in": 28799,
                "status": "approved",
                "scope": "tracking",
                "client_id": client_id,
            },
        )

    def fault_reply(self, fault: str, retry_after_seconds: int) -> Reply:
        if fault == "error_429":
            return Reply(
                429,
                usps_error(
                    429,
                    "Too Many Requests.",
                    "Quota limit exceeded. The number of requests has exceeded the quota "
                    "established for the time period.",
                ),
                headers=[("Retry-After", str(retry_after_seconds))],
            )
        return Reply(500, usps_error(500, "Internal Server Error", "An unexpected error occurred."))


def _token_fields(request: CourierRequest) -> dict[str, str]:
    """The token request's fields, sent as JSON or as a form."""
    text = request.body.decode("utf-8", "replace")
    if "json" in request.header("Content-Type"):
        try:
            payload = json.loads(text or "{}")
        except ValueError:
            return {}
        if not isinstance(payload, dict):
            return {}
        return {k: v for k, v in payload.items() if isinstance(v, str)}
    return {k: v[0] for k, v in parse_qs(text).items()}


COURIER = UspsSandbox()
