"""Customer service writes: internal notes, the courier's correction, exception work, resync.
Each takes the acting user (``actor``; None for the system or an API token, then named by
``actor_label``) and leaves a ShipmentAudit row in the same transaction."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from core.actors import actor_user
from core.errors import ApplicationError
from tracking import carriers
from tracking.models import (
    OTHER_CARRIER,
    Shipment,
    ShipmentAudit,
    ShipmentException,
    ShipmentNote,
)
from tracking.services.shipments import tracking_number_claim_check

NOTE_MAX_LENGTH = 4000


def _audit(*, shipment_id: int, actor, action: str, **detail) -> ShipmentAudit:
    return ShipmentAudit.objects.create(
        shipment_id=shipment_id, actor=actor_user(actor), action=action, detail=detail
    )


@transaction.atomic
def shipment_note_add(
    *, shipment: Shipment, body: str, actor=None, actor_label: str = ""
) -> ShipmentNote:
    """Add an internal note (never shown to buyers or sellers). Raises ApplicationError for an
    empty or too long note."""
    body = body.strip()
    if not body:
        raise ApplicationError("Write something in the note.", code="note_empty", field="body")
    if len(body) > NOTE_MAX_LENGTH:
        raise ApplicationError(
            f"A note has at most {NOTE_MAX_LENGTH} characters.", code="note_too_long",
            field="body",
        )  # fmt: skip
    user = actor_user(actor)
    label = (actor_label or (user.get_username() if user else ""))[:100]
    note = ShipmentNote.objects.create(
        shipment=shipment, author=user, author_label=label, body=body
    )
    _audit(shipment_id=shipment.id, actor=actor, action="note_added", note_id=note.id)
    return note


@transaction.atomic
def shipment_carrier_correct(
    *, shipment: Shipment, carrier: str, actor=None, reason: str = ""
) -> Shipment:
    """Follow the parcel with another courier (the seller picked the wrong one): the events
    already stored stay; the parcel is synced with the new courier at the dispatcher's next
    tick. Audited with the old and new courier. Raises ApplicationError for an unknown courier,
    the same courier, "other" (which needs a name: the seller registers it), or when the order
    or any other live parcel already has this number with that courier."""
    locked = Shipment.objects.select_for_update().get(pk=shipment.pk)
    if carrier == locked.carrier:
        raise ApplicationError(
            f"The parcel is already followed with {carrier}.", code="same_carrier",
            field="carrier",
        )  # fmt: skip
    if carrier == OTHER_CARRIER:
        raise ApplicationError(
            'A courier Parcelle cannot query ("other") is registered by the seller, with its '
            "name.", code="unknown_carrier", field="carrier",
        )  # fmt: skip
    try:
        carriers.get_adapter(carrier)
    except carriers.UnknownCarrier:
        raise ApplicationError(
            f"Unknown courier {carrier!r}.", code="unknown_carrier", field="carrier"
        ) from None
    # The same rule as every registration: another live parcel may already have this number
    # with the new courier (on any order).
    tracking_number_claim_check(
        order=locked.order, carrier=carrier, tracking_number=locked.tracking_number,
        shipment=locked,
    )  # fmt: skip
    previous = locked.carrier
    now = timezone.now()
    Shipment.objects.filter(pk=locked.pk).update(
        carrier=carrier, carrier_name="", carrier_tracking_url="", next_sync_at=now,
        sync_error_count=0, last_sync_error="", updated_at=now,
    )  # fmt: skip
    _audit(
        shipment_id=locked.id, actor=actor, action="carrier_corrected",
        previous_carrier=previous, carrier=carrier, reason=reason.strip()[:300],
    )  # fmt: skip
    locked.refresh_from_db()
    return locked


@transaction.atomic
def shipment_resync_by_agent(*, shipment: Shipment, actor=None) -> Shipment:
    """The agent's "resync now": the sync itself (tracking.services.shipments), audited."""
    from tracking.services.shipments import shipment_resync_request

    if shipment.carrier == OTHER_CARRIER:
        raise ApplicationError(
            "Parcelle cannot ask this courier: it has no API.", code="not_queryable"
        )
    shipment = shipment_resync_request(shipment=shipment, actor=actor)
    _audit(shipment_id=shipment.id, actor=actor, action="resync_requested")
    return shipment


@transaction.atomic
def exception_assign(*, exception: ShipmentException, assignee, actor=None) -> ShipmentException:
    """Give an open exception to an agent (None: back to the queue). Raises ApplicationError
    when it is already resolved or the assignee may not use the CS console."""
    locked = ShipmentException.objects.select_for_update().get(pk=exception.pk)
    if locked.resolved_at is not None:
        raise ApplicationError("This exception is already resolved.", code="exception_resolved")
    if assignee is not None and not (
        assignee.is_active and assignee.has_perm("tracking.use_cs_console")
    ):
        raise ApplicationError(
            f"{assignee.get_username()} is not a CS agent.", code="not_an_agent",
            field="assignee",
        )  # fmt: skip
    locked.assigned_to = assignee
    locked.assigned_at = timezone.now() if assignee is not None else None
    locked.save(update_fields=["assigned_to", "assigned_at"])
    _audit(
        shipment_id=locked.shipment_id, actor=actor, action="exception_assigned",
        exception_id=locked.id, kind=locked.kind,
        assignee=assignee.get_username() if assignee is not None else None,
    )  # fmt: skip
    return locked


AGENT_RESOLUTIONS = [r for r in ShipmentException.Resolution if r not in ("", "courier_resolved")]


@transaction.atomic
def exception_resolve(
    *, exception: ShipmentException, resolution: str, note: str = "", actor=None
) -> ShipmentException:
    """Mark an exception handled, with a reason (one of AGENT_RESOLUTIONS) and an optional note.
    Raises ApplicationError when it is already resolved or the reason is not one of them."""
    if resolution not in AGENT_RESOLUTIONS:
        allowed = ", ".join(AGENT_RESOLUTIONS)
        raise ApplicationError(
            f"Give a reason: one of {allowed}.", code="invalid_resolution", field="resolution"
        )
    locked = ShipmentException.objects.select_for_update().get(pk=exception.pk)
    if locked.resolved_at is not None:
        raise ApplicationError("This exception is already resolved.", code="exception_resolved")
    locked.resolved_at = timezone.now()
    locked.resolved_by = actor_user(actor)
    locked.resolution = resolution
    locked.resolution_note = note.strip()[:500]
    locked.save(update_fields=["resolved_at", "resolved_by", "resolution", "resolution_note"])
    _audit(
        shipment_id=locked.shipment_id, actor=actor, action="exception_resolved",
        exception_id=locked.id, kind=locked.kind, resolution=resolution,
    )  # fmt: skip
    return locked
