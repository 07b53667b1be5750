"""DPD, through the DELIS SOAP web services (DPD Germany/Benelux): LoginService 2.1 ``getAuth``
for a token, then ParcelLifeCycleService 2.0 ``getTrackingData`` per parcel.

    POST {base_url}/soap/services/LoginService/V2_1
    SOAPAction: http://dpd.com/common/service/types/LoginService/2.1/getAuth
    <ns:getAuth><delisId/><password/><messageLanguage>en_EN</messageLanguage></ns:getAuth>
      -> getAuthResponse/return{delisId, customerUid, authToken, depot, authTokenExpires}

    POST {base_url}/soap/services/ParcelLifeCycleService/V2_0
    SOAPAction: http://dpd.com/common/service/types/ParcelLifeCycleService/2.0/getTrackingData
    <soapenv:Header><ns:authentication>            (ns = …/types/Authentication/2.0)
        <delisId/><authToken/><messageLanguage/></ns:authentication></soapenv:Header>
    <soapenv:Body><ns1:getTrackingData><parcelLabelNumber/></ns1:getTrackingData></soapenv:Body>

Format quirks this module deals with:

- Authentication is a token, not a header secret: ``getAuth`` trades delisId + password for an
  ``authToken`` with its expiry (``authTokenExpires``, local time without offset: read in
  Berlin time, DPD Germany runs DELIS). The token is cached on the adapter instance (thread-safe)
  and fetched again once when DPD refuses it (a token revoked before its expiry).
- Faults arrive as HTTP 500 SOAP faults, so 500 is accepted and read: an
  ``authenticationFault`` (``DELICOM_ERR_AUTHENTICATION``) is our account's problem
  (``auth_failed``, raised as CarrierAuthError by ``track``); a ``faults{faultCode, message}``
  detail is about the number asked; a fault without either detail is DPD's server failing
  (``unavailable``), and a 500 that is not even a SOAP envelope is CarrierUnavailable.
- ``getTrackingData`` takes one ``parcelLabelNumber`` (14 digits; a 15th check character
  printed on labels is left off when asking) and the answer does not repeat it: ``parse``
  alone reports ``tracking_number`` "", ``track`` gives each answer the number it asked.
- ``trackingresult`` = ``shipmentInfo`` (service, a summary, not an event) + ``statusInfo[]``.
  Every text is a rich-text node: ``label/content``, ``description/content[]/content``,
  ``location/content``, ``date/content``; ``normalItems``/``importantItems``/``errorItems`` may
  add lines (the reason of a failure). Entries with ``statusHasBeenReached`` false are steps
  not reached yet (DPD shows them greyed) and are skipped; ``isCurrentStatus`` marks the
  current one, which is also the newest by time, so events are simply sorted by time.
- Two vocabularies: the detailed statuses of DPD Benelux answers (BetweenDepots, Depot, Courier,
  DeliveryFailure, ParcelShop, PickedUp, ReturningFromDelivery, Delivered) and DPD Germany's five
  summary states (ACCEPTED, AT_SENDING_DEPOT, ON_THE_ROAD, AT_DELIVERY_DEPOT, DELIVERED). DPD
  publishes no full list; the label is DPD's progress-bar stage ("Parcel out for delivery" on a
  Depot scan), so classification reads the code, then refines it with the texts: a return,
  refusal, damage, loss, address problem or absence said in the description wins over the code.
- ``date/content`` is a US-locale string, ``8/19/2021 5:11:26 PM``, in the local time of the
  scan's country; ``location/content`` is ``Mechelen (BE)``: city and ISO country, no postcode.
- No proof-of-delivery image, signatory or estimated delivery in this operation. A delivery that
  stands gets a POD with its date and place (mailbox, neighbour, pickup point) when the texts or
  an earlier ParcelShop stop say it.
- XML is parsed with the standard library; defusedxml is not installed, so a document declaring
  a DTD or an entity is refused before parsing (entity-expansion and external-entity attacks).
"""

from __future__ import annotations

