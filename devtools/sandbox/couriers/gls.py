"""GLS Group "Track And Trace V1", emulated, with its OAuth token endpoint.

    POST /gls/oauth2/v2/token          Basic client_id:client_secret, grant_type=client_credentials
    GET  /gls/track-and-trace-v1/tracking/simple/trackids/<n[,n…]>      Bearer token
    GET  /gls/track-and-trace-v1/tracking/deliveryinfo/parcelid/<n>?originaldestinationpostalcode=

Bodies as GLS sends them: ``{"parcels": [...]}`` with per-number ``errorCode`` entries (HTTP 200),
events newest first, ``eventDateTime`` with an offset without colon (``+0200``), Apigee faults
for a missing token (401) and the quota (429), RFC-7807 problems for more than 10 numbers.

Codes: the ones GLS's own examples show (INTIAL.*, DELIVD.PARCELSHOP) and the ones third-party
integrations list (INBOUD.NORMAL, OUTDEL.NORMAL, DELIVD.DEL_BY_PSAPP) with their meaning; for
steps no source names a code for (failed attempt, address problem, return, loss, delivery to a
mailbox or to the door) the codes below follow GLS's FAMILY.DETAIL scheme but are ours, and the
descriptions carry the meaning, as GLS's English descriptions do.

Numbers: 11 digits (GLS's parcel numbers have a check digit whose rule we have no source for, so
none is computed); ``99…`` is unknown. GLS's test data set QAS_0000001 … QAS_0000012 answers
with its documented fixed status (status and ``statusDateTime`` only: we have no record of the
events GLS serves for them).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, unquote

from devtools.sandbox.couriers.base import (
    CourierRequest,
    ParcelSource,
    Reply,
    SandboxCourier,
    refuses,
)
from devtools.sandbox.formats import newest_first, to_paris
from devtools.sandbox.journeys import Journey, Place, SeenStep, normalise_number

TOKEN_PATH = "/oauth2/v2/token"  # noqa: S105 - a URL path, not a secret
TRACKING_PREFIX = "/track-and-trace-v1/tracking/simple/trackids/"
DELIVERY_INFO_PREFIX = "/track-and-trace-v1/tracking/deliveryinfo/parcelid/"
MAX_NUMBERS = 10
TOKEN_LIFETIME_SECONDS = 14_400  # "Tokens are valid for up to four hours"
TOKEN_PREFIX = "gls-sandbox-"  # noqa: S105 - marks sandbox tokens, not a secret

# Step kind -> (event code, English description, parcel status after it).
GLS_EVENTS: dict[str, tuple[str, str, str]] = {
    "info_received": (
        "INTIAL.PREADVICE",
        "The parcel data was entered into the GLS IT system; the parcel was not yet handed "
        "over to GLS.",
        "PREADVICE",
    ),
    "picked_up": ("INTIAL.NORMAL", "The parcel was handed over to GLS.", "INTRANSIT"),
    "in_transit_hub": ("INBOUD.NORMAL", "The parcel has reached the parcel center.", "INTRANSIT"),
    "arrived_delivery_site": (
        "INBOUD.NORMAL",
        "The parcel has reached the delivery depot.",
        "INWAREHOUSE",
    ),
    "out_for_delivery": (
        "OUTDEL.NORMAL",
        "The parcel is expected to be delivered during the day.",
        "INDELIVERY",
    ),
    "failed_attempt": (
        "NOTDEL.NOTATHOME",
        "The parcel could not be delivered as the consignee was absent.",
        "NOTDELIVERED",
    ),
    "available_for_pickup": (
        "DELIVD.PARCELSHOP",
        "The parcel has been delivered at the ParcelShop (see ParcelShop information).",
        "DELIVEREDPS",
    ),
    "delivered": ("DELIVD.NORMAL", "The parcel has been delivered.", "DELIVERED"),
    "delivered_mailbox": (
        "DELIVD.MAILBOX",
        "The parcel has been delivered to the consignee's mailbox.",
        "DELIVERED",
    ),
    "delivered_pickup_point": (
        "DELIVD.DEL_BY_PSAPP",
        "The parcel has been picked up from the ParcelShop by the consignee.",
        "DELIVERED",
    ),
    "address_issue": (
        "NOTDEL.WRONGADDR",
        "The parcel could not be delivered as the address is incorrect or incomplete.",
        "NOTDELIVERED",
    ),
    "returning": ("RETURN.NORMAL", "The parcel is on its way back to the sender.", "INTRANSIT"),
    "returned": ("RETURN.DELIVD", "The parcel has been returned to the sender.", "FINAL"),
    "lost": (
        "NOTDEL.INVESTIG",
        "The parcel could not be located. An investigation has been opened.",
        "NOTDELIVERED",
    ),
}

# GLS's test data set (OpenAPI "Test Data Set"): id -> fixed parcel status.
QAS_PARCELS: dict[str, str] = {
    f"QAS_{index:07d}": status
    for index, status in enumerate(
        (
            "PLANNEDPICKUP",
            "INPICKUP",
            "NOTPICKEDUP",
            "PREADVICE",
            "INTRANSIT",
            "INDELIVERY",
            "DELIVEREDPS",
            "DELIVERED",
            "INWAREHOUSE",
            "NOTDELIVERED",
            "CANCELED",
            "FINAL",
        ),
        start=1,
    )
}

APIGEE_INVALID_TOKEN = {
    "fault": {
        "faultstring": "Invalid token: policy(Verify-JWT)",
        "detail": {"errorcode": "steps.jwt.InvalidToken"},
    }
}


def gls_time(moment: datetime) -> str:
    """``2024-05-19T10:00:00+0200``: Paris time, offset without colon, as GLS writes it."""
    return to_paris(moment).strftime("%Y-%m-%dT%H:%M:%S%z")


def _event(seen: SeenStep) -> dict[str, Any]:
    code, description, _status = GLS_EVENTS[seen.step.kind]
    place: Place = seen.step.place
    return {
        "code": code,
        "city": place.city,
        "postalCode": place.postcode,
        "country": place.country,
        "description": description,
        "eventDateTime": gls_time(seen.at),
    }


def gls_parcel(
    journey: Journey, seen: Sequence[SeenStep], *, show_events: bool, show_links: bool
) -> dict[str, Any]:
    ordered = newest_first(seen)
    latest = ordered[0]
    parcel: dict[str, Any] = {
        "requested": journey.number,
        "unitno": journey.number,
        "status": GLS_EVENTS[latest.step.kind][2],
        "statusDateTime": gls_time(latest.at),
    }
    if show_links and any(s.step.kind == "available_for_pickup" for s in seen):
        parcel["_links"] = {
            "deliveryInfo": {
                "href": f"/tracking/deliveryinfo/parcelid/{journey.number}"
                "?{originaldestinationpostalcode}",
                "templated": True,
            }
        }
    if show_events:
        parcel["events"] = [_event(s) for s in ordered]
    return parcel


def parcelshop_id(number: str) -> str:
    """A stable 10-digit ParcelShop id for the parcel's destination shop."""
    return str(int(hashlib.sha256(f"gls-shop:{number}".encode()).hexdigest()[:12], 16))[-10:]


