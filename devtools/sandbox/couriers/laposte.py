"""La Poste "Suivi v2", emulated: ``GET /laposte/suivi/v2/idships/<id>[,<id>…]?lang=fr_FR``.

Header ``X-Okapi-Key`` (any non-empty value). Up to 10 numbers. One number: an object whose
``returnCode`` is also the HTTP status (200, 400 badly formed, 404 unknown). Several: an array,
one object per number, HTTP 200 when all were found and 207 (Multi-Status) otherwise. Events
newest first with La Poste's 3-character codes, French labels, Paris time with its offset.
Numbers: Colissimo ``6A`` + 11 digits, or UPU S10 ``AA123456789FR``; ``6X…`` is unknown.
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
from devtools.sandbox.formats import delivery_step, newest_first, paris_iso
from devtools.sandbox.journeys import FINAL_KINDS, Journey, SeenStep, normalise_number

PATH_PREFIX = "/suivi/v2/idships/"
MAX_IDS = 10

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
    events = newest_first(seen)
    delivery = delivery_step(seen)
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


class LaPosteSandbox(SandboxCourier):
    slug = "laposte"
    number_patterns = (re.compile(r"[0-9][A-Z][0-9]{11}"), re.compile(r"[A-Z]{2}[0-9]{9}[A-Z]{2}"))
    unknown_prefix = "6X"

    def candidate(self, value: int) -> str:
        return "6A" + f"{value % 10**11:011d}"

    def handle(self, request: CourierRequest, parcels: ParcelSource) -> Reply:
        if request.method != "GET" or not request.path.startswith(PATH_PREFIX):
            return Reply(404, laposte_problem("NOT_FOUND", f"No route for {request.path}"))
        if refuses(request.header("X-Okapi-Key")):
            return Reply(401, laposte_problem("UNAUTHORIZED", "The X-Okapi-Key header is missing."))
        ids = request.path[len(PATH_PREFIX) :]
        numbers = [normalise_number(n) for n in ids.split(",") if n.strip()]
        if not numbers:
            return Reply(400, laposte_problem("BAD_REQUEST", "At least one idShip is required."))
        if len(numbers) > MAX_IDS:
            return Reply(
                400, laposte_problem("BAD_REQUEST", f"At most {MAX_IDS} idShips per request.")
            )
        lang = request.param("lang") or "fr_FR"
        objects = [self._answer(number, lang, parcels) for number in numbers]
        if len(objects) == 1:
            return Reply(objects[0]["returnCode"], objects[0])
        # Several numbers: 200 when all were found, 207 Multi-Status when some were not.
        all_found = all(o["returnCode"] == 200 for o in objects)
        return Reply(200 if all_found else 207, objects)

    def _answer(self, number: str, lang: str, parcels: ParcelSource) -> dict[str, Any]:
        if not self.is_well_formed(number):
            return laposte_error(number, 400, lang=lang)
        if self.is_unknown(number):
            return laposte_error(number, 404, lang=lang)
        parcel = parcels.parcel(self.slug, number)
        return laposte_shipment(
            parcel.journey, parcel.seen, planned_delivery=parcel.planned_delivery, lang=lang
        )

    def fault_reply(self, fault: str, retry_after_seconds: int) -> Reply:
        if fault == "error_429":
            return Reply(
                429,
                laposte_problem("TOO_MANY_REQUESTS", "Quota de requêtes dépassé"),
                headers=[("Retry-After", str(retry_after_seconds))],
            )
        return Reply(500, laposte_problem("INTERNAL_SERVER_ERROR", "Erreur interne"))


COURIER = LaPosteSandbox()
