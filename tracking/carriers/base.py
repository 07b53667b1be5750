"""The courier adapter protocol: what every courier module provides.

An adapter is pure parsing plus HTTP; it knows nothing about Django models. The pipeline is

    adapter.fetch(numbers, client) -> list[CarrierResponse]     (HTTP, one or more requests)
    adapter.parse(body)            -> ParseResult                (pure: courier format -> ours)
    adapter.track(numbers, client) -> ParseResult                (both, plus "not returned" errors)

``parse`` returns, per tracking number, the events (oldest first) with their normalised
status, the courier's POD and estimated delivery; and per-number errors for courier error
payloads (unknown number, invalid number). Faults that concern the courier rather than a number
(bad credentials, rate limit, 5xx, malformed body) raise ``CarrierFault`` subclasses so that the
sync job can back off that courier without touching any shipment.

An aggregator covering hundreds of couriers plugs in as one more adapter: its ``parse`` maps the
aggregator's tags to our vocabulary exactly like a courier's codes.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import ClassVar

from tracking.carriers.documents import DocumentNotAvailable, ProofDocument

# The faults and the HTTP answer are defined beside the HTTP client (which raises them) and
# re-exported here, so that adapters find the whole protocol in one module while http.py needs
# nothing from this one (no base <-> http import cycle).
from tracking.carriers.faults import (  # noqa: F401 - re-exported
    CarrierAuthError,
    CarrierError,
    CarrierFault,
    CarrierPayloadError,
    CarrierRateLimited,
    CarrierRequestRejected,
    CarrierUnavailable,
    PushNotConfigured,
    PushRejected,
)
from tracking.carriers.http import CarrierHttpClient, CarrierResponse  # noqa: F401 - re-exported
from tracking.carriers.vocabulary import Status

# --- What parsing produces ------------------------------------------------------------------


@dataclass(frozen=True)
class Location:
    city: str = ""
    postcode: str = ""
    country: str = ""  # ISO 3166-1 alpha-2, upper case, "" when unknown

    def as_dict(self) -> dict[str, str]:
        return {"city": self.city, "postcode": self.postcode, "country": self.country}


@dataclass(frozen=True)
class CarrierEvent:
    """One courier scan, already normalised. ``occurred_at`` is timezone-aware."""

    occurred_at: datetime
    status: str
    substatus: str | None
    code: str
    message: str
    location: Location = field(default_factory=Location)

    def __post_init__(self) -> None:
        if self.occurred_at.tzinfo is None or self.occurred_at.utcoffset() is None:
            raise ValueError(f"event time {self.occurred_at!r} must be timezone-aware")


@dataclass(frozen=True)
class PodData:
    """Proof of delivery as the courier gives it."""

    delivered_at: datetime | None
    signed_by: str = ""
    location_type: str = ""  # front_door, mailbox, neighbour, pickup_point, locker, reception…
    documents: tuple[str, ...] = ()  # URLs, or a kind ("signature") when the image is inline

    def as_dict(self) -> dict[str, object]:
        return {
            "signed_by": self.signed_by,
            "delivered_at": self.delivered_at.isoformat() if self.delivered_at else None,
            "location_type": self.location_type,
            "documents": list(self.documents),
        }


# What couriers (and their documentation examples) put where a signatory's name goes when nobody
# signed: never a signatory. Compared case-folded, trailing punctuation stripped.
_PLACEHOLDER_SIGNATORIES = frozenset(
    {
        "string",
        "signature not required",
        "no signature required",
        "no signature",
        "not required",
        "signature waived",
        "n/a",
        "na",
        "none",
        "null",
        "unknown",
        "-",
    }
)


def real_signatory(value: str) -> str:
    """The signatory's name, or "" when the courier wrote a placeholder where a name goes
    ("Signature not required", the OpenAPI example's "string")."""
    name = " ".join(value.split())
    if name.casefold().strip(" .:") in _PLACEHOLDER_SIGNATORIES:
        return ""
    return name


def courier_number(value: str) -> str:
    """A tracking number the courier wrote, as we store ours: without spaces, upper case ("3S
    ABCD 1234" is 3SABCD1234); "" for a placeholder without a single digit (an OpenAPI example's
    "string"), so that the answer is named by the number asked instead."""
    number = "".join(value.split()).upper()
    return number if any(character.isdigit() for character in number) else ""


@dataclass(frozen=True)
class TrackingResult:
    """Everything the courier told us about one tracking number."""

    tracking_number: str
    events: tuple[CarrierEvent, ...]  # oldest first
    estimated_delivery: date | datetime | None = None
    estimated_delivery_end: datetime | None = None  # end of the courier's window, if any
    # The courier's proof for this answer's delivery scan. Whether that delivery stands (not
    # undone by a later return or exception), and so whether the POD counts, is decided by the
    # tracking record (``tracking.status.pod_standing``, used by ingest), never here.
    pod: PodData | None = None
    # The courier's ship or label date, where it gives one: what tells apart shipments that
    # reuse one number (``choose_our_parcels``). None falls back to the first scan's date.
    shipped_on: date | None = None

    @property
    def delivery(self) -> CarrierEvent | None:
        """The answer's latest delivery scan (what a POD reports on), None without one."""
        return next((e for e in reversed(self.events) if e.status == Status.DELIVERED), None)


@dataclass(frozen=True)
class TrackingError:
    tracking_number: str
    code: str
    message: str


@dataclass
class ParseResult:
    shipments: list[TrackingResult] = field(default_factory=list)
    errors: list[TrackingError] = field(default_factory=list)
    # Which of several results for one number was kept, and why (``choose_our_parcels``):
    # stored on the raw payload's note so that CS can see the choice.
    notes: list[str] = field(default_factory=list)

    def extend(self, other: ParseResult) -> None:
        self.shipments.extend(other.shipments)
        self.errors.extend(other.errors)
        self.notes.extend(other.notes)


# --- Gateway error bodies --------------------------------------------------------------------

# Couriers' APIs sit behind API gateways that answer 401/403/429/5xx in the gateway's own shape,
# not the courier's: Apigee's {"fault": {"faultstring", "detail": {"errorcode"}}} (GLS, DHL),
# an RFC 7807 problem {"title", "status", "detail"}, AWS API Gateway's bare {"message"}.
_GATEWAY_FAULT_WORDS: tuple[tuple[str, str], ...] = (
    ("ratelimit", "rate_limited"),
    ("quota", "rate_limited"),
    ("spikearrest", "rate_limited"),
    ("too many requests", "rate_limited"),
    ("limit exceeded", "rate_limited"),
    ("apikey", "auth_failed"),
    ("api key", "auth_failed"),
    ("token", "auth_failed"),
    ("jwt", "auth_failed"),
    ("oauth", "auth_failed"),
    ("unauthorized", "auth_failed"),
    ("forbidden", "auth_failed"),
    ("authentication", "auth_failed"),
    ("unavailable", "unavailable"),
    ("timeout", "unavailable"),
    ("timed out", "unavailable"),
    ("internal server error", "unavailable"),
    ("targetconnect", "unavailable"),
    ("bad gateway", "unavailable"),
)
_GATEWAY_STATUS = {401: "auth_failed", 403: "auth_failed", 429: "rate_limited"}


def _gateway_kind(text: str) -> str:
    lowered = text.casefold().replace("_", "")
    return next((kind for word, kind in _GATEWAY_FAULT_WORDS if word in lowered), "")


def gateway_error(payload: object) -> TrackingError | None:
    """The error a gateway's own body reports (rate limited, bad credentials, unavailable),
    naming no number; None for anything else, which the courier's format then reads.

    Only bodies of those shapes and kinds: a courier's own "not found" problem (404) or bad
    request is left to the adapter."""
    if not isinstance(payload, Mapping):
        return None
    fault = payload.get("fault")
    if isinstance(fault, Mapping) and isinstance(fault.get("faultstring"), str):
        detail = fault.get("detail")
        code = detail.get("errorcode") if isinstance(detail, Mapping) else ""
        message = fault["faultstring"].strip()
        kind = _gateway_kind(f"{code} {message}")
        return TrackingError("", kind, message or str(code)) if kind else None
    status = payload.get("status")
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if (
        isinstance(status, int)
        and not isinstance(status, bool)
        and payload.keys()
        & {
            "title",
            "detail",
        }
    ):
        kind = _GATEWAY_STATUS.get(status) or ("unavailable" if 500 <= status <= 599 else "")
        message = next(
            (str(payload[k]).strip() for k in ("detail", "message", "title") if payload.get(k)),
            "",
        )
        return TrackingError("", kind, message or f"HTTP {status}") if kind else None
    if payload.keys() == {"message"} and isinstance(payload["message"], str):
        kind = _gateway_kind(payload["message"])
        return TrackingError("", kind, payload["message"].strip()) if kind else None
    return None


# --- One number, several results ------------------------------------------------------------

# A label is printed after the order is placed; one day of slack covers the courier's local
# date against ours (a label printed late evening in New York is the next day in Paris).
SHIP_DATE_SLACK = timedelta(days=1)


def shipped_on(result: TrackingResult) -> date | None:
    """The result's ship or label date: the courier's own, else its first scan's local date."""
    if result.shipped_on is not None:
        return result.shipped_on
    return result.events[0].occurred_at.date() if result.events else None


def choose_our_parcels(
    result: ParseResult, *, courier: str, ours_since: Mapping[str, date] | None = None
) -> ParseResult:
    """One result per tracking number: the one that is our parcel when the courier answers a
    number with several (couriers reuse numbers: FedEx, DHL's services, AfterShip's couriers).

    ``ours_since`` gives, per number, the earliest of our order and registration dates. A
    result shipped (or labelled) before that, less ``SHIP_DATE_SLACK``, is another parcel
    that had the number before ours: never kept. Among the rest, the one shipped first after
    our dates is ours (a later one would be the number's next reuse); without our dates, or
    when no result has a date, the most recent. When every result predates our parcel, the
    number gets a ``not_found`` error: the courier does not show ours yet. Each choice is
    written in ``notes``; numbers with one result pass untouched.
    """
    ours_since = ours_since or {}
    by_number: dict[str, list[TrackingResult]] = {}
    for tracking in result.shipments:
        by_number.setdefault(tracking.tracking_number, []).append(tracking)
    chosen = ParseResult(errors=list(result.errors), notes=list(result.notes))
    for number, candidates in by_number.items():
        if len(candidates) == 1:
            chosen.shipments.append(candidates[0])
            continue
        since = ours_since.get(number)
        dated = [(shipped_on(c), c) for c in candidates]
        described = ", ".join(str(day or "undated") for day, _ in dated)
        if since is not None:
            fresh = [(d, c) for d, c in dated if d is None or d >= since - SHIP_DATE_SLACK]
            if not fresh:
                chosen.errors.append(
                    TrackingError(
                        number,
                        "not_found",
                        f"{courier} has {len(candidates)} shipments under this number, all "
                        f"shipped before our parcel (ours since {since}; theirs {described})",
                    )
                )
                chosen.notes.append(f"{number}: none kept, all shipped before {since}")
                continue
            with_day = [(d, c) for d, c in fresh if d is not None]
            day, kept = min(with_day, key=lambda dc: dc[0]) if with_day else fresh[-1]
            why = f"the first shipped since our parcel's {since}"
        else:
            with_day = [(d, c) for d, c in dated if d is not None]
            day, kept = max(with_day, key=lambda dc: dc[0]) if with_day else dated[-1]
            why = "the most recent (no order or registration date to compare)"
        chosen.shipments.append(kept)
        chosen.notes.append(
            f"{number}: {courier} answered {len(candidates)} shipments (shipped {described}); "
            f"kept the one shipped {day or 'undated'}, {why}"
        )
    return chosen


# --- Readings every courier needs ---------------------------------------------------------

# What couriers write in a "signed by" field when nobody signed (FedEx through AfterShip:
# "Signature not required"; others "N/A", "Not required", "Released without signature"). A POD
# naming one of these as its signatory would pass for a signed delivery: it is no signatory.
_NO_SIGNATORY = re.compile(
    r"^\W*(?:n/?a|none|null|unknown|-+|\.+)\W*$"
    r"|signature\s+(?:not\s+(?:required|obtained|needed)|waived|release)"
    r"|(?:without|no)\s+signature|not\s+required|no\s+signature\s+required",
    re.IGNORECASE,
)


def signatory(text: str) -> str:
    """The person who signed, as the courier wrote it; "" for a placeholder saying no one did."""
    cleaned = " ".join(text.split())
    return "" if not cleaned or _NO_SIGNATORY.search(cleaned) else cleaned


def with_summary(
    events: Iterable[CarrierEvent], summary: CarrierEvent | None
) -> tuple[CarrierEvent, ...]:
    """The scans (oldest first), plus the courier's own summary when the scans do not end there.

    Couriers give a parcel-level status beside their scan list (AfterShip's tracking ``tag``,
    FedEx's ``latestStatusDetail``, DHL's ``status``): when the list is missing, truncated or
    lags behind, the summary is the courier's later word and must not be lost (an expired
    AfterShip tracking without checkpoints is expired, not pending). It is added as one more
    event unless the last scan already has its status, or is the same scan (same code and time:
    the adapter has read that scan with more context, e.g. a delivery after a return), or the
    summary is older than the last scan (the scans are the newer news). A "pending" summary says
    nothing the scans do not.
    """
    ordered = sort_events(events)
    if summary is None or summary.status == Status.PENDING:
        return ordered
    if ordered:
        last = ordered[-1]
        if (
            last.status == summary.status
            or (last.code, last.occurred_at) == (summary.code, summary.occurred_at)
            or summary.occurred_at < last.occurred_at
        ):
            return ordered
    return (*ordered, summary)


# --- The adapter ----------------------------------------------------------------------------


def sort_events(events: Iterable[CarrierEvent]) -> tuple[CarrierEvent, ...]:
    """Oldest first, stable: couriers disagree on order (newest-first for most JSON APIs)."""
    # By UTC instant: datetimes sharing a ZoneInfo compare by wall clock (wrong across DST).
    return tuple(sorted(events, key=lambda e: e.occurred_at.timestamp()))


def _positive(value: float, name: str) -> float:
    if not value > 0:
        raise ValueError(f"{name} must be positive, got {value!r}")
    return value


class CarrierAdapter:
    """Base class for courier adapters. Subclasses set the class attributes and implement
    ``fetch`` and ``parse``; ``track`` ties them together."""

    slug: ClassVar[str]
    name: ClassVar[str]
    # Regular expressions a normalised tracking number of this courier matches (detection).
    number_patterns: ClassVar[Sequence[re.Pattern[str]]] = ()
    # The courier's own code -> (status, substatus). The full table, not only the codes seen.
    status_map: ClassVar[Mapping[str, tuple[str, str | None]]] = {}
    # Tracking numbers one request may carry (the courier's documented maximum).
    batch_size: ClassVar[int] = 1
    # Requests per second the courier allows us (contract or documented quota), and its daily
    # quota when it documents one; shared by every worker (tracking/carriers/budget.py).
    requests_per_second: float = 5.0
    requests_per_day: int | None = None
    # The courier's public tracking page, for buyers and agents.
    tracking_url_template: ClassVar[str] = ""
    # Whether the courier can push events to us (webhooks).
    supports_push: ClassVar[bool] = False
    # Configuration by naming rule (see tracking/carriers/__init__.py): the URL used when
    # <SLUG>_BASE_URL is unset, the credentials read from <SLUG>_<NAME>, the secrets among them
    # that authenticate the courier's pushes, and options read from <SLUG>_<NAME> with a default.
    production_url: ClassVar[str] = ""
    credentials: ClassVar[tuple[str, ...]] = ()
    push_credentials: ClassVar[tuple[str, ...]] = ()
    option_defaults: ClassVar[Mapping[str, str]] = {}

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str = "",
        timeout_seconds: float = 10.0,
        push_tolerance_seconds: float = 300,
        requests_per_second: float | str | None = None,
        requests_per_day: int | str | None = None,
        **options: object,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        # A contract's limits (<SLUG>_REQUESTS_PER_SECOND / _PER_DAY) replace the documented ones.
        if requests_per_second is not None:
            self.requests_per_second = _positive(float(requests_per_second), "requests_per_second")
        if requests_per_day is not None:
            self.requests_per_day = int(_positive(int(requests_per_day), "requests_per_day"))
        self.api_key = api_key
        self.timeout_seconds = float(timeout_seconds)
        self.push_tolerance_seconds = float(push_tolerance_seconds)
        self.options = options

    def _credential(self, name: str) -> str:
        return str(self.options.get(name) or getattr(self, name, "") or "")

    @property
    def missing_credentials(self) -> list[str]:
        """API credentials without a value: the courier cannot be polled."""
        return [
            name
            for name in self.credentials
            if name not in self.push_credentials and not self._credential(name)
        ]

    @property
    def missing_push_credentials(self) -> list[str]:
        """Push secrets without a value: the courier's pushes are refused."""
        return [name for name in self.push_credentials if not self._credential(name)]

    def tracking_url(self, tracking_number: str) -> str:
        return self.tracking_url_template.format(number=tracking_number)

    def matches(self, tracking_number: str) -> bool:
        return any(p.fullmatch(tracking_number) for p in self.number_patterns)

    def map_status(self, code: str) -> tuple[str, str | None]:
        """Our (status, substatus) for a courier code; unknown codes count as in transit."""
        return self.status_map.get(code, (Status.IN_TRANSIT, None))

    def fetch(
        self, tracking_numbers: Sequence[str], *, client: CarrierHttpClient
    ) -> list[CarrierResponse]:
        raise NotImplementedError

    def parse(self, body: bytes) -> ParseResult:
        raise NotImplementedError

    # --- Push (couriers that call us) ---------------------------------------------------------

    def verify_push(self, *, headers: Mapping[str, str], body: bytes, now: datetime) -> None:
        """Raise PushRejected unless the request provably comes from the courier. ``headers``
        have lower-case names; compare secrets with hmac.compare_digest (constant time)."""
        raise PushRejected(f"{self.name} does not push to Parcelle")

    def push_event_id(self, *, headers: Mapping[str, str], body: bytes) -> str:
        """The courier's id of this push, to store it once however often it is re-sent; couriers
        without one get the body's SHA-256 (a re-sent identical body is the same push)."""
        return hashlib.sha256(body).hexdigest()

    def parse_push(self, body: bytes) -> ParseResult:
        """A pushed body, parsed; most couriers push the same shape their tracking API returns."""
        return self.parse(body)

    def fetch_and_parse(
        self, tracking_numbers: Sequence[str], *, client: CarrierHttpClient
    ) -> list[CarrierAnswer]:
        """Each HTTP answer with what it says, so events can point at the answer they came from.

        The one entry point of the sync job (``track`` is built on it): override this, not
        ``track``. When the courier takes one number a request, an answer that does not name
        its number (many error bodies do not) is about the number that request asked for.
        Errors about the account rather than a number raise the courier fault.
        """
        responses = self.fetch(tracking_numbers, client=client)
        one_each = self.batch_size == 1 and len(responses) == len(tracking_numbers)
        answers = []
        for index, response in enumerate(responses):
            result = self.parse(response.body)
            raise_account_errors(self.name, result)
            if one_each:
                result = name_unnamed(result, tracking_numbers[index])
            answers.append(CarrierAnswer(response, result))
        return answers

    def track(
        self, tracking_numbers: Sequence[str], *, client: CarrierHttpClient
    ) -> tuple[ParseResult, list[CarrierResponse]]:
        """Fetch and parse; a number the courier did not answer for becomes a per-number error."""
        answers = self.fetch_and_parse(tracking_numbers, client=client)
        result = ParseResult()
        for answer in answers:
            result.extend(answer.result)
        result.errors.extend(not_returned_errors(tracking_numbers, [a.result for a in answers]))
        return result, [a.response for a in answers]

    # --- Proof documents (issue 16, item 6) ---------------------------------------------------
    # Couriers that hand out a signature image or a proof PDF override both methods in methods
    # of their own (see tracking/carriers/documents.py); the others keep these defaults.

    def proof_document_kind(self, pod: PodData) -> str | None:
        """The kind of document this courier documents for a POD like ``pod`` (pure: no
        HTTP), None when it has none to give."""
        return None

    def fetch_proof_document(
        self, *, tracking_number: str, pod: PodData, destination_postcode: str,
        client: CarrierHttpClient,
    ) -> ProofDocument:  # fmt: skip
        """Ask the courier for the document ``proof_document_kind`` named. Raises
        DocumentNotAvailable when the courier has none (yet), DocumentRefused when its answer
        is not a document, CarrierFault subclasses for the courier's faults."""
        raise DocumentNotAvailable(f"{self.name} documents no proof document")


@dataclass(frozen=True)
class CarrierAnswer:
    response: CarrierResponse
    result: ParseResult


# Error codes that concern the courier or our account, never one number: the batch stops.
ACCOUNT_ERRORS: dict[str, type[CarrierFault]] = {
    "auth_failed": CarrierAuthError,
    "rate_limited": CarrierRateLimited,
    "unavailable": CarrierUnavailable,
    "bad_request": CarrierRequestRejected,
}


def raise_account_errors(courier: str, result: ParseResult) -> None:
    for error in result.errors:
        fault = ACCOUNT_ERRORS.get(error.code)
        if fault is not None:
            raise fault(f"{courier}: {error.message or error.code}")


def name_unnamed(result: ParseResult, tracking_number: str) -> ParseResult:
    """Give the number asked to the shipments and errors of an answer that did not name it."""
    return ParseResult(
        shipments=[
            s if s.tracking_number else replace(s, tracking_number=tracking_number)
            for s in result.shipments
        ],
        errors=[
            e if e.tracking_number else replace(e, tracking_number=tracking_number)
            for e in result.errors
        ],
    )


def not_returned_errors(
    tracking_numbers: Sequence[str], results: Iterable[ParseResult]
) -> list[TrackingError]:
    """Errors for the numbers asked about that no answer mentions (neither data nor error)."""
    answered: set[str] = set()
    for result in results:
        answered.update(s.tracking_number for s in result.shipments)
        answered.update(e.tracking_number for e in result.errors)
    return [
        TrackingError(number, "not_returned", "The courier's answer did not mention it")
        for number in tracking_numbers
        if number not in answered
    ]
