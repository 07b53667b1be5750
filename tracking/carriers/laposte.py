"""La Poste / Colissimo, through La Poste's "Suivi v2" API (Okapi gateway).

    GET {base_url}/suivi/v2/idships/{idShip[,idShip…]}?lang=fr_FR
    X-Okapi-Key: {api_key}        Accept: application/json

Format quirks this module deals with:

- One request carries 1 to 10 comma-separated numbers (La Poste's OpenAPI: "ID of object (1 to 10,
  comma separated)"). The body is an array of per-number envelopes, or a single object; the HTTP
  status is 200 (all found), 207 (mixed) or 400/404 (the single number is invalid/unknown), so the
  per-number ``returnCode`` in each envelope, not the HTTP status, says what happened.
- ``shipment.event[]`` is newest first ("anti chronological order"), 3-character codes (DR1, PC1,
  ET1…, DI1), ``date`` ISO-8601 with offset, ``label`` a French sentence for the buyer.
- Events carry no place at all. Only ``timeline[].country`` and ``contextData.originCountry /
  arrivalCountry`` exist, which do not say where a given scan happened: event locations stay empty.
- No proof of delivery: no signatory, no image. What there is: ``deliveryDate`` (and ``isFinal``)
  once delivered. We report a POD carrying only that date, and only when the parcel was delivered
  to the buyer (DI2, "delivered to the sender", is a return, not a delivery).
- ``estimDate`` is the estimated delivery; ``estimHourMin/estimHourMax`` (documented, not in our
  sample) the delivery window.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from tracking.carriers.base import (
    CarrierAdapter,
    CarrierEvent,
    CarrierPayloadError,
    CarrierResponse,
    Location,
    ParseResult,
    PodData,
    TrackingError,
    TrackingResult,
    courier_number,
    sort_events,
)
from tracking.carriers.jsonbody import json_list, json_load
from tracking.carriers.timeparse import country_timezone, parse_date_or_datetime, parse_datetime
from tracking.carriers.vocabulary import Status, Substatus

if TYPE_CHECKING:
    from tracking.carriers.http import CarrierHttpClient

# La Poste event code -> our (status, substatus). Codes and labels from La Poste's Suivi v2 table
# (laposte_suivi_v2_event_codes.json); the three last ones are seen in third-party code only.
STATUS_MAP: dict[str, tuple[str, str | None]] = {
    "DR1": (Status.INFO_RECEIVED, None),  # Déclaratif réceptionné (label created)
    "PC1": (Status.IN_TRANSIT, None),  # Pris en charge
    "PC2": (Status.IN_TRANSIT, None),  # Pris en charge dans le pays d'expédition
    "ET1": (Status.IN_TRANSIT, None),  # En cours de traitement
    "ET2": (Status.IN_TRANSIT, None),  # … dans le pays d'expédition
    "ET3": (Status.IN_TRANSIT, None),  # … dans le pays de destination
    "ET4": (Status.IN_TRANSIT, None),  # … dans un pays de transit
    "EP1": (Status.IN_TRANSIT, None),  # En attente de présentation
    "DO1": (Status.IN_TRANSIT, None),  # Entrée en douane: routine for international parcels
    "DO2": (Status.IN_TRANSIT, None),  # Sortie de douane
    "DO3": (Status.EXCEPTION, Substatus.EXCEPTION_CUSTOMS),  # Retenu en douane
    "PB1": (Status.EXCEPTION, Substatus.EXCEPTION_OTHER),  # Problème en cours
    "PB2": (Status.IN_TRANSIT, None),  # Problème résolu: moving again
    "MD2": (Status.OUT_FOR_DELIVERY, None),  # Mis en distribution
    # Non distribuable: a delivery was tried and did not happen. The code does not say why (absent
    # recipient, wrong address, refusal); the label may, see _LABEL_REFINEMENTS.
    "ND1": (Status.FAILED_ATTEMPT, None),
    "AG1": (Status.AVAILABLE_FOR_PICKUP, None),  # En attente d'être retiré au guichet
    "RE1": (Status.EXCEPTION, Substatus.EXCEPTION_RETURNING_TO_SENDER),  # Retourné à l'expéditeur
    "DI1": (Status.DELIVERED, None),  # Distribué
    # Distribué à l'expéditeur: the parcel came back to the seller; for the buyer it is a return.
    "DI2": (Status.EXCEPTION, Substatus.EXCEPTION_RETURNED_TO_SENDER),
    # Unverified codes (third-party code only, no La Poste label). DI0 is read as delivered there;
    # DI3 is listed among problem codes, so it goes to an agent rather than counting as delivered;
    # MD1 sits next to MD2 but without a label we do not tell the buyer "out for delivery".
    "DI0": (Status.DELIVERED, None),
    "DI3": (Status.EXCEPTION, Substatus.EXCEPTION_OTHER),
    "MD1": (Status.IN_TRANSIT, None),
}

# Colissimo's older six-letter codes (its merchant web services and timeline), which parcels
# handed over through Colissimo may still carry: read the way their French labels read
# (../shared/carriers/colissimo_legacy_event_codes.json lists them with their labels).
_CUSTOMS = (Status.EXCEPTION, Substatus.EXCEPTION_CUSTOMS)
_REFUSED = (Status.EXCEPTION, Substatus.EXCEPTION_REFUSED)
_ABSENT = (Status.FAILED_ATTEMPT, Substatus.FAILED_ATTEMPT_RECIPIENT_ABSENT)
_RETURNING = (Status.EXCEPTION, Substatus.EXCEPTION_RETURNING_TO_SENDER)
_MOVING = (Status.IN_TRANSIT, None)
_PICKUP = (Status.AVAILABLE_FOR_PICKUP, None)
COLISSIMO_LEGACY_MAP: dict[str, tuple[str, str | None]] = {
    "COMCFM": (Status.INFO_RECEIVED, None),  # prêt à être expédié, pas encore pris en charge
    "PCHMQT": (Status.INFO_RECEIVED, None),  # idem
    "PCHCFM": _MOVING,  # pris en charge, en cours d'acheminement
    "PCHCEX": _MOVING,
    "AARDVY": _MOVING,  # arrivé par erreur, réacheminé vers son site de distribution
    "AARCFM": _MOVING,  # arrivé sur son site de distribution
    "RSTNCG": _MOVING,  # en attente de distribution, livré prochainement
    "QDICFM": _MOVING,  # présenté le prochain jour ouvré
    "RENLNA": _MOVING,  # réexpédié à la demande du destinataire
    "CHGCFM": _MOVING,  # arrivé en France
    "DCHCFM": _MOVING,  # arrivé dans le pays de destination
    "DCHDDT": _MOVING,  # sorti du bureau d'échange
    "EXPCFM": _MOVING,  # s'apprête à sortir du pays d'origine
    # "Déposé dans un point postal": waiting there for the buyer, not yet in their hands.
    "DEPGUI": _PICKUP,
    "RENAVI": _PICKUP,  # disponible dans votre bureau de poste
    "MLVARS": _PICKUP,  # disponible dans le point de retrait
    "RSTBRT": _PICKUP,  # disponible au bureau de poste (avis d'instance)
    "LIVCFM": (Status.DELIVERED, None),  # livré
    "LIVGAR": (Status.DELIVERED, None),  # livré au gardien
    "LIVRTI": (Status.DELIVERED, Substatus.DELIVERED_NEIGHBOUR),  # livré au gardien ou voisin
    "RENNRV": _ABSENT,  # destinataire absent, présenté à nouveau
    "RENARV": _ABSENT,
    # Postponed "for the recipient's absence or force majeure": a delivery that did not happen.
    "RENACP": (Status.FAILED_ATTEMPT, None),
    "RENAIN": (Status.EXCEPTION, Substatus.EXCEPTION_ADDRESS_ISSUE),  # manque d'information
    "RENCAD": (Status.EXCEPTION, Substatus.EXCEPTION_ADDRESS_ISSUE),  # adresse incomplète
    "RENAVA": _REFUSED,  # retourné suite à un refus du destinataire
    "RENDIV": _REFUSED,
    "RENSNC": _REFUSED,
    "RENTAR": _REFUSED,
    "RENSRB": _REFUSED,  # refus de payer le contre-remboursement
    "RENDIA": _RETURNING,  # n'habite pas à l'adresse indiquée, retourné à l'expéditeur
    "SOLREO": _RETURNING,  # retourné à l'expéditeur
    "SOLREI": _RETURNING,
    "LIVREO": (Status.EXCEPTION, Substatus.EXCEPTION_RETURNED_TO_SENDER),  # livré à l'expéditeur
    # Not collected from the sender's letterbox: the parcel never entered the network.
    "ENEMQT": (Status.EXCEPTION, Substatus.EXCEPTION_OTHER),
    **dict.fromkeys(
        [
            "DOUAGV",
            "DOUCOI",
            "DOUCOM",
            "DOUCRR",
            "DOUDDI",
            "DOUDDM",
            "DOUDOU",
            "DOUDVR",
            "DOUEXI",
            "DOUFCI",
            "DOUFCM",
            "DOUIDD",
            "DOUIIR",
            "DOUNIR",
            "DOUPRO",
            "DOURES",
        ],
        _CUSTOMS,
    ),  # retenu en douane (documents, contents, duties)
}

# "adresse incomplète", "l'adresse est erronée", "adresse du destinataire inconnue"…: the word
# "adresse" followed, within the same sentence, by what is wrong with it.
_ADDRESS_PROBLEM = re.compile(r"adresse\b[^.]*?\b(incompl|erron|incorrect|inconnu|insuffisant)")

# Codes whose label can say more than the code (lowercase pattern -> status, substatus). The
# first matching pattern wins; order from the most specific reason to the most generic.
_LABEL_REFINEMENTS: dict[str, tuple[tuple[str | re.Pattern[str], tuple[str, str | None]], ...]] = {
    "ND1": (
        ("refus", (Status.EXCEPTION, Substatus.EXCEPTION_REFUSED)),
        # Before the address fragments: "absent" labels often mention "votre adresse" too.
        ("absen", (Status.FAILED_ATTEMPT, Substatus.FAILED_ATTEMPT_RECIPIENT_ABSENT)),
        ("accès", (Status.FAILED_ATTEMPT, Substatus.FAILED_ATTEMPT_ACCESS_ISSUE)),
        ("acces", (Status.FAILED_ATTEMPT, Substatus.FAILED_ATTEMPT_ACCESS_ISSUE)),
        (_ADDRESS_PROBLEM, (Status.EXCEPTION, Substatus.EXCEPTION_ADDRESS_ISSUE)),
    ),
    "PB1": (
        ("endommag", (Status.EXCEPTION, Substatus.EXCEPTION_DAMAGED)),
        ("abîm", (Status.EXCEPTION, Substatus.EXCEPTION_DAMAGED)),
        (_ADDRESS_PROBLEM, (Status.EXCEPTION, Substatus.EXCEPTION_ADDRESS_ISSUE)),
        ("retard", (Status.EXCEPTION, Substatus.EXCEPTION_DELAYED)),
    ),
}

# Per-number returnCode (in the envelope, not the HTTP status) -> our error code. 104 is the
# documented "tracking not available yet" answer of the 404 response.
_ERROR_CODES: dict[int, str] = {
    400: "invalid_number",
    404: "not_found",
    104: "not_found",
}
# An envelope naming no number is the whole answer's: there 401/403 (key refused), 429 and 5xx
# concern the account or La Poste itself, and the sync backs the courier off. Inside a mixed
# answer (with idShip) a 5xx stays that number's error: the other numbers were answered.
_ANSWER_ERROR_CODES: dict[int, str] = {
    401: "auth_failed",
    403: "auth_failed",
    429: "rate_limited",
    500: "unavailable",
    502: "unavailable",
    503: "unavailable",
    504: "unavailable",
}

# The Okapi gateway in front of Suivi v2 answers quota and outage errors itself, in its own shape
# ``{"code": "TOO_MANY_REQUESTS", "message": ...}`` without returnCode.
_GATEWAY_CODES: dict[str, str] = {
    "TOO_MANY_REQUESTS": "rate_limited",
    "SERVICE_UNAVAILABLE": "unavailable",
    "GATEWAY_TIMEOUT": "unavailable",
    "BAD_GATEWAY": "unavailable",
    "INTERNAL_SERVER_ERROR": "unavailable",
    "UNAUTHORIZED": "auth_failed",
    "FORBIDDEN": "auth_failed",
    "INVALID_KEY": "auth_failed",
    "BAD_REQUEST": "bad_request",
}

# La Poste's own times always carry an offset; a naive one would be French time.
_HOME_TZ = country_timezone("FR")


class LaPosteAdapter(CarrierAdapter):
    slug = "laposte"
    production_url = "https://api.laposte.fr"
    credentials = ("api_key",)
    name = "La Poste / Colissimo"
    number_patterns = (
        # UPU S10 international item: 2 letters, 8 digits + check digit, issuing country.
        re.compile(r"[A-Z]{2}\d{9}[A-Z]{2}"),
        # Colissimo / Lettre suivie domestic: 13 characters, a digit then a letter or digit, then
        # 11 digits (6A12345678901, 8R12345678901, 1K…).
        re.compile(r"\d[A-Z0-9]\d{11}"),
        # 15-character partner numbers, as in La Poste's OpenAPI example "87000634002228A".
        re.compile(r"\d{14}[A-Z]"),
    )
    status_map = {**STATUS_MAP, **COLISSIMO_LEGACY_MAP}
    batch_size = 10  # the API's documented maximum of numbers per request
    # La Poste's catalogue page announces 10 calls/s for the Suivi plan, while its developer FAQ
    # caps free Okapi keys at 100 calls per minute. We stay under the lower one (1.5/s = 90/min)
    # until a contract says otherwise: a 429 backs the whole courier off.
    requests_per_second = 1.5
    tracking_url_template = "https://www.laposte.fr/outils/suivre-vos-envois?code={number}"

    def fetch(
        self, tracking_numbers: Sequence[str], *, client: CarrierHttpClient
    ) -> list[CarrierResponse]:
        """One GET per ``batch_size`` numbers, joined with commas in the path."""
        headers = {"X-Okapi-Key": self.api_key, "Accept": "application/json"}
        responses = []
        for start in range(0, len(tracking_numbers), self.batch_size):
            chunk = tracking_numbers[start : start + self.batch_size]
            # Quote each number so that a stray "/" or "?" cannot change the path.
            idships = ",".join(quote(number, safe="") for number in chunk)
            responses.append(
                client.request(
                    "GET",
                    f"{self.base_url}/suivi/v2/idships/{idships}",
                    headers=headers,
                    params={"lang": "fr_FR"},
                    accept_status=frozenset({200, 207, 400, 404}),
                )
            )
        return responses

    def parse(self, body: bytes) -> ParseResult:
        """Suivi v2 JSON (one envelope or an array of them) -> shipments and per-number errors.

        Raises CarrierPayloadError when the body is not JSON or not Suivi v2's shape.
        """
        payload = json_load(body, "La Poste")
        envelopes = payload if isinstance(payload, list) else [payload]
        result = ParseResult()
        for envelope in envelopes:
            if not isinstance(envelope, Mapping):
                raise CarrierPayloadError("La Poste envelope is not an object")
            return_code = envelope.get("returnCode")
            if "returnCode" not in envelope and isinstance(envelope.get("code"), str):
                result.errors.append(_gateway_error(envelope))
                continue
            if not isinstance(return_code, int) or isinstance(return_code, bool):
                raise CarrierPayloadError("La Poste envelope has no integer returnCode")
            if return_code == 200:
                result.shipments.append(self._parse_shipment(envelope.get("shipment")))
            else:
                result.errors.append(self._parse_error(envelope, return_code))
        return result

    # --- helpers ------------------------------------------------------------------------------

    def _parse_error(self, envelope: Mapping[str, object], return_code: int) -> TrackingError:
        number = envelope.get("idShip")
        number = courier_number(number) if isinstance(number, str) else ""
        message = envelope.get("returnMessage")
        code = _ERROR_CODES.get(return_code) or (
            "courier_error" if number else _ANSWER_ERROR_CODES.get(return_code, "courier_error")
        )
        return TrackingError(
            tracking_number=number,
            code=code,
            message=message
            if isinstance(message, str) and message
            else f"La Poste returnCode {return_code}",
        )

    def _parse_shipment(self, shipment: object) -> TrackingResult:
        if not isinstance(shipment, Mapping):
            raise CarrierPayloadError("La Poste returnCode 200 without a shipment object")
        number = shipment.get("idShip")
        number = courier_number(number) if isinstance(number, str) else ""
        if not number:
            raise CarrierPayloadError("La Poste shipment without idShip")
        raw_events = json_list(shipment, "event")
        if raw_events is None:
            raise CarrierPayloadError(f"La Poste shipment {number}: event is not a list")

        # The API lists newest first: reversed, a stable sort keeps same-minute scans in order.
        events = sort_events(self._parse_event(number, raw) for raw in reversed(raw_events))
        events = _mark_pickup_point_delivery(events)
        result = TrackingResult(
            tracking_number=number,
            events=events,
            estimated_delivery=_optional_time(
                shipment, "estimDate", number, parse_date_or_datetime
            ),
            estimated_delivery_end=_optional_time(shipment, "estimHourMax", number),
        )
        # The POD depends on the state the events lead to, hence a second step.
        return replace(result, pod=self._pod(shipment, result))

    def _parse_event(self, number: str, raw: object) -> CarrierEvent:
        if not isinstance(raw, Mapping):
            raise CarrierPayloadError(f"La Poste shipment {number}: an event is not an object")
        code, label = raw.get("code"), raw.get("label", "")
        if not isinstance(code, str) or not code or not isinstance(label, str):
            raise CarrierPayloadError(f"La Poste shipment {number}: event without code or label")
        try:
            occurred_at = parse_datetime(raw.get("date"), default_tz=_HOME_TZ)
        except ValueError as exc:
            raise CarrierPayloadError(f"La Poste shipment {number}: bad event date") from exc
        status, substatus = self.map_status(code)
        text = label.casefold()
        for pattern, refined in _LABEL_REFINEMENTS.get(code, ()):
            if pattern.search(text) if isinstance(pattern, re.Pattern) else pattern in text:
                status, substatus = refined
                break
        # Suivi v2 events carry no place: the Location stays empty rather than guessed.
        return CarrierEvent(occurred_at, status, substatus, code, label, Location())

    def _pod(self, shipment: Mapping[str, object], result: TrackingResult) -> PodData | None:
        """Delivery date only (Suivi v2 has no signatory nor image), and only for a delivery to
        the buyer that still stands (not undone by a later return)."""
        delivery = result.delivery
        if delivery is None:
            return None
        delivered_at = _optional_time(shipment, "deliveryDate", result.tracking_number)
        if delivered_at is None:
            delivered_at = delivery.occurred_at  # no deliveryDate: the delivering scan's own time
        at_pickup_point = delivery.substatus == Substatus.DELIVERED_PICKUP_POINT
        return PodData(
            delivered_at=delivered_at, location_type="pickup_point" if at_pickup_point else ""
        )


def _gateway_error(answer: Mapping[str, object]) -> TrackingError:
    """The Okapi gateway's own error (quota, outage, key): about the account, never a number.
    A code we do not know stays a generic courier error rather than a guess."""
    code = str(answer.get("code"))
    message = answer.get("message")
    return TrackingError(
        tracking_number="",
        code=_GATEWAY_CODES.get(code.upper(), "courier_error"),
        message=message if isinstance(message, str) and message else f"La Poste gateway {code}",
    )


def _mark_pickup_point_delivery(events: tuple[CarrierEvent, ...]) -> tuple[CarrierEvent, ...]:
    """A "Distribué" after "En attente d'être retiré au guichet" (AG1) is the buyer collecting
    the parcel at the counter or pickup point: say so in the substatus."""
    marked: list[CarrierEvent] = []
    waiting_at_counter = False
    for event in events:
        if event.code == "AG1":
            waiting_at_counter = True
        if waiting_at_counter and event.status == Status.DELIVERED and event.substatus is None:
            event = replace(event, substatus=Substatus.DELIVERED_PICKUP_POINT)
        marked.append(event)
    return tuple(marked)


def _optional_time(
    shipment: Mapping[str, object],
    key: str,
    number: str,
    parse: Callable[..., date | datetime] = parse_datetime,
) -> Any:
    """An optional shipment-level time read with ``parse``; present but unreadable is a payload
    error, not a missing value."""
    value = shipment.get(key)
    if value is None or value == "":
        return None
    try:
        return parse(value, default_tz=_HOME_TZ)
    except ValueError as exc:
        raise CarrierPayloadError(f"La Poste shipment {number}: bad {key} {value!r}") from exc
