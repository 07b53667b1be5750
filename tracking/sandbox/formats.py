"""Render a journey's visible steps in each courier's real API format.

The shapes follow the samples in ``tests/fixtures/carriers`` (see its README, sections 1 and 3):

- La Poste "Suivi v2": one object per tracking number (an array of them when several numbers
  were asked for), events newest first with La Poste's 3-character codes, French labels and
  dates in Paris time with their ``+01:00``/``+02:00`` offset; per-number error objects
  ``{returnCode 400|404, returnMessage, lang, scope, idShip}``.
- DHL "Shipment Tracking – Unified" (parcel-de): ``{"shipments": [...]}``, events newest first
  with ``statusCode`` pre-transit/transit/delivered/failure and English texts; timestamps mix the
  two forms DHL really sends (with an offset, and bare local time). Unknown numbers get the
  RFC 7807 problem ``{title, detail, status 404, instance}``.

Everything here is pure: the server decides which steps are visible and when they happened.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

from tracking.sandbox.journeys import DELIVERED_KINDS, FINAL_KINDS, Journey, Place, SeenStep

# --- Paris time -------------------------------------------------------------------------------


def _last_sunday(year: int, month: int) -> date:
    day = date(year, month + 1, 1) - timedelta(days=1)
    return day - timedelta(days=(day.weekday() - 6) % 7)


def paris_offset(moment: datetime) -> timedelta:
    """France's UTC offset at ``moment`` (aware). France follows the EU summer-time rule (last
    Sunday of March to last Sunday of October, switching at 01:00 UTC); computing it here keeps
    the sandbox free of any time-zone database."""
    moment = moment.astimezone(UTC)
    summer_starts = datetime.combine(_last_sunday(moment.year, 3), time(1), UTC)
    summer_ends = datetime.combine(_last_sunday(moment.year, 10), time(1), UTC)
    return timedelta(hours=2) if summer_starts <= moment < summer_ends else timedelta(hours=1)


def to_paris(moment: datetime) -> datetime:
    return moment.astimezone(timezone(paris_offset(moment))).replace(microsecond=0)


def paris_iso(moment: datetime) -> str:
    """``2024-05-19T10:00:00+02:00``"""
    return to_paris(moment).isoformat()


def paris_local_iso(moment: datetime) -> str:
    """``2024-05-19T10:00:00``: local wall-clock time without an offset, as DHL often sends."""
    return to_paris(moment).replace(tzinfo=None).isoformat()


def utc_iso(moment: datetime) -> str:
    """``2024-05-19T08:00:00Z``"""
    return moment.astimezone(UTC).replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def _newest_first(seen: Sequence[SeenStep]) -> list[SeenStep]:
    return sorted(seen, key=lambda s: (s.at, s.step.offset), reverse=True)


def _delivery(seen: Sequence[SeenStep]) -> SeenStep | None:
    delivered = [s for s in seen if s.step.kind in DELIVERED_KINDS]
    return delivered[-1] if delivered else None


# --- La Poste Suivi v2 ------------------------------------------------------------------------

# Step kind -> (La Poste event code, French label). Labels follow La Poste's customer wording;
# the three DI1 labels say how the parcel was handed over, which Suivi v2 tells only in words.
LAPOSTE_EVENTS: dict[str, tuple[str, str]] = {
    "info_received": (
        "DR1",
        "Votre Colissimo va bientôt nous être confié ! Il est en cours de préparation chez "
        "votre expéditeur.",
    ),
    "picked_up": ("PC1", "Votre colis a été déposé dans un point postal."),
    "in_transit_hub": ("ET1", "Votre colis est en transit sur nos plateformes logistiques."),
    "arrived_delivery_site": ("ET3", "Votre colis est arrivé sur son site de livraison."),
    "out_for_delivery": ("MD2", "Votre colis est en cours de livraison."),
    "failed_attempt": (
        "ND1",
        "Votre colis n'a pas pu être livré : vous étiez absent lors de notre passage. Un avis "
        "de passage a été déposé dans votre boîte aux lettres.",
    ),
    "available_for_pickup": ("AG1", "Votre colis est disponible dans votre point de retrait."),
    "delivered": ("DI1", "Votre colis a été remis en main propre contre signature."),
    "delivered_mailbox": ("DI1", "Votre colis a été livré dans votre boîte aux lettres."),
    "delivered_pickup_point": ("DI1", "Votre colis a été retiré dans votre point de retrait."),
    "address_issue": (
        "PB1",
        "Votre colis n'a pas pu être livré : l'adresse est incomplète ou erronée.",
    ),
    "returning": (
        "RE1",
        "Votre colis n'a pas été retiré dans les délais. Il est retourné à l'expéditeur.",
    ),
    "returned": ("DI2", "Votre colis a été livré à l'expéditeur."),
    "lost": (
        "PB1",
        "Nous ne parvenons pas à localiser votre colis. Une enquête est en cours.",
    ),
}

# The five customer-facing steps of ``shipment.timeline`` and the step kinds that reach each.
LAPOSTE_TIMELINE = (
    "Votre colis est entre nos mains.",
    "Il est en chemin.",
    "Votre colis est arrivé sur son site de livraison.",
    "Nous préparons votre colis pour sa livraison.",
    "Votre colis a été livré",
)
_TIMELINE_LEVEL = {
    "picked_up": 1,
    "in_transit_hub": 2,
    "arrived_delivery_site": 3,
    "out_for_delivery": 4,
    "failed_attempt": 4,
    "available_for_pickup": 4,
    "delivered": 5,
    "delivered_mailbox": 5,
    "delivered_pickup_point": 5,
}

LAPOSTE_INVALID_MESSAGE = (
    "Le numéro que vous avez saisi n’est pas valide. Nous vous invitons à vérifier votre "
    "saisie, en particulier le nombre de caractères."
)
LAPOSTE_NOT_FOUND_MESSAGE = (
    "Nous ne trouvons pas d’envoi correspondant à ce numéro. S’il vient de vous être "
    "communiqué, il sera peut-être disponible d’ici quelques heures."
)


def laposte_shipment(
    journey: Journey, seen: Sequence[SeenStep], *, planned_delivery: datetime, lang: str = "fr_FR"
) -> dict[str, Any]:
    """The Suivi v2 object for one known number (``returnCode`` 200)."""
    events = _newest_first(seen)
    delivery = _delivery(seen)
    level = max((_TIMELINE_LEVEL.get(s.step.kind, 0) for s in seen), default=0)
    timeline = []
    for position, label in enumerate(LAPOSTE_TIMELINE, start=1):
        entry: dict[str, Any] = {"shortLabel": label, "longLabel": "", "id": position}
        if position == 5 and delivery is not None:
            entry["date"] = paris_iso(delivery.at)
        reached = position <= level
        entry.update({"country": journey.destination.country if reached else "", "status": reached})
        entry["type"] = 1
        timeline.append(entry)
    # entryDate is the first physical scan; before one exists, the announcement stands in.
    scans = [s for s in seen if s.step.kind != "info_received"] or list(seen)
    shipment: dict[str, Any] = {
        "idShip": journey.number,
        "holder": 4,
        "product": "colissimo",
        "isFinal": any(s.step.kind in FINAL_KINDS for s in seen),
    }
    if delivery is not None:
        shipment["deliveryDate"] = paris_iso(delivery.at)
    shipment["entryDate"] = paris_iso(scans[0].at)
    shipment["timeline"] = timeline
    shipment["event"] = [
        {
            "code": LAPOSTE_EVENTS[s.step.kind][0],
            "label": LAPOSTE_EVENTS[s.step.kind][1],
            "date": paris_iso(s.at),
        }
        for s in events
    ]
    shipment["contextData"] = {
        "deliveryChoice": {"deliveryChoice": 0},
        "originCountry": journey.origin.country,
        "arrivalCountry": journey.destination.country,
    }
    shipment["estimDate"] = paris_iso(delivery.at if delivery else planned_delivery)
    shipment["url"] = f"https://www.laposte.fr/outils/suivre-vos-envois?code={journey.number}"
    return {"lang": lang, "scope": "open", "returnCode": 200, "shipment": shipment}


def laposte_error(number: str, return_code: int, *, lang: str = "fr_FR") -> dict[str, Any]:
    """Per-number error object: 400 for a malformed number, 404 for an unknown one."""
    message = LAPOSTE_INVALID_MESSAGE if return_code == 400 else LAPOSTE_NOT_FOUND_MESSAGE
    return {
        "returnCode": return_code,
        "returnMessage": message,
        "lang": lang,
        "scope": "open",
        "idShip": number,
    }


def laposte_problem(code: str, message: str) -> dict[str, str]:
    """Gateway-level errors (auth, bad request, rate limit) use Okapi's {code, message}."""
    return {"code": code, "message": message}


# --- DHL Shipment Tracking – Unified ----------------------------------------------------------

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
    events = [_dhl_event(s) for s in _newest_first(seen)]
    delivery = _delivery(seen)
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