import re
import threading
import xml.etree.ElementTree as ET  # noqa: S405 - only for type hints; parsing is tracking.carriers.soap's
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from tracking.carriers.base import (
    CarrierAdapter,
    CarrierAuthError,
    CarrierEvent,
    CarrierPayloadError,
    CarrierResponse,
    CarrierUnavailable,
    Location,
    ParseResult,
    PodData,
    TrackingError,
    TrackingResult,
    gateway_error,
    sort_events,
)
from tracking.carriers.jsonbody import json_load
from tracking.carriers.soap import child_text, soap_envelope
from tracking.carriers.timeparse import country_timezone, parse_datetime
from tracking.carriers.vocabulary import DELIVERY_LOCATION_TYPES, Status, Substatus

if TYPE_CHECKING:
    from tracking.carriers.http import CarrierHttpClient

LOGIN_PATH = "/soap/services/LoginService/V2_1"
TRACKING_PATH = "/soap/services/ParcelLifeCycleService/V2_0"
LOGIN_ACTION = "http://dpd.com/common/service/types/LoginService/2.1/getAuth"
TRACKING_ACTION = "http://dpd.com/common/service/types/ParcelLifeCycleService/2.0/getTrackingData"
AUTH_NS = "http://dpd.com/common/service/types/Authentication/2.0"
LANGUAGE = "en_EN"
AUTH_FAULT_CODE = "DELICOM_ERR_AUTHENTICATION"
# DELIS is DPD Germany's system: its naive times (token expiry) are German local time, and a
# scan without a country is read there too.
_HOME_COUNTRY = "DE"
# Renew the token this long before DPD says it expires, so a request never carries a token that
# expires on the way.
TOKEN_MARGIN = timedelta(minutes=5)

_D, _E, _F = Status.DELIVERED, Status.EXCEPTION, Status.FAILED_ATTEMPT

# DPD statusInfo/status -> our (status, substatus). DPD publishes no exhaustive list: these are
# the codes of the real Benelux answer (dpd_parcellifecycle_returning_from_delivery.xml) and
# DPD Germany's five summary states. Texts refine them (see _TEXT_RULES).
STATUS_MAP: dict[str, tuple[str, str | None]] = {
    # DPD Germany's summary states, in their order on the progress bar.
    "ACCEPTED": (Status.INFO_RECEIVED, None),  # order information transmitted to DPD
    "AT_SENDING_DEPOT": (Status.IN_TRANSIT, None),
    "ON_THE_ROAD": (Status.IN_TRANSIT, None),  # between the depots
    "AT_DELIVERY_DEPOT": (Status.IN_TRANSIT, None),
    "DELIVERED": (_D, None),
    # Benelux detailed statuses: physical scans on the way.
    "PickedUp": (Status.IN_TRANSIT, None),  # Parcel handed to DPD
    "BetweenDepots": (Status.IN_TRANSIT, None),  # at the parcel dispatch centre
    "Depot": (Status.IN_TRANSIT, None),  # at the parcel delivery centre
    # Last mile.
    "Courier": (Status.OUT_FOR_DELIVERY, None),  # on its way to the consignee
    "DeliveryFailure": (_F, None),  # not delivered; the reason, if any, is in the texts
    # Back at the delivery depot after an unsuccessful attempt: the failed attempt's aftermath
    # (a new attempt or a pickup follows), not a return to the sender.
    "ReturningFromDelivery": (_F, None),
    "ParcelShop": (Status.AVAILABLE_FOR_PICKUP, None),  # dropped at a Pickup parcelshop
    "Delivered": (_D, None),
}
# shipmentInfo's status: the shipment header, never an event.
SHIPMENT_HEADER = "SHIPMENT"

