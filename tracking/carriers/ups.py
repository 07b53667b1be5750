"""UPS, through the Track API v1 (OAuth 2 client credentials).

    POST {base_url}/security/v1/oauth/token        Authorization: Basic base64(id:secret)
         grant_type=client_credentials               -> {"access_token", "expires_in": "14399"}
    GET  {base_url}/api/track/v1/details/{inquiryNumber}?locale=en_US&returnSignature=false
         Authorization: Bearer {token}   transId: {unique id}   transactionSrc: parcelle

Format quirks this module deals with:

- One inquiry number per request (it is in the path). The answer is
  ``trackResponse.shipment[].package[]``: a shipment may hold several packages, each with its own
  ``trackingNumber``; UPS's own example fills that field with the placeholder "string", so a
  package whose number does not look like a UPS number is reported under the inquiry number.
- An unknown number comes back as a shipment with ``warnings[{code TW0001}]`` and no package;
  an invalid one as ``response.errors[{code TV1002}]`` (HTTP 400), which names no number.
- Each activity has ``status{type, code, statusCode, description}``. ``statusCode`` is the
  3-digit "status description code" of UPS's appendix (160 codes, "011" Delivered): it carries
  the meaning, so it is read first; ``type`` (D, I, M, MV, X, U…) is the fallback. Two-letter
  ``code`` values are UPS-internal scan codes, except the manifest (MP, DP, RD, VP) and update
  (PX, UP, UT) ones listed in UPS's appendix.
- "Update" activities (new delivery date, delivery photo) say nothing about where the package
  is: they keep the status of the activity before them.
- Dates are ``YYYYMMDD`` and times ``HHMMSS``, local to the scan and without offset. When UPS adds
  ``gmtDate/gmtTime/gmtOffset`` we use them; otherwise the local time is read in the zone of the
  activity's country (and, in the US, of its state: UPS's home market spans six zones).
- Estimated delivery: ``deliveryDate[]{type SDD|RDD|DEL, date}`` with ``deliveryTime{type,
  startTime, endTime}``; RDD (rescheduled) wins over SDD (scheduled); DEL is the delivery itself.
- Proof of delivery: ``deliveryInformation{location ("Front Door"), receivedBy, signature.image,
  deliveryPhoto.photo, pod.content}``; images are inline base64, so the POD lists only their kind.
  ``accessPointInformation`` marks a package left at a UPS Access Point.
- Activities are newest first.
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from typing import TYPE_CHECKING
from urllib.parse import quote

from tracking.carriers.base import (
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
)
from tracking.carriers.documents import DocumentNotAvailable, DocumentRefused, ProofDocument
from tracking.carriers.jsonbody import json_child, json_list, json_object, json_text
from tracking.carriers.oauth import OAuthCarrierAdapter, send_with_token
from tracking.carriers.timeparse import region_timezone
from tracking.carriers.vocabulary import Status, Substatus

if TYPE_CHECKING:
    from tracking.carriers.http import CarrierHttpClient

_INFO = Status.INFO_RECEIVED
_TRANSIT = Status.IN_TRANSIT
_OFD = Status.OUT_FOR_DELIVERY
_FAILED = Status.FAILED_ATTEMPT
_PICKUP = Status.AVAILABLE_FOR_PICKUP
_DELIVERED = Status.DELIVERED
_EXC = Status.EXCEPTION

# UPS status description code (activity.status.statusCode, 3 digits) -> our (status, substatus).
# The full table of UPS's appendix (ups_track_v1_status_codes.json lists them without the
# leading zeros the API sends).
STATUS_MAP: dict[str, tuple[str, str | None]] = {
    # Label created, or the package is still with (or on its way to) the shipper's drop-off.
    "003": (_INFO, None),  # Shipment Ready for UPS
    "043": (_INFO, None),  # Voided Pickup: the pickup request, not the package
    "044": (_INFO, None),  # On the Way to UPS
    "045": (_INFO, None),  # On the Way to UPS
    "065": (_INFO, None),  # Pickup Attempted
    "070": (_INFO, None),  # Package not at UPS Access Point yet
    "077": (_INFO, None),  # Scheduled for Pickup Today
    "079": (_INFO, None),  # Order Processed: In Transit to UPS
    "080": (_INFO, None),  # Order Processed: Ready for UPS
    "131": (_INFO, None),  # Final Pickup Attempted
    "135": (_INFO, None),  # Second Pickup Attempted
    "157": (_INFO, None),  # Shipment Ready for UPS
    "166": (_INFO, None),  # Shipment Ready for Roadie
    # Moving in UPS's network (scans, customs routine, partner hand-offs).
    "000": (_TRANSIT, None),  # Status Not Available
    "005": (_TRANSIT, None),  # On the Way
    "010": (_TRANSIT, None),  # On the Way
    "012": (_TRANSIT, None),  # Clearance in Progress: routine for international parcels
    "014": (_TRANSIT, None),  # Clearance Completed
    "016": (_TRANSIT, None),  # In Warehouse
    "025": (_TRANSIT, None),  # On the Way
    "038": (_TRANSIT, None),  # Picked Up by UPS
    "039": (_TRANSIT, None),  # On the Way
    "047": (_TRANSIT, None),  # On the Way
    "057": (_TRANSIT, None),  # On the Way to a Local UPS Access Point
    "071": (_TRANSIT, None),  # Preparing for Delivery
    "073": (_TRANSIT, None),  # In Transit to UPS Delivery Partner
    "074": (_TRANSIT, None),  # UPS Delivery Partner has Shipment
    "075": (_TRANSIT, None),  # Scheduled for Delivery
    "084": (_TRANSIT, None),  # Cleared
    "087": (_TRANSIT, None),  # On the Way
    "088": (_TRANSIT, None),  # Test
    "092": (_TRANSIT, None),  # Customs Clearance in Progress
    "093": (_TRANSIT, None),  # Premier Recovery In Progress
    "094": (_TRANSIT, None),  # Premier Recovery Completed
    "127": (_TRANSIT, None),  # Investigation Closed: found and moving again
    "128": (_TRANSIT, None),  # Investigation Canceled
    "134": (_TRANSIT, None),  # Cleared Import Customs
    "137": (_TRANSIT, None),  # Transferred to UPS Delivery Partner
    "138": (_TRANSIT, None),  # Awaiting Scheduled Departure
    "148": (_TRANSIT, None),  # Package Information Unavailable
    "156": (_TRANSIT, None),  # Commercial Inside Release
    "158": (_TRANSIT, None),  # On the Way
    "159": (_TRANSIT, None),  # On the Way
    "160": (_TRANSIT, None),  # We Have Your Package
    "163": (_TRANSIT, None),  # Package Information Unavailable
    "164": (_TRANSIT, None),  # On the Way
    "165": (_TRANSIT, None),  # On the Way
    "167": (_TRANSIT, None),  # Dropped off at UPS Store by Customer
    "168": (_TRANSIT, None),  # Dropped off at Retail Location by Customer
    "169": (_TRANSIT, None),  # Dropped off at a UPS Access Point by Customer
    # Requests and confirmations about the delivery: the package keeps travelling.
    "018": (_TRANSIT, None),  # Delivery Change Requested: Hold for Pickup
    "019": (_TRANSIT, None),  # Held for Future Delivery
    "020": (_TRANSIT, None),  # Held for Future Delivery Requested
    "027": (_TRANSIT, None),  # Delivery Address Change Requested
    "028": (_TRANSIT, None),  # Delivery Address Changed
    "041": (_TRANSIT, None),  # Service Upgrade Requested
    "042": (_TRANSIT, None),  # Service Upgraded
    "054": (_TRANSIT, None),  # Delivery Change Requested
    "055": (_TRANSIT, None),  # Rescheduled Delivery
    "056": (_TRANSIT, None),  # Service Upgrade Requested
    "063": (_TRANSIT, None),  # Delivery Change Completed
    "082": (_TRANSIT, None),  # Delivery Instructions Received
    "095": (_TRANSIT, None),  # Additional Attempt Requested
    "096": (_TRANSIT, None),  # Address Change Confirmed
    "097": (_TRANSIT, None),  # Address Change Requested
    "098": (_TRANSIT, None),  # Deliver to Original Address Requested
    "099": (_TRANSIT, None),  # Deliver to Original Address Confirmed
    "100": (_TRANSIT, None),  # Hold at UPS Access Point Confirmed
    "101": (_TRANSIT, None),  # Hold at UPS Access Point Requested
    "102": (_TRANSIT, None),  # Hold for Courier Requested
    "103": (_TRANSIT, None),  # Hold for Courier Confirmed
    "104": (_TRANSIT, None),  # Hold for Instructions Confirmed
    "105": (_TRANSIT, None),  # Hold for Instructions Requested
    "106": (_TRANSIT, None),  # Hold for Pickup Confirmed
    "107": (_TRANSIT, None),  # Hold for Pickup Requested
    "108": (_TRANSIT, None),  # Hold for Pickup Today Confirmed
    "109": (_TRANSIT, None),  # Hold for Pickup Today Requested
    "110": (_TRANSIT, None),  # Refrigeration Confirmed
    "111": (_TRANSIT, None),  # Refrigeration Requested
    "112": (_TRANSIT, None),  # Re-Ice Confirmed
    "113": (_TRANSIT, None),  # Re-Ice Requested
    "114": (_TRANSIT, None),  # Request Canceled
    "115": (_TRANSIT, None),  # Reschedule Delivery Confirmed
    "116": (_TRANSIT, None),  # Reschedule Delivery Requested
    "117": (_TRANSIT, None),  # Return by Saturday Confirmed (a return label's service option)
    "120": (_TRANSIT, None),  # Saturday Delivery Confirmed
    "121": (_TRANSIT, None),  # Saturday Delivery Requested
    "122": (_TRANSIT, None),  # Upgrade Confirmed
    "133": (_TRANSIT, None),  # Return Label Left With Customer
    "136": (_TRANSIT, None),  # Delivery Rescheduled for Saturday
    # Updates (see KEEP_PREVIOUS_STATUS_CODES: they keep the status before them).
    "153": (_TRANSIT, None),  # Updated Delivery Time
    "154": (_TRANSIT, None),  # Updated Delivery Date
    "155": (_TRANSIT, None),  # Delivery Photo
    # With the driver.
    "006": (_OFD, None),  # Out for Delivery
    "021": (_OFD, None),  # Out for Delivery
    "037": (_OFD, None),  # Out for Delivery
    "072": (_OFD, None),  # Loaded on Delivery Vehicle
    "078": (_OFD, None),  # Your Driver is Arriving Soon!
    "089": (_OFD, None),  # Out for Delivery
    "091": (_OFD, None),  # Out for Delivery
    "146": (_OFD, None),  # Out for Delivery
    "162": (_OFD, None),  # Out for Delivery
    # Tried and missed: another attempt follows. The reason, when any, is in the description.
    "022": (_FAILED, None),  # First Attempt Made
    "023": (_FAILED, None),  # Second Delivery Attempted
    "024": (_FAILED, None),  # Final Attempt Made
    "060": (_FAILED, None),  # Delivery Attempted
    "061": (_FAILED, None),  # Delivery Attempted: Adult Signature Required
    "062": (_FAILED, None),  # Delivery Attempted: Funds Required (COD)
    "066": (_FAILED, None),  # Post Office Delivery Attempted
    "139": (_FAILED, Substatus.FAILED_ATTEMPT_ACCESS_ISSUE),  # Security Access Required
    "145": (_FAILED, None),  # Delivery Attempted
    # Waiting for the buyer to collect it.
    "017": (_PICKUP, None),  # Held for Customer Pickup
    "040": (_PICKUP, None),  # Ready for Customer Pickup
    "144": (_PICKUP, None),  # Delivered to Post Office for Pickup
    "161": (_PICKUP, None),  # Delivered to UPS Access Point (to be collected there)
    # Delivered. How (front door, signed, access point) comes from deliveryInformation.
    "011": (_DELIVERED, None),  # Delivered
    "026": (_DELIVERED, None),  # Delivered by Local Post Office
    "143": (_DELIVERED, None),  # Delivered to Agent
    # Problems.
    "007": (_EXC, Substatus.EXCEPTION_CANCELLED),  # Shipment Information Voided
    "013": (_EXC, Substatus.EXCEPTION_OTHER),  # Exception
    "029": (_EXC, Substatus.EXCEPTION_OTHER),  # Exception: Action Required
    "030": (_EXC, Substatus.EXCEPTION_OTHER),  # Local Post Office Exception
    "069": (_EXC, Substatus.EXCEPTION_OTHER),  # Unable to Deliver
    "076": (_EXC, Substatus.EXCEPTION_OTHER),  # UPS Delivery Partner Exception
    "083": (_EXC, Substatus.EXCEPTION_OTHER),  # Held
    "085": (_EXC, Substatus.EXCEPTION_OTHER),  # Held for COD Payment
    "130": (_EXC, Substatus.EXCEPTION_OTHER),  # Claim in Progress
    "140": (_EXC, Substatus.EXCEPTION_OTHER),  # Claim Paid
    "142": (_EXC, Substatus.EXCEPTION_OTHER),  # Claim Voided
    "147": (_EXC, Substatus.EXCEPTION_OTHER),  # Seized by Law Enforcement
    "149": (_EXC, Substatus.EXCEPTION_OTHER),  # Prohibited Contents, Package Destroyed
    "032": (_EXC, Substatus.EXCEPTION_DELAYED),  # Adverse Weather May Cause Delay
    "046": (_EXC, Substatus.EXCEPTION_DELAYED),  # Delay
    "048": (_EXC, Substatus.EXCEPTION_DELAYED),  # Delay
    "049": (_EXC, Substatus.EXCEPTION_DELAYED),  # Delay: Action Required
    "051": (_EXC, Substatus.EXCEPTION_DELAYED),  # Delay: Emergency Situation or Severe Weather
    "052": (_EXC, Substatus.EXCEPTION_DELAYED),  # Delay: Severe Weather
    "053": (_EXC, Substatus.EXCEPTION_DELAYED),  # Delay: Severe Weather
    "086": (_EXC, Substatus.EXCEPTION_DELAYED),  # Delay
    "090": (_EXC, Substatus.EXCEPTION_DELAYED),  # Delay
    "132": (_EXC, Substatus.EXCEPTION_DELAYED),  # Airport Security Delay
    "050": (_EXC, Substatus.EXCEPTION_ADDRESS_ISSUE),  # Address Information Required
    "058": (_EXC, Substatus.EXCEPTION_CUSTOMS),  # Clearance Information Required
    "123": (_EXC, Substatus.EXCEPTION_CUSTOMS),  # Pending Release From Non-UPS Broker
    "124": (_EXC, Substatus.EXCEPTION_CUSTOMS),  # Clearance Information Needed
    "125": (_EXC, Substatus.EXCEPTION_CUSTOMS),  # Clearance Information Needed
    "126": (_EXC, Substatus.EXCEPTION_CUSTOMS),  # Pending Government Agency Release
    "141": (_EXC, Substatus.EXCEPTION_CUSTOMS),  # Incomplete Documentation Received
    "059": (_EXC, Substatus.EXCEPTION_DAMAGED),  # Damage Reported
    "064": (_EXC, Substatus.EXCEPTION_REFUSED),  # Delivery Refused
    # UPS opens an investigation when it cannot locate a package; lost and found is where
    # packages separated from their label end up.
    "068": (_EXC, Substatus.EXCEPTION_LOST),  # Sent to Lost and Found
    "129": (_EXC, Substatus.EXCEPTION_LOST),  # Investigation Opened
    # Going back to the shipper, and back there.
    "033": (_EXC, Substatus.EXCEPTION_RETURNING_TO_SENDER),  # Return to Sender Requested
    "035": (_EXC, Substatus.EXCEPTION_RETURNING_TO_SENDER),  # Returning to Sender
    "036": (_EXC, Substatus.EXCEPTION_RETURNING_TO_SENDER),  # Returning to Sender: In Transit
    "067": (_EXC, Substatus.EXCEPTION_RETURNING_TO_SENDER),  # Returned to Sender by Post Office
    "081": (_EXC, Substatus.EXCEPTION_RETURNING_TO_SENDER),  # Returned - Damage Reported
    "118": (_EXC, Substatus.EXCEPTION_RETURNING_TO_SENDER),  # Return to Sender Confirmed
    "119": (_EXC, Substatus.EXCEPTION_RETURNING_TO_SENDER),  # Return to Sender Requested
    "034": (_EXC, Substatus.EXCEPTION_RETURNED_TO_SENDER),  # Returned to Sender
}

# activity.status.type -> our (status, substatus), when the statusCode is missing or unknown.
TYPE_MAP: dict[str, tuple[str, str | None]] = {
    "M": (_INFO, None),  # Billing Information Received (label created)
    "MV": (_EXC, Substatus.EXCEPTION_CANCELLED),  # Billing Information Voided
    "I": (_TRANSIT, None),  # In Transit, Out for Delivery (statusCode tells which)
    "D": (_DELIVERED, None),  # Delivered
    "X": (_EXC, Substatus.EXCEPTION_OTHER),  # Exception
    "DO": (_TRANSIT, None),  # Delivered Origin CFS (freight: a terminal, not the buyer)
    "DD": (_TRANSIT, None),  # Delivered Destination CFS (freight: a terminal, not the buyer)
    "W": (_TRANSIT, None),  # Warehousing (freight)
    "NA": (_TRANSIT, None),  # Not Available
    "U": (_TRANSIT, None),  # Updates (see KEEP_PREVIOUS_TYPES)
}

# Manifest activity codes (status.code) of UPS's appendix, read when type/statusCode say nothing.
MANIFEST_CODE_MAP: dict[str, tuple[str, str | None]] = {
    "DP": (_INFO, None),  # Shipment ready for UPS, manifest processed
    "MP": (_INFO, None),  # Shipment ready for UPS, billing information received
    "RD": (_INFO, None),  # Shipper created a label, Roadie has not received the package yet
    "VP": (_EXC, Substatus.EXCEPTION_CANCELLED),  # Manifest cancelled and shipment voided
}

# Activity codes (status.code) that say more than the coarse type "I" does, read before it. DP is
# left out: UPS uses it both for "manifest processed" and "Departed from Facility", so it is only
# read as a manifest when neither statusCode nor type says anything (MANIFEST_CODE_MAP).
SCAN_CODE_MAP: dict[str, tuple[str, str | None]] = {
    "MP": MANIFEST_CODE_MAP["MP"],
    "RD": MANIFEST_CODE_MAP["RD"],
    "VP": MANIFEST_CODE_MAP["VP"],
    "OT": (_OFD, None),  # Out For Delivery Today
    "OF": (_OFD, None),  # Out For Delivery
}

# Activities that only update an estimate or add a photo: they keep the status before them.
KEEP_PREVIOUS_STATUS_CODES = frozenset({"153", "154", "155"})
KEEP_PREVIOUS_TYPES = frozenset({"U"})
UPDATE_CODES = frozenset({"PX", "UP", "UT"})  # Delivery Photo, Updated Date, Updated Time

# Description fragments (lowercase) that say why an attempt failed.
FAILED_ATTEMPT_KEYWORDS: tuple[tuple[str, tuple[str, str]], ...] = (
    ("refused", (_EXC, Substatus.EXCEPTION_REFUSED)),
    ("not available", (_FAILED, Substatus.FAILED_ATTEMPT_RECIPIENT_ABSENT)),
    ("not home", (_FAILED, Substatus.FAILED_ATTEMPT_RECIPIENT_ABSENT)),
    ("not in", (_FAILED, Substatus.FAILED_ATTEMPT_RECIPIENT_ABSENT)),
    ("business was closed", (_FAILED, Substatus.FAILED_ATTEMPT_RECIPIENT_ABSENT)),
    ("access", (_FAILED, Substatus.FAILED_ATTEMPT_ACCESS_ISSUE)),
    ("address", (_EXC, Substatus.EXCEPTION_ADDRESS_ISSUE)),
)

# deliveryInformation.location (lowercase fragments) -> (substatus, POD location type).
DELIVERY_LOCATIONS: tuple[tuple[str, tuple[str, str]], ...] = (
    ("access point", (Substatus.DELIVERED_PICKUP_POINT, "pickup_point")),
    ("locker", (Substatus.DELIVERED_LOCKER, "locker")),
    ("mailbox", (Substatus.DELIVERED_MAILBOX, "mailbox")),
    ("mail box", (Substatus.DELIVERED_MAILBOX, "mailbox")),
    ("letterbox", (Substatus.DELIVERED_MAILBOX, "mailbox")),
    ("neighbor", (Substatus.DELIVERED_NEIGHBOUR, "neighbour")),
    ("neighbour", (Substatus.DELIVERED_NEIGHBOUR, "neighbour")),
    ("front desk", (Substatus.DELIVERED_SIGNED, "reception")),
    ("reception", (Substatus.DELIVERED_SIGNED, "reception")),
    ("mail room", (Substatus.DELIVERED_SIGNED, "reception")),
    ("front door", (Substatus.DELIVERED_FRONT_DOOR, "front_door")),
    ("porch", (Substatus.DELIVERED_FRONT_DOOR, "front_door")),
    ("side door", (Substatus.DELIVERED_FRONT_DOOR, "front_door")),
    ("back door", (Substatus.DELIVERED_FRONT_DOOR, "front_door")),
    ("garage", (Substatus.DELIVERED_FRONT_DOOR, "front_door")),
)

# Error and warning codes -> our per-number error code.
ERROR_CODES: dict[str, str] = {
    "TW0001": "not_found",  # Tracking Information Not Found
    "TV1002": "invalid_number",  # Invalid inquiry number
    "TW0003": "not_found",  # Tracking information not available (yet)
    "250002": "auth_failed",  # Invalid Authentication Information
    "250003": "auth_failed",  # Invalid Access License / token
    "10401": "auth_failed",  # ClientId is Invalid (token endpoint)
    "429": "rate_limited",
}

_UPS_NUMBER = re.compile(r"1Z[0-9A-Z]{16}")


class UpsAdapter(OAuthCarrierAdapter):
    slug = "ups"
    production_url = "https://onlinetools.ups.com"
    credentials = ("client_id", "client_secret")
    name = "UPS"
    number_patterns = (
        # "1Z" + shipper account (6) + service (2) + package (7) + mod-10 check digit.
        _UPS_NUMBER,
        # UPS Waybill: a service letter, 9 digits and a check digit (jkeen/tracking_number_data).
        re.compile(r"[AHJKTV]\d{10}"),
    )
    status_map = STATUS_MAP
    batch_size = 1  # the inquiry number is in the path: one per request
    # UPS publishes no per-second figure for the Track API in the documentation we could read;
    # 5 requests/s is a deliberately modest pace (a 429 backs the whole courier off anyway).
    requests_per_second = 5.0
    tracking_url_template = "https://www.ups.com/track?loc=fr_FR&tracknum={number}"

    # --- HTTP ---------------------------------------------------------------------------------

    def fetch(
        self, tracking_numbers: Sequence[str], *, client: CarrierHttpClient
    ) -> list[CarrierResponse]:
        """One GET per number; the 400 (invalid) and 404 (unknown) bodies are kept for parse.

        Raises CarrierAuthError when UPS refuses the credentials or a fresh token.
        """
        return [self._fetch_one(number, client) for number in tracking_numbers]

    def _fetch_one(
        self, number: str, client: CarrierHttpClient, *, with_signature: bool = False
    ) -> CarrierResponse:
        url = f"{self.base_url}/api/track/v1/details/{quote(number, safe='')}"
        # The routine poll leaves the signature image out (kilobytes of base64 per answer); the
        # proof document asks for it once, after the delivery.
        params = {"locale": "en_US", "returnSignature": "true" if with_signature else "false"}

        def send(token: str) -> CarrierResponse:
            headers = {
                "Authorization": f"Bearer {token}",
                # transId identifies the request in UPS's logs: unique, at most 32 characters.
                "transId": uuid.uuid4().hex,
                "transactionSrc": "parcelle",
                "Accept": "application/json",
            }
            return client.request(
                "GET", url, headers=headers, params=params,
                accept_status=frozenset({200, 400, 404}),
            )  # fmt: skip

        return send_with_token(self.tokens, client, send)

    def _request_token(self, client: CarrierHttpClient) -> CarrierResponse:
        credentials = f"{self.client_id}:{self.client_secret}".encode()
        return client.request(
            "POST",
            f"{self.base_url}/security/v1/oauth/token",
            headers={
                "Authorization": "Basic " + base64.b64encode(credentials).decode("ascii"),
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
            data="grant_type=client_credentials",
        )

    # --- parsing ------------------------------------------------------------------------------

    # --- Proof documents ----------------------------------------------------------------------

    def proof_document_kind(self, pod: PodData) -> str | None:
        """UPS gives a signed delivery's signature image when asked (``returnSignature``)."""
        return "signature" if pod.signed_by or "signature" in pod.documents else None

    def fetch_proof_document(
        self, *, tracking_number: str, pod: PodData, destination_postcode: str,
        client: CarrierHttpClient,
    ) -> ProofDocument:  # fmt: skip
        """The signature image: the details request again, with ``returnSignature=true``."""
        answer = self._fetch_one(tracking_number, client, with_signature=True)
        return signature_document(answer.body)

    def parse(self, body: bytes) -> ParseResult:
        """Track API v1 JSON -> shipments; warnings and ``response.errors`` -> per-number errors.

        Raises CarrierPayloadError when the body is not JSON or not one of those shapes.
        """
        payload = json_object(body, "UPS")
        if "trackResponse" in payload:
            shipments = json_list(json_child(payload, "trackResponse"), "shipment")
            if shipments is None:
                raise CarrierPayloadError("UPS trackResponse.shipment is not a list")
            result = ParseResult()
            for shipment in shipments:
                result.extend(self._parse_shipment(shipment))
            return result
        errors = json_child(payload, "response").get("errors")
        if isinstance(errors, list) and errors:
            return ParseResult(errors=[_error("", raw) for raw in errors])
        raise CarrierPayloadError("UPS answer has neither trackResponse nor response.errors")

    def _parse_shipment(self, shipment: object) -> ParseResult:
        if not isinstance(shipment, Mapping):
            raise CarrierPayloadError("UPS shipment is not an object")
        inquiry = courier_number(json_text(shipment, "inquiryNumber"))
        packages = json_list(shipment, "package")
        if packages is None:
            raise CarrierPayloadError(f"UPS shipment {inquiry}: package is not a list")
        if not packages:
            warnings = json_list(shipment, "warnings")
            if not warnings:
                raise CarrierPayloadError(f"UPS shipment {inquiry!r} without package nor warning")
            return ParseResult(errors=[_error(inquiry, raw) for raw in warnings])
        return ParseResult(
            shipments=[self._parse_package(inquiry, package) for package in packages]
        )

    def _parse_package(self, inquiry: str, package: object) -> TrackingResult:
        if not isinstance(package, Mapping):
            raise CarrierPayloadError(f"UPS shipment {inquiry}: a package is not an object")
        own_number = courier_number(json_text(package, "trackingNumber"))
        number = own_number if self.matches(own_number) or not inquiry else inquiry
        if not number:
            raise CarrierPayloadError("UPS package without tracking number")
        activities = json_list(package, "activity")
        if activities is None:
            raise CarrierPayloadError(f"UPS package {number}: activity is not a list")

        destination_tz = _destination_zone(package)
        delivery_info = json_child(package, "deliveryInformation")
        at_access_point = bool(json_child(package, "accessPointInformation"))
        delivered_substatus, location_type = _delivery_place(delivery_info, at_access_point)
        events = self._events(number, activities, destination_tz, delivered_substatus)
        estimated, estimated_end = _estimated_delivery(number, package, destination_tz)
        result = TrackingResult(
            tracking_number=number,
            events=events,
            estimated_delivery=estimated,
            estimated_delivery_end=estimated_end,
        )
        delivery = result.delivery
        # A POD only for a delivery to the buyer that still stands.
        if delivery is None:
            return result
        pod = PodData(
            delivered_at=_delivered_at(number, package, destination_tz) or delivery.occurred_at,
            signed_by=real_signatory(json_text(delivery_info, "receivedBy")),
            location_type=location_type,
            documents=_pod_documents(delivery_info),
        )
        return replace(result, estimated_delivery=None, estimated_delivery_end=None, pod=pod)

    def _events(
        self,
        number: str,
        activities: list[object],
        destination_tz: tzinfo,
        delivered_substatus: str | None,
    ) -> tuple[CarrierEvent, ...]:
        parsed: list[tuple[datetime, Location, Mapping[str, object]]] = []
        for raw in activities:
            if not isinstance(raw, Mapping):
                raise CarrierPayloadError(f"UPS package {number}: an activity is not an object")
            location = _location(json_child(json_child(raw, "location"), "address"))
            # A scan without country happened where the package was going, as far as we know.
            parsed.append((_activity_time(number, raw, destination_tz), location, raw))
        # UPS lists newest first: reversed, a stable sort keeps same-second scans in order.
        parsed.reverse()
        parsed.sort(key=lambda item: item[0])

        events: list[CarrierEvent] = []
        previous: tuple[str, str | None] = (_TRANSIT, None)
        for occurred_at, location, raw in parsed:
            status_block = json_child(raw, "status")
            code = _event_code(status_block)
            status, substatus = self._classify(status_block, previous)
            if status == _DELIVERED and substatus is None:
                substatus = delivered_substatus
            previous = (status, substatus)
            message = json_text(status_block, "description") or json_text(
                status_block, "simplifiedTextDescription"
            )
            events.append(CarrierEvent(occurred_at, status, substatus, code, message, location))
        return tuple(events)

    def _classify(
        self, status_block: Mapping[str, object], previous: tuple[str, str | None]
    ) -> tuple[str, str | None]:
        """statusCode first, then an unambiguous activity code, then type, then the manifest
        code; updates keep the previous one."""
        status_code = json_text(status_block, "statusCode")
        kind = json_text(status_block, "type").upper()
        code = json_text(status_block, "code").upper()
        if (
            status_code in KEEP_PREVIOUS_STATUS_CODES
            or kind in KEEP_PREVIOUS_TYPES
            or code in UPDATE_CODES
        ):
            return previous
        # Finest first: the type is coarse ("I" covers a label created, a scan and the van), so
        # a manifest code ("MP", label created) must be read before it.
        if status_code in STATUS_MAP:
            status, substatus = STATUS_MAP[status_code]
        elif code in SCAN_CODE_MAP:
            status, substatus = SCAN_CODE_MAP[code]
        elif kind in TYPE_MAP:
            status, substatus = TYPE_MAP[kind]
        elif code in MANIFEST_CODE_MAP:
            status, substatus = MANIFEST_CODE_MAP[code]
        else:
            return self.map_status(status_code)
        if status == _FAILED and substatus is None:
            text = json_text(status_block, "description").casefold()
            for keyword, refined in FAILED_ATTEMPT_KEYWORDS:
                if keyword in text:
                    return refined
        return status, substatus


