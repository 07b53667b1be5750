"""FedEx, through the Track API v1 (OAuth 2 client credentials).

    POST {base_url}/oauth/token                      form: grant_type=client_credentials,
                                                     client_id, client_secret
    POST {base_url}/track/v1/trackingnumbers         Authorization: Bearer {token}
         {"includeDetailedScans": true, "trackingInfo": [{"trackingNumberInfo": {...}}, ...]}
    POST {base_url}/track/v1/trackingdocuments       signature proof of delivery (base64 PDF)

Format quirks this module deals with:

- Up to 30 numbers per request (FedEx's Track API documentation: "Track the status of up to 30
  FedEx … tracking numbers"). The answer is ``output.completeTrackResults[]``, one per number
  asked, each with ``trackResults[]``. A number FedEx does not know is a trackResult with an
  ``error{code, message}`` and nothing else; FedEx's own example also puts a placeholder
  ``error`` next to full data, so a trackResult is an error only when it has no scan nor status.
  A request-level problem (empty number, bad token) is a top-level ``errors[]``.
- ``trackingNumberInfo.trackingNumber`` may differ from the number asked (FedEx's example has
  "128667043726" under "123456789012"); the number asked is what we report.
- ``scanEvents[].eventType`` is the movement code of FedEx's "Tracking Status Codes" table (PU,
  AR, OD, DL, DE…); ``derivedStatusCode`` (IN, PU, IT, DL, DE, DY…) is FedEx's coarse reading of
  it and our fallback. Out for delivery shows as eventType OD with derivedStatusCode IT.
- Exceptions (DE, SE, DY, DD) say why only in ``exceptionCode/exceptionDescription`` and the
  event text: keyword tables below turn those into substatuses.
- A delivery scan after a "Return to Shipper" (RS) scan is the parcel reaching the shipper.
- Times carry an offset, except some pickup scans written as a bare local date
  ("2024-08-15T00:00:00"): those are read in the zone of the scan's state (US) or country.
- Proof of delivery: ``deliveryDetails{receivedByName, signedByName, locationType,
  locationDescription}``, ``dateAndTimes[ACTUAL_DELIVERY]``; the signature image is announced
  by ``availableImages[{type: SIGNATURE_PROOF_OF_DELIVERY}]`` and fetched separately as a
  base64 PDF, which we only ever record by kind.
- Estimated delivery: ``estimatedDeliveryTimeWindow.window{begins, ends}``, else
  ``dateAndTimes[ESTIMATED_DELIVERY]``.
- Scan events are newest first.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime, tzinfo
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from tracking.carriers.base import (
    ACCOUNT_ERRORS,
    CarrierEvent,
    CarrierPayloadError,
    CarrierResponse,
    Location,
    ParseResult,
    PodData,
    TrackingError,
    TrackingResult,
    gateway_error,
    signatory,
    with_summary,
)
from tracking.carriers.documents import DocumentNotAvailable, DocumentRefused, ProofDocument
from tracking.carriers.jsonbody import json_child, json_object, json_text
from tracking.carriers.oauth import OAuthCarrierAdapter, send_with_token
from tracking.carriers.timeparse import (
    country_timezone,
    parse_date_or_datetime,
    parse_datetime,
    region_timezone,
)
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

# FedEx scanEvents[].eventType -> our (status, substatus). The "Movement" and "Regulatory"
# sections of FedEx's Tracking Status Codes table (fedex_track_v1_status_codes.json). Where a code
# sits in both sections (EA, SP), both meanings map to the same status.
STATUS_MAP: dict[str, tuple[str, str | None]] = {
    # Before FedEx has the parcel.
    "OC": (_INFO, None),  # Order Created
    "AP": (_INFO, None),  # At Pickup
    "EP": (_INFO, None),  # Enroute to Pickup
    "DS": (_INFO, None),  # Vehicle Dispatched (for the pickup)
    # Moving in FedEx's network.
    "PU": (_TRANSIT, None),  # Picked Up
    "PX": (_TRANSIT, None),  # Picked up (see Details)
    "AA": (_TRANSIT, None),  # At Airport
    "AC": (_TRANSIT, None),  # At Canada Post facility
    "AF": (_TRANSIT, None),  # At local FedEx Facility
    "AO": (_TRANSIT, None),  # Shipment arriving On-time
    "AR": (_TRANSIT, None),  # Arrived at FedEx location
    "AX": (_TRANSIT, None),  # At USPS facility
    "CH": (_TRANSIT, None),  # Location Changed
    "DP": (_TRANSIT, None),  # Departed
    "DR": (_TRANSIT, None),  # Vehicle furnished but not used
    "EA": (_TRANSIT, None),  # Enroute to Airport / Export Approved
    "EO": (_TRANSIT, None),  # Enroute to Origin Airport
    "FD": (_TRANSIT, None),  # At FedEx Destination
    "IT": (_TRANSIT, None),  # In Transit
    "IX": (_TRANSIT, None),  # In transit (see Details)
    "LO": (_TRANSIT, None),  # Left Origin
    "OF": (_TRANSIT, None),  # At FedEx origin facility
    "Ow": (_TRANSIT, None),  # On the way (FedEx writes it with a lower-case w)
    "OX": (_TRANSIT, None),  # Shipment information sent to USPS
    "PF": (_TRANSIT, None),  # Plane in Flight
    "PL": (_TRANSIT, None),  # Plane Landed
    "PM": (_TRANSIT, None),  # In Progress
    "SF": (_TRANSIT, None),  # At Sort Facility
    "SP": (_TRANSIT, None),  # Split Status
    "TR": (_TRANSIT, None),  # Transfer
    "CC": (_TRANSIT, None),  # Cleared Customs
    "CP": (_TRANSIT, None),  # Clearance in Progress: routine for international parcels
    # Customer delivery options and return labels: the parcel itself keeps travelling.
    "RR": (_TRANSIT, None),  # CDO requested
    "RM": (_TRANSIT, None),  # CDO Modified
    "RC": (_TRANSIT, None),  # CDO Cancelled
    "RP": (_TRANSIT, None),  # Return label link emailed to return sender
    "LP": (_TRANSIT, None),  # Return label link cancelled by shipment originator
    "RG": (_TRANSIT, None),  # Return label link expiring soon
    "RD": (_TRANSIT, None),  # Return label link expired
    # With the driver.
    "OD": (_OFD, None),  # Out for Delivery
    "ED": (_OFD, None),  # Enroute to Delivery
    "AD": (_OFD, None),  # At Delivery (the driver is at the address)
    # Waiting for the buyer at a FedEx location.
    "HL": (_PICKUP, None),  # Hold at Location
    "HP": (_PICKUP, None),  # Ready for Recipient Pickup
    # Delivered. How comes from deliveryDetails.
    "DL": (_DELIVERED, None),  # Delivered
    # Problems; the exception text refines them (see EXCEPTION_KEYWORDS).
    "DE": (_EXC, Substatus.EXCEPTION_OTHER),  # Delivery Exception
    "SE": (_EXC, Substatus.EXCEPTION_OTHER),  # Shipment Exception
    "CA": (_EXC, Substatus.EXCEPTION_CANCELLED),  # Shipment Cancelled
    "DD": (_EXC, Substatus.EXCEPTION_DELAYED),  # Delivery Delay
    "DY": (_EXC, Substatus.EXCEPTION_DELAYED),  # Delay
    "PD": (_EXC, Substatus.EXCEPTION_DELAYED),  # Pickup Delay
    "CD": (_EXC, Substatus.EXCEPTION_CUSTOMS),  # Clearance Delay
    "RS": (_EXC, Substatus.EXCEPTION_RETURNING_TO_SENDER),  # Return to Shipper
}

# derivedStatusCode -> our (status, substatus), when the eventType is missing or unknown. The
# values seen in FedEx's answers (IN PU IT DY DE DL RL) plus the movement codes FedEx also
# derives (OD HP HL RS CA SE).
DERIVED_STATUS_MAP: dict[str, tuple[str, str | None]] = {
    "IN": (_INFO, None),  # Label created
    "PU": (_TRANSIT, None),  # Picked up
    "IT": (_TRANSIT, None),  # In transit
    "RL": (_EXC, Substatus.EXCEPTION_DELAYED),  # Running Late
    "DY": (_EXC, Substatus.EXCEPTION_DELAYED),  # Delay
    "DE": (_EXC, Substatus.EXCEPTION_OTHER),  # Delivery exception
    "SE": (_EXC, Substatus.EXCEPTION_OTHER),  # Shipment exception
    "CA": (_EXC, Substatus.EXCEPTION_CANCELLED),  # Cancelled
    "RS": (_EXC, Substatus.EXCEPTION_RETURNING_TO_SENDER),  # Return to shipper
    "OD": (_OFD, None),  # Out for delivery
    "HP": (_PICKUP, None),  # Ready for pickup
    "HL": (_PICKUP, None),  # Hold at location
    "DL": (_DELIVERED, None),  # Delivered
}

# FedEx's "Possession" codes say who holds the package, not what happened: never event types.
POSSESSION_CODES = frozenset({"CA", "RC", "SH", "CU", "BR", "TP", "SP"})

# Exception texts (eventDescription, exceptionDescription; lowercase fragments) -> refinement.
# First match wins: the most specific reason first; "not available" is a missed delivery that
# FedEx retries, not an exception.
EXCEPTION_KEYWORDS: tuple[tuple[str, tuple[str, str]], ...] = (
    ("return", (_EXC, Substatus.EXCEPTION_RETURNING_TO_SENDER)),
    ("refused", (_EXC, Substatus.EXCEPTION_REFUSED)),
    ("damage", (_EXC, Substatus.EXCEPTION_DAMAGED)),
    ("unable to locate", (_EXC, Substatus.EXCEPTION_LOST)),
    ("could not be located", (_EXC, Substatus.EXCEPTION_LOST)),
    ("lost", (_EXC, Substatus.EXCEPTION_LOST)),
    ("customs", (_EXC, Substatus.EXCEPTION_CUSTOMS)),
    ("clearance", (_EXC, Substatus.EXCEPTION_CUSTOMS)),
    ("not available", (_FAILED, Substatus.FAILED_ATTEMPT_RECIPIENT_ABSENT)),
    ("business closed", (_FAILED, Substatus.FAILED_ATTEMPT_RECIPIENT_ABSENT)),
    ("no one", (_FAILED, Substatus.FAILED_ATTEMPT_RECIPIENT_ABSENT)),
    ("access", (_FAILED, Substatus.FAILED_ATTEMPT_ACCESS_ISSUE)),
    ("address", (_EXC, Substatus.EXCEPTION_ADDRESS_ISSUE)),
    ("weather", (_EXC, Substatus.EXCEPTION_DELAYED)),
    ("delay", (_EXC, Substatus.EXCEPTION_DELAYED)),
)

_SIGNED = (Substatus.DELIVERED_SIGNED, "reception")
_PICKUP_POINT = (Substatus.DELIVERED_PICKUP_POINT, "pickup_point")
# deliveryDetails.locationDescription (lowercase fragments) -> (substatus, POD location type).
DELIVERY_DESCRIPTIONS: tuple[tuple[str, tuple[str, str]], ...] = (
    ("fedex", _PICKUP_POINT),
    ("locker", (Substatus.DELIVERED_LOCKER, "locker")),
    ("mailbox", (Substatus.DELIVERED_MAILBOX, "mailbox")),
    ("mail box", (Substatus.DELIVERED_MAILBOX, "mailbox")),
    ("neighbor", (Substatus.DELIVERED_NEIGHBOUR, "neighbour")),
    ("neighbour", (Substatus.DELIVERED_NEIGHBOUR, "neighbour")),
    ("front desk", _SIGNED),
    ("reception", _SIGNED),
    ("mailroom", _SIGNED),
    ("mail room", _SIGNED),
    ("front door", (Substatus.DELIVERED_FRONT_DOOR, "front_door")),
    ("porch", (Substatus.DELIVERED_FRONT_DOOR, "front_door")),
    ("side door", (Substatus.DELIVERED_FRONT_DOOR, "front_door")),
    ("back door", (Substatus.DELIVERED_FRONT_DOOR, "front_door")),
    ("garage", (Substatus.DELIVERED_FRONT_DOOR, "front_door")),
)
# deliveryDetails.locationType -> (substatus, POD location type).
DELIVERY_LOCATION_TYPES: dict[str, tuple[str, str]] = {
    "FEDEX_LOCATION": _PICKUP_POINT,
    "FEDEX_EXPRESS_STATION": _PICKUP_POINT,
    "FEDEX_OFFICE": _PICKUP_POINT,
    "FEDEX_FACILITY": _PICKUP_POINT,
    "FEDEX_GROUND_TERMINAL": _PICKUP_POINT,
    "FEDEX_AUTHORIZED_SHIP_CENTER": _PICKUP_POINT,
    "HOLD_AT_LOCATION": _PICKUP_POINT,
    "NEIGHBOR": (Substatus.DELIVERED_NEIGHBOUR, "neighbour"),
    "RECEPTIONIST_OR_FRONT_DESK": _SIGNED,
    "SHIPPING_RECEIVING": _SIGNED,
    "MAILROOM": _SIGNED,
    "GUARD_OR_SECURITY_STATION": _SIGNED,
    "APARTMENT_OFFICE": _SIGNED,
    "LEASING_OFFICE": _SIGNED,
}

# Error codes -> our per-number error code.
ERROR_CODES: dict[str, str] = {
    "TRACKING.TRACKINGNUMBER.NOTFOUND": "not_found",
    "TRACKING.TRACKINGNUMBER.INVALID": "invalid_number",
    "TRACKING.TRACKINGNUMBER.EMPTY": "invalid_number",
    "NOT.AUTHORIZED.ERROR": "auth_failed",
    "UNAUTHORIZED": "auth_failed",
    "RATE.LIMIT.EXCEEDED": "rate_limited",
    "TOO.MANY.REQUESTS.ERROR": "rate_limited",  # the gateway's 429
    "FORBIDDEN.ERROR": "auth_failed",  # 403: credentials without the Track API's permission
    "SERVICE.UNAVAILABLE.ERROR": "unavailable",  # the gateway's 503
    "INTERNAL.SERVER.ERROR": "unavailable",
    "BAD.REQUEST.ERROR": "invalid_request",
}
# A "bad request" that blames the bearer token is about our credentials, not the request:
# FedEx answers an invalid JWT with BAD.REQUEST.ERROR (karrio's recorded answer).
_TOKEN_WORDS = ("jwt", "token", "credential")

SPOD = "SIGNATURE_PROOF_OF_DELIVERY"
SPOD_KIND = "signature_proof_of_delivery"


class FedexAdapter(OAuthCarrierAdapter):
    slug = "fedex"
    production_url = "https://apis.fedex.com"
    credentials = ("client_id", "client_secret")
    name = "FedEx"
    number_patterns = (
        re.compile(r"\d{12}"),  # FedEx Express, weighted mod-11 check digit
        re.compile(r"\d{15}"),  # FedEx Ground
        re.compile(r"\d{20}"),  # FedEx Ground SSCC-18 with its "00" prefix
        re.compile(r"96\d{20}"),  # FedEx Ground "96" barcode
        re.compile(r"\d{34}"),  # FedEx Express/Ground 34-digit barcode
    )
    status_map = STATUS_MAP
    batch_size = 30  # FedEx's documented maximum per Track request
    # FedEx's quotas guide: 1,400 transactions per 10 seconds per project, and a daily quota per
    # organisation. 10/s keeps far from the burst limit while a batch carries 30 numbers.
    requests_per_second = 10.0
    tracking_url_template = "https://www.fedex.com/fedextrack/?trknbr={number}"

    # --- HTTP ---------------------------------------------------------------------------------

    def fetch(
        self, tracking_numbers: Sequence[str], *, client: CarrierHttpClient
    ) -> list[CarrierResponse]:
        """One POST per 30 numbers; 400/404 error bodies are kept for ``parse``.

        Raises CarrierAuthError when FedEx refuses the credentials or a fresh token.
        """
        responses = []
        for start in range(0, len(tracking_numbers), self.batch_size):
            chunk = tracking_numbers[start : start + self.batch_size]
            body = {
                "includeDetailedScans": True,
                "trackingInfo": [
                    {"trackingNumberInfo": {"trackingNumber": number}} for number in chunk
                ],
            }
            responses.append(self._post(client, "/track/v1/trackingnumbers", body))
        return responses

    def fetch_signature_proof(self, tracking_number: str, *, client: CarrierHttpClient) -> bytes:
        """The trackingdocuments answer for one number's signature proof of delivery (base64
        PDF inside); ``parse_documents`` turns it into document references."""
        body = {
            "trackDocumentDetail": {"documentType": SPOD, "documentFormat": "PDF"},
            "trackDocumentSpecification": [
                {"trackingNumberInfo": {"trackingNumber": tracking_number}}
            ],
        }
        return self._post(client, "/track/v1/trackingdocuments", body).body

    def proof_document_kind(self, pod: PodData) -> str | None:
        """FedEx's signature proof, when the track answer listed it in ``availableImages``."""
        return SPOD_KIND if SPOD_KIND in pod.documents else None

    def fetch_proof_document(
        self, *, tracking_number: str, pod: PodData, destination_postcode: str,
        client: CarrierHttpClient,
    ) -> ProofDocument:  # fmt: skip
        """The signature proof of delivery PDF (trackingdocuments, base64 inside)."""
        answer = self.fetch_signature_proof(tracking_number, client=client)
        return proof_document_from_answer(answer)

    def _post(self, client: CarrierHttpClient, path: str, body: object) -> CarrierResponse:
        def send(token: str) -> CarrierResponse:
            return client.request(
                "POST",
                f"{self.base_url}{path}",
                headers={
                    "Authorization": f"Bearer {token}",
                    "Content-Type": "application/json",
                    "X-locale": "en_US",
                    "Accept": "application/json",
                },
                json=body,
                accept_status=frozenset({200, 400, 404}),
            )

        return send_with_token(self.tokens, client, send)

    def _request_token(self, client: CarrierHttpClient) -> CarrierResponse:
        return client.request(
            "POST",
            f"{self.base_url}/oauth/token",
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
            data=urlencode(
                {
                    "grant_type": "client_credentials",
                    "client_id": self.client_id,
                    "client_secret": self.client_secret,
                }
            ),
        )

    # --- parsing ------------------------------------------------------------------------------

    def parse(self, body: bytes) -> ParseResult:
        """Track API JSON -> shipments; per-number and request-level errors -> errors.

        Raises CarrierPayloadError when the body is not JSON or not the Track API's shape.
        """
        payload = json_object(body, "FedEx")
        if (gateway := gateway_error(payload)) is not None:
            return ParseResult(errors=[gateway])
        errors = payload.get("errors")
        if isinstance(errors, list) and errors and "output" not in payload:
            return ParseResult(errors=[_error("", raw) for raw in errors])
        results = json_child(payload, "output").get("completeTrackResults")
        if not isinstance(results, list):
            raise CarrierPayloadError("FedEx answer has no completeTrackResults nor errors")
        parsed = ParseResult()
        for complete in results:
            parsed.extend(self._parse_complete(complete))
        return parsed

    def parse_documents(self, body: bytes) -> tuple[str, ...]:
        """A trackingdocuments answer -> one reference per document (its kind, never its
        base64 content). Raises CarrierPayloadError for anything else."""
        output = json_child(json_object(body, "FedEx"), "output")
        documents = output.get("documents")
        kind = json_text(output, "documentType")
        if not kind or not isinstance(documents, list):
            raise CarrierPayloadError("FedEx documents answer without documentType or documents")
        return tuple(kind.lower() for document in documents if document)

    def _parse_complete(self, complete: object) -> ParseResult:
        if not isinstance(complete, Mapping):
            raise CarrierPayloadError("FedEx completeTrackResult is not an object")
        track_results = complete.get("trackResults")
        if not isinstance(track_results, list) or not track_results:
            raise CarrierPayloadError("FedEx completeTrackResult without trackResults")
        for raw in track_results:
            if not isinstance(raw, Mapping):
                raise CarrierPayloadError("FedEx trackResult is not an object")
        asked = json_text(complete, "trackingNumber")
        # FedEx reuses numbers and answers one with several shipments: all are returned, each
        # with its ship date, and ``choose_our_parcels`` keeps ours (never the first by luck).
        with_data = [r for r in track_results if r.get("scanEvents") or r.get("latestStatusDetail")]
        if not with_data:
            first = track_results[0]
            number = asked or json_text(json_child(first, "trackingNumberInfo"), "trackingNumber")
            return ParseResult(errors=[_error(number, first.get("error"))])
        return ParseResult(shipments=[self._parse_result(asked, raw) for raw in with_data])

    def _parse_result(self, asked: str, raw: Mapping[str, object]) -> TrackingResult:
        number = asked or json_text(json_child(raw, "trackingNumberInfo"), "trackingNumber")
        if not number:
            raise CarrierPayloadError("FedEx trackResult without tracking number")
        destination_tz = _destination_zone(raw)
        scans = raw.get("scanEvents", [])
        if not isinstance(scans, list):
            raise CarrierPayloadError(f"FedEx {number}: scanEvents is not a list")
        details = json_child(raw, "deliveryDetails")
        delivered_substatus, location_type = _delivery_place(raw, details)
        events = self._events(number, scans, destination_tz, delivered_substatus)
        actual_delivery = _date_and_time(number, raw, "ACTUAL_DELIVERY", destination_tz)
        # latestStatusDetail is FedEx's own reading of the parcel: it stands when the scans
        # stop short of it (a delivered parcel whose scan list ends at "on vehicle").
        events = with_summary(
            events,
            self._summary_event(number, raw, events, actual_delivery, delivered_substatus),
        )
        ship = next(
            (
                moment
                for kind in ("SHIP", "ACTUAL_PICKUP", "ACTUAL_TENDER")
                if (moment := _date_and_time(number, raw, kind, destination_tz))
            ),
            None,
        )

        estimated, estimated_end = _estimated_delivery(number, raw, destination_tz)
        result = TrackingResult(
            tracking_number=number,
            events=events,
            estimated_delivery=estimated,
            estimated_delivery_end=estimated_end,
            shipped_on=ship.date() if ship else None,
        )
        delivery = result.delivery
        if delivery is None:
            return result
        if actual_delivery is not None and events and actual_delivery < events[0].occurred_at:
            # A delivery before the parcel's first scan is no delivery time (FedEx's own
            # example carries a 2007 ACTUAL_DELIVERY beside 2024 scans): the scan dates it.
            actual_delivery = None
        pod = PodData(
            delivered_at=actual_delivery or delivery.occurred_at,
            signed_by=signatory(
                json_text(details, "signedByName") or json_text(details, "receivedByName")
            ),
            location_type=location_type,
            documents=_image_kinds(raw),
        )
        return replace(result, estimated_delivery=None, estimated_delivery_end=None, pod=pod)

    def _events(
        self,
        number: str,
        scans: list[object],
        destination_tz: tzinfo,
        delivered_substatus: str | None,
    ) -> tuple[CarrierEvent, ...]:
        parsed: list[tuple[datetime, Location, Mapping[str, object]]] = []
        for raw in scans:
            if not isinstance(raw, Mapping):
                raise CarrierPayloadError(f"FedEx {number}: a scan event is not an object")
            place = json_child(raw, "scanLocation")
            zone = _address_zone(place) or destination_tz
            try:
                occurred_at = parse_datetime(raw.get("date"), default_tz=zone)
            except ValueError as exc:
                raise CarrierPayloadError(f"FedEx {number}: bad scan date") from exc
            parsed.append((occurred_at, _location(place), raw))
        # FedEx lists newest first: reversed, a stable sort keeps same-second scans in order.
        parsed.reverse()
        parsed.sort(key=lambda item: item[0])

        events: list[CarrierEvent] = []
        returning = False
        for occurred_at, location, raw in parsed:
            code = json_text(raw, "eventType") or json_text(raw, "derivedStatusCode")
            status, substatus = self._classify(raw)
            if status == _DELIVERED:
                # After "Return to Shipper", a delivery is the parcel back at the shipper's.
                if returning:
                    status, substatus = _EXC, Substatus.EXCEPTION_RETURNED_TO_SENDER
                else:
                    substatus = delivered_substatus
            returning = returning or substatus == Substatus.EXCEPTION_RETURNING_TO_SENDER
            events.append(
                CarrierEvent(occurred_at, status, substatus, code, _message(raw), location)
            )
        return tuple(events)

    def _summary_event(
        self,
        number: str,
        raw: Mapping[str, object],
        events: tuple[CarrierEvent, ...],
        actual_delivery: datetime | None,
        delivered_substatus: str | None,
    ) -> CarrierEvent | None:
        """``latestStatusDetail`` as an event. Its ``code``/``derivedCode`` (or, in older
        answers, ``derivedStatusCode``) is the parcel's status; its ``eventType`` is only the
        last scan's. Dated by its own ``date``, a delivery by ACTUAL_DELIVERY or else as of the
        last scan; None when it cannot be placed."""
        latest = json_child(raw, "latestStatusDetail")
        code = next(
            (
                json_text(latest, key).upper()
                for key in ("code", "derivedCode", "derivedStatusCode")
                if json_text(latest, key)
            ),
            "",
        )
        if not code:
            return None
        status, substatus = STATUS_MAP.get(code) or DERIVED_STATUS_MAP.get(
            code, self.map_status(code)
        )
        when: datetime | None = None
        if json_text(latest, "date"):
            place = json_child(latest, "scanLocation")
            try:
                when = parse_datetime(
                    latest.get("date"), default_tz=_address_zone(place) or _destination_zone(raw)
                )
            except ValueError as exc:
                raise CarrierPayloadError(f"FedEx {number}: bad latestStatusDetail date") from exc
        elif status == _DELIVERED and actual_delivery is not None:
            when = actual_delivery
        elif status == _DELIVERED and events:
            # Undated, only a delivery is worth adding: a coarse "IT" summary placed at the
            # last scan would undo a finer "out for delivery" scan.
            when = events[-1].occurred_at
        if when is None:
            return None
        if status == _DELIVERED:
            substatus = delivered_substatus
        message = json_text(latest, "description") or json_text(latest, "derivedStatus")
        return CarrierEvent(
            when, status, substatus, code, message, _location(json_child(latest, "scanLocation"))
        )

    def _classify(self, raw: Mapping[str, object]) -> tuple[str, str | None]:
        event_type = json_text(raw, "eventType")
        derived = json_text(raw, "derivedStatusCode").upper()
        if event_type in STATUS_MAP:
            status, substatus = STATUS_MAP[event_type]
        elif event_type.upper() in STATUS_MAP:
            status, substatus = STATUS_MAP[event_type.upper()]
        elif derived in DERIVED_STATUS_MAP:
            status, substatus = DERIVED_STATUS_MAP[derived]
        else:
            status, substatus = self.map_status(event_type)
        if status == _EXC and substatus in {Substatus.EXCEPTION_OTHER, Substatus.EXCEPTION_DELAYED}:
            text = " ".join(
                json_text(raw, key) for key in ("eventDescription", "exceptionDescription")
            ).casefold()
            for keyword, refined in EXCEPTION_KEYWORDS:
                if keyword in text:
                    return refined
        return status, substatus


