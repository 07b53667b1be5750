"""Royal Mail, through the Royal Mail Tracking API v2 (Royal Mail developer portal).

    GET {base_url}/mailpieces/v2/{mailPieceId}/events
    X-IBM-Client-Id: {client_id}    X-IBM-Client-Secret: {client_secret}
    X-Accept-RMG-Terms: yes         Accept: application/json

Format quirks this module deals with:

- One item per request (``{mailPieceId}`` is a path segment). Two other endpoints share the body
  family and are parsed too: ``/mailpieces/v2/summary?mailPieceId=a,b`` (an array of
  ``mailPieces``, each with a ``summary`` or a per-item ``error``) and
  ``/mailpieces/v2/{id}/signature``.
- ``mailPieces.mailPieceId`` is Royal Mail's long unique item id ("090367574000000FE1E1B");
  the barcode customers and sellers know is ``summary.oneDBarcode`` ("FQ087430672GB", UPU S10).
  The barcode names the result when present.
- ``events[]``: ``eventCode`` (5 letters, EVKSP…), ``eventName``, ``eventDateTime`` ISO-8601
  with an offset, ``locationName`` ("Stafford DO": a Royal Mail office, the suffix says which
  kind). Royal Mail publishes no full code list; the table below is the partial one we have, and
  unknown codes are read from ``eventName``.
- Errors: an HTTP error carries ``{httpCode, httpMessage, moreInformation, errors: [{errorCode,
  errorDescription, errorCause, errorResolution}]}`` that names no item (``E1142``: barcode not
  recognised); ``track`` gives such an error the number it asked for, one number per request.
- POD: ``signature {recipientName, signatureDateTime, imageId}`` in the events answer; the image
  itself (SVG or PNG, inline) only comes from ``/signature``, so the POD documents name it by kind
  ("signature"), never carry it. Royal Mail's own example sends a signature on an item still in
  transit: a POD is only reported for a delivery.
- EDD: ``estimatedDelivery {date, startOfEstimatedWindow, endOfEstimatedWindow}``, the window as
  times with an offset ("08:00:00+01:00") to join to the date.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import TYPE_CHECKING
from urllib.parse import quote
from zoneinfo import ZoneInfo

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
    real_signatory,
)
from tracking.carriers.documents import DocumentNotAvailable, DocumentRefused, ProofDocument
from tracking.carriers.jsonbody import json_child, json_list, json_load, json_text
from tracking.carriers.timeparse import parse_datetime
from tracking.carriers.vocabulary import DELIVERY_LOCATION_TYPES, Status, Substatus

if TYPE_CHECKING:
    from tracking.carriers.http import CarrierHttpClient

_S = Status
_SUB = Substatus

# Royal Mail eventCode -> our (status, substatus). From the partial third-party list in
# royalmail_tracking_v2_event_codes.json (Royal Mail's own labels there), read by their label.
STATUS_MAP: dict[str, tuple[str, str | None]] = {
    # The sender has printed a label: Royal Mail knows the item, does not have it yet.
    "EVAIE": (_S.INFO_RECEIVED, None),  # Sender preparing/despatching item
    "EVAIP": (_S.INFO_RECEIVED, None),  # Sender preparing/despatching item
    # Accepted and moving through the network.
    "EVPPA": (_S.IN_TRANSIT, None),  # Accepted at Parcelshop
    "EVDAV": (_S.IN_TRANSIT, None),  # Item Received
    "EVIMC": (_S.IN_TRANSIT, None),  # Item Received
    "EVDAC": (_S.IN_TRANSIT, None),  # Item Received
    "EVOCO": (_S.IN_TRANSIT, None),  # received and being processed for delivery
    "EVOAC": (_S.IN_TRANSIT, None),  # Item received at
    "EVORI": (_S.IN_TRANSIT, None),  # Arrived at
    "EVODO": (_S.IN_TRANSIT, None),  # Item Despatched to DO / MC
    "EVNMI": (_S.IN_TRANSIT, None),  # Forwarded - Mis-sort: sent on to the right office
    # Held at the buyer's request (Keepsafe-style retention), then delivered as asked.
    "EVNRT": (_S.IN_TRANSIT, None),  # Item Retention
    "RSRXS": (_S.IN_TRANSIT, None),  # Delivery request received (a redelivery is booked)
    "EVNSR": (_S.IN_TRANSIT, None),  # Item Prepared for Redelivery
    # The last mile.
    "EVGPD": (_S.OUT_FOR_DELIVERY, None),  # Due to be delivered today
    "EVKNA": (_S.FAILED_ATTEMPT, _SUB.FAILED_ATTEMPT_RECIPIENT_ABSENT),  # Attempted - No Answer
    "EVKNR": (_S.FAILED_ATTEMPT, None),  # Delivery Attempted
    "EVNDA": (_S.AVAILABLE_FOR_PICKUP, None),  # Available for Redelivery or Collection
    # Delivered: signed, left in a safe place, or "Delivered by" (the text may say how).
    "EVKSP": (_S.DELIVERED, _SUB.DELIVERED_SIGNED),
    "EVKSF": (_S.DELIVERED, _SUB.DELIVERED_FRONT_DOOR),
    "EVKOP": (_S.DELIVERED, None),
}

# eventName fragments (lowercase) for codes not in STATUS_MAP; first match wins.
UNKNOWN_CODE_KEYWORDS: tuple[tuple[str, tuple[str, str | None]], ...] = (
    ("being returned", (_S.EXCEPTION, _SUB.EXCEPTION_RETURNING_TO_SENDER)),
    ("return to sender", (_S.EXCEPTION, _SUB.EXCEPTION_RETURNING_TO_SENDER)),
    ("returned to sender", (_S.EXCEPTION, _SUB.EXCEPTION_RETURNED_TO_SENDER)),
    ("refused", (_S.EXCEPTION, _SUB.EXCEPTION_REFUSED)),
    ("damaged", (_S.EXCEPTION, _SUB.EXCEPTION_DAMAGED)),
    ("customs", (_S.EXCEPTION, _SUB.EXCEPTION_CUSTOMS)),
    ("lost", (_S.EXCEPTION, _SUB.EXCEPTION_LOST)),
    ("address", (_S.EXCEPTION, _SUB.EXCEPTION_ADDRESS_ISSUE)),
    ("delivery attempted", (_S.FAILED_ATTEMPT, None)),
    ("available for", (_S.AVAILABLE_FOR_PICKUP, None)),
    ("due to be delivered", (_S.OUT_FOR_DELIVERY, None)),
    ("delivered", (_S.DELIVERED, None)),
)
# How a delivery without a code-given place happened, from its eventName.
DELIVERED_PLACE_KEYWORDS: tuple[tuple[str, str], ...] = (
    ("letterbox", _SUB.DELIVERED_MAILBOX),
    ("letter box", _SUB.DELIVERED_MAILBOX),
    ("neighbour", _SUB.DELIVERED_NEIGHBOUR),
    ("safeplace", _SUB.DELIVERED_FRONT_DOOR),
    ("safe place", _SUB.DELIVERED_FRONT_DOOR),
    ("parcel locker", _SUB.DELIVERED_LOCKER),
    ("collected", _SUB.DELIVERED_PICKUP_POINT),
    ("collection", _SUB.DELIVERED_PICKUP_POINT),
)

# Item errorCode -> our code (E1142: barcode not recognised). E0004 is the gateway's "Failed header
# validation" (X-Accept-RMG-Terms missing): our request, not the number, is wrong, so it must not
# mark every parcel invalid. Then HTTP status (httpCode in the body) -> our code.
ERROR_CODES = {"E1142": "not_found", "E0004": "bad_request"}
HTTP_ERROR_CODES = {
    "400": "invalid_number",
    "401": "auth_failed",
    "403": "auth_failed",
    "404": "not_found",
    "429": "rate_limited",
    "500": "unavailable",
    "502": "unavailable",
    "503": "unavailable",
    "504": "unavailable",
}
# Errors about Royal Mail or our account, never about the number asked.
ACCOUNT_ERRORS = frozenset(
    {"auth_failed", "rate_limited", "courier_error", "unavailable", "bad_request"}
)

# Royal Mail office kinds at the end of locationName ("Stafford DO" = delivery office).
_OFFICE_SUFFIX = re.compile(
    r"\s+(?:DO|MC|RDC|DC|IMC|Delivery Office|Mail Centre|Mail Center|Customer Service Point)$",
    re.IGNORECASE,
)
_LONDON = ZoneInfo("Europe/London")
# ISO alpha-3 (summary's country codes) -> alpha-2, for the countries Royal Mail items cross most.
_ALPHA2 = {"GBR": "GB", "FRA": "FR", "DEU": "DE", "IRL": "IE", "USA": "US", "NLD": "NL"}


class RoyalMailAdapter(CarrierAdapter):
    slug = "royalmail"
    production_url = "https://api.royalmail.net"
    credentials = ("client_id", "client_secret")
    name = "Royal Mail"
    number_patterns = (
        # UPU S10 barcodes issued in the UK: 2 letters, 8 digits + check digit, GB.
        re.compile(r"[A-Z]{2}\d{9}GB"),
        # The 21-character unique item id of 2D barcodes, e.g. 090367574000000FE1E1B.
        re.compile(r"(?=[0-9A-F]*[A-F])[0-9A-F]{21}"),
    )
    status_map = STATUS_MAP
    batch_size = 1  # the events endpoint takes one mailPieceId in its path
    # The developer portal's plan limits could not be read in our sources; we pace at 2/s and
    # let a 429 back the courier off.
    requests_per_second = 2.0
    tracking_url_template = "https://www.royalmail.com/track-your-item#/tracking-results/{number}"

    def __init__(self, *, base_url: str, api_key: str = "", **options: object) -> None:
        super().__init__(base_url=base_url, api_key=api_key, **options)
        self.client_id = str(options.get("client_id", ""))
        self.client_secret = str(options.get("client_secret", ""))

    def fetch(
        self, tracking_numbers: Sequence[str], *, client: CarrierHttpClient
    ) -> list[CarrierResponse]:
        """One GET per number; 400/404 error bodies are kept for ``parse``."""
        headers = {
            "X-IBM-Client-Id": self.client_id,
            "X-IBM-Client-Secret": self.client_secret,
            "X-Accept-RMG-Terms": "yes",
            "Accept": "application/json",
        }
        return [
            client.request(
                "GET",
                f"{self.base_url}/mailpieces/v2/{quote(number, safe='')}/events",
                headers=headers,
                accept_status=frozenset({200, 400, 404}),
            )
            for number in tracking_numbers
        ]

    def proof_document_kind(self, pod: PodData) -> str | None:
        """The signature image, which the events answer announces by kind."""
        return "signature" if "signature" in pod.documents else None

    def fetch_proof_document(
        self, *, tracking_number: str, pod: PodData, destination_postcode: str,
        client: CarrierHttpClient,
    ) -> ProofDocument:  # fmt: skip
        """``GET /mailpieces/v2/{barcode}/signature``: the signature image, inline."""
        response = client.request(
            "GET",
            f"{self.base_url}/mailpieces/v2/{quote(tracking_number, safe='')}/signature",
            headers={
                "X-IBM-Client-Id": self.client_id,
                "X-IBM-Client-Secret": self.client_secret,
                "X-Accept-RMG-Terms": "yes",
                "Accept": "application/json",
            },
            accept_status=frozenset({200, 400, 404}),
        )
        return signature_document(response.body)

    def parse(self, body: bytes) -> ParseResult:
        """Events, summary or signature JSON -> shipments and errors; an error body -> one error
        without a number.

        Raises CarrierPayloadError when the body is not JSON or none of these shapes.
        """
        payload = json_load(body, "Royal Mail")
        if not isinstance(payload, Mapping):
            raise CarrierPayloadError("Royal Mail answer is not a JSON object")
        pieces = payload.get("mailPieces")
        if isinstance(pieces, Mapping):
            return ParseResult(shipments=[self._parse_piece(pieces)])
        if isinstance(pieces, list):
            return self._parse_summaries(pieces)
        if "httpCode" in payload or "errors" in payload:
            return ParseResult(errors=[_error(payload, "")])
        raise CarrierPayloadError("Royal Mail answer has neither mailPieces nor an error")

    # --- helpers ------------------------------------------------------------------------------

    def _parse_summaries(self, pieces: list[object]) -> ParseResult:
        result = ParseResult()
        for piece in pieces:
            if not isinstance(piece, Mapping):
                raise CarrierPayloadError("Royal Mail summary item is not an object")
            if isinstance(piece.get("error"), Mapping):
                # Named like a shipment: by its barcode when the item carries one.
                number = json_text(json_child(piece, "summary"), "oneDBarcode") or json_text(
                    piece, "mailPieceId"
                )
                result.errors.append(_item_error(piece["error"], number))
            else:
                result.shipments.append(self._parse_piece(piece))
        return result

    def _parse_piece(self, piece: Mapping[str, object]) -> TrackingResult:
        summary = json_child(piece, "summary")
        signature = json_child(piece, "signature")
        number = (
            json_text(summary, "oneDBarcode")
            or json_text(signature, "oneDBarcode")
            or json_text(piece, "mailPieceId")
        )
        if not number:
            raise CarrierPayloadError("Royal Mail item without barcode nor mailPieceId")
        country = _domestic_country(summary)
        if "events" in piece:
            raw_events = json_list(piece, "events")
            if raw_events is None:
                raise CarrierPayloadError(f"Royal Mail item {number}: events is not a list")
            events = [self._parse_event(number, raw, country) for raw in raw_events]
        elif summary:
            events = [self._summary_event(number, summary, country)]
        elif signature:
            # The signature endpoint: no history, only who signed and when.
            return TrackingResult(number, events=(), pod=_signature_pod(number, signature))
        else:
            raise CarrierPayloadError(f"Royal Mail item {number}: no events, summary or signature")
        # Royal Mail lists newest first: reversed, a stable sort keeps same-minute scans in order.
        events.reverse()
        events.sort(key=lambda event: event.occurred_at)
        estimated, estimated_end = _estimated_delivery(
            number, json_child(piece, "estimatedDelivery")
        )
        result = TrackingResult(
            tracking_number=number,
            events=tuple(events),
            estimated_delivery=estimated,
            estimated_delivery_end=estimated_end,
        )
        delivery = result.delivery
        if delivery is None:
            return result
        pod = _signature_pod(number, signature) if signature else PodData(delivery.occurred_at)
        return replace(
            result,
            pod=replace(
                pod,
                delivered_at=pod.delivered_at or delivery.occurred_at,
                location_type=DELIVERY_LOCATION_TYPES.get(delivery.substatus or "", ""),
            ),
        )

    def _parse_event(self, number: str, raw: object, country: str) -> CarrierEvent:
        if not isinstance(raw, Mapping):
            raise CarrierPayloadError(f"Royal Mail item {number}: an event is not an object")
        code = json_text(raw, "eventCode")
        if not code:
            raise CarrierPayloadError(f"Royal Mail item {number}: event without eventCode")
        name = json_text(raw, "eventName")
        status, substatus = self._classify(code, name)
        return CarrierEvent(
            _time(number, raw.get("eventDateTime")),
            status,
            substatus,
            code,
            name,
            _location(json_text(raw, "locationName"), country),
        )

    def _summary_event(
        self, number: str, summary: Mapping[str, object], country: str
    ) -> CarrierEvent:
        """A summary answer's last event, the only one it gives."""
        code = json_text(summary, "lastEventCode")
        if not code:
            raise CarrierPayloadError(f"Royal Mail item {number}: summary without lastEventCode")
        name = json_text(summary, "lastEventName")
        status, substatus = self._classify(code, name)
        return CarrierEvent(
            _time(number, summary.get("lastEventDateTime")),
            status,
            substatus,
            code,
            name,
            _location(json_text(summary, "lastEventLocationName"), country),
        )

    def _classify(self, code: str, name: str) -> tuple[str, str | None]:
        text = name.casefold()
        if code in self.status_map:
            status, substatus = self.status_map[code]
        else:
            status, substatus = Status.IN_TRANSIT, None
            for keyword, mapped in UNKNOWN_CODE_KEYWORDS:
                if keyword in text:
                    status, substatus = mapped
                    break
        if status == Status.DELIVERED and substatus is None:
            for keyword, place in DELIVERED_PLACE_KEYWORDS:
                if keyword in text:
                    return status, place
        return status, substatus


