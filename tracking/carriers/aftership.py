"""AfterShip Tracking: one adapter standing for the hundreds of couriers AfterShip follows.

    GET {base_url}/tracking/2025-04/trackings?tracking_numbers=<n1,n2,…>&created_at_min=<iso>
    as-api-key: {api_key}        Accept: application/json

    POST <our inbound URL>   (AfterShip's webhook)
    aftership-hmac-sha256: base64(HMAC-SHA256(webhook_secret, raw body))
    {"event": "tracking_update", "event_id": "<uuid v4>", "is_tracking_first_tag": bool,
     "msg": {<tracking object>}, "ts": <unix seconds>}

Sources (AfterShip's own documentation and generated SDKs):

- API version, header and endpoint: https://www.aftership.com/docs/tracking/2025-04/quickstart
  (``as-api-key``; versioned paths ``/tracking/<version>/…``) and AfterShip's generated SDK
  https://github.com/AfterShip/tracking-sdk-nodejs (``src/api/Tracking.ts``: ``GET
  /tracking/2025-04/trackings``; ``src/lib/request.ts``: the ``{meta, data}`` envelope, the
  ``as-api-key`` header and "the default limit is 10 requests per second").
- Query and fields: https://github.com/AfterShip/tracking-sdk-go ``model/get_trackings_query.go``
  (``tracking_numbers`` "supports up to 50 tracking numbers"; ``created_at_min`` defaults to 30
  days ago and AfterShip keeps 120 days), tracking-sdk-nodejs ``src/model/Tracking.ts`` and
  ``src/model/Checkpoint.ts`` (tracking and checkpoint objects of the 2025-04 version).
- Tags: https://www.aftership.com/docs/tracking/2025-01/enum/delivery-statuses
- Subtags: https://www.aftership.com/docs/tracking/2025-04/enum/delivery-sub-statuses and
  https://www.aftership.com/docs/tracking/2026-07/enum/delivery-sub-statuses (``Delivered_005``),
  https://support.aftership.com/en/article/learn-about-delivery-sub-statuses-1b0hdlx/
  (``Exception_016``-``018``, added in 2026).
- Webhook body: https://www.aftership.com/docs/tracking/2025-01/webhook/webhook-specifications
- Signature: https://www.aftership.com/docs/tracking/webhook/webhook-signature
- Error meta codes (4004 "Tracking does not exist", 4005 invalid number…): tracking-sdk-nodejs
  ``src/error/meta_code.ts`` and the tracking-sdk-go README error table.

Format quirks this module deals with:

- AfterShip only answers for trackings created in our AfterShip account beforehand (by the
  shop's integration or ``POST /trackings``,
  https://www.aftership.com/docs/tracking/2025-04/api/create-a-tracking: 201 with the tracking,
  400 meta 4003 "Tracking already exists."). The list endpoint answers 200 with the trackings it
  has, silently leaving out the others: ``fetch_and_parse`` registers a number a successful
  answer leaves out and asks again, and what is still missing is a per-number ``not_found``.
  ``created_at_min`` is sent explicitly (120 days back, AfterShip's retention) because its
  default, 30 days, would hide older parcels.
- One number may come back more than once (the same number tracked at two couriers): each is a
  separate ``TrackingResult`` with the same tracking number; the sync keeps the one that is our
  parcel (``base.choose_our_parcels``: shipped since our order, else the most recent).
- Everything is wrapped in ``{"meta": {"code", "message", "type"}, "data": {…}}``; errors are
  ``meta.code`` other than 200 (4004, 4005, 401…) with ``data`` empty, naming no number.
- Each checkpoint already carries AfterShip's normalised ``tag`` and ``subtag``: the status table
  below maps subtags, with the tag as a fallback for subtags AfterShip adds later. The courier's
  own text is ``message``, kept as our event message; the event code is the subtag.
- ``checkpoint_time`` is the courier's local time, "YYYY-MM-DDTHH:mm:ss" with or without an
  offset: without one we read it in the zone of the checkpoint's country.
- Countries are ISO 3166-1 alpha-3 (``country_region``, older versions ``country_iso3``); a small
  explicit table turns them into alpha-2. ``city`` is often empty: ``location`` (the courier's
  raw place text) stands in for it then.
- Estimated delivery: ``latest_estimated_delivery`` ({type specific|range, datetime,
  datetime_min, datetime_max}) first, then the courier's ``courier_estimated_delivery_date``,
  then AfterShip's AI ``aftership_estimated_delivery_date`` (each {estimated_delivery_date,
  _min, _max}); dates in the recipient's zone. A range of bare dates ends at 23:59:59 of its last
  day in the destination zone (``estimated_delivery_end`` is a datetime).
- ``shipment_delivery_date`` comes without an offset and is UTC (AfterShip's SDK samples:
  "2018-08-01T17:19:47" for a checkpoint "Delivered" at 13:19:47-04:00).
- The tracking's own ``tag``/``subtag`` is AfterShip's conclusion: checkpoints are often missing
  or cut short (an expired tracking has none), so it stands when they lag behind it
  (``base.with_summary``). ``signed_by`` may hold a placeholder ("Signature not required"),
  which is no signatory (``base.signatory``).
- POD: ``signed_by`` and ``delivery_location_type`` (free text: "Mailbox", "Front door",
  "Locker"…) are tracking-level; AfterShip gives no signature or photo image. A delivery whose
  subtag says nothing more (``Delivered_001``) takes its substatus from them.
- The underlying courier is ``slug`` (``la-poste-colissimo``, ``dpd-fr``…). Our event model has
  no field for it and event messages stay the courier's own words, so ``courier_slugs_of(body)``
  exposes it per tracking number: the ingest can store it on the shipment (e.g. as the carrier
  detail shown to agents) from the same raw answer it already keeps.
- Webhooks: the signature covers the raw body; ``ts`` is checked against
  the push tolerance (``CARRIER_PUSH_TOLERANCE_SECONDS``, passed in by the registry) only
  after the signature (an unsigned body is not even parsed). AfterShip retries a failed
  webhook up to 14 times with growing delays
  (https://docs.aftership.com/api/4/webhook) keeping ``ts``: a retry later than the tolerance is
  rejected as stale, which the regular sync makes up for. ``event_id`` (UUID v4) is the push id.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING

from tracking.carriers.base import (
    CarrierAdapter,
    CarrierAnswer,
    CarrierEvent,
    CarrierPayloadError,
    CarrierResponse,
    Location,
    ParseResult,
    PodData,
    PushNotConfigured,
    PushRejected,
    TrackingError,
    TrackingResult,
    gateway_error,
    raise_account_errors,
    signatory,
    with_summary,
)
from tracking.carriers.jsonbody import json_load, json_object, json_text
from tracking.carriers.timeparse import country_timezone, parse_date_or_datetime, parse_datetime
from tracking.carriers.vocabulary import Status, Substatus

if TYPE_CHECKING:
    from tracking.carriers.http import CarrierHttpClient

API_VERSION = "2025-04"
SIGNATURE_HEADER = "aftership-hmac-sha256"
# AfterShip keeps trackings 120 days; the list endpoint would otherwise stop at 30 days back.
RETENTION_DAYS = 120
_P, _IR, _IT = Status.PENDING, Status.INFO_RECEIVED, Status.IN_TRANSIT
_OFD, _AF, _AFP = Status.OUT_FOR_DELIVERY, Status.FAILED_ATTEMPT, Status.AVAILABLE_FOR_PICKUP
_D, _E, _X = Status.DELIVERED, Status.EXCEPTION, Status.EXPIRED

# AfterShip subtag (or tag, as the fallback for subtags not listed) -> our (status, substatus).
STATUS_MAP: dict[str, tuple[str, str | None]] = {
    # Pending: AfterShip has no information yet (Pending_002..006 are further "nothing yet"
    # reasons listed in AfterShip's SDK enums).
    "Pending": (_P, None),
    "Pending_001": (_P, None),
    "Pending_002": (_P, None),
    "Pending_003": (_P, None),
    "Pending_004": (_P, None),
    "Pending_005": (_P, None),
    "Pending_006": (_P, None),
    # Info received: label created, the courier is about to pick the parcel up.
    "InfoReceived": (_IR, None),
    "InfoReceived_001": (_IR, None),
    # In transit: on the way, accepted, hub, destination country, customs done/started,
    # departure scan, problem resolved, forwarded to another address.
    "InTransit": (_IT, None),
    "InTransit_001": (_IT, None),
    "InTransit_002": (_IT, None),
    "InTransit_003": (_IT, None),
    "InTransit_004": (_IT, None),
    "InTransit_005": (_IT, None),
    "InTransit_006": (_IT, None),
    "InTransit_007": (_IT, None),
    "InTransit_008": (_IT, None),
    "InTransit_009": (_IT, None),
    # Out for delivery: out for delivery, customer contacted, delivery appointment scheduled.
    # OutForDelivery_002 (older lists: "arrived at sorting center and available for pickup") is
    # a pickup, whatever its tag says.
    "OutForDelivery": (_OFD, None),
    "OutForDelivery_001": (_OFD, None),
    "OutForDelivery_002": (_AFP, None),
    "OutForDelivery_003": (_OFD, None),
    "OutForDelivery_004": (_OFD, None),
    # Failed attempt: generic, recipient not available, business closed.
    "AttemptFail": (_AF, None),
    "AttemptFail_001": (_AF, None),
    "AttemptFail_002": (_AF, Substatus.FAILED_ATTEMPT_RECIPIENT_ABSENT),
    "AttemptFail_003": (_AF, Substatus.FAILED_ATTEMPT_ACCESS_ISSUE),
    # Available for pickup at a pickup point.
    "AvailableForPickup": (_AFP, None),
    "AvailableForPickup_001": (_AFP, None),
    # Delivered: plain (refined from POD fields below), picked up by the customer, signed,
    # cash on delivery collected, delivered to a neighbour.
    "Delivered": (_D, None),
    "Delivered_001": (_D, None),
    "Delivered_002": (_D, Substatus.DELIVERED_PICKUP_POINT),
    "Delivered_003": (_D, Substatus.DELIVERED_SIGNED),
    "Delivered_004": (_D, None),
    "Delivered_005": (_D, Substatus.DELIVERED_NEIGHBOUR),
    # Exceptions.
    "Exception": (_E, Substatus.EXCEPTION_OTHER),
    "Exception_001": (_E, Substatus.EXCEPTION_OTHER),  # generic shipping exception
    "Exception_002": (_E, Substatus.EXCEPTION_ADDRESS_ISSUE),  # customer moved
    "Exception_003": (_E, Substatus.EXCEPTION_REFUSED),  # customer refused delivery
    "Exception_004": (_E, Substatus.EXCEPTION_CUSTOMS),  # delayed: customs clearance
    "Exception_005": (_E, Substatus.EXCEPTION_DELAYED),  # delayed: external factors
    # Held for payment (duties or cash on delivery): no substatus of ours says which.
    "Exception_006": (_E, Substatus.EXCEPTION_OTHER),
    "Exception_007": (_E, Substatus.EXCEPTION_ADDRESS_ISSUE),  # incorrect address
    # Not collected at the pickup point: a return usually follows, with its own subtag.
    "Exception_008": (_E, Substatus.EXCEPTION_OTHER),
    "Exception_009": (_E, Substatus.EXCEPTION_OTHER),  # rejected by the carrier (guidelines)
    "Exception_010": (_E, Substatus.EXCEPTION_RETURNING_TO_SENDER),
    "Exception_011": (_E, Substatus.EXCEPTION_RETURNED_TO_SENDER),
    "Exception_012": (_E, Substatus.EXCEPTION_DAMAGED),
    "Exception_013": (_E, Substatus.EXCEPTION_LOST),
    "Exception_016": (_E, Substatus.EXCEPTION_DELAYED),  # delayed: processing issue
    "Exception_017": (_E, Substatus.EXCEPTION_DELAYED),  # delayed: extreme weather
    "Exception_018": (_E, Substatus.EXCEPTION_CUSTOMS),  # incorrect / missing documents
    # Expired: no news for 30 days.
    "Expired": (_X, None),
    "Expired_001": (_X, None),
}

# ``meta.code`` of POST /trackings meaning AfterShip tracks the number: created, or "Tracking
# already exists." (4003): registering is idempotent.
REGISTERED_CODES = frozenset({200, 201, 4003})

# ``meta.code`` of an error envelope -> our per-number error code.
META_CODES = {
    4004: "not_found",  # Tracking does not exist.
    4001: "invalid_request",  # Invalid JSON data.
    4005: "invalid_number",  # The value of tracking_number is invalid.
    4007: "invalid_request",  # a required field is missing
    4017: "invalid_number",  # tracking number format invalid
    # "Cannot detect courier": no courier AfterShip follows has the number, i.e. unknown.
    4012: "not_found",
    401: "auth_failed",
    403: "auth_failed",
    404: "not_found",
    429: "rate_limited",
}

# ISO 3166-1 alpha-3 -> alpha-2: the countries our time-zone table knows, and a few more where
# marketplace parcels come from. An unknown code gives no country (and reads naive times in UTC).
ISO3_TO_ISO2: dict[str, str] = {
    # European Union
    "AUT": "AT", "BEL": "BE", "BGR": "BG", "CYP": "CY", "CZE": "CZ", "DEU": "DE", "DNK": "DK",
    "EST": "EE", "ESP": "ES", "FIN": "FI", "FRA": "FR", "GRC": "GR", "HRV": "HR", "HUN": "HU",
    "IRL": "IE", "ITA": "IT", "LTU": "LT", "LUX": "LU", "LVA": "LV", "MLT": "MT", "NLD": "NL",
    "POL": "PL", "PRT": "PT", "ROU": "RO", "SWE": "SE", "SVN": "SI", "SVK": "SK",
    # Rest of Europe
    "AND": "AD", "ALB": "AL", "BIH": "BA", "CHE": "CH", "GBR": "GB", "ISL": "IS", "LIE": "LI",
    "MCO": "MC", "MNE": "ME", "MKD": "MK", "NOR": "NO", "SRB": "RS", "RUS": "RU", "SMR": "SM",
    "TUR": "TR", "UKR": "UA", "VAT": "VA",
    # French overseas departments and territories
    "GUF": "GF", "GLP": "GP", "MTQ": "MQ", "NCL": "NC", "PYF": "PF", "SPM": "PM", "REU": "RE",
    "MYT": "YT",
    # Outside Europe
    "ARE": "AE", "AUS": "AU", "BRA": "BR", "CAN": "CA", "CHN": "CN", "DZA": "DZ", "HKG": "HK",
    "ISR": "IL", "IND": "IN", "JPN": "JP", "KOR": "KR", "MAR": "MA", "MEX": "MX", "NZL": "NZ",
    "SGP": "SG", "TUN": "TN", "USA": "US", "ZAF": "ZA", "TWN": "TW", "THA": "TH", "VNM": "VN",
    "MYS": "MY",
}  # fmt: skip

# ``delivery_location_type`` (free text) -> our POD location type, first fragment that matches.
LOCATION_TYPE_KEYWORDS: tuple[tuple[str, str], ...] = (
    ("locker", "locker"),
    ("parcel box", "locker"),
    ("mailbox", "mailbox"),
    ("mail box", "mailbox"),
    ("letterbox", "mailbox"),
    ("letter box", "mailbox"),
    ("neighbo", "neighbour"),
    ("pickup", "pickup_point"),
    ("pick up", "pickup_point"),
    ("reception", "reception"),
    ("front desk", "reception"),
    ("concierge", "reception"),
    ("front door", "front_door"),
    ("porch", "front_door"),
    ("door", "front_door"),
    ("safe place", "front_door"),
)
# Our POD location type -> the delivered substatus it implies when the subtag says nothing more.
_SUBSTATUS_OF_LOCATION = {
    "locker": Substatus.DELIVERED_LOCKER,
    "mailbox": Substatus.DELIVERED_MAILBOX,
    "neighbour": Substatus.DELIVERED_NEIGHBOUR,
    "pickup_point": Substatus.DELIVERED_PICKUP_POINT,
    "front_door": Substatus.DELIVERED_FRONT_DOOR,
}
_LOCATION_OF_SUBSTATUS = {
    Substatus.DELIVERED_PICKUP_POINT: "pickup_point",
    Substatus.DELIVERED_NEIGHBOUR: "neighbour",
}


class AfterShipAdapter(CarrierAdapter):
    slug = "aftership"
    production_url = "https://api.aftership.com"
    credentials = ("api_key", "webhook_secret")
    push_credentials = ("webhook_secret",)
    name = "AfterShip (aggregator)"
    # None on purpose: AfterShip follows numbers of every format, so detection by pattern would
    # claim every parcel. A shipment is routed to AfterShip by configuration, not by its number.
    number_patterns = ()
    status_map = STATUS_MAP
    batch_size = 50  # GET /trackings: "tracking_numbers … supports up to 50 tracking numbers"
    # AfterShip's SDKs: "The default limit is 10 requests per second" (per account).
    requests_per_second = 10.0
    tracking_url_template = "https://track.aftership.com/trackings?tracking-numbers={number}"
    supports_push = True

    # --- pull ---------------------------------------------------------------------------------

    def fetch(
        self, tracking_numbers: Sequence[str], *, client: CarrierHttpClient
    ) -> list[CarrierResponse]:
        """One GET per 50 numbers; AfterShip's 4xx error envelopes are kept for ``parse``."""
        headers = {"as-api-key": self.api_key, "Accept": "application/json"}
        created_at_min = (datetime.now(UTC) - timedelta(days=RETENTION_DAYS)).replace(microsecond=0)
        responses = []
        for start in range(0, len(tracking_numbers), self.batch_size):
            batch = tracking_numbers[start : start + self.batch_size]
            responses.append(
                client.request(
                    "GET",
                    f"{self.base_url}/tracking/{API_VERSION}/trackings",
                    headers=headers,
                    params={
                        "tracking_numbers": ",".join(batch),
                        "created_at_min": created_at_min.isoformat(),
                    },
                    accept_status=frozenset({200, 400, 404}),
                )
            )
        return responses

    def register(
        self, tracking_numbers: Sequence[str], *, client: CarrierHttpClient
    ) -> tuple[list[str], list[TrackingError]]:
        """``POST /trackings`` for each number: (numbers AfterShip now tracks, per-number
        errors). Idempotent: "Tracking already exists" (meta 4003) is success.

        Raises the courier fault (CarrierAuthError, CarrierRateLimited…) for an answer about
        the account rather than the number.
        """
        registered, errors = [], []
        for number in tracking_numbers:
            response = client.request(
                "POST",
                f"{self.base_url}/tracking/{API_VERSION}/trackings",
                headers={
                    "as-api-key": self.api_key,
                    "Accept": "application/json",
                    "Content-Type": "application/json",
                },
                json={"tracking_number": number},
                accept_status=frozenset({200, 201, 400, 404, 422}),
            )
            meta, _data = _envelope(response.body)
            code = meta.get("code")
            if code in REGISTERED_CODES:
                registered.append(number)
                continue
            message = json_text(meta, "message") or f"meta code {code}"
            result = ParseResult(
                errors=[TrackingError(number, META_CODES.get(code, "courier_error"), message)]
            )
            raise_account_errors(self.name, result)
            errors.extend(result.errors)
        return registered, errors

    def fetch_and_parse(
        self, tracking_numbers: Sequence[str], *, client: CarrierHttpClient
    ) -> list[CarrierAnswer]:
        """As the base class, with AfterShip's precondition: it only answers for trackings of
        our account. Numbers a successful answer leaves out are registered (``register``), then
        asked again in the same call; what still has no tracking is ``not_found``.

        Registering on the first poll, not at our registration, keeps the parcel's own
        service free of courier calls and costs requests only for numbers AfterShip lacks:
        every later poll finds them at once.
        """
        answers = super().fetch_and_parse(tracking_numbers, client=client)
        missing: list[str] = []
        for start, answer in zip(
            range(0, len(tracking_numbers), self.batch_size), answers, strict=True
        ):
            if answer.result.errors:
                continue  # an error envelope: the base class reports the numbers as not returned
            returned = {s.tracking_number for s in answer.result.shipments}
            missing.extend(
                n for n in tracking_numbers[start : start + self.batch_size] if n not in returned
            )
        if not missing:
            return answers
        registered, errors = self.register(missing, client=client)
        if registered:
            answers.extend(super().fetch_and_parse(registered, client=client))
        returned = {s.tracking_number for a in answers for s in a.result.shipments}
        refused = {e.tracking_number for e in errors}
        errors.extend(
            TrackingError(number, "not_found", "AfterShip has no tracking for this number")
            for number in missing
            if number not in returned and number not in refused
        )
        answers[-1].result.errors.extend(errors)
        return answers

    def parse(self, body: bytes) -> ParseResult:
        """``{meta, data: {trackings: [...]}}`` -> shipments; also accepts ``data.tracking`` (the
        single-tracking endpoints); an error envelope -> one per-number error (naming no number).

        Raises CarrierPayloadError when the body is not AfterShip's envelope.
        """
        payload = json_object(body, "AfterShip")
        if "meta" not in payload and (gateway := gateway_error(payload)) is not None:
            return ParseResult(errors=[gateway])
        meta, data = _envelope(body)
        code = meta.get("code")
        if isinstance(code, bool) or not isinstance(code, int):
            raise CarrierPayloadError("AfterShip meta without a numeric code")
        if code != 200:
            message = json_text(meta, "message") or json_text(meta, "type") or f"meta code {code}"
            error_code = META_CODES.get(code, "courier_error")
            return ParseResult(errors=[TrackingError("", error_code, message)])
        if "trackings" in data:
            trackings = data["trackings"]
            if not isinstance(trackings, list):
                raise CarrierPayloadError("AfterShip data.trackings is not a list")
        elif "tracking" in data:
            trackings = [data["tracking"]]
        else:
            raise CarrierPayloadError("AfterShip answer has neither trackings nor tracking")
        return ParseResult(shipments=[self._parse_tracking(t) for t in trackings])

    # --- push ---------------------------------------------------------------------------------

    def verify_push(self, *, headers: Mapping[str, str], body: bytes, now: datetime) -> None:
        """The signature first (constant time, over the raw body), then ``ts`` freshness.

        Raises PushRejected for a missing/wrong signature, no secret configured, a missing or
        non-numeric ``ts``, or a ``ts`` further than the tolerance from ``now`` either way;
        CarrierPayloadError for a correctly signed body that is not a JSON object (AfterShip's
        fault, not an attack: worth an alert rather than a silent 401).
        """
        secret = str(self.options.get("webhook_secret") or "")
        if not secret:
            raise PushNotConfigured("no AfterShip webhook secret is configured")
        given = headers.get(SIGNATURE_HEADER, "").strip()
        if not given:
            raise PushRejected(f"missing {SIGNATURE_HEADER} header")
        expected = base64.b64encode(
            hmac.new(secret.encode(), body, hashlib.sha256).digest()
        ).decode()
        if not hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace")):
            raise PushRejected("bad AfterShip webhook signature")

        payload = json_object(body, "AfterShip")
        sent_at = payload.get("ts")
        if isinstance(sent_at, bool) or not isinstance(sent_at, int | float):
            raise PushRejected("AfterShip webhook without a numeric ts")
        tolerance = self.push_tolerance_seconds
        age = now.timestamp() - sent_at
        if age > tolerance:
            raise PushRejected(f"stale: sent {age:.0f}s ago, tolerance {tolerance}s")
        if -age > tolerance:
            raise PushRejected(f"stale: ts {-age:.0f}s in the future, tolerance {tolerance}s")

    def push_event_id(self, *, headers: Mapping[str, str], body: bytes) -> str:
        """The webhook's ``event_id``; the body's SHA-256 when it has none."""
        try:
            payload = json_load(body, "AfterShip")
        except CarrierPayloadError:
            payload = None
        if isinstance(payload, Mapping):
            event_id = payload.get("event_id")
            if isinstance(event_id, str) and event_id.strip():
                return event_id.strip()
        return super().push_event_id(headers=headers, body=body)

    def parse_push(self, body: bytes) -> ParseResult:
        """The webhook's ``msg`` (a tracking object, whatever the event) -> one shipment."""
        payload = json_object(body, "AfterShip")
        tracking = payload.get("msg")
        if not isinstance(tracking, Mapping):
            raise CarrierPayloadError("AfterShip webhook without a msg tracking object")
        return ParseResult(shipments=[self._parse_tracking(tracking)])

    def courier_slugs_of(self, body: bytes) -> dict[str, str]:
        """Tracking number -> underlying courier slug (``dpd-fr``…), for an API answer or a
        webhook body; {} for an error envelope. Pure, like ``parse``."""
        payload = json_object(body, "AfterShip")
        if isinstance(payload.get("msg"), Mapping):
            trackings: list[object] = [payload["msg"]]
        else:
            _meta, data = _envelope(body)
            raw = data.get("trackings", [data["tracking"]] if "tracking" in data else [])
            trackings = raw if isinstance(raw, list) else []
        return {
            json_text(t, "tracking_number"): json_text(t, "slug")
            for t in trackings
            if isinstance(t, Mapping) and json_text(t, "tracking_number") and json_text(t, "slug")
        }

    # --- helpers ------------------------------------------------------------------------------

    def _parse_tracking(self, tracking: object) -> TrackingResult:
        if not isinstance(tracking, Mapping):
            raise CarrierPayloadError("AfterShip tracking is not an object")
        number = json_text(tracking, "tracking_number")
        if not number:
            raise CarrierPayloadError("AfterShip tracking without tracking_number")
        checkpoints = tracking.get("checkpoints")
        if checkpoints is None:
            checkpoints = []
        if not isinstance(checkpoints, list):
            raise CarrierPayloadError(f"AfterShip tracking {number}: checkpoints is not a list")

        destination = _iso2(
            tracking.get("destination_country_region") or tracking.get("destination_country_iso3")
        )
        destination_tz = country_timezone(destination)
        location_type = _location_type(json_text(tracking, "delivery_location_type"))
        signed_by = signatory(json_text(tracking, "signed_by"))
        delivered_refinement = _SUBSTATUS_OF_LOCATION.get(location_type) or (
            Substatus.DELIVERED_SIGNED if signed_by else None
        )

        # AfterShip lists oldest first already; a stable sort keeps same-time scans in order.
        # Checkpoints are often missing or truncated (an expired tracking has none): the
        # tracking-level tag is AfterShip's own conclusion and stands when they lag behind it.
        events = with_summary(
            (self._event(number, c, delivered_refinement) for c in checkpoints),
            self._summary_event(number, tracking, delivered_refinement),
        )
        estimated, estimated_end = _estimated_delivery(number, tracking, destination_tz)
        result = TrackingResult(
            tracking_number=number,
            events=tuple(events),
            estimated_delivery=estimated,
            estimated_delivery_end=estimated_end,
        )
        delivery = result.delivery
        if delivery is None:
            return result
        delivered_at = _optional_time(number, tracking.get("shipment_delivery_date"), UTC)
        return replace(
            result,
            pod=PodData(
                delivered_at=(
                    delivered_at if isinstance(delivered_at, datetime) else delivery.occurred_at
                ),
                signed_by=signed_by,
                location_type=location_type
                or _LOCATION_OF_SUBSTATUS.get(delivery.substatus or "", ""),
            ),
        )

    def _summary_event(
        self,
        number: str,
        tracking: Mapping[str, object],
        delivered_refinement: str | None,
    ) -> CarrierEvent | None:
        """The tracking's own ``tag``/``subtag`` as an event, dated by the delivery for a
        delivered tracking and by AfterShip's last update otherwise (AfterShip's times without an
        offset are UTC); None without a tag or a time (a summary that cannot be placed among the
        scans is not guessed)."""
        subtag, tag = json_text(tracking, "subtag"), json_text(tracking, "tag")
        if not (subtag or tag):
            return None
        status, substatus = self._map(subtag, tag)
        when = None
        keys = ("shipment_delivery_date", "last_updated_at", "updated_at")
        for key in keys if status == Status.DELIVERED else keys[1:]:
            value = _optional_time(number, tracking.get(key), UTC)
            if isinstance(value, datetime):
                when = value
                break
        if when is None:
            return None
        if status == Status.DELIVERED and substatus is None:
            substatus = delivered_refinement
        return CarrierEvent(
            occurred_at=when,
            status=status,
            substatus=substatus,
            code=subtag or tag,
            message=json_text(tracking, "subtag_message") or tag,
        )

    def _map(self, subtag: str, tag: str) -> tuple[str, str | None]:
        if subtag in STATUS_MAP:
            return STATUS_MAP[subtag]
        if tag in STATUS_MAP:
            return STATUS_MAP[tag]  # a subtag AfterShip added after this table
        return self.map_status(subtag or tag)

    def _event(
        self, number: str, checkpoint: object, delivered_refinement: str | None
    ) -> CarrierEvent:
        if not isinstance(checkpoint, Mapping):
            raise CarrierPayloadError(f"AfterShip tracking {number}: a checkpoint is not an object")
        country = _iso2(checkpoint.get("country_region") or checkpoint.get("country_iso3"))
        occurred_at = _required_time(
            number, checkpoint.get("checkpoint_time"), country_timezone(country)
        )
        subtag, tag = json_text(checkpoint, "subtag"), json_text(checkpoint, "tag")
        status, substatus = self._map(subtag, tag)
        if status == Status.DELIVERED and substatus is None:
            substatus = delivered_refinement
        return CarrierEvent(
            occurred_at=occurred_at,
            status=status,
            substatus=substatus,
            code=subtag or tag,
            message=json_text(checkpoint, "message") or json_text(checkpoint, "subtag_message"),
            location=Location(
                city=json_text(checkpoint, "city") or json_text(checkpoint, "location"),
                postcode=json_text(checkpoint, "zip"),
                country=country,
            ),
        )


