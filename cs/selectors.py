"""Reads of the CS console and the CRM API: the search box and its ranking, a shipment's whole
story, the exception queues and who can work them, and what the console shows from other apps
beside a parcel (its payout, the notifications sent about it).

The console's reads of payouts and notifications live here, in the interface, so that the
tracking record depends on neither (cs -> payouts, notifications -> tracking).
Every selector on shipments and exceptions takes a Scope: a seller sees only its own rows."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    Func,
    IntegerField,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.utils import timezone

from core.access import Scope
from core.errors import NotFound
from core.textsearch import Fold
from notifications.models import DeliveryFeedback
from notifications.selectors import (
    LogEntry,
    delivery_log,
    order_delivery_feedback,
    suppressed_addresses,
)
from payouts import selectors as payouts_selectors
from payouts.models import Payout
from payouts.selectors import payout_get_for_order
from sellers.models import Seller
from tracking.models import (
    DeliveryEstimate,
    ExceptionKind,
    RawPayload,
    Shipment,
    ShipmentAudit,
    ShipmentException,
    ShipmentNote,
    TrackingEvent,
)
from tracking.services.shipments import tracking_number_normalise

# Rows the console shows for one search: an agent refines rather than pages through more.
SEARCH_LIMIT = 50
# Candidates taken from each kind of match before ranking: bounded, so that a common name or a
# big seller costs the same as a rare one.
SEARCH_CANDIDATES_PER_KIND = 200
_PHONE_LIKE = re.compile(r"^[0-9 +().\-/]+$")
# The national part of a French (and most European) number: the last nine digits, whatever the
# buyer typed before them (+33, 0033, 0).
PHONE_DIGITS = 9
# Shortest text matched as a part of a name, email or reference: trigram indexes need three
# characters, and two would match half the database.
PARTIAL_MIN_LENGTH = 3


class PhoneDigits(Func):
    """The last nine digits of a phone number, whatever its spacing and prefix. On PostgreSQL
    exactly the expression of the cs_order_phone_digits index (migration tracking 0006)."""

    output_field = CharField()
    template = f"right(regexp_replace(%(expressions)s, '[^0-9]', '', 'g'), {PHONE_DIGITS})"

    def as_sqlite(self, compiler, connection, **extra_context):
        strip = "%(expressions)s"
        for char in " .-+()/":
            strip = f"replace({strip}, '{char}', '')"
        return super().as_sql(
            compiler, connection, template=f"substr({strip}, -{PHONE_DIGITS})", **extra_context
        )


def phone_digits(value: str) -> str:
    return re.sub(r"[^0-9]", "", value)[-PHONE_DIGITS:]


@dataclass(frozen=True)
class SearchFilters:
    status: str | None = None
    carrier: str | None = None
    seller_id: int | None = None
    exception_kind: str | None = None
    created_from: date | None = None
    created_to: date | None = None


def _cs_filtered(scope: Scope, filters: SearchFilters) -> QuerySet[Shipment]:
    qs = Shipment.objects.for_seller(scope.seller_id)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.carrier:
        qs = qs.filter(carrier=filters.carrier)
    if filters.seller_id is not None:
        qs = qs.filter(seller_id=filters.seller_id)
    if filters.exception_kind:
        qs = qs.filter(
            Exists(
                ShipmentException.objects.filter(
                    shipment_id=OuterRef("pk"), kind=filters.exception_kind, resolved_at=None
                )
            )
        )
    tz = timezone.get_current_timezone()
    if filters.created_from:
        qs = qs.filter(created_at__gte=datetime.combine(filters.created_from, time.min, tz))
    if filters.created_to:
        end = datetime.combine(filters.created_to + timedelta(days=1), time.min, tz)
        qs = qs.filter(created_at__lt=end)
    return qs


def search_kinds(query: str) -> list[str]:
    """Which kinds of match a query can be (each one indexed query): a tracking number, an order
    reference (a part of one from three characters: "MAI-2026110"), an email (a part of one:
    "client5"), a phone number, a buyer's or a seller's name (accents and case aside)."""
    kinds = []
    number = tracking_number_normalise(query)
    if 4 <= len(number) <= 64 and number.isalnum():
        kinds.append("tracking_number")
    kinds.append("order_reference")
    if "@" in query:
        return [*kinds, "email"]
    if _PHONE_LIKE.match(query) and len(phone_digits(query)) == PHONE_DIGITS:
        kinds.append("phone")
    if len(query) >= PARTIAL_MIN_LENGTH and " " not in query and not query.isdigit():
        # Agents type the start of an address ("client5", "hélène.l"): one word, not a number.
        kinds.append("email")
    if len(query) >= PARTIAL_MIN_LENGTH and not query.isdigit():
        # A person's name has no digits (a shop's may: "Studio 54").
        if not any(ch.isdigit() for ch in query):
            kinds.append("buyer_name")
        kinds.append("seller_name")
    return kinds


def _folded_contains(qs: QuerySet[Shipment], field: str, query: str) -> QuerySet[Shipment]:
    """Rows whose ``field`` contains ``query``, accents and case aside (core.textsearch; on
    PostgreSQL the trigram indexes of migration tracking 0010 serve it)."""
    alias = "_fold_" + field.replace("__", "_")
    return qs.annotate(**{alias: Fold(field)}).filter(**{f"{alias}__contains": Fold(Value(query))})


def _match(qs: QuerySet[Shipment], kind: str, query: str) -> QuerySet[Shipment]:
    if kind == "tracking_number":
        number = tracking_number_normalise(query)
        # A long fragment finds the parcel it starts (agents paste half a number); a short one
        # only itself, or it would match thousands.
        if len(number) >= 8:
            return qs.filter(tracking_number__startswith=number)
        return qs.filter(tracking_number=number)
    if kind == "order_reference":
        if len(query) < PARTIAL_MIN_LENGTH:
            return qs.filter(order__reference__iexact=query)
        return _folded_contains(qs, "order__reference", query)
    if kind == "email":
        return _folded_contains(qs, "order__buyer_email", query)
    if kind == "phone":
        return qs.annotate(_phone=PhoneDigits("order__buyer_phone")).filter(
            _phone=phone_digits(query)
        )
    if kind == "buyer_name":
        return _folded_contains(qs, "order__buyer_name", query)
    if kind == "seller_name":
        return _folded_contains(qs, "seller__name", query)
    raise ValueError(kind)


def _exact(query: str, kinds: list[str]) -> Q:
    """What counts as an exact match, ranked first: the whole number, reference, address,
    phone or name (case and spacing aside), not a part of it."""
    exact = Q(order__reference__iexact=query)
    if "tracking_number" in kinds:
        exact |= Q(tracking_number=tracking_number_normalise(query))
    if "email" in kinds:
        exact |= Q(order__buyer_email__iexact=query)
    if "phone" in kinds:
        exact |= Q(_phone=phone_digits(query))
    if "buyer_name" in kinds:
        exact |= Q(_fold_order_buyer_name=Fold(Value(query)))
    if "seller_name" in kinds:
        exact |= Q(_fold_seller_name=Fold(Value(query)))
    return exact


def shipment_search(
    *, scope: Scope, query: str = "", filters: SearchFilters | None = None
) -> QuerySet[Shipment]:
    """The CS search box: shipments the scope may see that match ``query`` as a tracking number
    (any spacing or case; a long fragment as a prefix), an order reference, a buyer email,
    phone (any format: the last nine digits) or name, or a seller name (a part of a reference,
    email or name matches, accents and case aside: "helene lefevre" finds "Hélène Lefèvre"),
    within ``filters``. Exact matches first, then the newest. Without a query: the
    newest shipments within the filters.

    One indexed query per kind of match the text can be (at most SEARCH_CANDIDATES_PER_KIND
    ids each), then one query for the rows; at most SEARCH_LIMIT rows. The results carry
    ``order``, ``seller`` and ``open_exceptions`` (prefetched)."""
    filters = filters or SearchFilters()
    base = _cs_filtered(scope, filters)
    query = " ".join(query.split())[:100]
    open_exceptions = Prefetch(
        "exceptions",
        queryset=ShipmentException.objects.filter(resolved_at=None).order_by("opened_at"),
        to_attr="open_exceptions",
    )
    if not query:
        return (
            base.select_related("order", "seller")
            .prefetch_related(open_exceptions)
            .annotate(search_rank=Value(1, output_field=IntegerField()))
            .order_by("-created_at", "-id")[:SEARCH_LIMIT]
        )
    kinds = search_kinds(query)
    ids: set[int] = set()
    for kind in kinds:
        matches = _match(base, kind, query).order_by("-created_at", "-id")
        ids.update(matches.values_list("id", flat=True)[:SEARCH_CANDIDATES_PER_KIND])
    results = base.filter(pk__in=ids)
    if "buyer_name" in kinds:
        results = results.annotate(_fold_order_buyer_name=Fold("order__buyer_name"))
    if "seller_name" in kinds:
        results = results.annotate(_fold_seller_name=Fold("seller__name"))
    if "phone" in kinds:
        results = results.annotate(_phone=PhoneDigits("order__buyer_phone"))
    return (
        results.annotate(
            search_rank=Case(
                When(_exact(query, kinds), then=0), default=1, output_field=IntegerField()
            )
        )
        .select_related("order", "seller")
        .prefetch_related(open_exceptions)
        .order_by("search_rank", "-created_at", "-id")[:SEARCH_LIMIT]
    )


@dataclass(frozen=True)
class ShipmentStory:
    """Everything an agent sees about one parcel."""

    shipment: Shipment
    events: list[TrackingEvent]
    payloads: list[RawPayload]
    exceptions: list[ShipmentException]
    notes: list[ShipmentNote]
    estimates: list[DeliveryEstimate]
    audit: list[ShipmentAudit]


def shipment_story(*, scope: Scope, shipment_id: int) -> ShipmentStory:
    """One parcel with its events (oldest first, each with its raw payload's metadata), the raw
    courier payloads behind them (newest first), its exceptions (open first), internal notes
    and EDD history (newest first) and staff actions. NotFound outside the scope. A fixed number
    of queries whatever the parcel's history."""
    events_with_payloads = (
        TrackingEvent.objects.select_related("raw_payload")
        .defer("raw_payload__body_gzip")
        .order_by("occurred_at", "id")
    )
    try:
        shipment = (
            Shipment.objects.for_seller(scope.seller_id)
            .select_related("order", "order__protection", "seller", "pod")
            .prefetch_related(Prefetch("events", queryset=events_with_payloads))
            .get(pk=shipment_id)
        )
    except Shipment.DoesNotExist:
        raise NotFound(f"No shipment {shipment_id}.") from None
    events = list(shipment.events.all())  # prefetched, oldest first
    payload_ids = {e.raw_payload_id for e in events if e.raw_payload_id}
    payloads = list(RawPayload.objects.filter(pk__in=payload_ids).order_by("-received_at", "-id"))
    return ShipmentStory(
        shipment=shipment,
        events=events,
        payloads=payloads,
        exceptions=list(
            shipment.exceptions.select_related("assigned_to", "resolved_by").order_by(
                F("resolved_at").desc(nulls_first=True), "-opened_at"
            )
        ),
        notes=list(shipment.notes.select_related("author").order_by("-created_at", "-id")),
        estimates=list(shipment.estimates.order_by("-computed_at", "-id")),
        audit=list(shipment.audit.select_related("actor").order_by("-created_at", "-id")),
    )


def shipment_notes(*, shipment: Shipment) -> QuerySet[ShipmentNote]:
    return shipment.notes.select_related("author").order_by("-created_at", "-id")


@dataclass(frozen=True)
class QueueSummary:
    kind: str
    label: str
    open: int
    unassigned: int
    oldest_opened_at: datetime | None


def exception_queue_summaries(*, scope: Scope) -> list[QueueSummary]:
    """Every exception queue with its open count, unassigned count and oldest open exception
    (one query; served by the shipment_exception_queue partial index)."""
    qs = ShipmentException.objects.filter(resolved_at=None)
    if scope.seller_id is not None:
        qs = qs.filter(shipment__seller_id=scope.seller_id)
    rows = {
        row["kind"]: row
        for row in qs.values("kind").annotate(
            open=Count("id"),
            unassigned=Count("id", filter=Q(assigned_to__isnull=True)),
            oldest=Min("opened_at"),
        )
    }
    return [
        QueueSummary(
            kind=kind.value,
            label=kind.label,
            open=rows.get(kind.value, {}).get("open", 0),
            unassigned=rows.get(kind.value, {}).get("unassigned", 0),
            oldest_opened_at=rows.get(kind.value, {}).get("oldest"),
        )
        for kind in ExceptionKind
    ]


def exception_list(
    *,
    scope: Scope,
    kind: str | None = None,
    assigned_to_id: int | None = None,
    unassigned: bool = False,
    include_resolved: bool = False,
) -> QuerySet[ShipmentException]:
    """Exceptions of a queue, oldest first (the longest waiting is worked first), with their
    parcel, order, seller and agent."""
    qs = ShipmentException.objects.select_related(
        "shipment", "shipment__order", "shipment__seller", "assigned_to", "resolved_by"
    )
    if scope.seller_id is not None:
        qs = qs.filter(shipment__seller_id=scope.seller_id)
    if not include_resolved:
        qs = qs.filter(resolved_at=None)
    if kind:
        qs = qs.filter(kind=kind)
    if assigned_to_id is not None:
        qs = qs.filter(assigned_to_id=assigned_to_id)
    if unassigned:
        qs = qs.filter(assigned_to__isnull=True)
    return qs.order_by("opened_at", "id")


def exception_get(*, scope: Scope, exception_id: int) -> ShipmentException:
    try:
        return exception_list(scope=scope, include_resolved=True).get(pk=exception_id)
    except ShipmentException.DoesNotExist:
        raise NotFound(f"No exception {exception_id}.") from None


def cs_agents() -> QuerySet:
    """Who an exception can be assigned to: active members of the "cs agent" group and
    superusers."""
    return (
        get_user_model()
        .objects.filter(Q(groups__name="cs agent") | Q(is_superuser=True), is_active=True)
        .distinct()
        .order_by("username")
    )


def cs_assignee_get(*, user_id: int):
    """The user an agent picked in the assign form, or None for an unknown id. Whether that user
    may take the exception is the service's rule (tracking.services.cs.exception_assign)."""
    return get_user_model().objects.filter(pk=user_id).first()


def cs_seller_choices() -> QuerySet[Seller]:
    """The sellers the search form's filter offers, by name."""
    return Seller.objects.order_by("name")


# --- Beside the parcel: what other apps know about it ------------------------------------------


def shipment_payout(*, scope: Scope, order_id: int) -> Payout | None:
    """The payout of the parcel's order, or None when the order has none."""
    try:
        return payout_get_for_order(scope=scope, order_id=order_id)
    except NotFound:
        return None


def shipment_notifications(*, shipment_id: int) -> list[LogEntry]:
    """The buyer notifications and webhook deliveries about the parcel, newest first, recipients
    masked."""
    return delivery_log(shipment_id=shipment_id)


def shipment_delivery_feedback(*, order) -> list[DeliveryFeedback]:
    """Bounces, complaints and SMS statuses for the addresses of the parcel's buyer (masked
    in the page: ``masked_address``)."""
    return order_delivery_feedback(order=order)


def suppression_list() -> list[DeliveryFeedback]:
    """Every address the outbox no longer sends to, with its latest reason."""
    return suppressed_addresses()


# The queue's tabs are finance's (payouts.selectors): one meaning in the two consoles and the API.
COURIER_CLAIM_TABS = payouts_selectors.COURIER_CLAIM_TABS
courier_claim_tab = payouts_selectors.courier_claim_tab


def courier_claims(*, scope: Scope, status: str = "open") -> QuerySet:
    """The marketplace's courier-claim queue (buyers' "not received" claims on protected
    orders with the courier's POD), as finance sees it: payouts.selectors.courier_claim_queue."""
    return payouts_selectors.courier_claim_queue(scope=scope, status=status)
