from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone

from core.actors import actor_user
from core.errors import ApplicationError
from sellers.models import Order
from tracking import carriers
from tracking.detection import NO_ADAPTER_PREFIX, detect
from tracking.detection import normalise_number as tracking_number_normalise
from tracking.models import OTHER_CARRIER, Shipment


def carrier_detect_for(*, order: Order, tracking_number: str) -> str:
    """The courier of a number registered without one: the detected courier when it is clear,
    the seller's usual couriers breaking ties, else a shared S10 numbering's first operator.
    Raises ApplicationError (with the candidates) when nothing matches, when it stays
    ambiguous, when the check digit fails, or when the courier is one Parcelle cannot query
    (register it as "other" with its name)."""
    usual = (
        Shipment.objects.filter(seller_id=order.seller_id)
        .values("carrier")
        .annotate(n=Count("id"))
        .order_by("-n", "carrier")
        .values_list("carrier", flat=True)[:5]
    )
    detection = detect(tracking_number, preferred_carriers=tuple(usual))
    best = detection.best
    candidates = ", ".join(c.carrier for c in detection.candidates[:5])
    if best is None:
        message = "No courier recognises this tracking number: give the courier."
    elif detection.ambiguous and best.carrier not in usual and not detection.shared_format:
        # A shared S10 numbering (…FR: La Poste or Chronopost) is ordered by its service
        # indicator, and La Poste's API tracks both: its first operator is a reasoned pick.
        message = f"This number fits several couriers ({candidates}): give the courier."
    elif best.checksum_valid is False:
        message = f"This looks like a mistyped {best.carrier} number (its check digit fails)."
    elif best.carrier.startswith(NO_ADAPTER_PREFIX):
        message = (
            f"This is a {best.carrier.removeprefix(NO_ADAPTER_PREFIX)} number, a courier Parcelle "
            'cannot query: register it with carrier "other" and the courier\'s name.'
        )
    else:
        return best.carrier
    raise ApplicationError(message, code="carrier_not_detected", field="carrier")


def tracking_number_claim_check(
    *,
    order: Order,
    carrier: str,
    tracking_number: str,
    direction: str = Shipment.Direction.OUTBOUND,
    shipment: Shipment | None = None,
) -> Shipment | None:
    """The one rule every entry point applies (API, seller form/CSV/API, return parcels, CS
    courier correction, admin): a courier + tracking number belongs to one live shipment, on
    whichever order or seller, because one delivered parcel must not prove several deliveries.

    Returns the live shipment this registration merely repeats (same order and direction: the
    idempotent case), None when the number is free. Raises ApplicationError with code
    ``duplicate_tracking_number`` when another live shipment has it. ``shipment`` is the parcel
    being changed (CS correction, admin edit): not its own duplicate. The database backs this
    with the ``shipment_number_live_once`` constraint.
    """
    number = tracking_number_normalise(tracking_number)
    others = Shipment.objects.live().filter(carrier=carrier, tracking_number=number)
    if shipment is not None:
        others = others.exclude(pk=shipment.pk)
    other = others.select_related("order").order_by("id").first()
    if other is None:
        return None
    if shipment is None and other.order_id == order.id and other.direction == direction:
        return other
    if other.order_id == order.id:
        where = "a parcel of this order"
    elif other.seller_id == order.seller_id:
        where = f"the tracking number of another order ({other.order.reference})"
    else:
        where = "the tracking number of another order"  # never name another seller's order
    raise ApplicationError(
        f"{number} with {carrier} is already {where}: one parcel proves one delivery.",
        code="duplicate_tracking_number",
        field="tracking_number",
    )