# --- helpers ----------------------------------------------------------------------------------


def _error(number: str, raw: object) -> TrackingError:
    if not isinstance(raw, Mapping):
        raise CarrierPayloadError("UPS error entry is not an object")
    code = json_text(raw, "code")
    message = json_text(raw, "message") or f"UPS error {code}"
    return TrackingError(number, ERROR_CODES.get(code, "courier_error"), message)


def _event_code(status_block: Mapping[str, object]) -> str:
    """The most precise code UPS gave: statusCode, else the activity code, else the type."""
    return (
        json_text(status_block, "statusCode")
        or json_text(status_block, "code")
        or json_text(status_block, "type")
    )


def _location(address: Mapping[str, object]) -> Location:
    country = json_text(address, "countryCode").upper() or json_text(address, "country").upper()
    return Location(
        city=json_text(address, "city"),
        postcode=json_text(address, "postalCode"),
        country=country if len(country) == 2 else "",
    )


def _address_zone(address: Mapping[str, object]) -> tzinfo | None:
    """The zone of an address (its US state's, else its country's); None without country."""
    country = _location(address).country
    if not country:
        return None
    return region_timezone(country, json_text(address, "stateProvince"))


def _destination_zone(package: Mapping[str, object]) -> tzinfo:
    """The zone of the package's destination address, else of its latest activity, else UTC."""
    addresses = json_list(package, "packageAddress")
    if addresses:
        for entry in addresses:
            if isinstance(entry, Mapping) and json_text(entry, "type").upper() == "DESTINATION":
                zone = _address_zone(json_child(entry, "address"))
                if zone is not None:
                    return zone
    activities = json_list(package, "activity")
    if activities and isinstance(activities[0], Mapping):
        zone = _address_zone(json_child(json_child(activities[0], "location"), "address"))
        if zone is not None:
            return zone
    return UTC


