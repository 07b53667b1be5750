"""DHL, through "Shipment Tracking – Unified" (all DHL divisions behind one API).

    GET {base_url}/track/shipments?trackingNumber={number}
    DHL-API-Key: {api_key}        Accept: application/json

Format quirks this module deals with:

- One number per request (the API takes a single ``trackingNumber``). 200 answers
  ``{"shipments": [...]}``; an unknown number is a 404 with an RFC-7807 problem body
  ``{title, detail, status, instance: "/shipment/<number>"}``; a bad key a 401 problem body.
- ``statusCode`` is coarse: pre-transit, transit, delivered, failure, unknown. The detail lives in
  free text (``status``, ``description``, ``remark``) in the request language, often German for
  parcel-de ("Die Sendung wurde in das Zustellfahrzeug geladen"). Out for delivery and the
  delivered/failure substatuses therefore come from small keyword tables below. ``unknown`` keeps
  the status of the scan before it.
- ``shipments[].id`` is a number in DHL's own example and a string in real answers.
- Event times come with an offset, with ``Z``, or (parcel-de) naive: DHL's local time at the scan,
  which we read in the timezone of the scan's country.
- ``location.address.addressLocality`` is sometimes a street and a city ("Oderweg 2, AMSTERDAM"),
  sometimes "CITY - COUNTRY" (Express), sometimes only a country name ("Deutschland", parcel-de);
  see ``_city``.
- Proof of delivery: ``details.proofOfDelivery {timestamp, signed{name|givenName familyName},
  documentUrl, signatureUrl}``; DHL's example fills URLs with the placeholder "string", so only
  real http(s) URLs are kept.
- Events are newest first, like most JSON APIs.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING

from tracking.carriers.base import (
    CarrierAdapter,
    CarrierEvent,
    CarrierPayloadError,
    CarrierResponse,
    Location,
    ParseResult,
    PodData,
    PushNotConfigured,
    PushRejected,
    TrackingError,
    TrackingResult,
    gateway_error,
    signatory,
)
from tracking.carriers.jsonbody import json_child, json_load, json_text
from tracking.carriers.timeparse import country_timezone, parse_datetime
from tracking.carriers.vocabulary import DELIVERY_LOCATION_TYPES, Status, Substatus

if TYPE_CHECKING:
    from tracking.carriers.http import CarrierHttpClient

# DHL statusCode -> our (status, substatus) before the text refinements below. "unknown" is not
# here on purpose: such a scan keeps the status of the scan before it.
STATUS_MAP: dict[str, tuple[str, str | None]] = {
    "pre-transit": (Status.INFO_RECEIVED, None),
    "transit": (Status.IN_TRANSIT, None),
    "delivered": (Status.DELIVERED, None),
    "failure": (Status.EXCEPTION, Substatus.EXCEPTION_OTHER),
}
UNKNOWN_CODE = "unknown"

# Keyword tables: lowercase fragments of status/description/remark (English, German, French, as
# DHL answers in the requester's language). Within a table the first match wins, so the more
# specific fragments come first.
OUT_FOR_DELIVERY_KEYWORDS = (
    "out for delivery",
    "with delivery courier",
    "out with courier for delivery",
    "delivery vehicle",  # "The shipment has been loaded onto the delivery vehicle"
    "zustellfahrzeug",  # "Die Sendung wurde in das Zustellfahrzeug geladen"
    "in zustellung",
    "en cours de livraison",
)

_DELIVERED = Status.DELIVERED
_EXCEPTION = Status.EXCEPTION
_FAILED = Status.FAILED_ATTEMPT

DELIVERED_KEYWORDS: tuple[tuple[str, tuple[str, str]], ...] = (
    # Delivered back to the sender is a return, not a delivery to the buyer.
    ("returned to sender", (_EXCEPTION, Substatus.EXCEPTION_RETURNED_TO_SENDER)),
    ("delivered to sender", (_EXCEPTION, Substatus.EXCEPTION_RETURNED_TO_SENDER)),
    ("an den absender", (_EXCEPTION, Substatus.EXCEPTION_RETURNED_TO_SENDER)),
    ("packstation", (_DELIVERED, Substatus.DELIVERED_LOCKER)),
    ("locker", (_DELIVERED, Substatus.DELIVERED_LOCKER)),
    ("parcel shop", (_DELIVERED, Substatus.DELIVERED_PICKUP_POINT)),
    ("parcelshop", (_DELIVERED, Substatus.DELIVERED_PICKUP_POINT)),
    ("paketshop", (_DELIVERED, Substatus.DELIVERED_PICKUP_POINT)),
    ("service point", (_DELIVERED, Substatus.DELIVERED_PICKUP_POINT)),
    ("servicepoint", (_DELIVERED, Substatus.DELIVERED_PICKUP_POINT)),
    ("pickup point", (_DELIVERED, Substatus.DELIVERED_PICKUP_POINT)),
    ("point relais", (_DELIVERED, Substatus.DELIVERED_PICKUP_POINT)),
    ("filiale", (_DELIVERED, Substatus.DELIVERED_PICKUP_POINT)),
    ("mailbox", (_DELIVERED, Substatus.DELIVERED_MAILBOX)),
    ("letterbox", (_DELIVERED, Substatus.DELIVERED_MAILBOX)),
    ("letter box", (_DELIVERED, Substatus.DELIVERED_MAILBOX)),
    ("briefkasten", (_DELIVERED, Substatus.DELIVERED_MAILBOX)),
    ("boîte aux lettres", (_DELIVERED, Substatus.DELIVERED_MAILBOX)),
    ("neighbour", (_DELIVERED, Substatus.DELIVERED_NEIGHBOUR)),
    ("neighbor", (_DELIVERED, Substatus.DELIVERED_NEIGHBOUR)),
    ("nachbar", (_DELIVERED, Substatus.DELIVERED_NEIGHBOUR)),
    ("voisin", (_DELIVERED, Substatus.DELIVERED_NEIGHBOUR)),
)

FAILURE_KEYWORDS: tuple[tuple[str, tuple[str, str]], ...] = (
    # The return is what happens next whatever its cause: it comes first.
    ("return to sender", (_EXCEPTION, Substatus.EXCEPTION_RETURNING_TO_SENDER)),
    ("returned to sender", (_EXCEPTION, Substatus.EXCEPTION_RETURNING_TO_SENDER)),
    ("returning to sender", (_EXCEPTION, Substatus.EXCEPTION_RETURNING_TO_SENDER)),
    ("being returned", (_EXCEPTION, Substatus.EXCEPTION_RETURNING_TO_SENDER)),
    ("rücksendung", (_EXCEPTION, Substatus.EXCEPTION_RETURNING_TO_SENDER)),
    ("zurückgesendet", (_EXCEPTION, Substatus.EXCEPTION_RETURNING_TO_SENDER)),
    ("refused", (_EXCEPTION, Substatus.EXCEPTION_REFUSED)),
    ("verweigert", (_EXCEPTION, Substatus.EXCEPTION_REFUSED)),
    ("damaged", (_EXCEPTION, Substatus.EXCEPTION_DAMAGED)),
    ("beschädigt", (_EXCEPTION, Substatus.EXCEPTION_DAMAGED)),
    ("customs", (_EXCEPTION, Substatus.EXCEPTION_CUSTOMS)),
    ("zoll", (_EXCEPTION, Substatus.EXCEPTION_CUSTOMS)),
    # Nobody in: a failed attempt (another one will follow), not an exception. Before the
    # address fragments: such texts often say "at the address".
    ("not at home", (_FAILED, Substatus.FAILED_ATTEMPT_RECIPIENT_ABSENT)),
    ("recipient not available", (_FAILED, Substatus.FAILED_ATTEMPT_RECIPIENT_ABSENT)),
    ("nicht angetroffen", (_FAILED, Substatus.FAILED_ATTEMPT_RECIPIENT_ABSENT)),
    ("absent", (_FAILED, Substatus.FAILED_ATTEMPT_RECIPIENT_ABSENT)),
    ("address", (_EXCEPTION, Substatus.EXCEPTION_ADDRESS_ISSUE)),
    ("adresse", (_EXCEPTION, Substatus.EXCEPTION_ADDRESS_ISSUE)),
    ("anschrift", (_EXCEPTION, Substatus.EXCEPTION_ADDRESS_ISSUE)),
)

# addressLocality values that are a country, not a city (parcel-de writes "Deutschland").
LOCALITY_COUNTRIES = {"deutschland": "DE", "germany": "DE"}

# RFC-7807 problem status -> our per-number error code.
PROBLEM_CODES = {
    400: "invalid_request",
    401: "auth_failed",
    403: "auth_failed",
    404: "not_found",
    429: "rate_limited",
}

_INSTANCE_NUMBER = re.compile(r"/shipments?/(?P<number>[^/?#]+)$")


class DhlAdapter(CarrierAdapter):
    slug = "dhl"
    production_url = "https://api-eu.dhl.com"
    credentials = ("api_key", "push_token")
    push_credentials = ("push_token",)
    # DHL"s Unified Push sends back the header and token we chose when subscribing.
    option_defaults = {"push_header": "X-Parcelle-Push-Token"}
    name = "DHL"
    number_patterns = (
        # DHL Express waybill: 10 digits (11 in older series), mod-7 check digit.
        re.compile(r"\d{10,11}"),
        # Express piece ids and DHL Paket "JJD…" licence plates: J + 2-3 letters + digits.
        re.compile(r"J[A-Z]{2,3}\d{9,21}"),
        # DHL Paket (parcel-de) shipment numbers: 12 or 20 digits.
        re.compile(r"\d{12}"),
        re.compile(r"\d{20}"),
        # DHL eCommerce: 14 digits, or a 2-letter prefix and 10-39 characters with a digit.
        re.compile(r"\d{14}"),
        re.compile(r"(?:GM|LX|RX|UV|CN|SG|TH|IN|HK|MY)(?=[0-9A-Z]*\d)[0-9A-Z]{10,39}"),
    )
    status_map = STATUS_MAP
    batch_size = 1  # the API takes exactly one trackingNumber per request
    # DHL's developer portal gives new keys a small default quota (we understand it as 250 calls
    # a day, one call per 5 seconds) until an upgrade is granted; this could not be confirmed in
    # the stored docs, so we keep to that lower bound rather than meet 429s (DHL_REQUESTS_PER_DAY
    # and DHL_REQUESTS_PER_SECOND once the upgrade is granted).
    requests_per_second = 0.2
    requests_per_day = 250
    tracking_url_template = "https://www.dhl.com/fr-fr/home/tracking.html?tracking-id={number}"

    # DHL "Shipment Tracking - Unified - Push" posts the same {"shipments": [...]} body to us,
    # authenticated by the header and token we chose when subscribing (ApiKeyAuthentication):
    # no signature and no timestamp, so replays are caught by the event id (the body's hash).
    supports_push = True

    def verify_push(self, *, headers: Mapping[str, str], body: bytes, now: datetime) -> None:
        header = str(self.options.get("push_header") or "").lower()
        token = str(self.options.get("push_token") or "")
        if not header or not token:
            raise PushNotConfigured("DHL push is not configured (DHL_PUSH_HEADER, DHL_PUSH_TOKEN)")
        given = headers.get(header, "")
        if not hmac.compare_digest(given.encode(), token.encode()):
            raise PushRejected("the DHL push token is missing or wrong")

    def fetch(
        self, tracking_numbers: Sequence[str], *, client: CarrierHttpClient
    ) -> list[CarrierResponse]:
        """One GET per number; 404 (unknown number) bodies are kept for ``parse``."""
        headers = {"DHL-API-Key": self.api_key, "Accept": "application/json"}
        return [
            client.request(
                "GET",
                f"{self.base_url}/track/shipments",
                headers=headers,
                params={"trackingNumber": number},
                accept_status=frozenset({200, 404}),
            )
            for number in tracking_numbers
        ]

    def parse(self, body: bytes) -> ParseResult:
        """Unified JSON -> shipments; a problem body (404, 401…) -> one per-number error.

        Raises CarrierPayloadError when the body is not JSON or neither shape.
        """
        payload = json_load(body, "DHL")
        if not isinstance(payload, Mapping):
            raise CarrierPayloadError("DHL answer is not a JSON object")
        if (gateway := gateway_error(payload)) is not None:
            return ParseResult(errors=[gateway])
        if "shipments" in payload:
            shipments = payload["shipments"]
            if not isinstance(shipments, list):
                raise CarrierPayloadError("DHL shipments is not a list")
            return ParseResult(shipments=[self._parse_shipment(s) for s in shipments])
        status = _problem_status(payload)
        if status is not None:
            return ParseResult(errors=[_problem_error(payload, status)])
        raise CarrierPayloadError("DHL answer has neither shipments nor a problem description")

    # --- helpers ------------------------------------------------------------------------------

    def _parse_shipment(self, shipment: object) -> TrackingResult:
        if not isinstance(shipment, Mapping):
            raise CarrierPayloadError("DHL shipment is not an object")
        raw_id = shipment.get("id")
        # DHL's example has a JSON number here, real answers a string.
        if isinstance(raw_id, bool) or not isinstance(raw_id, str | int) or raw_id == "":
            raise CarrierPayloadError("DHL shipment without id")
        number = str(raw_id)

        raw_events = shipment.get("events", [])
        if not isinstance(raw_events, list):
            raise CarrierPayloadError(f"DHL shipment {number}: events is not a list")
        if not raw_events and isinstance(shipment.get("status"), Mapping):
            raw_events = [shipment["status"]]  # no history, only the current status: use it
        destination_tz = country_timezone(_country(_address(shipment.get("destination"))))
        pod = _proof_of_delivery(number, shipment, destination_tz)
        events = self._events(number, raw_events, signed=bool(pod and pod.signed_by))

        timeframe = shipment.get("estimatedDeliveryTimeFrame") or {}
        if not isinstance(timeframe, Mapping):
            raise CarrierPayloadError(f"DHL shipment {number}: bad estimatedDeliveryTimeFrame")
        estimated = _optional_time(
            number, shipment.get("estimatedTimeOfDelivery"), destination_tz
        ) or _optional_time(number, timeframe.get("estimatedFrom"), destination_tz)
        estimated_end = _optional_time(number, timeframe.get("estimatedThrough"), destination_tz)

        result = TrackingResult(
            tracking_number=number,
            events=events,
            estimated_delivery=estimated,
            estimated_delivery_end=estimated_end,
        )
        # DHL may send a proofOfDelivery block whatever the status (its own example does, on a
        # pre-transit parcel); the payout gate must only see a POD for a delivery that stands.
        delivery = result.delivery
        if pod is None or delivery is None:
            return result
        return replace(
            result,
            pod=replace(
                pod,
                delivered_at=pod.delivered_at or delivery.occurred_at,
                location_type=DELIVERY_LOCATION_TYPES.get(delivery.substatus or "", ""),
            ),
        )

    def _events(
        self, number: str, raw_events: list[object], *, signed: bool
    ) -> tuple[CarrierEvent, ...]:
        parsed: list[tuple[datetime, Location, Mapping[str, object]]] = []
        for raw in raw_events:
            if not isinstance(raw, Mapping):
                raise CarrierPayloadError(f"DHL shipment {number}: an event is not an object")
            location = _location(_address(raw.get("location")))
            # A naive time is DHL's local time at the scan: read it in the scan country's zone.
            occurred_at = _required_time(
                number, raw.get("timestamp"), country_timezone(location.country)
            )
            parsed.append((occurred_at, location, raw))
        # DHL lists newest first: reversed, a stable sort keeps same-second scans in order.
        parsed.reverse()
        parsed.sort(key=lambda item: item[0])

        events: list[CarrierEvent] = []
        previous: tuple[str, str | None] = (Status.IN_TRANSIT, None)  # base default for unknowns
        for occurred_at, location, raw in parsed:
            code = json_text(raw, "statusCode") or UNKNOWN_CODE
            status, substatus = self._classify(
                code, _searchable_text(raw), signed=signed, previous=previous
            )
            previous = (status, substatus)
            events.append(
                CarrierEvent(occurred_at, status, substatus, code, _message(raw), location)
            )
        return tuple(events)

    def _classify(
        self, code: str, text: str, *, signed: bool, previous: tuple[str, str | None]
    ) -> tuple[str, str | None]:
        """statusCode first, then the free text for what the code cannot say."""
        if code == UNKNOWN_CODE:
            return previous
        status, substatus = self.map_status(code)
        if status == Status.IN_TRANSIT and any(k in text for k in OUT_FOR_DELIVERY_KEYWORDS):
            return Status.OUT_FOR_DELIVERY, None
        if status == Status.DELIVERED:
            for keyword, refined in DELIVERED_KEYWORDS:
                if keyword in text:
                    return refined
            return Status.DELIVERED, Substatus.DELIVERED_SIGNED if signed else None
        if status == Status.EXCEPTION:
            for keyword, refined in FAILURE_KEYWORDS:
                if keyword in text:
                    return refined
        return status, substatus


def _message(raw: Mapping[str, object]) -> str:
    """``status`` (short) and ``description`` (detail), once each when DHL repeats itself."""
    parts: list[str] = []
    for key in ("status", "description"):
        text = json_text(raw, key)
        if text and text not in parts:
            parts.append(text)
    return " - ".join(parts)


def _searchable_text(raw: Mapping[str, object]) -> str:
    return " ".join(json_text(raw, key) for key in ("status", "description", "remark")).casefold()


def _address(place: object) -> Mapping[str, object]:
    """``{location|origin|destination}.address``, or {} when absent."""
    if not isinstance(place, Mapping):
        return {}
    return json_child(place, "address")


def _country(address: Mapping[str, object]) -> str:
    code = json_text(address, "countryCode").upper()
    if len(code) == 2:
        return code
    return LOCALITY_COUNTRIES.get(json_text(address, "addressLocality").casefold(), "")


def _city(locality: str, postcode: str) -> str:
    """The city part of ``addressLocality``.

    Rule: a locality naming only a country ("Deutschland") is no city; with commas
    ("Oderweg 2, AMSTERDAM") the street comes first and the city last, so take the last part;
    Express writes "CITY - COUNTRY", so drop what follows the last " - "; a leading postcode
    ("53113 Bonn") is dropped as it has its own field.
    """
    if locality.casefold() in LOCALITY_COUNTRIES:
        return ""
    city = locality.rsplit(",", 1)[-1].strip()
    if " - " in city:
        city = city.rsplit(" - ", 1)[0].strip()
    if postcode and city.startswith(postcode):
        city = city[len(postcode) :].strip()
    return city


def _location(address: Mapping[str, object]) -> Location:
    postcode = json_text(address, "postalCode")
    return Location(
        city=_city(json_text(address, "addressLocality"), postcode),
        postcode=postcode,
        country=_country(address),
    )


def _required_time(number: str, value: object, default_tz: tzinfo) -> datetime:
    try:
        return parse_datetime(value, default_tz=default_tz)
    except ValueError as exc:
        raise CarrierPayloadError(f"DHL shipment {number}: bad timestamp {value!r}") from exc


def _optional_time(number: str, value: object, default_tz: tzinfo) -> datetime | None:
    if value is None or value == "":
        return None
    return _required_time(number, value, default_tz)


def _http_url(value: object) -> str:
    """Only a real link is a document: DHL's example fills unknown URLs with "string"."""
    if isinstance(value, str) and value.startswith(("https://", "http://")):
        return value
    return ""


