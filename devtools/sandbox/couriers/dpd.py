"""DPD's DELIS SOAP web services, emulated:

- ``POST /dpd/soap/services/LoginService/V2_1`` ``getAuth{delisId, password, messageLanguage}``
  -> ``getAuthResponse/return{delisId, customerUid, authToken, depot, authTokenExpires}``;
- ``POST /dpd/soap/services/ParcelLifeCycleService/V2_0`` with the SOAP header
  ``authentication{delisId, authToken, messageLanguage}`` (Authentication/2.0 namespace) and
  ``getTrackingData{parcelLabelNumber}`` -> ``getTrackingDataResponse/trackingresult``.

The sandbox cannot know a real account: the password must be ``SANDBOX_PASSWORD``, the
placeholder ``config/settings.py`` uses when ``DPD_PASSWORD`` is unset; the token is derived
from the delisId and expires 24 hours after login (``authTokenExpires`` in German local time
without offset, as DPD writes it).

Answers: ``shipmentInfo`` (service description, status SHIPMENT) then one reached
``statusInfo`` per step, oldest first, in the real sample's rich-text shape (``label``,
``description/content``, ``location`` "Lyon (FR)", ``date`` "5/19/2024 10:00:00 AM" in
French local time), the newest with ``isCurrentStatus`` true; while the parcel is not delivered
a greyed "Delivered" step (``statusHasBeenReached`` false, no date) follows, as DPD's progress
bar shows it. Faults are HTTP 500 SOAP faults: the real ``authenticationFault``
(``DELICOM_ERR_AUTHENTICATION``) for a missing or wrong password or token, and ``faults``
details for an unknown or badly formed number (those fault codes are the sandbox's: DPD
publishes none).

Codes and texts: the real sample's (PickedUp, BetweenDepots, Depot, Courier, DeliveryFailure,
ParcelShop, Delivered and their English texts) plus DPD Germany's summary ``ACCEPTED`` for the
announced parcel. DPD has no code of its own for a return, a loss or an address problem in the
vocabulary we know: those steps reuse the nearest code with the reason in the description
(the sentences are the sandbox's wording), which is how DPD states reasons.

Numbers: 14 digits (depot + serial), optionally followed by the ISO 7064 MOD 37,36 check
character, which is then verified; ``99…`` is unknown.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from xml.sax.saxutils import escape

from devtools.sandbox.couriers.base import CourierRequest, ParcelSource, Reply, SandboxCourier
from devtools.sandbox.formats import to_paris
from devtools.sandbox.journeys import FINAL_KINDS, Journey, SeenStep, normalise_number
from tracking.detection.checksums import mod_37_36_check

LOGIN_PATH = "/soap/services/LoginService/V2_1"
TRACKING_PATH = "/soap/services/ParcelLifeCycleService/V2_0"
XML = "text/xml; charset=utf-8"
SANDBOX_PASSWORD = "sandbox-password"  # noqa: S105 - settings' placeholder, not a secret
TOKEN_LIFETIME = timedelta(hours=24)
_TOKEN_SECRET = "parcelle-sandbox-dpd"  # noqa: S105 - derives sandbox tokens, not a secret

# Step kind -> (status, label, description, reason item). Label and description of the sample's
# codes are DPD's own (real sample); reasons are the sandbox's wording.
DPD_STEPS: dict[str, tuple[str, str, str, str]] = {
    "info_received": (
        "ACCEPTED",
        "Order information has been transmitted to DPD",
        "DPD has received the parcel data.",
        "",
    ),
    "picked_up": ("PickedUp", "Parcel handed to DPD", "DPD has received your parcel.", ""),
    "in_transit_hub": (
        "BetweenDepots",
        "In transit",
        "The parcel is at the parcel dispatch centre.",
        "",
    ),
    "arrived_delivery_site": (
        "Depot",
        "Parcel out for delivery",
        "At parcel delivery centre.",
        "",
    ),
    "out_for_delivery": (
        "Courier",
        "Parcel out for delivery",
        "The parcel has left the parcel delivery centre and is on its way to the consignee.",
        "",
    ),
    "failed_attempt": (
        "DeliveryFailure",
        "Parcel out for delivery",
        "Unfortunately we have not been able to deliver your parcel.",
        "The consignee was not at home.",
    ),
    "available_for_pickup": (
        "ParcelShop",
        "Parcel out for delivery",
        "Delivered by driver to Pickup parcelshop",
        "",
    ),
    "delivered": ("Delivered", "Delivered", "The parcel has been delivered.", ""),
    "delivered_mailbox": (
        "Delivered",
        "Delivered",
        "The parcel has been delivered to the letterbox.",
        "",
    ),
    "delivered_pickup_point": (
        "Delivered",
        "Delivered",
        "The parcel has been collected from the Pickup parcelshop.",
        "",
    ),
    "address_issue": (
        "DeliveryFailure",
        "Parcel out for delivery",
        "Unfortunately we have not been able to deliver your parcel.",
        "The address is incorrect or incomplete.",
    ),
    "returning": (
        "BetweenDepots",
        "In transit",
        "The parcel is on its way back to the sender.",
        "",
    ),
    "returned": ("Delivered", "Delivered", "The parcel has been returned to the sender.", ""),
    "lost": (
        "BetweenDepots",
        "In transit",
        "The parcel cannot be located. An investigation has been opened.",
        "",
    ),
}

_FIELD = re.compile(
    r"<(?:\w+:)?(delisId|password|authToken|parcelLabelNumber|messageLanguage)>([^<]*)</"
)
_ENVELOPE_START = (
    '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xmlns:xsd="http://www.w3.org/2001/XMLSchema"><soap:Body>'
)
_ENVELOPE_END = "</soap:Body></soap:Envelope>"


def sandbox_token(delis_id: str) -> str:
    """The authToken the sandbox hands to ``delis_id`` (stable across logins and restarts)."""
    return hashlib.sha256(f"{_TOKEN_SECRET}|{delis_id}".encode()).hexdigest()[:60]


def us_date(moment: datetime) -> str:
    """``5/19/2024 10:00:00 AM``: DPD's US-locale date in French local time."""
    local = to_paris(moment)
    hour = local.hour % 12 or 12
    meridiem = "AM" if local.hour < 12 else "PM"
    return f"{local.month}/{local.day}/{local.year} {hour}:{local:%M:%S} {meridiem}"


