"""GLS, through GLS Group's "Track And Trace V1" API (GLS developer portal, OpenAPI 1.0.7).

    POST {base_url}/oauth2/v2/token                      (Authentication API v2)
         Authorization: Basic base64(client_id:client_secret)    grant_type=client_credentials
    GET  {base_url}/track-and-trace-v1/tracking/simple/trackids/{unitno[,unitno…]}
         Authorization: Bearer {access_token}    Accept-Language: EN

Format quirks this module deals with:

- OAuth2 client credentials. Tokens live "up to four hours" (``expires_in`` says how long); the
  token is kept on the adapter with its expiry, shared by threads, and fetched again once when
  the tracking API answers 401 (expired or revoked early). The Track And Trace OpenAPI still
  names ``/oauth2/v1/token`` as its token URL; GLS's Authentication API v2 document (the current
  one) serves ``/oauth2/v2/token``, which is what we call.
- One request carries 1 to 10 comma-separated parcel numbers ("maximum limit of 10 parcel IDs
  per request"; 11 gives a 400 problem body). The answer is ``{"parcels": [...]}`` with one entry
  per requested number, an entry being either a parcel or ``{requested, errorCode,
  errorMessage}`` (``E_404_01`` unknown, ``E_400_0x`` bad request…): HTTP 200 either way.
- Each parcel has a coarse ``status`` (12 values, see ``PARCEL_STATUS_MAP``) and ``events``
  newest first, whose ``code`` is ``FAMILY.DETAIL`` (``INTIAL.PREADVICE``, ``DELIVD.PARCELSHOP``,
  ``CANCEL.NORMAL``…). GLS publishes no full code list (only a ``/tracking/events/codes``
  endpoint and a few examples), so a code we do not know is read from its family and, for what
  the family cannot say, from the English ``description`` (we ask for ``Accept-Language: EN``).
- ``eventDateTime`` is ISO-8601 with an offset written without colon (``+0200``).
- Event places are ``city``/``postalCode``/``country`` (ISO alpha-2), often empty strings.
- No proof of delivery and no estimated delivery in this API. A delivered parcel gets a POD
  carrying the delivery scan's time and where it was left. ``DELIVD.PARCELSHOP`` ("delivered at
  the ParcelShop") is the parcel waiting at the shop for the buyer: available for pickup, not
  delivered. Which shop is a separate call, ``/tracking/deliveryinfo/parcelid/{unitno}``, that
  requires the buyer's original postcode: ``fetch_delivery_info`` and ``apply_delivery_info``.
- Gateway (Apigee) faults are ``{"fault": {"faultstring", "detail": {"errorcode"}}}`` (429
  quota, 401 token); framework errors are RFC-7807 problems; the token endpoint answers
  ``{"errors": [{"message", "type"}]}``.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import quote

from tracking.carriers.base import (
    CarrierAuthError,
    CarrierEvent,
    CarrierPayloadError,
    CarrierResponse,
    Location,
    ParseResult,
    PodData,
    TrackingError,
    TrackingResult,
    gateway_error,
)
from tracking.carriers.documents import DocumentNotAvailable, DocumentRefused, ProofDocument
from tracking.carriers.jsonbody import json_child, json_load, json_object, json_text
from tracking.carriers.oauth import OAuthCarrierAdapter, send_with_token
from tracking.carriers.timeparse import country_timezone, parse_datetime
from tracking.carriers.vocabulary import DELIVERY_LOCATION_TYPES, Status, Substatus

if TYPE_CHECKING:
    from tracking.carriers.http import CarrierHttpClient

_S = Status
_SUB = Substatus

# Event code -> our (status, substatus). The codes GLS's own examples show (samples, OpenAPI),
# then codes seen in third-party integrations only (marked), which we read the way their GLS
# description reads.
STATUS_MAP: dict[str, tuple[str, str | None]] = {
    # INTIAL: the parcel enters GLS's world.
    "INTIAL.PREADVICE": (_S.INFO_RECEIVED, None),  # data entered, parcel not handed over yet
    "INTIAL.E48_DATA": (_S.INFO_RECEIVED, None),  # provided by the sender for collection
    "INTIAL.NORMAL": (_S.IN_TRANSIT, None),  # "The parcel was handed over to GLS."
    # Depot scans and the delivery round (third-party code lists only).
    "INBOUD.NORMAL": (_S.IN_TRANSIT, None),  # arrived at a depot
    "OUTBOD.NORMAL": (_S.IN_TRANSIT, None),  # left a depot
    "OUTDEL.NORMAL": (_S.OUT_FOR_DELIVERY, None),  # out for delivery
    # DELIVD: delivered somewhere. At the ParcelShop the buyer still has to come for it.
    "DELIVD.PARCELSHOP": (_S.AVAILABLE_FOR_PICKUP, None),
    # Handed out by the ParcelShop (through the shop's app) to the buyer (third-party list).
    "DELIVD.DEL_BY_PSAPP": (_S.DELIVERED, _SUB.DELIVERED_PICKUP_POINT),
    # CHANGD: a delivery change the buyer asked for is done; the parcel keeps moving.
    "CHANGD.MONEWADDR": (_S.IN_TRANSIT, None),  # delivery at a new address
    "CHANGD.PARCELBOX": (_S.IN_TRANSIT, None),  # redirected to a ParcelLocker
    # CANCEL: the parcel data was deleted before GLS ever had the parcel.
    "CANCEL.NORMAL": (_S.EXCEPTION, _SUB.EXCEPTION_CANCELLED),
}

# Family (the part before the dot) -> status, for codes not in STATUS_MAP.
FAMILY_STATUS_MAP: dict[str, tuple[str, str | None]] = {
    "INTIAL": (_S.INFO_RECEIVED, None),
    "INBOUD": (_S.IN_TRANSIT, None),
    "OUTBOD": (_S.IN_TRANSIT, None),
    "OUTDEL": (_S.OUT_FOR_DELIVERY, None),
    "DELIVD": (_S.DELIVERED, None),
    "CHANGD": (_S.IN_TRANSIT, None),
    "CANCEL": (_S.EXCEPTION, _SUB.EXCEPTION_CANCELLED),
}

# Parcel ``status`` (the full enum of the OpenAPI) -> ours. Used for a parcel answered without
# events (``showEvents=false``, GLS's QAS test parcels), as one event at ``statusDateTime``.
PARCEL_STATUS_MAP: dict[str, tuple[str, str | None]] = {
    "PLANNEDPICKUP": (_S.INFO_RECEIVED, None),  # planned to be picked up
    "INPICKUP": (_S.INFO_RECEIVED, None),  # a driver will pick it up
    "NOTPICKEDUP": (_S.EXCEPTION, _SUB.EXCEPTION_DELAYED),  # the pickup did not happen
    "PREADVICE": (_S.INFO_RECEIVED, None),  # data received, not the parcel
    "INTRANSIT": (_S.IN_TRANSIT, None),  # on its way to the final depot
    "INDELIVERY": (_S.OUT_FOR_DELIVERY, None),  # with a driver
    "DELIVEREDPS": (_S.AVAILABLE_FOR_PICKUP, None),  # at a ParcelShop, waiting for the buyer
    "DELIVERED": (_S.DELIVERED, None),
    "INWAREHOUSE": (_S.IN_TRANSIT, None),  # stored at a depot
    "NOTDELIVERED": (_S.FAILED_ATTEMPT, None),  # a delivery was tried
    "CANCELED": (_S.EXCEPTION, _SUB.EXCEPTION_CANCELLED),
    # "Parcel history closed": the README's reading (delivered). Only used without events.
    "FINAL": (_S.DELIVERED, None),
}

# English description fragments (lowercase) for codes we do not know. First match wins, so the
# more specific fragments come first. A return is what happens next whatever its reason.
ISSUE_KEYWORDS: tuple[tuple[str, tuple[str, str | None]], ...] = (
    ("will be returned", (_S.EXCEPTION, _SUB.EXCEPTION_RETURNING_TO_SENDER)),
    ("returned to the sender", (_S.EXCEPTION, _SUB.EXCEPTION_RETURNED_TO_SENDER)),
    ("returned to sender", (_S.EXCEPTION, _SUB.EXCEPTION_RETURNED_TO_SENDER)),
    ("back to the sender", (_S.EXCEPTION, _SUB.EXCEPTION_RETURNING_TO_SENDER)),
    ("return to sender", (_S.EXCEPTION, _SUB.EXCEPTION_RETURNING_TO_SENDER)),
    ("refused", (_S.EXCEPTION, _SUB.EXCEPTION_REFUSED)),
    ("damaged", (_S.EXCEPTION, _SUB.EXCEPTION_DAMAGED)),
    ("could not be located", (_S.EXCEPTION, _SUB.EXCEPTION_LOST)),
    ("reported as lost", (_S.EXCEPTION, _SUB.EXCEPTION_LOST)),
    ("customs", (_S.EXCEPTION, _SUB.EXCEPTION_CUSTOMS)),
    # Nobody in: before "address", as such texts often mention the address too.
    ("absent", (_S.FAILED_ATTEMPT, _SUB.FAILED_ATTEMPT_RECIPIENT_ABSENT)),
    ("not at home", (_S.FAILED_ATTEMPT, _SUB.FAILED_ATTEMPT_RECIPIENT_ABSENT)),
    ("address", (_S.EXCEPTION, _SUB.EXCEPTION_ADDRESS_ISSUE)),
    # No reason given: a failed attempt, another one usually follows.
    ("not be delivered", (_S.FAILED_ATTEMPT, None)),
)
# Where a DELIVD.* code we do not know left the parcel.
DELIVERED_PLACE_KEYWORDS: tuple[tuple[str, str], ...] = (
    ("parcelshop", _SUB.DELIVERED_PICKUP_POINT),
    ("parcel shop", _SUB.DELIVERED_PICKUP_POINT),
    ("parcellocker", _SUB.DELIVERED_LOCKER),
    ("parcel locker", _SUB.DELIVERED_LOCKER),
    ("mailbox", _SUB.DELIVERED_MAILBOX),
    ("letterbox", _SUB.DELIVERED_MAILBOX),
    ("neighbour", _SUB.DELIVERED_NEIGHBOUR),
    ("deposit", _SUB.DELIVERED_FRONT_DOOR),  # GLS's "deposit permission" (safe place)
)
OUT_FOR_DELIVERY_KEYWORDS = ("out for delivery", "delivered during the day", "delivery vehicle")

# Per-parcel errorCode -> our error code (codes and meanings from the OpenAPI).
ERROR_CODES = {
    "E_400_01": "invalid_number",  # Bad Request
    "E_400_02": "invalid_request",  # Limit Size Exceeded
    "E_400_03": "invalid_request",  # Wrong Postal Code (deliveryinfo)
    "E_404_01": "not_found",  # Resource Not Found
    "E_404_02": "not_found",  # No Delivery Info
    "E_500_01": "courier_error",  # Internal Server Error
}
PROBLEM_CODES = {400: "invalid_request", 401: "auth_failed", 404: "not_found", 429: "rate_limited"}

TRACKING_PATH = "/track-and-trace-v1/tracking/simple/trackids/"
DELIVERY_INFO_PATH = "/track-and-trace-v1/tracking/deliveryinfo/parcelid/"
TOKEN_PATH = "/oauth2/v2/token"  # noqa: S105 - a URL path, not a secret

_INSTANCE_NUMBER = re.compile(r"/(?:trackids|references|parcelids?)/(?P<number>[^/?#,]+)$")


class GlsAdapter(OAuthCarrierAdapter):
    slug = "gls"
    production_url = "https://api.gls-group.net"
    credentials = ("client_id", "client_secret")
    name = "GLS"
    number_patterns = (
        # Parcel number (unitno): 11 or 12 digits in Germany and most countries.
        re.compile(r"\d{11,12}"),
        # Track ID: 8 letters and digits (with at least one of each), e.g. ZX61QJIX.
        re.compile(r"(?=[A-Z0-9]*\d)(?=[A-Z0-9]*[A-Z])[A-Z0-9]{8}"),
        # GLS's QAS test data set: QAS_0000001 … QAS_0000012.
        re.compile(r"QAS_\d{7}"),
    )
    status_map = STATUS_MAP
    batch_size = 10  # "maximum limit of 10 parcel IDs per request" (OpenAPI)
    # GLS documents no per-second limit, only a daily quota: "by default, clients are limited to
    # 500 requests per day", raised on request through GLS (GLS_REQUESTS_PER_DAY then). We pace
    # at 1/s and count the day: the 501st request is never sent, the courier waits for room
    # instead of meeting GLS's 429 QuotaViolation. Production volumes need the raised quota.
    requests_per_second = 1.0
    requests_per_day = 500
    tracking_url_template = "https://gls-group.com/GROUP/en/parcel-tracking?match={number}"

    # --- HTTP ---------------------------------------------------------------------------------

    def fetch(
        self, tracking_numbers: Sequence[str], *, client: CarrierHttpClient
    ) -> list[CarrierResponse]:
        """One GET per ``batch_size`` numbers, joined with commas in the path.

        Raises CarrierAuthError when GLS refuses our credentials (token endpoint) or refuses a
        freshly fetched token.
        """
        responses = []
        for start in range(0, len(tracking_numbers), self.batch_size):
            chunk = tracking_numbers[start : start + self.batch_size]
            unitnos = ",".join(quote(number, safe="") for number in chunk)
            responses.append(
                self._authorised_get(
                    client, f"{self.base_url}{TRACKING_PATH}{unitnos}", frozenset({200, 400, 404})
                )
            )
        return responses

    def fetch_delivery_info(
        self, unitno: str, original_postcode: str, *, client: CarrierHttpClient
    ) -> CarrierResponse:
        """Which ParcelShop holds a parcel. GLS requires the buyer's original postcode."""
        return self._authorised_get(
            client,
            f"{self.base_url}{DELIVERY_INFO_PATH}{quote(unitno, safe='')}",
            frozenset({200, 400, 404}),
            params={"originaldestinationpostalcode": original_postcode},
        )

    def proof_document_kind(self, pod: PodData) -> str | None:
        """GLS's delivery info (which ParcelShop handed the parcel over) for pickup-point
        deliveries: the only delivery record its Track And Trace API gives."""
        if pod.location_type == "pickup_point" or any(
            "parcel-shop" in d or d.startswith("gls-parcelshop:") for d in pod.documents
        ):
            return "delivery_info"
        return None

    def fetch_proof_document(
        self, *, tracking_number: str, pod: PodData, destination_postcode: str,
        client: CarrierHttpClient,
    ) -> ProofDocument:  # fmt: skip
        """The deliveryinfo answer, kept whole as the record (GLS requires the postcode)."""
        if not destination_postcode:
            raise DocumentNotAvailable("GLS delivery info needs the destination postcode")
        response = self.fetch_delivery_info(tracking_number, destination_postcode, client=client)
        return delivery_info_document(response.body)

    def _authorised_get(
        self,
        client: CarrierHttpClient,
        url: str,
        accept_status: frozenset[int],
        params: Mapping[str, str] | None = None,
    ) -> CarrierResponse:
        def send(token: str) -> CarrierResponse:
            return client.request(
                "GET", url, headers=self._headers(token), params=params, accept_status=accept_status
            )

        return send_with_token(self.tokens, client, send)

    def _headers(self, token: str) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            "Accept-Language": "EN",  # the description fallbacks read English
        }

    def _request_token(self, client: CarrierHttpClient) -> CarrierResponse:
        """The token endpoint's answer; refused credentials (a 400 body) raise CarrierAuthError."""
        credentials = f"{self.client_id}:{self.client_secret}".encode()
        response = client.request(
            "POST",
            f"{self.base_url}{TOKEN_PATH}",
            headers={
                "Authorization": "Basic " + base64.b64encode(credentials).decode(),
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
            data="grant_type=client_credentials",
            accept_status=frozenset({200, 400}),
        )
        if response.status_code != 200:
            raise CarrierAuthError(f"GLS refused our client credentials: {_token_error(response)}")
        return response

    # --- parsing ------------------------------------------------------------------------------

    def parse(self, body: bytes) -> ParseResult:
        """Track And Trace JSON -> shipments and per-number errors; gateway faults and problem
        bodies -> one error without a number (or with the one the problem names).

        Raises CarrierPayloadError when the body is not JSON or none of GLS's shapes.
        """
        payload = json_object(body, "GLS")
        if "parcels" not in payload and (gateway := gateway_error(payload)) is not None:
            return ParseResult(errors=[gateway])
        if "parcels" in payload:
            parcels = payload["parcels"]
            if not isinstance(parcels, list):
                raise CarrierPayloadError("GLS parcels is not a list")
            result = ParseResult()
            for parcel in parcels:
                if not isinstance(parcel, Mapping):
                    raise CarrierPayloadError("GLS parcel is not an object")
                if "errorCode" in parcel:
                    result.errors.append(_parcel_error(parcel))
                else:
                    result.shipments.append(self._parse_parcel(parcel))
            return result
        error = _fault_error(payload)
        if error is None:
            raise CarrierPayloadError("GLS answer has neither parcels nor an error description")
        return ParseResult(errors=[error])

    def apply_delivery_info(self, result: TrackingResult, body: bytes) -> TrackingResult:
        """Add the ParcelShop of a ``/tracking/deliveryinfo`` answer to a pickup-point POD.

        The shop's Parcel Shop Management link (which names partner and shop id) becomes the
        POD's document; an error answer (``E_404_02`` no delivery info…) changes nothing.
        Raises CarrierPayloadError when the body is not a delivery-info answer.
        """
        payload = json_object(body, "GLS")
        shop = payload.get("parcelshopDelivery")
        if shop is None:
            if "errorCode" in payload or _fault_error(payload) is not None:
                return result
            raise CarrierPayloadError("GLS delivery info has no parcelshopDelivery")
        if not isinstance(shop, Mapping):
            raise CarrierPayloadError("GLS parcelshopDelivery is not an object")
        link = json_child(json_child(shop, "_links"), "parcelShopManagement").get("href")
        if not isinstance(link, str) or not link.startswith(("https://", "http://")):
            partner, shop_id = json_text(shop, "partnerId"), json_text(shop, "parcelshopId")
            if not shop_id:
                raise CarrierPayloadError("GLS parcelshopDelivery names no shop")
            link = f"gls-parcelshop:{partner}/{shop_id}"
        if result.pod is None:
            return result
        documents = (
            result.pod.documents
            if link in result.pod.documents
            else (
                *result.pod.documents,
                link,
            )
        )
        return replace(
            result, pod=replace(result.pod, location_type="pickup_point", documents=documents)
        )

    def _parse_parcel(self, parcel: Mapping[str, object]) -> TrackingResult:
        number = json_text(parcel, "requested") or json_text(parcel, "unitno")
        if not number:
            raise CarrierPayloadError("GLS parcel without requested number nor unitno")
        raw_events = parcel.get("events", [])
        if not isinstance(raw_events, list):
            raise CarrierPayloadError(f"GLS parcel {number}: events is not a list")
        parsed = [self._parse_event(number, raw) for raw in raw_events]
        if not parsed:
            parsed = self._status_event(number, parcel)
        # GLS lists newest first: reversed, a stable sort keeps same-second scans in order.
        parsed.reverse()
        parsed.sort(key=lambda event: event.occurred_at)
        result = TrackingResult(tracking_number=number, events=tuple(parsed))
        delivery = result.delivery
        if delivery is None:
            return result
        pod = PodData(
            delivered_at=delivery.occurred_at,
            location_type=DELIVERY_LOCATION_TYPES.get(delivery.substatus or "", ""),
        )
        return replace(result, pod=pod)

    def _parse_event(self, number: str, raw: object) -> CarrierEvent:
        if not isinstance(raw, Mapping):
            raise CarrierPayloadError(f"GLS parcel {number}: an event is not an object")
        code = json_text(raw, "code")
        if not code:
            raise CarrierPayloadError(f"GLS parcel {number}: event without code")
        location = Location(
            city=json_text(raw, "city"),
            postcode=json_text(raw, "postalCode"),
            country=json_text(raw, "country").upper(),
        )
        occurred_at = _time(number, raw.get("eventDateTime"), location.country)
        description = json_text(raw, "description")
        status, substatus = self._classify(code, description)
        return CarrierEvent(occurred_at, status, substatus, code, description, location)

    def _status_event(self, number: str, parcel: Mapping[str, object]) -> list[CarrierEvent]:
        """A parcel without events: its coarse status at ``statusDateTime`` is all there is."""
        code = json_text(parcel, "status")
        if code not in PARCEL_STATUS_MAP:
            raise CarrierPayloadError(f"GLS parcel {number}: no events and status {code!r}")
        status, substatus = PARCEL_STATUS_MAP[code]
        occurred_at = _time(number, parcel.get("statusDateTime"), "")
        return [CarrierEvent(occurred_at, status, substatus, code, code, Location())]

    def _classify(self, code: str, description: str) -> tuple[str, str | None]:
        """The exact code first; for a code we do not know, its family, refined by the text."""
        if code in self.status_map:
            return self.status_map[code]
        text = description.casefold()
        for keyword, refined in ISSUE_KEYWORDS:
            if keyword in text:
                return refined
        status, substatus = FAMILY_STATUS_MAP.get(code.split(".", 1)[0], (_S.IN_TRANSIT, None))
        if status == Status.DELIVERED:
            for keyword, place in DELIVERED_PLACE_KEYWORDS:
                if keyword in text:
                    return Status.DELIVERED, place
        if status == Status.IN_TRANSIT and any(k in text for k in OUT_FOR_DELIVERY_KEYWORDS):
            return Status.OUT_FOR_DELIVERY, None
        return status, substatus


def _token_error(response: CarrierResponse) -> str:
    """The message of the token endpoint's error body, or the HTTP status."""
    try:
        payload = json_load(response.body, "GLS")
    except CarrierPayloadError:
        return f"HTTP {response.status_code}"
    errors = payload.get("errors") if isinstance(payload, Mapping) else None
    first = errors[0] if isinstance(errors, list) and errors else {}
    message = json_text(first, "message") if isinstance(first, Mapping) else ""
    return message or f"HTTP {response.status_code}"


def _time(number: str, value: object, country: str) -> datetime:
    # GLS always writes an offset; a time without one would be local time at the scan.
    try:
        return parse_datetime(value, default_tz=country_timezone(country))
    except ValueError as exc:
        raise CarrierPayloadError(f"GLS parcel {number}: bad date-time {value!r}") from exc


def _parcel_error(parcel: Mapping[str, object]) -> TrackingError:
    code = json_text(parcel, "errorCode")
    return TrackingError(
        tracking_number=json_text(parcel, "requested"),
        code=ERROR_CODES.get(code, "courier_error"),
        message=json_text(parcel, "errorMessage") or code,
    )


def _fault_error(payload: Mapping[str, object]) -> TrackingError | None:
    """An Apigee fault, an RFC-7807 problem or a token-endpoint error; None for anything else."""
    fault = payload.get("fault")
    if isinstance(fault, Mapping):
        errorcode = json_text(json_child(fault, "detail"), "errorcode")
        message = json_text(fault, "faultstring") or errorcode or "GLS gateway fault"
        lowered = errorcode.casefold()
        if "ratelimit" in lowered or "quota" in lowered or "spikearrest" in lowered:
            code = "rate_limited"
        elif "jwt" in lowered or "oauth" in lowered or "token" in lowered or "apikey" in lowered:
            code = "auth_failed"
        else:
            code = "courier_error"
        return TrackingError("", code, message)
    status = payload.get("status")
    if isinstance(status, int) and not isinstance(status, bool) and "title" in payload:
        match = _INSTANCE_NUMBER.search(json_text(payload, "instance"))
        code = PROBLEM_CODES.get(status, "courier_error")
        number = match.group("number") if match and code != "auth_failed" else ""
        message = json_text(payload, "detail") or json_text(payload, "title")
        return TrackingError(number, code, message)
    errors = payload.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], Mapping):
        return TrackingError(
            "", "auth_failed", json_text(errors[0], "message") or "GLS token error"
        )
    return None


def delivery_info_document(body: bytes) -> ProofDocument:
    """A deliveryinfo answer naming the ParcelShop -> the record as GLS sent it. An
    ``errorCode`` answer (no delivery info, wrong postcode) or a gateway fault raises
    DocumentNotAvailable; any other shape DocumentRefused."""
    payload = json_object(body, "GLS")
    shop = payload.get("parcelshopDelivery")
    if shop is None:
        if "errorCode" in payload or _fault_error(payload) is not None:
            raise DocumentNotAvailable(
                f"GLS has no delivery info: {json_text(payload, 'errorCode') or 'fault'}"
            )
        raise DocumentRefused("GLS delivery info has no parcelshopDelivery")
    if not isinstance(shop, Mapping) or not json_text(shop, "parcelshopId"):
        raise DocumentRefused("GLS parcelshopDelivery names no shop")
    return ProofDocument("delivery_info", body, "application/json")