# Text keywords (casefolded, description + label + items) that override the code: DPD states
# reasons only in words. First match wins: a return delivered to the sender before a return.
_TEXT_RULES: tuple[tuple[str, tuple[str, str | None]], ...] = (
    ("returned to the sender", (_E, Substatus.EXCEPTION_RETURNED_TO_SENDER)),
    ("returned to sender", (_E, Substatus.EXCEPTION_RETURNED_TO_SENDER)),
    ("back to the sender", (_E, Substatus.EXCEPTION_RETURNING_TO_SENDER)),
    ("return to sender", (_E, Substatus.EXCEPTION_RETURNING_TO_SENDER)),
    ("refused", (_E, Substatus.EXCEPTION_REFUSED)),
    ("damaged", (_E, Substatus.EXCEPTION_DAMAGED)),
    ("cannot be located", (_E, Substatus.EXCEPTION_LOST)),
    ("could not be located", (_E, Substatus.EXCEPTION_LOST)),
    ("investigation", (_E, Substatus.EXCEPTION_LOST)),
    ("held by customs", (_E, Substatus.EXCEPTION_CUSTOMS)),
    ("held in customs", (_E, Substatus.EXCEPTION_CUSTOMS)),
    ("address is incorrect", (_E, Substatus.EXCEPTION_ADDRESS_ISSUE)),
    ("address is incomplete", (_E, Substatus.EXCEPTION_ADDRESS_ISSUE)),
    ("incorrect address", (_E, Substatus.EXCEPTION_ADDRESS_ISSUE)),
    ("not at home", (_F, Substatus.FAILED_ATTEMPT_RECIPIENT_ABSENT)),
    ("absent", (_F, Substatus.FAILED_ATTEMPT_RECIPIENT_ABSENT)),
)
# For codes missing from STATUS_MAP only: the everyday wording, after _TEXT_RULES.
_UNKNOWN_CODE_RULES: tuple[tuple[str, tuple[str, str | None]], ...] = (
    ("not been able to deliver", (_F, None)),
    ("parcelshop", (Status.AVAILABLE_FOR_PICKUP, None)),
    ("delivered", (_D, None)),
    ("out for delivery", (Status.OUT_FOR_DELIVERY, None)),
    ("on its way to the consignee", (Status.OUT_FOR_DELIVERY, None)),
    ("order information", (Status.INFO_RECEIVED, None)),
)
# Where a delivery happened, from its texts (first match wins).
_DELIVERED_PLACES: tuple[tuple[str, str], ...] = (
    ("parcelshop", Substatus.DELIVERED_PICKUP_POINT),
    ("pickup point", Substatus.DELIVERED_PICKUP_POINT),
    ("letterbox", Substatus.DELIVERED_MAILBOX),
    ("letter box", Substatus.DELIVERED_MAILBOX),
    ("mailbox", Substatus.DELIVERED_MAILBOX),
    ("neighbour", Substatus.DELIVERED_NEIGHBOUR),
)
# faults{faultCode, message} about the number asked: DPD documents no code list, so the words.
_NUMBER_FAULTS: tuple[tuple[str, str], ...] = (
    ("not_found", "not_found"),
    ("not found", "not_found"),
    ("no data", "not_found"),
    ("invalid", "invalid_number"),
)

# "8/19/2021 5:11:26 PM" (US locale); the seconds and AM/PM are read without the C library's
# locale-dependent %p.
_US_DATE = re.compile(
    r"(\d{1,2})/(\d{1,2})/(\d{4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s*([AP]M))?", re.IGNORECASE
)
# "Mechelen (BE)"
_PLACE = re.compile(r"(.*?)\s*\(([A-Za-z]{2})\)")

_LOGIN_ENVELOPE = (
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns:ns="http://dpd.com/common/service/types/LoginService/2.1">'
    "<soapenv:Header/><soapenv:Body><ns:getAuth>"
    "<delisId>{delis_id}</delisId><password>{password}</password>"
    "<messageLanguage>{language}</messageLanguage>"
    "</ns:getAuth></soapenv:Body></soapenv:Envelope>"
)
_TRACKING_ENVELOPE = (
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
    f'xmlns:ns="{AUTH_NS}" '
    'xmlns:ns1="http://dpd.com/common/service/types/ParcelLifeCycleService/2.0">'
    "<soapenv:Header><ns:authentication>"
    "<delisId>{delis_id}</delisId><authToken>{token}</authToken>"
    "<messageLanguage>{language}</messageLanguage>"
    "</ns:authentication></soapenv:Header>"
    "<soapenv:Body><ns1:getTrackingData><parcelLabelNumber>{number}</parcelLabelNumber>"
    "</ns1:getTrackingData></soapenv:Body></soapenv:Envelope>"
)
_XML_HEADERS = {"Content-Type": "text/xml; charset=utf-8"}