def _activity_time(number: str, raw: Mapping[str, object], fallback_zone: tzinfo) -> datetime:
    """GMT date/time and offset when UPS gives them; otherwise the local time read in the zone
    of the activity's address (``fallback_zone`` when the address has no country)."""
    gmt_date, gmt_time = json_text(raw, "gmtDate"), json_text(raw, "gmtTime")
    gmt_offset = json_text(raw, "gmtOffset")
    try:
        if gmt_date and gmt_time and gmt_offset:
            moment = _compact(gmt_date, gmt_time).replace(tzinfo=UTC)
            return moment.astimezone(_offset(gmt_offset))
        zone = _address_zone(json_child(json_child(raw, "location"), "address")) or fallback_zone
        return _compact(json_text(raw, "date"), json_text(raw, "time")).replace(tzinfo=zone)
    except ValueError as exc:
        raise CarrierPayloadError(f"UPS package {number}: bad activity date/time") from exc


def _compact(day: str, clock: str) -> datetime:
    """``20220126`` + ``163000`` (or ``16:30:00``) -> naive datetime; ValueError otherwise."""
    if not re.fullmatch(r"\d{8}", day):
        raise ValueError(f"not a YYYYMMDD date: {day!r}")
    digits = clock.replace(":", "").replace(".", "")
    if not re.fullmatch(r"\d{4}|\d{6}", digits):
        raise ValueError(f"not an HHMMSS time: {clock!r}")
    return datetime.strptime(day + digits.ljust(6, "0"), "%Y%m%d%H%M%S")  # noqa: DTZ007