def problem(status: int, title: str, detail: str, instance: str) -> dict[str, Any]:
    return {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
    }


class GlsSandbox(SandboxCourier):
    slug = "gls"
    number_patterns = (re.compile(r"[0-9]{11}"),)
    unknown_prefix = "99"

    def candidate(self, value: int) -> str:
        return f"{value % 10**11:011d}"

    def handle(self, request: CourierRequest, parcels: ParcelSource) -> Reply:
        if request.method == "POST" and request.path == TOKEN_PATH:
            return self._token(request)
        if request.method == "GET" and request.path.startswith(
            (TRACKING_PREFIX, DELIVERY_INFO_PREFIX)
        ):
            if not request.header("Authorization").startswith(f"Bearer {TOKEN_PREFIX}"):
                return Reply(401, APIGEE_INVALID_TOKEN)
            if request.path.startswith(TRACKING_PREFIX):
                return self._track(request, parcels)
            return self._delivery_info(request, parcels)
        return Reply(404, problem(404, "Not Found", "No static resource.", request.path))

    def _token(self, request: CourierRequest) -> Reply:
        form = {k: v[0] for k, v in parse_qs(request.body.decode("utf-8", "replace")).items()}
        client_id, client_secret = form.get("client_id", ""), form.get("client_secret", "")
        authorization = request.header("Authorization")
        if authorization.startswith("Basic "):
            try:
                decoded = base64.b64decode(authorization[6:], validate=True).decode()
            except (ValueError, UnicodeDecodeError):
                decoded = ""
            client_id, _, client_secret = decoded.partition(":")
        if form.get("grant_type") != "client_credentials":
            return Reply(400, {"errors": [{"message": "Invalid grant type", "type": "400"}]})
        if refuses(client_id, client_secret):
            return Reply(400, {"errors": [{"message": "Invalid client identifier", "type": "400"}]})
        token = TOKEN_PREFIX + hashlib.sha256(f"{client_id}:{client_secret}".encode()).hexdigest()
        return Reply(
            200,
            {"token_type": "Bearer", "access_token": token, "expires_in": TOKEN_LIFETIME_SECONDS},
        )

    def _track(self, request: CourierRequest, parcels: ParcelSource) -> Reply:
        raw = unquote(request.path[len(TRACKING_PREFIX) :])
        numbers = [n for n in raw.split(",") if n.strip()]
        if len(numbers) > MAX_NUMBERS:
            detail = (
                f"Provided references of size '{len(numbers)}' is more than allowed limit of "
                f"{MAX_NUMBERS}"
            )
            return Reply(400, problem(400, "Bad Request", detail, f"/tracking/simple/{raw}"))
        show_events = request.param("showEvents").lower() != "false"
        show_links = request.param("showLinks").lower() == "true"
        answer = []
        for requested in numbers:
            number = normalise_number(requested)
            if number in QAS_PARCELS:
                answer.append(self._qas_parcel(number, parcels))
            elif not self.is_well_formed(number):
                answer.append(
                    {"requested": requested, "errorCode": "E_400_01", "errorMessage": "Bad Request"}
                )
            elif self.is_unknown(number):
                answer.append(
                    {
                        "requested": requested,
                        "errorCode": "E_404_01",
                        "errorMessage": "Resource Not Found",
                    }
                )
            else:
                parcel = parcels.parcel(self.slug, number)
                answer.append(
                    gls_parcel(
                        parcel.journey,
                        parcel.seen,
                        show_events=show_events,
                        show_links=show_links,
                    )
                )
        return Reply(200, {"parcels": answer})

    def _qas_parcel(self, number: str, parcels: ParcelSource) -> dict[str, Any]:
        """GLS's test parcels: a fixed status, dated the day before the number was first asked
        about (GLS dates them "the previous day"). The sandbox clock comes from the number's own
        anchor: its journey is never shown."""
        first_asked = parcels.parcel(self.slug, number).seen[0].at
        return {
            "requested": number,
            "unitno": number,
            "status": QAS_PARCELS[number],
            "statusDateTime": gls_time(first_asked - timedelta(days=1)),
        }

    def _delivery_info(self, request: CourierRequest, parcels: ParcelSource) -> Reply:
        number = normalise_number(unquote(request.path[len(DELIVERY_INFO_PREFIX) :]))
        postcode = request.param("originaldestinationpostalcode")
        if not postcode:
            detail = "Required parameter 'originaldestinationpostalcode' is not present."
            return Reply(
                400,
                problem(400, "Bad Request", detail, f"/tracking/deliveryinfo/parcelid/{number}"),
            )
        if not self.knows(number):
            return Reply(200, {"errorCode": "E_404_01", "errorMessage": "Resource Not Found"})
        parcel = parcels.parcel(self.slug, number)
        if postcode != parcel.journey.destination.postcode:
            return Reply(200, {"errorCode": "E_400_03", "errorMessage": "Wrong Postal Code"})
        if not any(s.step.kind == "available_for_pickup" for s in parcel.seen):
            return Reply(200, {"errorCode": "E_404_02", "errorMessage": "No Delivery Info"})
        shop = parcelshop_id(number)
        return Reply(
            200,
            {
                "parcelshopDelivery": {
                    "parcelshopId": shop,
                    "partnerId": "GLS_FR",
                    "_links": {
                        "parcelShopManagement": {
                            "href": "https://api.gls-group.net/parcel-shop-management/v2/"
                            f"active-public-parcel-shops/GLS_FR/{shop}",
                            "templated": False,
                        }
                    },
                }
            },
        )

    def fault_reply(self, fault: str, retry_after_seconds: int) -> Reply:
        if fault == "error_429":
            return Reply(
                429,
                {
                    "fault": {
                        "faultstring": "Rate limit quota violation. Quota limit  exceeded. "
                        "Identifier : sandbox",
                        "detail": {"errorcode": "policies.ratelimit.QuotaViolation"},
                    }
                },
                headers=[("Retry-After", str(retry_after_seconds))],
            )
        return Reply(
            500,
            problem(500, "Internal Server Error", "Unexpected error", "/tracking/simple/trackids"),
        )


COURIER = GlsSandbox()