def _envelope(body: bytes) -> tuple[Mapping[str, object], Mapping[str, object]]:
    payload = json_object(body, "AfterShip")
    meta, data = payload.get("meta"), payload.get("data")
    if not isinstance(meta, Mapping):
        raise CarrierPayloadError("AfterShip answer without a meta object")
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise CarrierPayloadError("AfterShip data is not an object")
    return meta, data


def _iso2(value: object) -> str:
    """Alpha-3 (AfterShip's form) to alpha-2; an alpha-2 passes; anything else gives ""."""
    if not isinstance(value, str):
        return ""
    code = value.strip().upper()
    if len(code) == 2 and code.isalpha():
        return code
    return ISO3_TO_ISO2.get(code, "")


def _location_type(text: str) -> str:
    lowered = text.casefold()
    for fragment, location_type in LOCATION_TYPE_KEYWORDS:
        if fragment in lowered:
            return location_type
    return ""


def _required_time(number: str, value: object, default_tz: tzinfo) -> datetime:
    try:
        return parse_datetime(value, default_tz=default_tz)
    except ValueError as exc:
        raise CarrierPayloadError(f"AfterShip tracking {number}: bad time {value!r}") from exc


def _optional_time(number: str, value: object, default_tz: tzinfo) -> date | datetime | None:
    if value is None or value == "":
        return None
    try:
        return parse_date_or_datetime(value, default_tz=default_tz)
    except ValueError as exc:
        raise CarrierPayloadError(f"AfterShip tracking {number}: bad date {value!r}") from exc