class DpdAdapter(CarrierAdapter):
    slug = "dpd"
    production_url = "https://public-ws.dpd.com"
    credentials = ("delis_id", "password")
    name = "DPD"
    number_patterns = (
        # Parcel label number: depot (4 digits) + serial (10 digits), as customers are given it.
        re.compile(r"\d{14}"),
        # The same with the printed ISO 7064 MOD 37,36 check character.
        re.compile(r"\d{14}[0-9A-Z]"),
    )
    status_map = STATUS_MAP
    # getTrackingData has a single parcelLabelNumber parameter: one parcel per call.
    batch_size = 1
    # DPD publishes no quota for the DELIS web services (the contract sets none we know of);
    # 2 calls/s keeps a polling back-office well below what a shared SOAP endpoint tolerates.
    requests_per_second = 2.0
    tracking_url_template = (
        "https://www.dpdgroup.com/nl/mydpd/my-parcels/track?lang=en&parcelNumber={number}"
    )

    def __init__(self, *, base_url: str, api_key: str = "", **options: object) -> None:
        super().__init__(base_url=base_url, api_key=api_key, **options)
        self.delis_id = str(options.get("delis_id", ""))
        self.password = str(options.get("password", ""))
        clock = options.get("clock")
        self._clock: Callable[[], datetime] = clock if callable(clock) else _utc_now
        self._lock = threading.Lock()
        self._token = ""
        self._token_expires_at: datetime | None = None

    # --- authentication -----------------------------------------------------------------------

    def auth_token(self, client: CarrierHttpClient, *, refused: str = "") -> str:
        """A valid authToken: the cached one, or a new one from getAuth.

        ``refused`` is a token DPD just refused: it is not reused, but a newer one another
        thread fetched meanwhile is. Raises CarrierAuthError when DPD refuses delisId/password.
        """
        with self._lock:
            expires = self._token_expires_at
            fresh = expires is not None and self._clock() < expires - TOKEN_MARGIN
            if self._token and fresh and self._token != refused:
                return self._token
            self._token, self._token_expires_at = self._login(client)
            return self._token

    def _login(self, client: CarrierHttpClient) -> tuple[str, datetime]:
        envelope = _LOGIN_ENVELOPE.format(
            delis_id=escape(self.delis_id), password=escape(self.password), language=LANGUAGE
        )
        response = client.request(
            "POST",
            f"{self.base_url}{LOGIN_PATH}",
            headers={**_XML_HEADERS, "SOAPAction": f'"{LOGIN_ACTION}"'},
            data=envelope.encode(),
            accept_status=frozenset({200, 500}),
        )
        return login_answer(response)

    # --- tracking -----------------------------------------------------------------------------

    def tracking_request(self, number: str, token: str) -> str:
        """The getTrackingData envelope for one number (escaped: a number is user input)."""
        return _TRACKING_ENVELOPE.format(
            delis_id=escape(self.delis_id),
            token=escape(token),
            language=LANGUAGE,
            number=escape(_label_number(number)),
        )

    def fetch(
        self, tracking_numbers: Sequence[str], *, client: CarrierHttpClient
    ) -> list[CarrierResponse]:
        """One SOAP POST per number, in the order asked (``track`` names the answers by it).

        A refused token is replaced once; a second refusal is returned and parsed as
        ``auth_failed``. Raises CarrierUnavailable for an HTTP 500 that is not a SOAP fault.
        """
        return [self._track_one(number, client) for number in tracking_numbers]

    def _track_one(self, number: str, client: CarrierHttpClient) -> CarrierResponse:
        token = self.auth_token(client)
        response = self._post_tracking(number, token, client)
        if _is_auth_fault(response):
            token = self.auth_token(client, refused=token)
            response = self._post_tracking(number, token, client)
            # Checked for its raise only: a second refusal is parsed as auth_failed by track.
            _is_auth_fault(response)
        return response

    def _post_tracking(self, number: str, token: str, client: CarrierHttpClient) -> CarrierResponse:
        return client.request(
            "POST",
            f"{self.base_url}{TRACKING_PATH}",
            headers={**_XML_HEADERS, "SOAPAction": f'"{TRACKING_ACTION}"'},
            data=self.tracking_request(number, token).encode(),
            accept_status=frozenset({200, 500}),
        )

    def parse(self, body: bytes) -> ParseResult:
        """A getTrackingData answer (or its SOAP fault) -> one shipment or one error, numbered ""
        (the answer does not carry the number; ``track`` supplies it).

        Raises CarrierPayloadError when the body is not such an answer.
        """
        # DPD's gateway answers 429/5xx in JSON, not SOAP.
        if (
            bytes(body).lstrip()[:1] == b"{"
            and (gateway := gateway_error(json_load(body, "DPD"))) is not None
        ):
            return ParseResult(errors=[gateway])
        root = soap_envelope(body, "DPD")
        soap_body = root.find("Body")
        if soap_body is None:
            raise CarrierPayloadError("DPD answer has no SOAP Body")
        fault = soap_body.find("Fault")
        if fault is not None:
            return ParseResult(errors=[_fault_error(fault)])
        result = soap_body.find("getTrackingDataResponse/trackingresult")
        if result is None:
            raise CarrierPayloadError("DPD answer has no getTrackingDataResponse/trackingresult")
        infos = result.findall("statusInfo")
        if not infos and result.find("shipmentInfo") is None:
            message = "DPD has no data for this parcel label number"
            return ParseResult(errors=[TrackingError("", "not_found", message)])
        return ParseResult(shipments=[self._shipment(infos)])

    # --- helpers ------------------------------------------------------------------------------

    def _shipment(self, infos: list[ET.Element]) -> TrackingResult:
        events = [self._event(info) for info in infos if _reached(info)]
        events = _mark_pickup_point_delivery(sort_events(events))
        result = TrackingResult(tracking_number="", events=sort_events(events))
        delivery = result.delivery
        if delivery is None:
            return result
        return replace(
            result,
            pod=PodData(
                delivered_at=delivery.occurred_at,
                location_type=DELIVERY_LOCATION_TYPES.get(delivery.substatus or "", ""),
            ),
        )

    def _event(self, info: ET.Element) -> CarrierEvent:
        code = child_text(info, "status")
        if not code:
            raise CarrierPayloadError("DPD statusInfo without status")
        label = _line(info.find("label"))
        description = _item(info.find("description"))
        items = " ".join(
            text
            for name in ("importantItems", "errorItems", "normalItems")
            for element in info.findall(name)
            if (text := _item(element))
        )
        location = _location(_line(info.find("location")))
        occurred_at = _occurred_at(_line(info.find("date")), location.country, code)
        message = " ".join(part for part in (description or label, items) if part)
        status, substatus = self._classify(code, f"{description} {label} {items}")
        return CarrierEvent(occurred_at, status, substatus, code, message, location)

    def _classify(self, code: str, text: str) -> tuple[str, str | None]:
        text = text.casefold()
        refined = next((rule for keyword, rule in _TEXT_RULES if keyword in text), None)
        if refined is not None:
            return refined
        if code in self.status_map:
            status, substatus = self.status_map[code]
        else:
            status, substatus = next(
                (rule for keyword, rule in _UNKNOWN_CODE_RULES if keyword in text),
                (Status.IN_TRANSIT, None),
            )
        if status == Status.DELIVERED and substatus is None:
            substatus = next((place for word, place in _DELIVERED_PLACES if word in text), None)
        return status, substatus


