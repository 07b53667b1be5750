"""AfterShip Tracking, emulated: ``GET /aftership/tracking/2025-04/trackings?tracking_numbers=…``.

Header ``as-api-key`` (401 envelope without it). 200 ``{"meta": {"code": 200…}, "data":
{"pagination": {…}, "trackings": [...]}}`` with the 2025-04 tracking objects: checkpoints oldest
first, each with AfterShip's ``tag``/``subtag`` and the underlying courier's own French text,
``country_region`` in ISO alpha-3, ``checkpoint_time`` alternately with an offset and as bare
local time (both happen). Like the real list endpoint, numbers AfterShip does not track are
simply left out of ``trackings``; more than 50 numbers is a 400 envelope (meta code 4008).

Like AfterShip, it answers only for trackings registered first: ``POST
/aftership/tracking/2025-04/trackings`` {"tracking_number"} creates one (201, meta 201; a second
time 400 meta 4003 "Tracking already exists."); the list leaves unregistered numbers out and
``GET …/trackings/<number>`` answers 404 meta 4004 for them. Registering anchors the journey.

Numbers: ``AS`` followed by 10 digits (``AS0123456789``), standing for the tracking numbers of
whatever courier AfterShip follows; ``AS99…`` is well formed but not tracked ("not found").
The underlying courier (``slug``) is picked from the number's last digit.

``signed_webhook(parcel, secret, ts)`` builds AfterShip's webhook for a parcel's current state:
``{"event": "tracking_update", "event_id", "is_tracking_first_tag", "msg": <tracking>, "ts"}``
and its ``aftership-hmac-sha256`` signature, to POST to Parcelle's inbound endpoint.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from devtools.sandbox.couriers.base import (
    CourierRequest,
    Parcel,
    ParcelSource,
    Reply,
    SandboxCourier,
    refuses,
)
from devtools.sandbox.formats import delivery_step, paris_iso, paris_local_iso, utc_iso
from devtools.sandbox.journeys import FINAL_KINDS, Journey, Place, SeenStep, normalise_number

PATH = "/tracking/2025-04/trackings"
MAX_NUMBERS = 50
SIGNATURE_HEADER = "aftership-hmac-sha256"
# Couriers AfterShip would be following for us (real AfterShip slugs), by the number's last digit.
UNDERLYING_SLUGS = ("la-poste-colissimo", "chronopost-france", "dpd-fr", "mondialrelay", "gls")

# Step kind -> (tag, subtag, subtag_message, courier's own message).
AFTERSHIP_CHECKPOINTS: dict[str, tuple[str, str, str, str]] = {
    "info_received": (
        "InfoReceived",
        "InfoReceived_001",
        "Info Received",
        "Votre colis est en cours de préparation chez l'expéditeur",
    ),
    "picked_up": (
        "InTransit",
        "InTransit_002",
        "Acceptance scan",
        "Votre colis a été pris en charge par le transporteur",
    ),
    "in_transit_hub": (
        "InTransit",
        "InTransit_003",
        "Arrival scan",
        "Votre colis est en transit sur nos plateformes logistiques",
    ),
    "arrived_delivery_site": (
        "InTransit",
        "InTransit_001",
        "In Transit",
        "Votre colis est arrivé sur son site de distribution",
    ),
    "out_for_delivery": (
        "OutForDelivery",
        "OutForDelivery_001",
        "Out for Delivery",
        "Votre colis est en cours de livraison",
    ),
    "failed_attempt": (
        "AttemptFail",
        "AttemptFail_002",
        "Recipient not available at the given address",
        "Votre colis n'a pas pu être livré : destinataire absent. Un avis de passage a été déposé",
    ),
    "available_for_pickup": (
        "AvailableForPickup",
        "AvailableForPickup_001",
        "Available for pickup",
        "Votre colis est disponible dans votre point de retrait",
    ),
    "delivered": ("Delivered", "Delivered_003", "Sign by customer", "Votre colis est livré"),
    "delivered_mailbox": (
        "Delivered",
        "Delivered_001",
        "Delivered",
        "Votre colis a été déposé dans votre boîte aux lettres",
    ),
    "delivered_pickup_point": (
        "Delivered",
        "Delivered_002",
        "Picked up by the customer",
        "Votre colis a été retiré en point de retrait",
    ),
    "address_issue": (
        "Exception",
        "Exception_007",
        "Incorrect Address",
        "Votre colis ne peut pas être livré : l'adresse est incomplète ou erronée",
    ),
    "returning": (
        "Exception",
        "Exception_010",
        "Returning to sender",
        "Votre colis est retourné à l'expéditeur",
    ),
    "returned": (
        "Exception",
        "Exception_011",
        "Returned to sender",
        "Votre colis a été livré à l'expéditeur",
    ),
    "lost": (
        "Exception",
        "Exception_013",
        "Shipment lost",
        "Votre colis n'a pas pu être localisé. Une enquête est ouverte",
    ),
}
# Only a mailbox delivery says where the parcel was left.
DELIVERY_LOCATION_TYPES = {"delivered_mailbox": "Mailbox", "delivered_pickup_point": "Pickup point"}
COUNTRY_ISO3 = {"FR": "FRA"}
COUNTRY_NAMES = {"FR": "France"}


def _hex_id(*parts: str, length: int = 32) -> str:
    return hashlib.sha256(":".join(parts).encode()).hexdigest()[:length]


def underlying_slug(number: str) -> str:
    return UNDERLYING_SLUGS[int(number[-1]) % len(UNDERLYING_SLUGS)]


def _checkpoint(number: str, seen: SeenStep) -> dict[str, Any]:
    tag, subtag, subtag_message, message = AFTERSHIP_CHECKPOINTS[seen.step.kind]
    place: Place = seen.step.place
    # AfterShip passes the courier's time on as it came: sometimes with an offset, sometimes not.
    when = paris_iso(seen.at) if seen.step.offset % 2 == 0 else paris_local_iso(seen.at)
    return {
        "created_at": utc_iso(seen.at),
        "slug": underlying_slug(number),
        "checkpoint_time": when,
        "location": place.city.upper(),
        "city": place.city,
        "state": None,
        "zip": place.postcode,
        "coordinate": None,
        "country_region": COUNTRY_ISO3.get(place.country, place.country),
        "country_region_name": COUNTRY_NAMES.get(place.country, place.country),
        "message": message,
        "tag": tag,
        "subtag": subtag,
        "subtag_message": subtag_message,
        "raw_tag": None,
        "events": [],
        "source": "carrier",
    }


def aftership_tracking(
    journey: Journey, seen: Sequence[SeenStep], *, planned_delivery: datetime
) -> dict[str, Any]:
    """The 2025-04 tracking object for a parcel in its current state."""
    number = journey.number
    checkpoints = [_checkpoint(number, s) for s in seen]  # oldest first, as AfterShip lists them
    last = checkpoints[-1] if checkpoints else None
    delivery = delivery_step(seen)
    signed = delivery is not None and delivery.step.kind == "delivered"
    finished = any(s.step.kind in FINAL_KINDS for s in seen)
    estimate = None
    if not finished:
        day = paris_iso(planned_delivery)[:10]
        estimate = {
            "type": "specific",
            "source": "Carrier EDD",
            "datetime": day,
            "datetime_min": None,
            "datetime_max": None,
            "revise_reason": None,
        }
    first_seen = seen[0].at if seen else planned_delivery
    return {
        "id": _hex_id("aftership", number),
        "legacy_id": _hex_id("legacy", number, length=24),
        "created_at": utc_iso(first_seen),
        "updated_at": utc_iso(seen[-1].at) if seen else utc_iso(first_seen),
        "tracking_number": number,
        "slug": underlying_slug(number),
        "active": not finished,
        "custom_fields": None,
        "origin_country_region": COUNTRY_ISO3.get(journey.origin.country),
        "origin_city": journey.origin.city,
        "origin_postal_code": journey.origin.postcode,
        "destination_country_region": COUNTRY_ISO3.get(journey.destination.country),
        "destination_city": journey.destination.city,
        "destination_postal_code": journey.destination.postcode,
        "courier_destination_country_region": COUNTRY_ISO3.get(journey.destination.country),
        "shipment_package_count": 1,
        "shipment_delivery_date": paris_iso(delivery.at) if delivery else None,
        "signed_by": journey.signed_by if signed else None,
        "source": "api",
        "tag": last["tag"] if last else "Pending",
        "subtag": last["subtag"] if last else "Pending_001",
        "subtag_message": last["subtag_message"] if last else "Pending",
        "title": number,
        "tracked_count": len(seen),
        "return_to_sender": any(s.step.kind in {"returning", "returned"} for s in seen),
        "latest_estimated_delivery": estimate,
        "delivery_location_type": (
            DELIVERY_LOCATION_TYPES.get(delivery.step.kind) if delivery else None
        ),
        "checkpoints": checkpoints,
    }


def aftership_envelope(code: int, message: str, error_type: str, data: Any) -> dict[str, Any]:
    return {"meta": {"code": code, "message": message, "type": error_type}, "data": data}


def aftership_list(trackings: list[dict[str, Any]]) -> dict[str, Any]:
    pagination = {"total": len(trackings), "next_cursor": None, "has_next_page": False}
    return aftership_envelope(200, "OK", "OK", {"pagination": pagination, "trackings": trackings})


def webhook_signature(secret: str, body: bytes) -> str:
    """AfterShip's ``aftership-hmac-sha256``: base64 of HMAC-SHA256 over the raw body."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def signed_webhook(parcel: Parcel, secret: str, ts: int) -> tuple[dict[str, str], bytes]:
    """AfterShip's ``tracking_update`` webhook for ``parcel`` as it stands, signed with ``secret``.

    ``event_id`` is a UUID v4 derived from the number and the number of visible steps: the same
    state re-sent is the same event (as AfterShip's retries are), a new step a new event.
    """
    tracking = aftership_tracking(
        parcel.journey, parcel.seen, planned_delivery=parcel.planned_delivery
    )
    digest = hashlib.sha256(f"{parcel.journey.number}:{len(parcel.seen)}".encode()).digest()
    event_id = str(uuid.UUID(bytes=digest[:16], version=4))
    tags = [s.step.status for s in parcel.seen]
    payload = {
        "event": "tracking_update",
        "event_id": event_id,
        "is_tracking_first_tag": len(tags) > 0 and tags.count(tags[-1]) == 1,
        "msg": tracking,
        "ts": ts,
    }
    body = json.dumps(payload, ensure_ascii=False).encode()
    headers = {
        "content-type": "application/json",
        SIGNATURE_HEADER: webhook_signature(secret, body),
    }
    return headers, body


