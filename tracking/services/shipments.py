from __future__ import annotations

import re

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import ApplicationError
from sellers.models import Order
from tracking import carriers
from tracking.models import Shipment

_SEPARATORS = re.compile(r"[\s\-./_]+")


def tracking_number_normalise(raw: str) -> str:
    """Upper case without the spaces and dashes people paste: '1z 999-aa1' -> '1Z999AA1'."""
    return _SEPARATORS.sub("", raw or "").upper()


@transaction.atomic
def shipment_register(
    *, order: Order, carrier: str, tracking_number: str, actor=None
) -> tuple[Shipment, bool]:
    """Register a parcel of ``order`` with its courier; returns (shipment, created).

    Idempotent: registering the same courier and number on the same order again returns the
    existing shipment. Raises ApplicationError for an unknown courier or an unusable number.
    The first sync happens at the dispatcher's next tick.
    """
    number = tracking_number_normalise(tracking_number)
    if not 4 <= len(number) <= 64 or not number.isalnum():
        raise ApplicationError(
            "A tracking number has 4 to 64 letters and digits.",
            code="invalid_tracking_number",
            field="tracking_number",
        )
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
                tracking_number=number,
                next_sync_at=timezone.now(),
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