def _offset(value: str) -> timezone:
    """``-05:00``, ``-0500`` or ``-5`` -> a fixed offset."""
    match = re.fullmatch(r"([+-])(\d{1,2}):?(\d{2})?", value)
    if not match:
        raise ValueError(f"not an offset: {value!r}")
    sign = -1 if match.group(1) == "-" else 1
    delta = timedelta(hours=int(match.group(2)), minutes=int(match.group(3) or 0))
    return timezone(sign * delta)


def _delivery_dates(package: Mapping[str, object]) -> dict[str, str]:
    """deliveryDate[] by type (SDD, RDD, DEL); entries with a placeholder type are ignored."""
    entries = package.get("deliveryDate", [])
    if not isinstance(entries, list):
        raise CarrierPayloadError("UPS deliveryDate is not a list")
    dates: dict[str, str] = {}
    for entry in entries:
        if isinstance(entry, Mapping) and json_text(entry, "type") in {"SDD", "RDD", "DEL"}:
            dates[json_text(entry, "type")] = json_text(entry, "date")
    return dates


def _day(number: str, value: str) -> date:
    try:
        return _compact(value, "0000").date()
    except ValueError as exc:
        raise CarrierPayloadError(f"UPS package {number}: bad delivery date {value!r}") from exc


def _estimated_delivery(
    number: str, package: Mapping[str, object], zone: tzinfo
) -> tuple[date | datetime | None, datetime | None]:
    dates = _delivery_dates(package)
    value = dates.get("RDD") or dates.get("SDD")  # rescheduled beats scheduled
    if not value:
        return None, None
    day = _day(number, value)
    window = json_child(package, "deliveryTime")
    start, end = json_text(window, "startTime"), json_text(window, "endTime")
    if json_text(window, "type") == "DEL":
        start = end = ""  # the delivered time, not a window
    try:
        estimated = _compact(value, start).replace(tzinfo=zone) if start else day
        estimated_end = _compact(value, end).replace(tzinfo=zone) if end else None
    except ValueError as exc:
        raise CarrierPayloadError(f"UPS package {number}: bad deliveryTime") from exc
    return estimated, estimated_end


