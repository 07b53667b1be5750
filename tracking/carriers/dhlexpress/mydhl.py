"""DHL Express, MyDHL API JSON: ``{"shipments": [...]}`` or an RFC-7807-like problem body (see the
package docstring for the format's quirks)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, date, datetime, tzinfo
from urllib.parse import unquote

from tracking.carriers.base import CarrierPayloadError, TrackingError
from tracking.carriers.dhlexpress.common import (
    COURIER,
    PRE_TRANSIT_CODE,
    Reading,
    _area_location,
    _Checkpoint,
    _collapse,
    _local_time,
    _offset_zone,
    _place,
    _zone,
)
from tracking.carriers.jsonbody import json_child, json_text
from tracking.carriers.timeparse import (
    parse_date_or_datetime,
    parse_datetime,
)


def parse_mydhl(payload: object) -> tuple[list[Reading], list[TrackingError]]:
    """A MyDHL answer: ``{"shipments": [...]}`` or a problem body naming what went wrong."""
    if not isinstance(payload, Mapping):
        raise CarrierPayloadError(f"{COURIER} answer is not a JSON object")
    if "shipments" in payload:
        shipments = payload["shipments"]
        if not isinstance(shipments, list):
            raise CarrierPayloadError(f"{COURIER} shipments is not a list")
        return [mydhl_reading(s) for s in shipments], []
    error = _problem_error(payload)
    if error is None:
        raise CarrierPayloadError(f"{COURIER} answer has neither shipments nor a problem")
    return [], [error]


def mydhl_reading(shipment: object) -> Reading:
    if not isinstance(shipment, Mapping):
        raise CarrierPayloadError(f"{COURIER} shipment is not an object")
    raw_number = shipment.get("shipmentTrackingNumber")
    if isinstance(raw_number, bool) or not isinstance(raw_number, str | int):
        raise CarrierPayloadError(f"{COURIER} shipment without shipmentTrackingNumber")
    number = str(raw_number).strip()
    if not number:
        raise CarrierPayloadError(f"{COURIER} shipment without shipmentTrackingNumber")
    raw_events = shipment.get("events") or []
    if not isinstance(raw_events, list):
        raise CarrierPayloadError(f"{COURIER} shipment {number}: events is not a list")
    checkpoints = [_mydhl_checkpoint(number, raw) for raw in raw_events]
    checkpoints.reverse()  # newest first: reversed, the stable sort keeps same-time order
    if not checkpoints:
        created = _shipment_created(number, shipment)
        checkpoints = [created] if created else []

    receiver = json_child(shipment, "receiverDetails")
    destination_zone = _party_zone(receiver) or (
        max(checkpoints, key=lambda c: c.occurred_at.timestamp()).zone if checkpoints else UTC
    )
    estimated = _optional(
        number,
        shipment.get("estimatedTimeOfDelivery") or shipment.get("estimatedDeliveryDate"),
        destination_zone,
    )
    return Reading(number, checkpoints, estimated)


# Problem status -> our per-number error code.
PROBLEM_CODES = {
    400: "invalid_request",
    401: "auth_failed",
    403: "auth_failed",
    404: "not_found",
    429: "rate_limited",
    500: "unavailable",
    503: "unavailable",
}
_INSTANCE_NUMBER = re.compile(r"/shipments/(?P<number>[^/?#]+)/tracking")
_QUERY_NUMBER = re.compile(r"[?&]shipmentTrackingNumber=(?P<number>[^&#]+)")


def _first_area(raw: Mapping[str, object]) -> Mapping[str, object]:
    areas = raw.get("serviceArea")
    if isinstance(areas, list) and areas and isinstance(areas[0], Mapping):
        return areas[0]
    return {}


def _party_zone(party: Mapping[str, object]) -> tzinfo | None:
    """The zone of a MyDHL shipperDetails/receiverDetails, None when it says nothing usable."""
    area = _first_area(party)
    address = json_child(party, "postalAddress")
    country = json_text(address, "countryCode").upper()
    code = json_text(area, "code")
    if not code and not country:
        return None
    _city, state, area_country = _place(json_text(area, "description"))
    return _zone(code, json_text(address, "provinceCode").upper() or state, country or area_country)


def _mydhl_checkpoint(number: str, raw: object) -> _Checkpoint:
    if not isinstance(raw, Mapping):
        raise CarrierPayloadError(f"{COURIER} shipment {number}: an event is not an object")
    code = json_text(raw, "typeCode")
    if not code:
        raise CarrierPayloadError(f"{COURIER} shipment {number}: event without typeCode")
    area = _first_area(raw)
    location, area_zone = _area_location(json_text(area, "code"), json_text(area, "description"))
    # The event's own offset wins; without it, the service area's zone.
    zone = _offset_zone(number, json_text(raw, "GMTOffset")) or area_zone
    occurred_at = _local_time(number, json_text(raw, "date"), json_text(raw, "time"), zone)
    return _Checkpoint(
        occurred_at=occurred_at,
        code=code,
        description=_collapse(json_text(raw, "description")),
        signatory=json_text(raw, "signedBy"),
        location=location,
        zone=zone,
    )


def _shipment_created(number: str, shipment: Mapping[str, object]) -> _Checkpoint | None:
    """DHL has the shipment's data but no scan yet: "information received" at its timestamp."""
    stamp = shipment.get("shipmentTimestamp")
    if not stamp:
        return None
    shipper = json_child(shipment, "shipperDetails")
    area = _first_area(shipper)
    location, area_zone = _area_location(json_text(area, "code"), json_text(area, "description"))
    country = json_text(json_child(shipper, "postalAddress"), "countryCode").upper()
    if country and not location.country:
        location = replace(location, country=country)
    zone = _party_zone(shipper) or area_zone
    try:
        occurred_at = parse_datetime(stamp, default_tz=zone)
    except ValueError as exc:
        raise CarrierPayloadError(f"{COURIER} {number}: bad shipmentTimestamp {stamp!r}") from exc
    return _Checkpoint(
        occurred_at=occurred_at,
        code=PRE_TRANSIT_CODE,
        description="Shipment information received",
        signatory="",
        location=location,
        zone=zone,
    )


def _optional(number: str, value: object, zone: tzinfo) -> date | datetime | None:
    if value is None or value == "":
        return None
    try:
        return parse_date_or_datetime(value, default_tz=zone)
    except ValueError as exc:
        raise CarrierPayloadError(f"{COURIER} {number}: bad estimated delivery {value!r}") from exc


def _problem_error(payload: Mapping[str, object]) -> TrackingError | None:
    """A MyDHL problem body as a per-number error; None when the body is not one."""
    raw_status = payload.get("status")
    if isinstance(raw_status, bool) or not isinstance(raw_status, str | int):
        return None
    status_text = str(raw_status).strip()
    if not status_text.isdigit():
        return None
    message = (
        json_text(payload, "detail") or json_text(payload, "message") or json_text(payload, "title")
    )
    if not message:
        return None
    status = int(status_text)
    code = PROBLEM_CODES.get(status, "unavailable" if status >= 500 else "courier_error")
    if code == "invalid_request" and "shipmenttrackingnumber" in message.casefold():
        code = "invalid_number"
    number = ""
    if code not in {"auth_failed", "rate_limited", "unavailable"}:
        instance = json_text(payload, "instance")
        match = _INSTANCE_NUMBER.search(instance)
        numbers = [m.group("number") for m in _QUERY_NUMBER.finditer(instance)]
        if match:
            number = unquote(match.group("number"))
        elif len(numbers) == 1:
            number = unquote(numbers[0])
    return TrackingError(tracking_number=number, code=code, message=message)
