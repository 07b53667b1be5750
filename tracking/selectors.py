"""Reads of the tracking app. Every selector takes a Scope: a seller sees only its own rows."""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db import connection
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
from django.db.models.functions import Upper
from django.utils import timezone

from core.access import Scope
from core.errors import NotFound
from sellers.models import Order, SellerBranding
from tracking.models import (
    DeliveryEstimate,
    ExceptionKind,
    ProofOfDelivery,
    RawPayload,
    Shipment,
    ShipmentAudit,
    ShipmentException,
    ShipmentNote,
    TrackingEvent,
)
from tracking.services.shipments import tracking_number_normalise


def shipment_list(
    *,
    scope: Scope,
    status: str | None = None,
    carrier: str | None = None,
    seller_id: int | None = None,
    order_reference: str | None = None,
    query: str | None = None,
) -> QuerySet[Shipment]:
    """Shipments the scope may see, newest first, filtered; ``query`` matches a tracking number
    (any spacing or case) or an order reference exactly."""
    qs = (
        Shipment.objects.for_seller(scope.seller_id)
        .select_related("order", "seller")
        .order_by("-created_at", "-id")
    )
    if status:
        qs = qs.filter(status=status)
    if carrier:
        qs = qs.filter(carrier=carrier)
    if seller_id is not None:
        qs = qs.filter(seller_id=seller_id)
    if order_reference:
        qs = qs.filter(order__reference=order_reference)
    if query:
        qs = qs.filter(
            Q(tracking_number=tracking_number_normalise(query)) | Q(order__reference=query.strip())
        )
    return qs


def shipment_get(*, scope: Scope, shipment_id: int) -> Shipment:
    """One shipment with its events (oldest first) and POD; NotFound outside the scope."""
    events = TrackingEvent.objects.order_by("occurred_at", "id")
    try:
        return (
            Shipment.objects.for_seller(scope.seller_id)
            .select_related("order", "seller", "pod")
            .prefetch_related(Prefetch("events", queryset=events))
            .get(pk=shipment_id)
        )
    except Shipment.DoesNotExist:
        raise NotFound(f"No shipment {shipment_id}.") from None


def order_tracking_get(*, scope: Scope, order_id: int) -> Order:
    """An order with its shipments (and their POD); NotFound outside the scope."""
    qs = Order.objects.select_related("seller").prefetch_related(
        Prefetch(
            "shipments",
            queryset=Shipment.objects.select_related("pod").order_by("created_at", "id"),
        )
    )
    if scope.seller_id is not None:
        qs = qs.filter(seller_id=scope.seller_id)
    try:
        return qs.get(pk=order_id)
    except Order.DoesNotExist:
        raise NotFound(f"No order {order_id}.") from None


# --- Buyer tracking pages (public: the token is the authorisation) ----------------------------

# More orders than this sharing one reference (across sellers) is not a real case: bounded.
LOOKUP_MAX_CANDIDATES = 20
_POSTCODE_NOISE = re.compile(r"[^0-9A-Z]")


def public_order_get(*, token: str) -> Order:
    """The order behind a public order link, with its seller and the seller's branding (one
    query). Raises NotFound, with no detail, for any unknown token."""
    try:
        return Order.objects.select_related("seller", "seller__branding").get(public_token=token)
    except Order.DoesNotExist:
        raise NotFound("No such tracking page.") from None


def _version_sql(kind: str) -> str:
    """The SQL of the page-version reads. Written out rather than built by the ORM: they run on
    every public page view, and building an aggregate query costs more than running it
    (measured: ~2.5 ms of ORM work against ~0.7 ms in PostgreSQL). Plain joins and GROUP BY:
    the same text on PostgreSQL and SQLite."""
    q = connection.ops.quote_name
    order, branding = q(Order._meta.db_table), q(SellerBranding._meta.db_table)
    shipment, pod = q(Shipment._meta.db_table), q(ProofOfDelivery._meta.db_table)
    if kind == "order":
        return (
            "SELECT o.id, o.buyer_locale, b.updated_at, "  # noqa: S608 - names from the models
            "MAX(s.updated_at), COUNT(s.id), MAX(p.updated_at) "
            f"FROM {order} o "
            f"LEFT JOIN {branding} b ON b.seller_id = o.seller_id "
            f"LEFT JOIN {shipment} s ON s.order_id = o.id "
            f"LEFT JOIN {pod} p ON p.shipment_id = s.id "
            "WHERE o.public_token = %s "
            "GROUP BY o.id, o.buyer_locale, b.updated_at"
        )
    return (
        "SELECT s.id, o.buyer_locale, b.updated_at, "  # noqa: S608 - names from the models
        "s.updated_at, p.updated_at "
        f"FROM {shipment} s "
        f"JOIN {order} o ON o.id = s.order_id "
        f"LEFT JOIN {branding} b ON b.seller_id = s.seller_id "
        f"LEFT JOIN {pod} p ON p.shipment_id = s.id "
        "WHERE s.public_token = %s"
    )


def _version(kind: str, token: str) -> dict | None:
    with connection.cursor() as cursor:
        cursor.execute(_version_sql(kind), [token])
        row = cursor.fetchone()
    if row is None:
        return None
    # Only compared for equality (part of a cache key): the raw values are enough.
    return {"id": row[0], "buyer_locale": row[1], "state": tuple(str(v) for v in row[2:])}


def public_order_version(*, token: str) -> dict | None:
    """What an order page's cache key needs, in one query and no model: the order's id and
    buyer_locale, and the state of all it shows — the seller's branding updated_at, its
    parcels' latest updated_at and their count, their PODs' latest updated_at. The ingest
    service bumps a parcel's updated_at on every courier answer, so any change gives a new
    state. None for an unknown token."""
    return _version("order", token)