def _delivered_at(number: str, package: Mapping[str, object], zone: tzinfo) -> datetime | None:
    """deliveryDate DEL with deliveryTime DEL's endTime, when UPS gives both."""
    value = _delivery_dates(package).get("DEL")
    window = json_child(package, "deliveryTime")
    if not value or json_text(window, "type") != "DEL" or not json_text(window, "endTime"):
        return None
    try:
        return _compact(value, json_text(window, "endTime")).replace(tzinfo=zone)
    except ValueError as exc:
        raise CarrierPayloadError(f"UPS package {number}: bad delivery date/time") from exc


def _delivery_place(info: Mapping[str, object], at_access_point: bool) -> tuple[str | None, str]:
    """(substatus for delivered scans, POD location type) from deliveryInformation."""
    if at_access_point:
        return Substatus.DELIVERED_PICKUP_POINT, "pickup_point"
    place = json_text(info, "location").casefold()
    for fragment, found in DELIVERY_LOCATIONS:
        if fragment in place:
            return found
    if real_signatory(json_text(info, "receivedBy")) or json_text(
        json_child(info, "signature"), "image"
    ):
        return Substatus.DELIVERED_SIGNED, ""
    return None, ""


def _pod_documents(info: Mapping[str, object]) -> tuple[str, ...]:
    """Kinds of the images UPS sent inline (base64 is never kept)."""
    documents = []
    if json_text(json_child(info, "signature"), "image"):
        documents.append("signature")
    if json_text(json_child(info, "deliveryPhoto"), "photo"):
        documents.append("photo")
    if json_text(json_child(info, "pod"), "content"):
        documents.append("proof_of_delivery")
    return tuple(documents)


def signature_document(body: bytes) -> ProofDocument:
    """A details answer asked with ``returnSignature=true`` -> the delivered package's signature
    image (base64 in ``deliveryInformation.signature.image``). An error answer, or one without
    a signature yet, raises DocumentNotAvailable; a signature that is not base64,
    DocumentRefused."""
    payload = json_object(body, "UPS")
    shipments = json_list(json_child(payload, "trackResponse"), "shipment") or []
    for shipment in shipments:
        for package in json_list(shipment, "package") or []:
            information = json_child(package, "deliveryInformation")
            signature = json_child(information, "signature")
            image = json_text(signature, "image")
            if not image:
                continue
            try:
                content = base64.b64decode(image, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise DocumentRefused("UPS signature image is not base64") from exc
            declared = json_text(json_child(signature, "imageFormat"), "code").lower()
            return ProofDocument("signature", content, f"image/{declared}" if declared else "")
    raise DocumentNotAvailable("UPS has no signature image for this package (yet)")