def _time(number: str, value: object) -> datetime:
    # Royal Mail writes an offset; a time without one is UK time.
    try:
        return parse_datetime(value, default_tz=_LONDON)
    except ValueError as exc:
        raise CarrierPayloadError(f"Royal Mail item {number}: bad date-time {value!r}") from exc


def _domestic_country(summary: Mapping[str, object]) -> str:
    """GB when the item stays in the UK (its scans then happen there), else unknown."""
    origin = _ALPHA2.get(json_text(summary, "originCountryCode").upper(), "")
    destination = _ALPHA2.get(json_text(summary, "destinationCountryCode").upper(), "")
    return "GB" if origin == destination == "GB" else ""


def _location(name: str, country: str) -> Location:
    """ "Stafford DO" -> Stafford: the office kind is not part of the town's name."""
    return Location(city=_OFFICE_SUFFIX.sub("", name).strip(), country=country)


def _estimated_delivery(
    number: str, estimate: Mapping[str, object]
) -> tuple[date | datetime | None, datetime | None]:
    day = json_text(estimate, "date")
    if not day:
        return None, None
    start, end = (
        json_text(estimate, "startOfEstimatedWindow"),
        json_text(estimate, "endOfEstimatedWindow"),
    )
    try:
        if not start:
            return date.fromisoformat(day), None
        window_end = parse_datetime(f"{day}T{end}", default_tz=_LONDON) if end else None
        return parse_datetime(f"{day}T{start}", default_tz=_LONDON), window_end
    except ValueError as exc:
        raise CarrierPayloadError(f"Royal Mail item {number}: bad estimatedDelivery") from exc