def _end_of(value: date | datetime | None, default_tz: tzinfo) -> datetime | None:
    """The end of a window: a datetime as it is, a bare date as 23:59:59 that day."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.combine(value, time(23, 59, 59), default_tz)


def _child(raw: Mapping[str, object], number: str, key: str) -> Mapping[str, object]:
    value = raw.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise CarrierPayloadError(f"AfterShip tracking {number}: {key} is not an object")
    return value


def _estimated_delivery(
    number: str, tracking: Mapping[str, object], default_tz: tzinfo
) -> tuple[date | datetime | None, datetime | None]:
    """(estimate or start of the window, end of the window): the latest estimate first."""
    latest = _child(tracking, number, "latest_estimated_delivery")
    single = _optional_time(number, latest.get("datetime"), default_tz)
    low = _optional_time(number, latest.get("datetime_min"), default_tz)
    high = _optional_time(number, latest.get("datetime_max"), default_tz)
    if single or low or high:
        return single or low or high, _end_of(high, default_tz) if (low or single) else None
    for key in ("courier_estimated_delivery_date", "aftership_estimated_delivery_date"):
        block = _child(tracking, number, key)
        single = _optional_time(number, block.get("estimated_delivery_date"), default_tz)
        low = _optional_time(number, block.get("estimated_delivery_date_min"), default_tz)
        high = _optional_time(number, block.get("estimated_delivery_date_max"), default_tz)
        if single or low or high:
            return single or low or high, _end_of(high, default_tz) if (low or single) else None
    return None, None