def _line(name: str, text: str, *, bold: bool = True) -> str:
    return (
        f"<{name}><content>{escape(text)}</content><bold>{str(bold).lower()}</bold>"
        f"<paragraph>false</paragraph></{name}>"
    )


def _item(name: str, text: str) -> str:
    return f"<{name}>{_line('content', text, bold=False)}</{name}>"


def _status_info(
    code: str,
    label: str,
    description: str,
    *,
    reached: bool,
    current: bool,
    place: str = "",
    date: str = "",
    reason: str = "",
) -> str:
    parts = [
        f"<status>{code}</status>",
        _line("label", label),
        _item("description", description),
        f"<statusHasBeenReached>{str(reached).lower()}</statusHasBeenReached>",
        f"<isCurrentStatus>{str(current).lower()}</isCurrentStatus>",
        "<showContactInfo>true</showContactInfo>",
    ]
    if reached:
        parts += [_line("location", place), _line("date", date)]
    if reason:
        parts.append(_item("importantItems", reason))
    return f"<statusInfo>{''.join(parts)}</statusInfo>"


def dpd_answer(journey: Journey, seen: Sequence[SeenStep]) -> str:
    ordered = sorted(seen, key=lambda s: (s.at, s.step.offset))
    infos = []
    for index, step in enumerate(ordered):
        code, label, description, reason = DPD_STEPS[step.step.kind]
        place = step.step.place
        infos.append(
            _status_info(
                code,
                label,
                description,
                reached=True,
                current=index == len(ordered) - 1,
                place=f"{place.city} ({place.country})",
                date=us_date(step.at),
                reason=reason,
            )
        )
    if not ordered or ordered[-1].step.kind not in FINAL_KINDS:
        infos.append(_status_info("Delivered", "Delivered", "", reached=False, current=False))
    shipment = (
        "<shipmentInfo><serviceDescription>"
        f"{_line('label', 'Your DPD service:', bold=False)}"
        f"{_line('content', 'DPD CLASSIC', bold=False)}"
        "</serviceDescription><status>SHIPMENT</status>"
        "<statusHasBeenReached>false</statusHasBeenReached>"
        "<isCurrentStatus>false</isCurrentStatus><showContactInfo>false</showContactInfo>"
        "</shipmentInfo>"
    )
    return (
        f"{_ENVELOPE_START}<getTrackingDataResponse "
        'xmlns="http://dpd.com/common/service/types/ParcelLifeCycleService/2.0">'
        f"<trackingresult>{shipment}{''.join(infos)}</trackingresult>"
        f"</getTrackingDataResponse>{_ENVELOPE_END}"
    )