def login_answer(response: CarrierResponse) -> tuple[str, datetime]:
    """(authToken, its expiry) from a getAuth answer.

    Raises CarrierAuthError for an authentication fault, CarrierUnavailable for another fault,
    CarrierPayloadError for a body that is not a getAuth answer.
    """
    root = soap_envelope(response.body, "DPD LoginService")
    fault = root.find("./Body/Fault")
    if fault is not None:
        error = _fault_error(fault)
        if error.code == "auth_failed":
            raise CarrierAuthError(f"DPD: {error.message}")
        raise CarrierUnavailable(f"DPD LoginService fault: {error.message}")
    answer = root.find("./Body/getAuthResponse/return")
    token = child_text(answer, "authToken")
    if not token:
        raise CarrierPayloadError("DPD getAuth answer has no authToken")
    try:
        expires = parse_datetime(
            child_text(answer, "authTokenExpires"), default_tz=country_timezone(_HOME_COUNTRY)
        )
    except ValueError as exc:
        raise CarrierPayloadError("DPD getAuth answer has no valid authTokenExpires") from exc
    return token, expires


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _label_number(number: str) -> str:
    """The 14-digit parcelLabelNumber DPD expects: the printed check character left off."""
    compact = "".join(number.split()).upper()
    if len(compact) == 15 and compact[:14].isdigit():
        return compact[:14]
    return compact


