"""DHL Express, legacy XML-PI: ``<TrackingResponse>`` with one ``<AWBInfo>`` per number, or a
request-level ``<ShipmentTrackingErrorResponse>`` (see the package docstring)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # noqa: S405 - only for type hints; parsing is tracking.carriers.soap's
from datetime import UTC, datetime, tzinfo

from tracking.carriers.base import CarrierPayloadError, TrackingError
from tracking.carriers.dhlexpress.common import (
    _LOCAL_WITH_OFFSET,
    COURIER,
    Reading,
    _area_location,
    _Checkpoint,
    _collapse,
    _local_time,
    _offset_zone,
    _service_area_zone,
)
from tracking.carriers.soap import child_text
from tracking.carriers.timeparse import (
    parse_datetime,
)


def parse_xmlpi(root: ET.Element) -> tuple[list[Reading], list[TrackingError]]:
    if root.tag == "TrackingResponse":
        readings, errors = [], []
        for awb in root.findall("AWBInfo"):
            reading, error = awb_reading(awb)
            if reading is not None:
                readings.append(reading)
            if error is not None:
                errors.append(error)
        return readings, errors
    if root.tag in {"ShipmentTrackingErrorResponse", "ErrorResponse"}:
        return [], [_xmlpi_request_error(root)]
    raise CarrierPayloadError(f"{COURIER} XML is not a TrackingResponse: <{root.tag}>")


def awb_reading(awb: ET.Element) -> tuple[Reading | None, TrackingError | None]:
    number = child_text(awb, "AWBNumber")
    action = child_text(awb, "Status/ActionStatus")
    if action.casefold() != "success":
        condition_code = child_text(awb, "Status/Condition/ConditionCode")
        message = _collapse(child_text(awb, "Status/Condition/ConditionData")) or action
        if not number:
            match = _AWB_IN_TEXT.search(message)
            number = match.group("number") if match else ""
        not_found = condition_code in XMLPI_NOT_FOUND or "no shipment" in action.casefold()
        code = "not_found" if not_found else "courier_error"
        return None, TrackingError(number, code, message or f"{COURIER}: {action}")
    if not number:
        raise CarrierPayloadError(f"{COURIER} AWBInfo without AWBNumber")
    info = awb.find("ShipmentInfo")
    if info is None:
        message = f"{COURIER} answered success but without shipment information"
        return None, TrackingError(number, "not_found", message)
    checkpoints = [_xmlpi_checkpoint(number, raw) for raw in info.findall("ShipmentEvent")]
    destination_zone = _service_area_zone(
        child_text(info, "DestinationServiceArea/ServiceAreaCode"),
        child_text(info, "DestinationServiceArea/Description"),
    )
    estimated = _xmlpi_estimate(number, info, destination_zone)
    return Reading(number, checkpoints, estimated), None


# XML-PI ConditionCode for "No Shipments Found".
XMLPI_NOT_FOUND = frozenset({"103", "209"})


# Request-level XML-PI failures about our credentials rather than the request.
_CREDENTIAL_WORDS = ("password", "siteid", "site id", "authentication", "authoris", "authoriz")
_AWB_IN_TEXT = re.compile(r"AWBNumber\s+(?P<number>\w+)", re.IGNORECASE)


def _xmlpi_checkpoint(number: str, raw: ET.Element) -> _Checkpoint:
    code = child_text(raw, "ServiceEvent/EventCode")
    if not code:
        raise CarrierPayloadError(f"{COURIER} AWB {number}: ShipmentEvent without EventCode")
    location, zone = _area_location(
        child_text(raw, "ServiceArea/ServiceAreaCode"), child_text(raw, "ServiceArea/Description")
    )
    occurred_at = _local_time(number, child_text(raw, "Date"), child_text(raw, "Time"), zone)
    return _Checkpoint(
        occurred_at=occurred_at,
        code=code,
        description=_collapse(child_text(raw, "ServiceEvent/Description")),
        signatory=child_text(raw, "Signatory"),
        location=location,
        zone=zone,
    )


def _xmlpi_estimate(number: str, info: ET.Element, zone: tzinfo) -> datetime | None:
    """``EstDlvyDate`` "2021-05-07 23:59:00 GMT-04:00" keeps its offset; else the UTC one."""
    local = child_text(info, "EstDlvyDate")
    if local:
        match = _LOCAL_WITH_OFFSET.match(local)
        if not match:
            raise CarrierPayloadError(f"{COURIER} AWB {number}: bad EstDlvyDate {local!r}")
        offset = match.group("offset")
        moment_zone = _offset_zone(number, offset) if offset else zone
        return _local_time(number, match.group("date"), match.group("time"), moment_zone)
    utc = child_text(info, "EstDlvyDateUTC")
    if utc:
        try:
            return parse_datetime(utc.replace(" ", "T"), default_tz=UTC)
        except ValueError as exc:
            raise CarrierPayloadError(f"{COURIER} AWB {number}: bad EstDlvyDateUTC") from exc
    return None


def _xmlpi_request_error(root: ET.Element) -> TrackingError:
    condition = root.find("Response/Status/Condition")
    if condition is None:
        condition = root.find(".//Condition")
    code_text = child_text(condition, "ConditionCode")
    message = _collapse(child_text(condition, "ConditionData")) or _collapse(
        child_text(root, "Response/Status/ActionStatus")
    )
    if not message and not code_text:
        raise CarrierPayloadError(f"{COURIER} error response without a condition")
    lowered = message.casefold()
    code = "auth_failed" if any(word in lowered for word in _CREDENTIAL_WORDS) else "courier_error"
    return TrackingError("", code, message or f"{COURIER} condition {code_text}")