def public_order_shipments(*, order: Order) -> list[Shipment]:
    """The order's parcels in the order they were registered, each with its POD and its events
    newest first (two queries)."""
    events = TrackingEvent.objects.order_by("-occurred_at", "-id")
    return list(
        Shipment.objects.filter(order=order)
        .select_related("pod")
        .prefetch_related(Prefetch("events", queryset=events))
        .order_by("created_at", "id")
    )


def public_shipment_get(*, token: str) -> Shipment:
    """The parcel behind a public parcel link, with its order, seller, branding and POD (one
    query). Raises NotFound, with no detail, for any unknown token."""
    try:
        return Shipment.objects.select_related("order", "seller", "seller__branding", "pod").get(
            public_token=token
        )
    except Shipment.DoesNotExist:
        raise NotFound("No such tracking page.") from None


def public_shipment_version(*, token: str) -> dict | None:
    """What a parcel page's cache key needs, in one query and no model (see
    public_order_version). None for an unknown token."""
    return _version("shipment", token)


def public_shipment_events(*, shipment: Shipment) -> list[TrackingEvent]:
    """A parcel's events, newest first (one query)."""
    return list(shipment.events.order_by("-occurred_at", "-id"))


def postcode_normalise(value: str) -> str:
    """ "69 003", "sw1a 1aa", "1000-001" -> "69003", "SW1A1AA", "1000001"."""
    return _POSTCODE_NOISE.sub("", value.upper())


def public_order_lookup(*, reference: str, postcode_or_email: str) -> Order | None:
    """The order a buyer identifies by its reference and either the delivery postcode or their
    email (case, spaces and punctuation ignored); None when nothing matches.

    Says nothing about which part was wrong, and takes the same path whether the reference
    exists or not: one indexed query, then a constant-time comparison against every order
    with that reference (or against a placeholder when there is none). Rate-limited by the
    view, since a postcode is guessable.
    """
    wanted = postcode_or_email.strip()
    by_email = "@" in wanted
    wanted = wanted.casefold() if by_email else postcode_normalise(wanted)
    candidates = list(
        Order.objects.annotate(reference_upper=Upper("reference"))
        .filter(reference_upper=" ".join(reference.split()).upper())
        .only("id", "public_token", "buyer_email", "destination_postcode")
        .order_by("id")[:LOOKUP_MAX_CANDIDATES]
    )
    found = None
    for order in candidates or [None]:
        if order is None:
            stored = "\x00placeholder"
        elif by_email:
            stored = order.buyer_email.strip().casefold()
        else:
            stored = postcode_normalise(order.destination_postcode)
        matches = hmac.compare_digest(stored.encode(), wanted.encode())
        if matches and wanted and order is not None and found is None:
            found = order
    return found


# --- Customer service: one search box, the shipment's whole story, the exception queues -------

# Rows the console shows for one search: an agent refines rather than pages through more.
SEARCH_LIMIT = 50
# Candidates taken from each kind of match before ranking: bounded, so that a common name or a
# big seller costs the same as a rare one.
SEARCH_CANDIDATES_PER_KIND = 200
_PHONE_LIKE = re.compile(r"^[0-9 +().\-/]+$")
# The national part of a French (and most European) number: the last nine digits, whatever the
# buyer typed before them (+33, 0033, 0).
PHONE_DIGITS = 9


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
    reference, an email, a phone number, a buyer's or a seller's name."""
    kinds = []
    number = tracking_number_normalise(query)
    if 4 <= len(number) <= 64 and number.isalnum():
        kinds.append("tracking_number")
    kinds.append("order_reference")
    if "@" in query:
        return [*kinds, "email"]
    if _PHONE_LIKE.match(query) and len(phone_digits(query)) == PHONE_DIGITS:
        kinds.append("phone")
    if len(query) >= 3 and not query.isdigit():
        # A person's name has no digits (a shop's may: "Studio 54").
        if not any(ch.isdigit() for ch in query):
            kinds.append("buyer_name")
        kinds.append("seller_name")
    return kinds


def _match(qs: QuerySet[Shipment], kind: str, query: str) -> QuerySet[Shipment]:
    if kind == "tracking_number":
        number = tracking_number_normalise(query)
        # A long fragment finds the parcel it starts (agents paste half a number); a short one
        # only itself, or it would match thousands.
        if len(number) >= 8:
            return qs.filter(tracking_number__startswith=number)
        return qs.filter(tracking_number=number)
    if kind == "order_reference":
        return qs.filter(order__reference__iexact=query)
    if kind == "email":
        return qs.filter(order__buyer_email__iexact=query)
    if kind == "phone":
        return qs.annotate(_phone=PhoneDigits("order__buyer_phone")).filter(
            _phone=phone_digits(query)
        )
    if kind == "buyer_name":
        return qs.filter(order__buyer_name__icontains=query)
    if kind == "seller_name":
        return qs.filter(seller__name__icontains=query)
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
        exact |= Q(order__buyer_name__iexact=query)
    if "seller_name" in kinds:
        exact |= Q(seller__name__iexact=query)
    return exact


def shipment_search(
    *, scope: Scope, query: str = "", filters: SearchFilters | None = None
) -> QuerySet[Shipment]:
    """The CS search box: shipments the scope may see that match ``query`` as a tracking number
    (any spacing or case; a long fragment as a prefix), an order reference, a buyer email,
    phone (any format: the last nine digits) or name, or a seller name (a part of a name
    matches), within ``filters``. Exact matches first, then the newest. Without a query: the
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
            .select_related("order", "seller", "pod")
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
