from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone

from core.errors import ApplicationError
from sellers.models import Order
from tracking import carriers
from tracking.detection import NO_ADAPTER_PREFIX, detect
from tracking.detection import normalise_number as tracking_number_normalise
from tracking.models import OTHER_CARRIER, Shipment


def carrier_detect_for(*, order: Order, tracking_number: str) -> str:
    """The courier of a number registered without one: the detected courier when it is clear,
    the seller's usual couriers breaking ties. Raises ApplicationError (with the candidates)
    when nothing matches, when it stays ambiguous, when the check digit fails, or when the
    courier is one Parcelle cannot query (register it as "other" with its name)."""
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
    elif detection.ambiguous and best.carrier not in usual:
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
    existing shipment. Raises ApplicationError for an unknown courier or an unusable number.
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
    existing = Shipment.objects.filter(order=order, carrier=carrier, tracking_number=number).first()
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
    except IntegrityError:  # registered concurrently by another request
        return Shipment.objects.get(order=order, carrier=carrier, tracking_number=number), False
    return shipment, True


@transaction.atomic
def shipment_resync_request(*, shipment: Shipment, actor=None) -> Shipment:
    """Sync this parcel now, even if its story looked over (an agent's "resync now")."""
    from tracking.services.sync import sync_jobs_enqueue

    Shipment.objects.filter(pk=shipment.pk).update(next_sync_at=timezone.now())
    shipment.refresh_from_db()
    sync_jobs_enqueue([(shipment.carrier, [shipment.id])])
    return shipment