# --- helpers ----------------------------------------------------------------------------------


def _error(number: str, raw: object) -> TrackingError:
    if not isinstance(raw, Mapping):
        raise CarrierPayloadError("FedEx error entry is not an object")
    code = json_text(raw, "code")
    message = json_text(raw, "message") or f"FedEx error {code}"
    ours = ERROR_CODES.get(code.upper(), "courier_error")
    if ours == "invalid_request" and any(word in message.casefold() for word in _TOKEN_WORDS):
        ours = "auth_failed"
    # Account-wide answers name no number: the whole request failed, not one parcel.
    return TrackingError("" if ours in ACCOUNT_ERRORS else number, ours, message)


def _message(raw: Mapping[str, object]) -> str:
    """The event text, and the exception's reason when FedEx gives one."""
    parts = [json_text(raw, "eventDescription")]
    reason = json_text(raw, "exceptionDescription")
    if reason and reason not in parts:
        parts.append(reason)
    return " - ".join(p for p in parts if p)


def _location(place: Mapping[str, object]) -> Location:
    country = json_text(place, "countryCode").upper()
    return Location(
        city=json_text(place, "city"),
        postcode=json_text(place, "postalCode"),
        country=country if len(country) == 2 else "",
    )


def _address_zone(place: Mapping[str, object]) -> tzinfo | None:
    """The zone of an address (its US state's, else its country's); None without country."""
    country = _location(place).country
    if not country:
        return None
    return region_timezone(country, json_text(place, "stateOrProvinceCode"))


