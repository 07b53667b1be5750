"""Reads of the buyer tracking pages. Public: the token is the authorisation."""

from __future__ import annotations

import hmac
import re

from django.db import connection
from django.db.models import Prefetch
from django.db.models.functions import Upper

from core.errors import NotFound
from sellers.models import Order, SellerBranding
from tracking.models import ProofOfDelivery, Shipment, TrackingEvent

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