def login_answer(delis_id: str, now: datetime) -> str:
    expires = to_paris(now + TOKEN_LIFETIME).replace(tzinfo=None)  # Germany shares the offset
    return (
        f"{_ENVELOPE_START}"
        '<getAuthResponse xmlns="http://dpd.com/common/service/types/LoginService/2.1"><return>'
        f"<delisId>{escape(delis_id)}</delisId><customerUid>{escape(delis_id)}</customerUid>"
        f"<authToken>{sandbox_token(delis_id)}</authToken><depot>0530</depot>"
        f"<authTokenExpires>{expires:%Y-%m-%dT%H:%M:%S}.06</authTokenExpires>"
        f"</return></getAuthResponse>{_ENVELOPE_END}"
    )


def soap_fault(detail: str = "", message: str = "Fault occured") -> str:
    return (
        f"{_ENVELOPE_START}<soap:Fault><faultcode>soap:Server</faultcode>"
        f"<faultstring>{escape(message)}</faultstring>"
        f"{f'<detail>{detail}</detail>' if detail else ''}</soap:Fault>{_ENVELOPE_END}"
    )


def auth_fault() -> str:
    return soap_fault(
        '<ns:authenticationFault xmlns:ns="http://dpd.com/common/service/types/Authentication/2.0">'
        "<errorCode>DELICOM_ERR_AUTHENTICATION</errorCode>"
        "<errorMessage>Authentication failure, check delisId and password.</errorMessage>"
        "</ns:authenticationFault>"
    )


def number_fault(code: str, message: str) -> str:
    return soap_fault(
        '<ns:faults xmlns:ns="http://dpd.com/common/service/types/ParcelLifeCycleService/2.0">'
        f"<faultCode>{code}</faultCode><message>{escape(message)}</message></ns:faults>"
    )


class DpdSandbox(SandboxCourier):
    slug = "dpd"
    number_patterns = (re.compile(r"[0-9]{14}"), re.compile(r"[0-9]{14}[0-9A-Z]"))
    unknown_prefix = "99"

    def candidate(self, value: int) -> str:
        # Customers are given the 14 digits without the check character (see number_patterns).
        return f"{value % 10**14:014d}"

    def is_well_formed(self, number: str) -> bool:
        if re.fullmatch(r"[0-9]{14}[0-9A-Z]", number):
            return mod_37_36_check(number[:14]) == number[14]
        return super().is_well_formed(number)

    def handle(self, request: CourierRequest, parcels: ParcelSource) -> Reply:
        if request.method != "POST":
            return Reply(405, soap_fault(message="POST a SOAP envelope"), XML)
        fields = dict(_FIELD.findall(request.body.decode("utf-8", "replace")))
        delis_id = fields.get("delisId", "").strip()
        if request.path == LOGIN_PATH:
            if not delis_id or fields.get("password", "") != SANDBOX_PASSWORD:
                return Reply(500, auth_fault(), XML)
            return Reply(200, login_answer(delis_id, datetime.now(UTC)), XML)
        if request.path != TRACKING_PATH:
            return Reply(404, soap_fault(message=f"No service at {request.path}"), XML)
        if not delis_id or fields.get("authToken", "") != sandbox_token(delis_id):
            return Reply(500, auth_fault(), XML)
        raw = fields.get("parcelLabelNumber", "")
        number = normalise_number(raw)
        if not self.is_well_formed(number):
            message = f"Invalid parcel label number {raw}"
            return Reply(500, number_fault("INVALID_PARCEL_LABEL_NUMBER", message), XML)
        number = number[:14]  # the check character names the same parcel
        if self.is_unknown(number):
            message = f"No data found for parcel label number {number}"
            return Reply(500, number_fault("PARCEL_NOT_FOUND", message), XML)
        parcel = parcels.parcel(self.slug, number)
        return Reply(200, dpd_answer(parcel.journey, parcel.seen), XML)

    def fault_reply(self, fault: str, retry_after_seconds: int) -> Reply:
        if fault == "error_429":
            return Reply(
                429,
                soap_fault(message="Too many requests"),
                XML,
                headers=[("Retry-After", str(retry_after_seconds))],
            )
        return Reply(500, soap_fault(message="Internal server error"), XML)


COURIER = DpdSandbox()
