"""UPS Track API v1, emulated, with its OAuth token endpoint.

- ``POST /ups/security/v1/oauth/token``: HTTP Basic ``client_id:client_secret`` (both non-empty),
  form ``grant_type=client_credentials`` -> ``{"access_token", "expires_in": "14399", …}``
  (``expires_in`` is a string, as UPS writes it).
- ``GET /ups/api/track/v1/details/<inquiryNumber>?locale=en_US&returnSignature=false`` with
  ``Authorization: Bearer <token issued here>``, ``transId`` and ``transactionSrc``.
  200 ``{"trackResponse": {"shipment": [{"inquiryNumber", "package": [...]}]}}``: activities newest
  first, ``date`` YYYYMMDD and ``time`` HHMMSS in local (Paris) time without offset, and on every
  other activity also ``gmtDate/gmtTime/gmtOffset`` as UPS adds them, so adapters meet both.
  An unknown number is a 200 shipment with ``warnings[{TW0001}]`` and no package (the shape of
  UPS's sample); a malformed one a 400 ``response.errors[{TV1002}]``; a missing or foreign token
  a 401 ``response.errors[{250002}]``.

Each step kind is rendered with UPS's activity ``type`` and 3-digit ``statusCode`` from UPS's
appendix and a description in UPS's wording; the two-letter ``code`` values are illustrative
(UPS does not publish the list of its scan codes). Delivery details go in
``deliveryInformation`` (``receivedBy`` for a signature, a base64 ``deliveryPhoto`` for a
mailbox drop; the signature image only with ``returnSignature=true``) and
``accessPointInformation`` once the parcel waits at an Access Point.
Numbers: ``1Z`` + shipper ``PRC123`` + 2-digit service + 7-digit package + the mod-10 check
digit; ``1Z999999…`` (shipper 999999) is unknown.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, unquote

from devtools.sandbox.couriers.base import (
    CourierRequest,
    ParcelSource,
    Reply,
    SandboxCourier,
    refuses,
)
from devtools.sandbox.formats import delivery_step, newest_first, to_paris
from devtools.sandbox.journeys import FINAL_KINDS, Journey, Place, SeenStep, normalise_number

OAUTH_PATH = "/security/v1/oauth/token"
TRACK_PREFIX = "/api/track/v1/details/"
ISSUED_PREFIX = "ups-sbx-"
LIFETIME_SECONDS = "14399"
SHIPPER = "PRC123"

# Step kind -> (activity type, code, statusCode, description).
UPS_ACTIVITIES: dict[str, tuple[str, str, str, str]] = {
    "info_received": (
        "M",
        "MP",
        "003",
        "Shipper created a label, UPS has not received the package yet. ",
    ),
    "picked_up": ("I", "PU", "038", "Pickup Scan "),
    "in_transit_hub": ("I", "AR", "005", "Arrived at Facility"),
    "arrived_delivery_site": ("I", "DS", "071", "Processing at UPS Facility"),
    "out_for_delivery": ("I", "OT", "021", "Out For Delivery Today"),
    "failed_attempt": (
        "X",
        "48",
        "022",
        "The receiver was not available for delivery. We'll make a second attempt the next "
        "business day.",
    ),
    "available_for_pickup": (
        "I",
        "ZP",
        "161",
        "Delivered to UPS Access Point\u2122 and awaiting customer pickup.",
    ),
    "delivered": ("D", "FS", "011", "DELIVERED "),
    "delivered_mailbox": ("D", "FS", "011", "DELIVERED "),
    "delivered_pickup_point": (
        "D",
        "KM",
        "011",
        "Delivered - The package was picked up at the UPS Access Point\u2122",
    ),
    "address_issue": (
        "X",
        "UA",
        "050",
        "The address is incomplete. We're attempting to obtain the correct address.",
    ),
    "returning": (
        "X",
        "RS",
        "035",
        "The package was refused by the receiver and will be returned to the sender.",
    ),
    "returned": ("D", "RD", "034", "Returned to Sender: the package was delivered to the shipper"),
    "lost": (
        "X",
        "IV",
        "129",
        "We're sorry, your package could not be located. An investigation has been opened.",
    ),
}

# deliveryInformation.location for each way of handing the parcel over.
DELIVERY_LOCATIONS = {
    "delivered": "Residential",
    "delivered_mailbox": "Mailbox",
    "delivered_pickup_point": "UPS Access Point\u2122",
}
# UPS sends its images inline, base64: a real 1×1 GIF, so that whoever decodes it (the POD
# document check does) sees an image.
INLINE_IMAGE = "R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"


def ups_check_digit(body: str) -> str:
    """UPS 1Z mod-10: letters count as (ord - 3) mod 10, odd positions (0-based) doubled."""
    total = 0
    for index, char in enumerate(body):
        value = int(char) if char.isdigit() else (ord(char) - 3) % 10
        total += value * 2 if index % 2 else value
    return str((10 - total % 10) % 10)


def ups_errors(code: str, message: str) -> dict[str, Any]:
    return {"response": {"errors": [{"code": code, "message": message}]}}


def _ymd(moment: datetime) -> str:
    return to_paris(moment).strftime("%Y%m%d")


def _hms(moment: datetime) -> str:
    return to_paris(moment).strftime("%H%M%S")


def _address(place: Place) -> dict[str, str]:
    return {
        "city": place.city.upper(),
        "stateProvince": "",
        "postalCode": place.postcode,
        "countryCode": place.country,
        "country": place.country,
    }


def _activity(seen: SeenStep) -> dict[str, Any]:
    kind, code, status_code, description = UPS_ACTIVITIES[seen.step.kind]
    activity: dict[str, Any] = {
        "location": {
            "address": _address(seen.step.place),
            "slic": f"{int(seen.step.place.postcode) % 10000:04d}",
        },
        "status": {
            "type": kind,
            "description": description,
            "code": code,
            "statusCode": status_code,
        },
        "date": _ymd(seen.at),
        "time": _hms(seen.at),
    }
    if seen.step.offset % 2 == 0:
        utc = seen.at.astimezone(UTC)
        offset = to_paris(seen.at).strftime("%z")
        activity["gmtDate"] = utc.strftime("%Y%m%d")
        activity["gmtTime"] = utc.strftime("%H:%M:%S")
        activity["gmtOffset"] = f"{offset[:3]}:{offset[3:]}"
    return activity


def ups_package(
    journey: Journey,
    seen: Sequence[SeenStep],
    *,
    planned_delivery: datetime,
    with_signature: bool,
) -> dict[str, Any]:
    activities = [_activity(s) for s in newest_first(seen)]
    package: dict[str, Any] = {
        "trackingNumber": journey.number,
        "currentStatus": dict(activities[0]["status"]),
        "packageAddress": [
            {"type": "ORIGIN", "address": _address(journey.origin)},
            {"type": "DESTINATION", "address": _address(journey.destination)},
        ],
        "service": {"code": "011", "description": "UPS Standard"},
    }
    kinds = [s.step.kind for s in seen]
    delivery = delivery_step(seen)
    if delivery is not None:
        package["deliveryDate"] = [{"type": "DEL", "date": _ymd(delivery.at)}]
        package["deliveryTime"] = {"type": "DEL", "endTime": _hms(delivery.at)}
        information: dict[str, Any] = {"location": DELIVERY_LOCATIONS[delivery.step.kind]}
        if delivery.step.kind == "delivered":
            information["receivedBy"] = journey.signed_by
            if with_signature:
                information["signature"] = {"image": INLINE_IMAGE, "imageFormat": {"code": "GIF"}}
        if delivery.step.kind == "delivered_mailbox":
            information["deliveryPhoto"] = {
                "photo": INLINE_IMAGE,
                "photoCaptureInd": "Y",
                "photoDispositionCode": "V",
                "isNonPostalCodeCountry": False,
            }
        package["deliveryInformation"] = information
    elif not any(kind in FINAL_KINDS for kind in kinds):
        # Once the story is over UPS stops announcing a delivery window.
        start = to_paris(planned_delivery)
        end = min(start + timedelta(hours=2), start.replace(hour=23, minute=59, second=0))
        package["deliveryDate"] = [{"type": "SDD", "date": start.strftime("%Y%m%d")}]
        package["deliveryTime"] = {
            "type": "EDW",
            "startTime": start.strftime("%H%M%S"),
            "endTime": end.strftime("%H%M%S"),
        }
    if "available_for_pickup" in kinds:
        pickup_by = to_paris(seen[-1].at) + timedelta(days=7)
        package["accessPointInformation"] = {"pickupByDate": pickup_by.strftime("%Y%m%d")}
    package["activity"] = activities
    package["packageCount"] = 1
    return package


class UpsSandbox(SandboxCourier):
    slug = "ups"
    number_patterns = (re.compile(r"1Z[0-9A-Z]{15}[0-9]"),)
    unknown_prefix = "1Z999999"

    def candidate(self, value: int) -> str:
        serial = f"{value % 10**9:09d}"  # 2-digit service + 7-digit package
        body = SHIPPER + serial
        return "1Z" + body + ups_check_digit(body)

    def handle(self, request: CourierRequest, parcels: ParcelSource) -> Reply:
        if request.method == "POST" and request.path == OAUTH_PATH:
            return self._token(request)
        if request.method != "GET" or not request.path.startswith(TRACK_PREFIX):
            return Reply(404, ups_errors("404", f"No route for {request.path}"))
        bearer = request.header("Authorization").removeprefix("Bearer ").strip()
        if not bearer.startswith(ISSUED_PREFIX):
            return Reply(401, ups_errors("250002", "Invalid Authentication Information."))
        if not request.header("transId") or not request.header("transactionSrc"):
            return Reply(400, ups_errors("TV1001", "Missing transId or transactionSrc header"))
        number = normalise_number(unquote(request.path[len(TRACK_PREFIX) :]))
        if not self.is_well_formed(number):
            return Reply(400, ups_errors("TV1002", "Invalid inquiry number"))
        if self.is_unknown(number):
            warning = {"code": "TW0001", "message": "Tracking Information Not Found"}
            return Reply(200, {"trackResponse": {"shipment": [{"warnings": [warning]}]}})
        parcel = parcels.parcel(self.slug, number)
        package = ups_package(
            parcel.journey,
            parcel.seen,
            planned_delivery=parcel.planned_delivery,
            with_signature=request.param("returnSignature") == "true",
        )
        shipment = {"inquiryNumber": number, "package": [package]}
        return Reply(200, {"trackResponse": {"shipment": [shipment]}})

    def _token(self, request: CourierRequest) -> Reply:
        client_id, secret = _basic_credentials(request.header("Authorization"))
        if refuses(client_id, secret):
            return Reply(401, ups_errors("10401", "ClientId is Invalid"))
        form = parse_qs(request.body.decode("utf-8", "replace"))
        if form.get("grant_type") != ["client_credentials"]:
            return Reply(400, ups_errors("10400", "Invalid/Missing grant_type"))
        digest = hashlib.sha256(f"{client_id}:{secret}".encode()).hexdigest()[:24]
        return Reply(
            200,
            {
                "token_type": "Bearer",
                "issued_at": "1716105600000",
                "client_id": client_id,
                "access_token": ISSUED_PREFIX + digest,
                "expires_in": LIFETIME_SECONDS,
                "status": "approved",
            },
        )

    def fault_reply(self, fault: str, retry_after_seconds: int) -> Reply:
        if fault == "error_429":
            return Reply(
                429,
                ups_errors("429", "Rate Limit Exceeded"),
                headers=[("Retry-After", str(retry_after_seconds))],
            )
        return Reply(500, ups_errors("9999", "An internal server error occurred"))


def _basic_credentials(header: str) -> tuple[str, str]:
    if not header.startswith("Basic "):
        return "", ""
    try:
        decoded = base64.b64decode(header[len("Basic ") :], validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return "", ""
    client_id, _, secret = decoded.partition(":")
    return client_id, secret


COURIER = UpsSandbox()