def _destination_zone(raw: Mapping[str, object]) -> tzinfo:
    for address in (
        json_child(raw, "lastUpdatedDestinationAddress"),
        json_child(
            json_child(json_child(raw, "destinationLocation"), "locationContactAndAddress"),
            "address",
        ),
        json_child(json_child(raw, "recipientInformation"), "address"),
    ):
        zone = _address_zone(address)
        if zone is not None:
            return zone
    return country_timezone("")


def _date_and_time(
    number: str, raw: Mapping[str, object], kind: str, zone: tzinfo
) -> datetime | None:
    entries = raw.get("dateAndTimes", [])
    if not isinstance(entries, list):
        raise CarrierPayloadError(f"FedEx {number}: dateAndTimes is not a list")
    for entry in entries:
        if isinstance(entry, Mapping) and json_text(entry, "type") == kind:
            try:
                return parse_datetime(entry.get("dateTime"), default_tz=zone)
            except ValueError as exc:
                raise CarrierPayloadError(f"FedEx {number}: bad {kind} dateTime") from exc
    return None


def _estimated_delivery(
    number: str, raw: Mapping[str, object], zone: tzinfo
) -> tuple[date | datetime | None, datetime | None]:
    window = json_child(json_child(raw, "estimatedDeliveryTimeWindow"), "window")
    try:
        begins = window.get("begins")
        ends = window.get("ends")
        estimated = parse_date_or_datetime(begins, default_tz=zone) if begins else None
        estimated_end = parse_datetime(ends, default_tz=zone) if ends else None
    except ValueError as exc:
        raise CarrierPayloadError(f"FedEx {number}: bad estimatedDeliveryTimeWindow") from exc
    if estimated is None:
        estimated = _date_and_time(number, raw, "ESTIMATED_DELIVERY", zone)
    return estimated, estimated_end