def _is_auth_fault(response: CarrierResponse) -> bool:
    """Whether the answer is an HTTP 500 of DPD refusing our token. Raises CarrierUnavailable
    when a 500 is not a SOAP fault at all (a proxy's error page: DPD's server failed)."""
    if response.status_code != 500:
        return False
    try:
        root = soap_envelope(response.body, "DPD")
    except CarrierPayloadError as exc:
        raise CarrierUnavailable("DPD answered HTTP 500 without a SOAP fault") from exc
    fault = root.find("./Body/Fault")
    if fault is None:
        raise CarrierUnavailable("DPD answered HTTP 500 without a SOAP fault")
    return _fault_error(fault).code == "auth_failed"


def _fault_error(fault: ET.Element) -> TrackingError:
    """A SOAP fault as an error: about our account, the number asked, or DPD's server."""
    detail = fault.find("detail")
    auth = detail.find("authenticationFault") if detail is not None else None
    if auth is not None:
        code = child_text(auth, "errorCode") or AUTH_FAULT_CODE
        message = child_text(auth, "errorMessage") or code
        return TrackingError("", "auth_failed", message)
    faults = detail.find("faults") if detail is not None else None
    if faults is not None:
        code = child_text(faults, "faultCode")
        message = child_text(faults, "message") or code or "DPD fault"
        text = f"{code} {message}".casefold()
        ours = next((kind for word, kind in _NUMBER_FAULTS if word in text), "courier_error")
        return TrackingError("", ours, message)
    message = child_text(fault, "faultstring") or "DPD server fault"
    return TrackingError("", "unavailable", f"DPD server fault: {message}")


def _reached(info: ET.Element) -> bool:
    reached = child_text(info, "statusHasBeenReached").casefold()
    if reached not in {"true", "false", "1", "0"}:
        raise CarrierPayloadError(f"DPD statusHasBeenReached is not a boolean: {reached!r}")
    return reached in {"true", "1"}


def _line(element: ET.Element | None) -> str:
    """A ContentLine's text: ``<x><content>text</content><bold/>…</x>``."""
    return child_text(element, "content")


def _item(element: ET.Element | None) -> str:
    """A ContentItem's lines (``<x><content><content>text</content>…</content>…</x>``), joined."""
    if element is None:
        return ""
    return " ".join(text for line in element.findall("content") if (text := _line(line)))


def _location(text: str) -> Location:
    match = _PLACE.fullmatch(text)
    if match is None:
        return Location(city=text)
    return Location(city=match.group(1).strip(), country=match.group(2).upper())


def _occurred_at(text: str, country: str, code: str) -> datetime:
    """``8/19/2021 5:11:26 PM`` in the scan country's local time, made aware."""
    match = _US_DATE.fullmatch(text)
    if match is None:
        raise CarrierPayloadError(f"DPD {code}: date {text!r} is not M/d/yyyy h:mm:ss tt")
    month, day, year, hour, minute = (int(match.group(i)) for i in range(1, 6))
    second = int(match.group(6) or 0)
    meridiem = (match.group(7) or "").upper()
    if meridiem:
        if not 1 <= hour <= 12:
            raise CarrierPayloadError(f"DPD {code}: hour {hour} in a 12-hour date {text!r}")
        hour = hour % 12 + (12 if meridiem == "PM" else 0)
    zone = country_timezone(country or _HOME_COUNTRY)
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=zone)
    except ValueError as exc:
        raise CarrierPayloadError(f"DPD {code}: impossible date {text!r}") from exc


def _mark_pickup_point_delivery(events: Sequence[CarrierEvent]) -> list[CarrierEvent]:
    """A delivery after the parcel was left at a Pickup parcelshop is the buyer collecting it."""
    marked: list[CarrierEvent] = []
    at_shop = False
    for event in events:
        if event.status == Status.AVAILABLE_FOR_PICKUP:
            at_shop = True
        elif event.status == Status.OUT_FOR_DELIVERY:
            at_shop = False  # taken back out: a home delivery follows
        if at_shop and event.status == Status.DELIVERED and event.substatus is None:
            event = replace(event, substatus=Substatus.DELIVERED_PICKUP_POINT)
        marked.append(event)
    return marked