@transaction.atomic
def shipment_register(
    *,
    order: Order,
    carrier: str | None,
    tracking_number: str,
    carrier_name: str = "",
    carrier_tracking_url: str = "",
    direction: str = Shipment.Direction.OUTBOUND,
    actor=None,
) -> tuple[Shipment, bool]:
    """Register a parcel of ``order`` with its courier; returns (shipment, created).

    ``carrier`` is an adapter slug, None to detect it from the number, or "other" with
    ``carrier_name`` (and, ideally, the courier's tracking URL) for a courier Parcelle cannot
    query: such a parcel is kept and shown but never polled; its delivery is proven by a seller
    upload that finance reviews.
    Idempotent: registering the same courier and number on the same order again returns the
    existing shipment. Raises ApplicationError for an unknown courier, an unusable number, or a
    number another live shipment already has (``tracking_number_claim_check``).
    The first sync happens at the dispatcher's next tick. ``direction`` "return" marks a
    parcel the buyer sends back (the returns app): tracked the same, never a proof of delivery.
    """
    if direction not in Shipment.Direction.values:
        raise ApplicationError(f"Unknown direction {direction!r}.", field="direction")
    number = tracking_number_normalise(tracking_number)
    if not 4 <= len(number) <= 64 or not number.isalnum():
        raise ApplicationError(
            "A tracking number has 4 to 64 letters and digits.",
            code="invalid_tracking_number",
            field="tracking_number",
        )
    if carrier is None:
        carrier = carrier_detect_for(order=order, tracking_number=number)
    if carrier == OTHER_CARRIER:
        if not carrier_name.strip():
            raise ApplicationError(
                'Name the courier when it is "other".', code="carrier_name_required",
                field="carrier_name",
            )  # fmt: skip
    else:
        carrier_name, carrier_tracking_url = "", ""
        try:
            carriers.get_adapter(carrier)
        except carriers.UnknownCarrier:
            raise ApplicationError(
                f"Unknown courier {carrier!r}.", code="unknown_carrier", field="carrier"
            ) from None
    existing = tracking_number_claim_check(
        order=order, carrier=carrier, tracking_number=number, direction=direction
    )
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            shipment = Shipment.objects.create(
                order=order,
                seller_id=order.seller_id,
                carrier=carrier,
                carrier_name=carrier_name.strip()[:100],
                carrier_tracking_url=carrier_tracking_url.strip(),
                tracking_number=number,
                direction=direction,
                # nobody to ask about a parcel of an "other" courier
                next_sync_at=None if carrier == OTHER_CARRIER else timezone.now(),
            )
    except IntegrityError:  # registered concurrently by another request: whose is it?
        existing = tracking_number_claim_check(
            order=order, carrier=carrier, tracking_number=number, direction=direction
        )
        if existing is None:
            raise
        return existing, False
    return shipment, True


@transaction.atomic
def shipment_void(*, shipment: Shipment, reason: str, actor=None) -> Shipment:
    """Cancel or replace a parcel: it stops being synced, proves nothing any more, and frees its
    courier + number for another registration. Audited. Idempotent on a voided parcel.
    Raises ApplicationError without a reason."""
    from tracking.models import ShipmentAudit

    if not reason.strip():
        raise ApplicationError("Say why the parcel is voided.", code="reason_required",
                               field="reason")  # fmt: skip
    locked = Shipment.objects.select_for_update().get(pk=shipment.pk)
    if locked.voided_at is not None:
        return locked
    now = timezone.now()
    Shipment.objects.filter(pk=locked.pk).update(
        voided_at=now, void_reason=reason.strip()[:300], next_sync_at=None, updated_at=now
    )
    ShipmentAudit.objects.create(
        shipment_id=locked.pk, actor=actor_user(actor),
        action="voided", detail={"reason": reason.strip()[:300]},
    )  # fmt: skip
    locked.refresh_from_db()
    return locked


@transaction.atomic
def shipment_resync_request(*, shipment: Shipment, actor=None) -> Shipment:
    """Sync this parcel now, even if its story looked over (an agent's "resync now")."""
    from tracking.services.sync import sync_jobs_enqueue

    Shipment.objects.filter(pk=shipment.pk).update(next_sync_at=timezone.now())
    shipment.refresh_from_db()
    sync_jobs_enqueue([(shipment.carrier, [shipment.id])])
    return shipment