def _delivery_place(
    raw: Mapping[str, object], details: Mapping[str, object]
) -> tuple[str | None, str]:
    """(substatus for delivered scans, POD location type)."""
    description = json_text(details, "locationDescription").casefold()
    for fragment, found in DELIVERY_DESCRIPTIONS:
        if fragment in description:
            return found
    location_type = json_text(details, "locationType").upper()
    if location_type in DELIVERY_LOCATION_TYPES:
        return DELIVERY_LOCATION_TYPES[location_type]
    if json_text(details, "signedByName") or json_text(details, "receivedByName"):
        return Substatus.DELIVERED_SIGNED, ""
    return None, ""


def _image_kinds(raw: Mapping[str, object]) -> tuple[str, ...]:
    """The proof images FedEx holds for this parcel (fetched separately as base64 PDF)."""
    images = raw.get("availableImages", [])
    if not isinstance(images, list):
        return ()
    kinds = [json_text(image, "type") for image in images if isinstance(image, Mapping)]
    return tuple(SPOD_KIND for kind in kinds if kind == SPOD)


def proof_document_from_answer(body: bytes) -> ProofDocument:
    """A trackingdocuments answer -> its first document, decoded. An ``errors`` answer (no
    proof yet) raises DocumentNotAvailable; a body without a base64 document DocumentRefused."""
    payload = json_object(body, "FedEx")
    errors = payload.get("errors")
    if isinstance(errors, list) and errors and "output" not in payload:
        first = errors[0] if isinstance(errors[0], Mapping) else {}
        raise DocumentNotAvailable(
            f"FedEx has no proof document: {json_text(first, 'code')} {json_text(first, 'message')}"
        )
    output = json_child(payload, "output")
    documents = output.get("documents")
    if not isinstance(documents, list) or not documents or not isinstance(documents[0], str):
        raise DocumentRefused("FedEx documents answer carries no document")
    try:
        content = base64.b64decode(documents[0], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise DocumentRefused("FedEx document is not base64") from exc
    declared = "application/pdf" if json_text(output, "documentFormat").upper() == "PDF" else ""
    return ProofDocument(SPOD_KIND, content, declared)
