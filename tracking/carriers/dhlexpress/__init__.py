"""DHL Express, through the MyDHL API (DHL Express's own REST API); reads the legacy XML-PI too.

    GET {base_url}/shipments/{shipmentTrackingNumber}/tracking?trackingView=all-checkpoints
        &levelOfDetail=shipment                                           (one number)
    GET {base_url}/tracking?shipmentTrackingNumber={a}&shipmentTrackingNumber={b}…
        &trackingView=all-checkpoints&levelOfDetail=shipment              (several numbers)
    Authorization: Basic base64({username}:{password})      Accept: application/json

(``base_url`` is ``https://express.api.dhl.com/mydhlapi``; DHL's test environment adds ``/test``.)
One module per format, one adapter: ``mydhl.py`` reads the MyDHL JSON, ``xmlpi.py`` the
legacy XML-PI, ``common.py`` what both share; this module fetches and classifies.
The existing ``dhl`` adapter speaks DHL's Shipment Tracking – Unified API; this one is for
merchants with a DHL Express (MyDHL API) account, and its ``parse`` also reads the XML-PI
``TrackingResponse`` that older DHL Express integrations still receive.

Format quirks this module deals with:

- MyDHL answers ``{"shipments": [...]}``; each shipment has ``shipmentTrackingNumber``,
  ``events[]`` newest first ``{date, time, GMTOffset, typeCode, description, serviceArea[{code,
  description}], signedBy}``, ``estimatedTimeOfDelivery`` (local, no offset) or
  ``estimatedDeliveryDate``, ``shipperDetails``/``receiverDetails``. Errors are RFC-7807-like
  problem bodies ``{instance, detail, title, message, status: "404"}`` (``status`` a string) that
  name the number only in ``instance``; a batch answer naming none concerns every number asked.
- A shipment DHL knows but has not scanned yet comes with no events: its ``shipmentTimestamp``
  becomes one "information received" event under DHL's shipment-level word ``pre-transit``.
- XML-PI answers ``<TrackingResponse>`` with one ``<AWBInfo>`` per number, oldest event first:
  ``ShipmentEvent{Date, Time, ServiceEvent{EventCode, Description}, Signatory, ServiceArea{
  ServiceAreaCode, Description}}``. ``Status/ActionStatus`` other than "success" ("No Shipments
  Found", ``ConditionCode`` 103) is a per-number error; a request-level failure is a
  ``<ShipmentTrackingErrorResponse>``. ``Signatory`` is only a person on the delivery (``OK``)
  checkpoint: DHL fills it with account numbers, "00:00:00" or the reweighed weight elsewhere.
- Times: XML-PI's ``Date`` + ``Time`` are local to the checkpoint's service area, with no offset;
  MyDHL adds ``GMTOffset`` ("+09:00"), kept when present. Without it the zone comes from the
  service area: its code (an IATA-style city/airport code, ``SERVICE_AREA_ZONES``), else a US
  state ("New York, NY"), else the country at the end of its description ("Barcelona - Spain",
  "KINGSTON-JAM", "Brisbane-AU"), else UTC (never a guess).
- Estimated delivery: XML-PI ``EstDlvyDate`` "2021-05-07 23:59:00 GMT-04:00" (with its offset;
  ``EstDlvyDateUTC`` as a fallback); MyDHL ``estimatedTimeOfDelivery`` read in the destination's
  zone (receiver's service area or country; without them the latest checkpoint's, where the
  parcel is nearest its destination), or the bare day ``estimatedDeliveryDate``.
- Proof of delivery: the standing ``OK`` checkpoint's ``signedBy``/``Signatory``. The signed ePOD
  (``GET /shipments/{n}/proof-of-delivery``, a base64 PDF) is a separate call not made here, so
  no document is referenced.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING
from urllib.parse import quote

from tracking.carriers.base import (
    CarrierAdapter,
    CarrierAnswer,
    CarrierAuthError,
    CarrierEvent,
    CarrierResponse,
    ParseResult,
    PodData,
    TrackingError,
    TrackingResult,
    gateway_error,
    raise_account_errors,
    sort_events,
)
from tracking.carriers.dhlexpress.common import (
    _HELD,
    COURIER,
    DELIVERED_CODE,
    DELIVERED_TEXTS,
    HELD_TEXTS,
    SAMPLE_CODES,
    SERVICE_AREA_ZONES,
    STATUS_MAP,
    Reading,
    _person,
)
from tracking.carriers.dhlexpress.mydhl import parse_mydhl
from tracking.carriers.dhlexpress.xmlpi import parse_xmlpi
from tracking.carriers.jsonbody import json_load
from tracking.carriers.soap import xml_document
from tracking.carriers.vocabulary import DELIVERY_LOCATION_TYPES, Status, Substatus
from tracking.detection.checksums import mod7_check

if TYPE_CHECKING:
    from tracking.carriers.http import CarrierHttpClient

# Part of the adapter's public names (tests and the sandbox read them here).
__all__ = ["SAMPLE_CODES", "SERVICE_AREA_ZONES", "STATUS_MAP", "DhlExpressAdapter"]

# Every checkpoint, for the whole shipment (not per piece): what a tracking history needs.
TRACKING_PARAMS = {"trackingView": "all-checkpoints", "levelOfDetail": "shipment"}
_WAYBILL = re.compile(r"\d{10}")


class DhlExpressAdapter(CarrierAdapter):
    slug = "dhlexpress"
    production_url = "https://express.api.dhl.com/mydhlapi"
    credentials = ("username", "password")
    name = "DHL Express"
    # DHL Express waybill: 10 digits, the last the mod-7 check of the first nine (see matches).
    # Number detection keeps giving such numbers to ``dhl`` (the Unified API tracks Express
    # waybills too); a shipment is registered with ``dhlexpress`` when the seller has a MyDHL
    # API account.
    number_patterns = (_WAYBILL,)
    status_map = STATUS_MAP
    # The MyDHL API takes shipmentTrackingNumber repeated in one GET /tracking. Its maximum is
    # not stated in the stored docs; 10 keeps the URL short and one bad answer small.
    batch_size = 10
    # No per-second quota is published for MyDHL tracking (contracts set daily call limits):
    # one call a second stays well inside any of them.
    requests_per_second = 1.0
    tracking_url_template = "https://www.dhl.com/fr-fr/home/tracking/tracking-express.html?submit=1&tracking-id={number}"

    def __init__(self, *, base_url: str, api_key: str = "", **options: object) -> None:
        super().__init__(base_url=base_url, api_key=api_key, **options)
        self.username = str(options.get("username", ""))
        self.password = str(options.get("password", ""))

    def matches(self, tracking_number: str) -> bool:
        return super().matches(tracking_number) and (
            mod7_check(tracking_number[:-1]) == tracking_number[-1]
        )

    # --- HTTP -----------------------------------------------------------------------------------

    def fetch(
        self, tracking_numbers: Sequence[str], *, client: CarrierHttpClient
    ) -> list[CarrierResponse]:
        """One GET per batch of ``batch_size`` numbers; 400/404 problem bodies are kept.

        Raises CarrierAuthError without calling DHL when the credentials are not configured.
        """
        if not self.username or not self.password:
            raise CarrierAuthError("DHL Express credentials (username, password) are not set")
        token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode("ascii")
        headers = {"Authorization": f"Basic {token}", "Accept": "application/json"}
        responses = []
        for batch in self._requests(tracking_numbers):
            if len(batch) == 1:
                url = f"{self.base_url}/shipments/{quote(batch[0], safe='')}/tracking"
                params: dict[str, str | list[str]] = dict(TRACKING_PARAMS)
            else:
                url = f"{self.base_url}/tracking"
                params = {"shipmentTrackingNumber": list(batch), **TRACKING_PARAMS}
            responses.append(
                client.request(
                    "GET",
                    url,
                    headers=headers,
                    params=params,
                    accept_status=frozenset({200, 400, 404}),
                )
            )
        return responses

    def fetch_and_parse(
        self, tracking_numbers: Sequence[str], *, client: CarrierHttpClient
    ) -> list[CarrierAnswer]:
        """As the base class, for batches: an error naming no number (a 404 for a whole batch)
        concerns every number that request asked about."""
        responses = self.fetch(tracking_numbers, client=client)
        batches = self._requests(tracking_numbers)
        answers = []
        for batch, response in zip(batches, responses, strict=True):
            result = self.parse(response.body)
            raise_account_errors(self.name, result)
            answers.append(CarrierAnswer(response, _name_batch_errors(result, batch)))
        return answers

    def _requests(self, tracking_numbers: Sequence[str]) -> list[Sequence[str]]:
        """The numbers of each request: well-formed ones in batches, any other alone, so that
        DHL's 400 for one malformed number does not sink a whole batch."""
        well_formed = [n for n in tracking_numbers if _WAYBILL.fullmatch(n)]
        others = [[n] for n in tracking_numbers if not _WAYBILL.fullmatch(n)]
        return [*_batches(well_formed, self.batch_size), *others]

    # --- Parsing --------------------------------------------------------------------------------

    def parse(self, body: bytes) -> ParseResult:
        """A MyDHL JSON answer, or an XML-PI TrackingResponse / error response.

        Raises CarrierPayloadError when the body is neither (not JSON/XML, DTD, wrong shape).
        """
        if bytes(body).lstrip()[:1] == b"<":
            readings, errors = parse_xmlpi(xml_document(body, COURIER))
        else:
            payload = json_load(body, COURIER, "answer (not XML either)")
            if (gateway := gateway_error(payload)) is not None:
                return ParseResult(errors=[gateway])
            readings, errors = parse_mydhl(payload)
        return ParseResult(shipments=[self._result(r) for r in readings], errors=errors)

    # Both --------------------------------------------------------------------------------------

    def _result(self, reading: Reading) -> TrackingResult:
        number, checkpoints, estimated = reading.number, reading.checkpoints, reading.estimated
        signatories: dict[int, str] = {}
        events = []
        for checkpoint in checkpoints:
            signed_by = _person(checkpoint.signatory) if checkpoint.code == DELIVERED_CODE else ""
            status, substatus = self._classify(
                checkpoint.code, checkpoint.description, signed=bool(signed_by)
            )
            event = CarrierEvent(
                checkpoint.occurred_at,
                status,
                substatus,
                checkpoint.code,
                checkpoint.description,
                checkpoint.location,
            )
            events.append(event)
            if signed_by:
                signatories[id(event)] = signed_by
        ordered = sort_events(events)
        result = TrackingResult(
            tracking_number=number, events=ordered, estimated_delivery=estimated
        )
        delivery = result.delivery
        if delivery is None:
            return result
        delivery = next(e for e in reversed(ordered) if e.status == Status.DELIVERED)
        return replace(
            result,
            pod=PodData(
                delivered_at=delivery.occurred_at,
                signed_by=signatories.get(id(delivery), ""),
                location_type=DELIVERY_LOCATION_TYPES.get(delivery.substatus or "", ""),
            ),
        )

    def _classify(self, code: str, description: str, *, signed: bool) -> tuple[str, str | None]:
        """The code's row, refined by the description where the code cannot say more."""
        status, substatus = self.map_status(code)
        text = description.casefold()
        if status == Status.DELIVERED:
            for keyword, refined in DELIVERED_TEXTS:
                if keyword in text:
                    return refined
            return status, Substatus.DELIVERED_SIGNED if signed else None
        if (status, substatus) == _HELD:
            for keyword, refined in HELD_TEXTS:
                if keyword in text:
                    return refined
        return status, substatus


def _batches(numbers: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(numbers), size):
        yield numbers[start : start + size]


def _name_batch_errors(result: ParseResult, batch: Sequence[str]) -> ParseResult:
    errors: list[TrackingError] = []
    for error in result.errors:
        if error.tracking_number:
            errors.append(error)
        else:
            errors.extend(replace(error, tracking_number=number) for number in batch)
    return ParseResult(shipments=list(result.shipments), errors=errors)