class AfterShipSandbox(SandboxCourier):
    slug = "aftership"
    number_patterns = (re.compile(r"AS[0-9]{10}"),)
    unknown_prefix = "AS99"

    def candidate(self, value: int) -> str:
        return f"AS{value % 10**10:010d}"

    def handle(self, request: CourierRequest, parcels: ParcelSource) -> Reply:
        single = request.path.startswith(PATH + "/")
        if (request.method, request.path) not in {("GET", PATH), ("POST", PATH)} and not (
            request.method == "GET" and single
        ):
            return Reply(
                404, aftership_envelope(404, "The URI requested is invalid.", "NotFound", {})
            )
        if refuses(request.header("as-api-key")):
            return Reply(401, aftership_envelope(401, "Invalid API key.", "Unauthorized", {}))
        if request.method == "POST":
            return self._create(request, parcels)
        if single:
            return self._get_one(normalise_number(request.path[len(PATH) + 1 :]), parcels)
        numbers = [normalise_number(n) for n in request.param("tracking_numbers").split(",")]
        numbers = [n for n in numbers if n]
        if len(numbers) > MAX_NUMBERS:
            return Reply(
                400,
                aftership_envelope(
                    4008, "The value of `tracking_numbers` is invalid.", "BadRequest", {}
                ),
            )
        trackings = []
        for number in dict.fromkeys(numbers):  # asked twice, listed once
            if not (self.knows(number) and parcels.is_registered(self.slug, number)):
                continue  # not a tracking of this account: the list simply leaves it out
            parcel = parcels.parcel(self.slug, number)
            trackings.append(
                aftership_tracking(
                    parcel.journey, parcel.seen, planned_delivery=parcel.planned_delivery
                )
            )
        return Reply(200, aftership_list(trackings))

    def _create(self, request: CourierRequest, parcels: ParcelSource) -> Reply:
        """``POST /trackings`` {"tracking_number", "slug"?}: 201 with the new tracking; 400
        meta 4003 "Tracking already exists." (with it) when it was registered before; 4005 for
        a number of no format, 4012 when AfterShip cannot find a courier for it (AS99…)."""
        try:
            fields = json.loads(request.body or b"{}")
        except ValueError:
            fields = None
        if not isinstance(fields, dict):
            return Reply(400, aftership_envelope(4001, "Invalid JSON data.", "BadRequest", {}))
        raw = fields.get("tracking_number")
        number = normalise_number(raw) if isinstance(raw, str) else ""
        if not number:
            return Reply(
                400,
                aftership_envelope(4007, "`tracking_number` is required.", "BadRequest", {}),
            )
        if not self.is_well_formed(number):
            return Reply(
                400,
                aftership_envelope(
                    4005, "The value of `tracking_number` is invalid.", "BadRequest", {}
                ),
            )
        if self.is_unknown(number):
            return Reply(
                400,
                aftership_envelope(
                    4012, "Cannot detect courier. Activate courier at admin.", "BadRequest", {}
                ),
            )
        created = parcels.register(self.slug, number)
        parcel = parcels.parcel(self.slug, number)
        tracking = aftership_tracking(
            parcel.journey, parcel.seen, planned_delivery=parcel.planned_delivery
        )
        if not created:
            return Reply(
                400,
                aftership_envelope(
                    4003, "Tracking already exists.", "BadRequest", {"tracking": tracking}
                ),
            )
        return Reply(201, aftership_envelope(201, "Created", "Created", {"tracking": tracking}))

    def _get_one(self, number: str, parcels: ParcelSource) -> Reply:
        """``GET /trackings/<number>`` (the sandbox's id is the number): 404 meta 4004 for a
        number nobody registered, as AfterShip answers."""
        if not (self.knows(number) and parcels.is_registered(self.slug, number)):
            return Reply(404, aftership_envelope(4004, "Tracking does not exist.", "NotFound", {}))
        parcel = parcels.parcel(self.slug, number)
        tracking = aftership_tracking(
            parcel.journey, parcel.seen, planned_delivery=parcel.planned_delivery
        )
        return Reply(200, aftership_envelope(200, "OK", "OK", {"tracking": tracking}))

    def fault_reply(self, fault: str, retry_after_seconds: int) -> Reply:
        if fault == "error_429":
            return Reply(
                429,
                aftership_envelope(
                    429,
                    "You have exceeded the API call rate limit. The default limit is 10 "
                    "requests per second.",
                    "TooManyRequests",
                    {},
                ),
                headers=[("Retry-After", str(retry_after_seconds))],
            )
        return Reply(500, aftership_envelope(500, "Something went wrong.", "InternalError", {}))


COURIER = AfterShipSandbox()
