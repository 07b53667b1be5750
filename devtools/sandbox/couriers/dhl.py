"""DHL "Shipment Tracking – Unified", emulated: ``GET /dhl/track/shipments?trackingNumber=<n>``.

Header ``DHL-API-Key``. 200 ``{"shipments": [...]}`` (parcel-de shape, events newest first,
``statusCode`` pre-transit/transit/delivered/failure, English texts, timestamps both with an
offset and as bare local time, as DHL really sends them) or an RFC 7807 problem (404 unknown).
Numbers: 10 digits with DHL Express's mod-7 check digit; ``99…`` is unknown.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from devtools.sandbox.couriers.base import (
    CourierRequest,
    ParcelSource,
    Reply,
    SandboxCourier,
    refuses,
)
from devtools.sandbox.formats import (
    delivery_step,
    newest_first,
    paris_iso,
    paris_local_iso,
    utc_iso,
)
from devtools.sandbox.journeys import FINAL_KINDS, Journey, Place, SeenStep, normalise_number

PATH = "/track/shipments"
PROBLEM_JSON = "application/problem+json"

# Step kind -> (statusCode, status, description), in the words DHL's parcel division uses.
DHL_EVENTS: dict[str, tuple[str, str, str]] = {
    "info_received": (
        "pre-transit",
        "Shipment information received",
        "The instruction data for this shipment have been provided by the sender to DHL "
        "electronically",
    ),
    "picked_up": ("transit", "Picked up", "The shipment has been picked up from the sender"),
    "in_transit_hub": (
        "transit",
        "In transit",
        "The shipment has been processed in the parcel center",
    ),
    "arrived_delivery_site": (
        "transit",
        "Arrived at delivery base",
        "The shipment has arrived at the delivery base",
    ),
    "out_for_delivery": (
        "transit",
        "Out for delivery",
        "The shipment has been loaded onto the delivery vehicle",
    ),
    "failed_attempt": (
        "failure",
        "Delivery attempt failed",
        "The recipient was not present (not at home). A notification card has been left; "
        "the shipment will be delivered again on the next working day",
    ),
    "available_for_pickup": (
        "transit",
        "Ready for pickup",
        "The shipment is ready for pickup at the Parcelshop",
    ),
    "delivered": ("delivered", "Delivered", "The shipment has been delivered to the recipient"),
    "delivered_mailbox": (
        "delivered",
        "Delivered",
        "The shipment has been delivered to the recipient's mailbox",
    ),
    "delivered_pickup_point": (
        "delivered",
        "Delivered",
        "The shipment has been collected by the recipient at the Parcelshop",
    ),
    "address_issue": (
        "failure",
        "Address problem",
        "The shipment could not be delivered because the address is incomplete or incorrect",
    ),
    "returning": (
        "failure",
        "Return to sender",
        "The shipment could not be delivered and is being returned to the sender",
    ),
    # DHL closes a return with a "delivered" scan at the sender's: only the text tells it apart
    # from a delivery to the buyer.
    "returned": (
        "delivered",
        "Returned to sender",
        "The shipment has been returned to sender and delivered back to the sender",
    ),
    "lost": (
        "failure",
        "Shipment not located",
        "The shipment could not be located. An investigation has been opened",
    ),
}

DHL_NOT_FOUND_DETAIL = "No shipment with given tracking number found."


def _dhl_address(place: Place) -> dict[str, Any]:
    return {
        "address": {
            "countryCode": place.country,
            "postalCode": place.postcode,
            "addressLocality": place.city,
        }
    }


def _dhl_event(seen: SeenStep) -> dict[str, Any]:
    status_code, status, description = DHL_EVENTS[seen.step.kind]
    # DHL really mixes both forms in one answer; alternating makes adapters cope with both.
    when = paris_iso(seen.at) if seen.step.offset % 2 == 0 else paris_local_iso(seen.at)
    return {
        "timestamp": when,
        "location": _dhl_address(seen.step.place),
        "statusCode": status_code,
        "status": status,
        "description": description,
    }


def dhl_shipment(
    journey: Journey, seen: Sequence[SeenStep], *, planned_delivery: datetime
) -> dict[str, Any]:
    """One entry of ``shipments`` for a known number."""
    events = [_dhl_event(s) for s in newest_first(seen)]
    delivery = delivery_step(seen)
    signed = delivery is not None and delivery.step.kind == "delivered"
    details: dict[str, Any] = {
        "product": {"productName": "DHL PAKET"},
        "proofOfDeliverySignedAvailable": signed,
        "totalNumberOfPieces": 1,
        "pieceIds": [journey.number],
    }
    if signed and delivery is not None:
        details["proofOfDelivery"] = {
            "timestamp": paris_iso(delivery.at),
            "signatureUrl": (
                f"https://webpod.dhl.com/webPOD/DHLePODRequest?awb={journey.number}&type=sig"
            ),
            "documentUrl": f"https://webpod.dhl.com/webPOD/DHLePODRequest?awb={journey.number}",
            "signed": {"@type": "Person", "name": journey.signed_by},
        }
    shipment: dict[str, Any] = {
        "id": journey.number,
        "service": "parcel-de",
        "origin": _dhl_address(journey.origin),
        "destination": _dhl_address(journey.destination),
        "status": dict(events[0]),
    }
    # Once the story is over DHL stops announcing an arrival time.
    if not any(s.step.kind in FINAL_KINDS for s in seen):
        shipment["estimatedTimeOfDelivery"] = utc_iso(planned_delivery)
    shipment["details"] = details
    shipment["events"] = events
    return shipment


def dhl_answer(shipments: list[dict[str, Any]]) -> dict[str, Any]:
    return {"shipments": shipments}


def dhl_problem(status: int, title: str, detail: str, instance: str = "") -> dict[str, Any]:
    """RFC 7807 problem document, as DHL answers errors."""
    problem: dict[str, Any] = {"title": title, "detail": detail, "status": status}
    if instance:
        problem["instance"] = instance
    return problem


def dhl_not_found(number: str) -> dict[str, Any]:
    return dhl_problem(404, "No result found", DHL_NOT_FOUND_DETAIL, f"/shipment/{number}")


def dhl_check_digit(serial: str) -> str:
    """DHL Express mod-7 check digit of the 9-digit serial."""
    return str(int(serial) % 7)


class DhlSandbox(SandboxCourier):
    slug = "dhl"
    number_patterns = (re.compile(r"[0-9]{10}"),)
    unknown_prefix = "99"

    def candidate(self, value: int) -> str:
        serial = f"{value % 10**9:09d}"
        return serial + dhl_check_digit(serial)

    def handle(self, request: CourierRequest, parcels: ParcelSource) -> Reply:
        if request.method != "GET" or request.path != PATH:
            return Reply(
                404,
                dhl_problem(404, "Not Found", f"No route for {request.path}"),
                content_type=PROBLEM_JSON,
            )
        if refuses(request.header("DHL-API-Key")):
            return Reply(
                401, dhl_problem(401, "Unauthorized", "Invalid API key"), content_type=PROBLEM_JSON
            )
        number = normalise_number(request.param("trackingNumber"))
        if not number:
            return Reply(
                400,
                dhl_problem(400, "Bad Request", "The trackingNumber parameter is required"),
                content_type=PROBLEM_JSON,
            )
        if not self.knows(number):
            return Reply(404, dhl_not_found(number), content_type=PROBLEM_JSON)
        parcel = parcels.parcel(self.slug, number)
        shipment = dhl_shipment(
            parcel.journey, parcel.seen, planned_delivery=parcel.planned_delivery
        )
        return Reply(200, dhl_answer([shipment]))

    def fault_reply(self, fault: str, retry_after_seconds: int) -> Reply:
        if fault == "error_429":
            return Reply(
                429,
                dhl_problem(429, "Too Many Requests", "Rate limit exceeded"),
                content_type=PROBLEM_JSON,
                headers=[("Retry-After", str(retry_after_seconds))],
            )
        return Reply(
            500,
            dhl_problem(500, "Internal Server Error", "Unexpected error"),
            content_type=PROBLEM_JSON,
        )


COURIER = DhlSandbox()