def _signature_pod(number: str, signature: Mapping[str, object]) -> PodData:
    when = signature.get("signatureDateTime")
    return PodData(
        delivered_at=_time(number, when) if when else None,
        signed_by=real_signatory(json_text(signature, "recipientName")),
        # The image is inline (SVG/PNG) at /signature: name it, never carry it.
        documents=("signature",),
    )


def _item_error(error: Mapping[str, object], number: str) -> TrackingError:
    code = json_text(error, "errorCode")
    message = json_text(error, "errorDescription") or json_text(error, "errorCause") or code
    kind = ERROR_CODES.get(code, "courier_error")
    return TrackingError("" if kind in ACCOUNT_ERRORS else number, kind, message)


def _error(payload: Mapping[str, object], number: str) -> TrackingError:
    """``{httpCode, httpMessage, moreInformation, errors: [...]}`` -> one error."""
    http_code = payload.get("httpCode")
    http_code = str(http_code) if isinstance(http_code, str | int) else ""
    errors = payload.get("errors")
    first = errors[0] if isinstance(errors, list) and errors else None
    if isinstance(first, Mapping) and json_text(first, "errorCode") in ERROR_CODES:
        return _item_error(first, number)
    code = HTTP_ERROR_CODES.get(http_code, "courier_error")
    message = (
        (json_text(first, "errorDescription") if isinstance(first, Mapping) else "")
        or json_text(payload, "moreInformation")
        or json_text(payload, "httpMessage")
        or f"HTTP {http_code}"
    )
    return TrackingError("" if code in ACCOUNT_ERRORS else number, code, message)


def signature_document(body: bytes) -> ProofDocument:
    """A ``/signature`` answer -> the image: SVG text as it is, PNG base64-decoded. Royal Mail's
    error body (no signature for this item) raises DocumentNotAvailable; anything else without
    an image DocumentRefused."""
    payload = json_load(body, "Royal Mail")
    if not isinstance(payload, Mapping):
        raise DocumentRefused("Royal Mail signature answer is not a JSON object")
    if "httpCode" in payload and "mailPieces" not in payload:
        raise DocumentNotAvailable(
            f"Royal Mail has no signature: {json_text(payload, 'moreInformation')}"
        )
    signature = json_child(json_child(payload, "mailPieces"), "signature")
    image = signature.get("image")
    if not isinstance(image, str) or not image.strip():
        raise DocumentRefused("Royal Mail signature answer carries no image")
    declared = json_text(signature, "imageFormat").lower()
    if declared == "image/svg+xml" or image.lstrip().startswith("<"):
        return ProofDocument("signature", image.encode(), "image/svg+xml")
    try:
        content = base64.b64decode(image, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise DocumentRefused("Royal Mail signature image is neither SVG nor base64") from exc
    return ProofDocument("signature", content, declared)
