"""A buyer's personal data: find it, export it (right of access), erase it (right to erasure),
and let it expire (the retention policy).

    buyer_orders_find(email | order_reference) -> [Order]
      -> buyer_data_export(...)  -> a JSON-ready dict of everything held about the buyer
      -> buyer_data_erase(...)   -> names, emails, phones, free texts and files removed; the
                                    rows that money and statistics hang on kept, pseudonymised
    retention_apply()            (schedule privacy.apply_retention, daily)
      -> contact details of old orders erased, old delivery logs pseudonymised,
         old POD files and return photos deleted (raw courier payloads: tracking's own
         purge_raw_payloads schedule, RAW_PAYLOAD_RETENTION_DAYS)

What an erasure keeps, on purpose: orders (reference, amounts, destination country and postcode:
the lane the dashboards count by), shipments and their events' statuses and places, the payouts
and the ledger (accounting records: 10 years, Code de commerce L123-22), the audit trails
(who did what, not to whom by name), return requests' amounts. What it removes: the buyer's
name, email and phone on every order; the recipients, errors and pending sends of their
notifications; the couriers' raw answers about their parcels; the POD signatory, its uploaded
files and its document links; the words of courier events (they may name the person who
signed); CS notes on their parcels; return descriptions and photos.

Files are deleted from storage once the transaction commits, so a rolled-back erasure leaves
every file in place."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import CharField, Q, QuerySet, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from core.actors import actor_parts
from core.errors import ApplicationError, NotFound
from notifications.models import DeliveryFeedback, Notification
from privacy.models import PrivacyRequest
from returns.models import ReturnPhoto, ReturnRequest
from sellers.models import Order
from tracking.models import (
    PodUploadVersion,
    ProofOfDelivery,
    RawPayload,
    Shipment,
    ShipmentNote,
    TrackingEvent,
)

ERASED_NOTE = "[erased at the buyer's request]"
# Orders handled per transaction by the retention job: small enough that one batch holds its
# row locks for well under a second, large enough that a backlog of a year drains in one run.
RETENTION_BATCH_SIZE = 500


class PrivacyError(ApplicationError):
    code = "privacy_request_invalid"


def subject_digest(email: str) -> str:
    """A keyed digest of a buyer's email for the audit trail: the same buyer gives the same
    digest (requests can be linked), the address cannot be read back from it."""
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, email.strip().lower().encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class BuyerLookup:
    orders: list[Order]
    looked_up_by: str
    email: str


def buyer_orders_find(*, email: str = "", order_reference: str = "") -> BuyerLookup:
    """Every order of one buyer, named by their email or one of their orders' references (the
    buyer's other orders with the same email come too). Raises PrivacyError for neither or
    both, NotFound when nothing matches."""
    email, order_reference = email.strip(), order_reference.strip()
    if bool(email) == bool(order_reference):
        raise PrivacyError("Give exactly one of an email address or an order reference.")
    if order_reference:
        named = list(Order.objects.filter(reference=order_reference).order_by("id"))
        if not named:
            raise NotFound(f"No order {order_reference!r}.")
        emails = {o.buyer_email.strip().lower() for o in named if o.buyer_email.strip()}
        match = Q(pk__in=[o.pk for o in named])
        for address in emails:
            match |= Q(buyer_email__iexact=address)
        orders = list(Order.objects.filter(match).order_by("created_at", "id"))
        return BuyerLookup(orders, "order", next(iter(sorted(emails)), ""))
    orders = list(Order.objects.filter(buyer_email__iexact=email).order_by("created_at", "id"))
    if not orders:
        raise NotFound("No order has this email address.")
    return BuyerLookup(orders, "email", email.lower())


def _audit(*, kind: str, actor, lookup: BuyerLookup | None, counts: dict) -> PrivacyRequest:
    user, label = actor_parts(actor)
    return PrivacyRequest.objects.create(
        kind=kind,
        actor=user,
        actor_label=label,
        looked_up_by=lookup.looked_up_by if lookup else "",
        subject_digest=subject_digest(lookup.email) if lookup and lookup.email else "",
        order_ids=[o.pk for o in lookup.orders] if lookup else [],
        counts=counts,
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


@transaction.atomic
def buyer_data_export(*, actor, email: str = "", order_reference: str = "") -> dict:
    """Everything held about one buyer, as JSON-ready data (right of access, GDPR art. 15):
    their orders with lines, parcels with events and POD, the messages sent to them, their
    return requests. Audited (who exported, a digest of whom, which orders); the export itself
    is not kept."""
    lookup = buyer_orders_find(email=email, order_reference=order_reference)
    orders = (
        Order.objects.filter(pk__in=[o.pk for o in lookup.orders])
        .select_related("seller")
        .prefetch_related("items")
        .order_by("created_at", "id")
    )
    shipments = (
        Shipment.objects.filter(order__in=orders)
        .select_related("pod")
        .prefetch_related("events")
        .order_by("created_at", "id")
    )
    by_order: dict[int, list[dict]] = {}
    for s in shipments:
        pod = getattr(s, "pod", None)
        by_order.setdefault(s.order_id, []).append(
            {
                "tracking_number": s.tracking_number,
                "carrier": s.carrier,
                "status": s.status,
                "delivered_at": _iso(s.delivered_at),
                "proof_of_delivery": {
                    "delivered_at": _iso(pod.delivered_at),
                    "signed_by": pod.signed_by,
                    "location_type": pod.location_type,
                }
                if pod
                else None,
                "events": [
                    {
                        "occurred_at": _iso(e.occurred_at),
                        "status": e.status,
                        "message": e.message,
                        "city": e.city,
                        "postcode": e.postcode,
                        "country": e.country,
                    }
                    for e in sorted(s.events.all(), key=lambda e: (e.occurred_at, e.id))
                ],
            }
        )
    notes = Notification.objects.filter(order__in=orders).order_by("created_at", "id")
    returns = (
        ReturnRequest.objects.filter(order__in=orders)
        .select_related("order")
        .prefetch_related("photos")
    )
    data = {
        "generated_at": timezone.now().isoformat(),
        "orders": [
            {
                "reference": o.reference,
                "seller": o.seller.name,
                "created_at": _iso(o.created_at),
                "buyer_name": o.buyer_name,
                "buyer_email": o.buyer_email,
                "buyer_phone": o.buyer_phone,
                "buyer_locale": o.buyer_locale,
                "destination_postcode": o.destination_postcode,
                "destination_country": o.destination_country,
                "total_amount": o.total_amount,
                "currency": o.currency,
                "items": [
                    {
                        "sku": i.sku,
                        "name": i.name,
                        "quantity": i.quantity,
                        "unit_amount": i.unit_amount,
                    }  # fmt: skip
                    for i in o.items.order_by("id")
                ],
                "shipments": by_order.get(o.pk, []),
            }
            for o in orders
        ],
        "notifications": [
            {
                "order": n.order.reference,
                "channel": n.channel,
                "recipient": n.recipient,
                "trigger": n.trigger,
                "state": n.state,
                "sent_at": _iso(n.sent_at),
            }
            for n in notes.select_related("order")
        ],
        "returns": [
            {
                "order": r.order.reference,
                "status": r.status,
                "reason": r.reason,
                "description": r.description,
                "requested_at": _iso(r.requested_at),
                "photos": [p.file.name for p in r.photos.all()],
            }
            for r in returns.order_by("requested_at", "id")
        ],
    }
    _audit(
        kind=PrivacyRequest.Kind.EXPORT,
        actor=actor,
        lookup=lookup,
        counts={"orders": len(data["orders"]), "notifications": len(data["notifications"])},
    )
    return data


def _delete_files_on_commit(names: list[str]) -> None:
    names = [n for n in names if n]
    if names:
        transaction.on_commit(lambda: [default_storage.delete(n) for n in names])


def _orders_erase(order_ids: list[int]) -> dict[str, int]:
    """Erase the personal data of these orders (the caller holds the transaction)."""
    orders = Order.objects.filter(pk__in=order_ids)
    shipments = Shipment.objects.filter(order_id__in=order_ids)
    counts: dict[str, int] = {}

    notes = Notification.objects.filter(order_id__in=order_ids)
    # What providers said about the buyer's addresses (bounces, SMS statuses) names them too.
    addresses = {e.strip().lower() for e in orders.values_list("buyer_email", flat=True)}
    addresses |= set(notes.values_list("recipient", flat=True))
    feedback = DeliveryFeedback.objects.filter(
        Q(address__in=addresses - {""}) | Q(notification__in=notes)
    )
    counts["delivery_feedback"], _ = feedback.delete()
    counts["orders"] = orders.update(buyer_name="", buyer_email="", buyer_phone="")
    # Nothing more goes to an erased buyer; their rows stay (the delivery log's counts) under
    # a recipient unique per row, so the once-per-recipient constraint still holds.
    notes.filter(state=Notification.State.PENDING).update(state=Notification.State.SKIPPED)
    counts["notifications"] = notes.update(
        recipient=Concat(Value("erased-"), Cast("id", CharField())), last_error=""
    )

    events = TrackingEvent.objects.filter(shipment__in=shipments)
    payload_ids = list(
        events.exclude(raw_payload=None).values_list("raw_payload_id", flat=True).distinct()
    )
    counts["events"] = events.exclude(message="").update(message="")
    # A courier's answer may cover other buyers' parcels too (a batch): it goes whole, as it
    # would after RAW_PAYLOAD_RETENTION_DAYS; their events keep everything they need.
    counts["raw_payloads"], _ = RawPayload.objects.filter(pk__in=payload_ids).delete()

    files: list[str] = []
    pods = ProofOfDelivery.objects.filter(shipment__in=shipments)
    files += [f for f in pods.values_list("uploaded_file", flat=True) if f]
    versions = PodUploadVersion.objects.filter(pod__in=pods)
    files += [f for f in versions.values_list("uploaded_file", flat=True) if f]
    for pod in pods.exclude(documents=[]):
        # The kinds of proof (signature, photo) decide whether a POD counts: kept; links to
        # the courier's images of the signature are not.
        pod.documents = [d for d in pod.documents if not str(d).startswith(("http:", "https:"))]
        pod.save(update_fields=["documents"])
    counts["pods"] = pods.update(signed_by="", uploaded_file="")
    versions.update(signed_by="", uploaded_file="")

    counts["notes"] = ShipmentNote.objects.filter(shipment__in=shipments).update(body=ERASED_NOTE)
    requests = ReturnRequest.objects.filter(order_id__in=order_ids)
    requests.update(description="")
    photos = ReturnPhoto.objects.filter(request__in=requests)
    files += list(photos.values_list("file", flat=True))
    photos.delete()
    counts["files"] = len([f for f in files if f])
    _delete_files_on_commit(files)
    return counts


@transaction.atomic
def buyer_data_erase(*, actor, email: str = "", order_reference: str = "") -> PrivacyRequest:
    """Erase one buyer's personal data everywhere (right to erasure, GDPR art. 17): see the
    module docstring for what goes and what stays. The ledger, payouts and audit trails are
    not touched, so ``payouts check_ledger`` still passes. Idempotent (erasing again finds the
    orders by reference and removes nothing more). Audited without the erased data."""
    lookup = buyer_orders_find(email=email, order_reference=order_reference)
    ids = [o.pk for o in lookup.orders]
    # Lock the orders so a notification job cannot read an address being erased mid-way.
    list(Order.objects.select_for_update().filter(pk__in=ids).values_list("pk", flat=True))
    counts = _orders_erase(ids)
    return _audit(kind=PrivacyRequest.Kind.ERASURE, actor=actor, lookup=lookup, counts=counts)


def retention_days() -> dict[str, int]:
    return dict(settings.PRIVACY_RETENTION_DAYS)


def _claimable(qs: QuerySet) -> QuerySet:
    if connection.vendor == "postgresql":
        return qs.select_for_update(skip_locked=True)
    return qs


def retention_apply(*, now: datetime | None = None) -> dict[str, int]:
    """Apply PRIVACY_RETENTION_DAYS (settings): erase the contact details of orders older than
    ``buyer_contact``, pseudonymise delivery logs older than ``delivery_log``, delete uploaded
    POD files older than ``pod_file`` and return photos older than ``return_photo``. Safe to
    run twice at once (orders claimed with SKIP LOCKED on PostgreSQL; every step only finds
    what is still there). One audit row per run that changed something."""
    now = now or timezone.now()
    days = retention_days()
    totals = {"orders": 0, "notifications": 0, "files": 0}

    cutoff = now - timedelta(days=days["buyer_contact"])
    with_contact = ~Q(buyer_name="") | ~Q(buyer_email="") | ~Q(buyer_phone="")
    while True:
        with transaction.atomic():
            batch = list(
                _claimable(
                    Order.objects.filter(with_contact, created_at__lt=cutoff).order_by("id")
                ).values_list("pk", flat=True)[:RETENTION_BATCH_SIZE]
            )
            if not batch:
                break
            counts = _orders_erase(batch)
            totals["orders"] += counts["orders"]
            totals["files"] += counts["files"]

    with transaction.atomic():
        log_cutoff = now - timedelta(days=days["delivery_log"])
        old = Notification.objects.filter(created_at__lt=log_cutoff).exclude(
            Q(recipient__startswith="erased-") | Q(state=Notification.State.PENDING)
        )
        totals["notifications"] = old.update(
            recipient=Concat(Value("erased-"), Cast("id", CharField())), last_error=""
        )
        # Providers' reports age like the log, except a suppression: it keeps protecting the
        # address (and goes with the buyer's erasure).
        DeliveryFeedback.objects.filter(received_at__lt=log_cutoff, suppresses=False).delete()

        files: list[str] = []
        pod_cutoff = now - timedelta(days=days["pod_file"])
        old_pods = ProofOfDelivery.objects.filter(created_at__lt=pod_cutoff).exclude(
            uploaded_file=""
        )
        files += list(old_pods.values_list("uploaded_file", flat=True))
        old_pods.update(uploaded_file="")
        old_versions = PodUploadVersion.objects.filter(uploaded_at__lt=pod_cutoff).exclude(
            uploaded_file=""
        )
        files += list(old_versions.values_list("uploaded_file", flat=True))
        old_versions.update(uploaded_file="")
        photo_cutoff = now - timedelta(days=days["return_photo"])
        old_photos = ReturnPhoto.objects.filter(created_at__lt=photo_cutoff)
        files += list(old_photos.values_list("file", flat=True))
        old_photos.delete()
        totals["files"] += len([f for f in files if f])
        _delete_files_on_commit(files)

        if any(totals.values()):
            _audit(kind=PrivacyRequest.Kind.RETENTION, actor=None, lookup=None, counts=totals)
    return totals