def _proof_of_delivery(
    number: str, shipment: Mapping[str, object], default_tz: tzinfo
) -> PodData | None:
    pod = json_child(json_child(shipment, "details"), "proofOfDelivery")
    if not pod:
        return None
    signed = json_child(pod, "signed")
    full_name = " ".join(
        p for p in (json_text(signed, "givenName"), json_text(signed, "familyName")) if p
    )
    documents = tuple(
        url for url in (_http_url(pod.get(k)) for k in ("documentUrl", "signatureUrl")) if url
    )
    return PodData(
        delivered_at=_optional_time(number, pod.get("timestamp"), default_tz),
        signed_by=signatory(full_name or json_text(signed, "name")),
        documents=documents,
    )


def _problem_status(payload: Mapping[str, object]) -> int | None:
    """The HTTP status of an RFC-7807 problem body, None when the body is not one."""
    status = payload.get("status")
    if isinstance(status, bool) or not isinstance(status, int):
        return None
    return status if ("title" in payload or "detail" in payload) else None


def _problem_error(payload: Mapping[str, object], status: int) -> TrackingError:
    code = PROBLEM_CODES.get(status, "courier_error")
    message = json_text(payload, "detail") or json_text(payload, "title") or f"HTTP {status}"
    number = ""
    # A bad key concerns the whole courier account, never one number.
    if code != "auth_failed":
        match = _INSTANCE_NUMBER.search(json_text(payload, "instance"))
        number = match.group("number") if match else ""
    return TrackingError(tracking_number=number, code=code, message=message)
