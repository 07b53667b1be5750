"""Writes of the returns app: policies and the life of a return request.

    return_policy_set (seller portal)          -> a new ReturnPolicy version, in force from now
    return_request_create (buyer, /t/<token>/return/)
        -> judged by the policy in force at delivery (clear refusal otherwise)
        -> payouts.payout_return_open (payout on hold) -> return_step_recorded
    return_request_accept / return_request_refuse (seller portal)
        refuse -> payouts.payout_return_close (hold lifted)
    return_shipment_add (seller or buyer: the return tracking number)
        -> tracking.shipment_register(direction="return"): tracked like any parcel
    tracking.status_changes_recorded (return parcel delivered) -> receivers (job on commit)
        -> tasks.receive_delivered -> returns_receive_delivered -> return_receive
        -> payouts.payout_return_refund (refund) or payout_return_close (exchange)
        -> return_step_recorded
    schedule returns.receive_delivered (every 5 min): the same, for a job lost in a crash

Every service locks the request row first, checks the transition, writes a ReturnEvent (who,
from, to, why) in the same transaction, and announces the step with return_step_recorded in
that transaction (buyer and seller hear of it through the notifications outbox: core/fanout.py).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from core.actors import BUYER, actor_parts, actor_user
from core.errors import ApplicationError
from core.files import IMAGE_KINDS, CleanUpload, NotTheFileItClaims, clean_upload
from payouts.services import payout_return_close, payout_return_open, payout_return_refund
from returns import selectors
from returns.models import (
    Condition,
    Reason,
    Resolution,
    ReturnEvent,
    ReturnItem,
    ReturnPhoto,
    ReturnPolicy,
    ReturnRequest,
    ShippingPayer,
)
from returns.signals import ReturnStep, return_step_recorded
from sellers.models import Order, OrderItem, Seller
from tracking.models import Shipment
from tracking.services import shipment_register

logger = logging.getLogger(__name__)

MAX_WINDOW_DAYS = 365
MAX_PHOTOS = 5
PHOTO_MAX_BYTES = 5 * 1024 * 1024  # a phone photo; larger is not needed to see a defect
# Recognised by their first bytes, not by the name or the declared type (both are the client's).
DESCRIPTION_MAX_LENGTH = 2000

# --- Policies ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyValues:
    accepts_returns: bool
    window_days: int
    allowed_reasons: list[str]
    allowed_conditions: list[str]
    shipping_paid_by: str
    requires_description: bool
    min_photos: int
    resolutions: list[str]


def return_policy_errors(values: PolicyValues) -> dict[str, str]:
    """Every reason these policy values would be refused, by field (empty when valid)."""
    errors: dict[str, str] = {}
    if not 1 <= values.window_days <= MAX_WINDOW_DAYS:
        errors["window_days"] = f"The window is 1 to {MAX_WINDOW_DAYS} days after delivery."
    unknown = sorted(set(values.allowed_reasons) - set(Reason.values))
    if unknown:
        errors["allowed_reasons"] = f"Unknown reason(s): {', '.join(unknown)}."
    elif values.accepts_returns and not values.allowed_reasons:
        errors["allowed_reasons"] = "Allow at least one reason (or stop accepting returns)."
    unknown = sorted(set(values.allowed_conditions) - set(Condition.values))
    if unknown:
        errors["allowed_conditions"] = f"Unknown condition(s): {', '.join(unknown)}."
    elif values.accepts_returns and not values.allowed_conditions:
        errors["allowed_conditions"] = "Accept at least one item condition."
    if values.shipping_paid_by not in ShippingPayer.values:
        errors["shipping_paid_by"] = "Say who pays the return shipping: buyer or seller."
    if not 0 <= values.min_photos <= MAX_PHOTOS:
        errors["min_photos"] = f"Ask for 0 to {MAX_PHOTOS} photos."
    unknown = sorted(set(values.resolutions) - set(Resolution.values))
    if unknown:
        errors["resolutions"] = f"Unknown resolution(s): {', '.join(unknown)}."
    elif not values.resolutions:
        errors["resolutions"] = "Offer a refund, an exchange, or both."
    return errors


@transaction.atomic
def return_policy_set(
    *, seller: Seller, values: PolicyValues, actor, now: datetime | None = None
) -> ReturnPolicy:
    """Add a new version of ``seller``'s return policy, in force from ``now``. Earlier
    versions stay as they were: requests on orders delivered before keep being judged by them.
    Locks the seller row so concurrent edits get consecutive versions. Raises ApplicationError
    (code ``invalid_policy``, ``field`` set) for the first value refused."""
    errors = return_policy_errors(values)
    if errors:
        field, message = next(iter(errors.items()))
        raise ApplicationError(message, code="invalid_policy", field=field)
    now = now or timezone.now()
    Seller.objects.select_for_update().get(pk=seller.pk)
    last = ReturnPolicy.objects.filter(seller=seller).order_by("-version").first()
    policy = ReturnPolicy.objects.create(
        seller=seller,
        version=(last.version + 1) if last else 1,
        accepts_returns=values.accepts_returns,
        window_days=values.window_days,
        allowed_reasons=[r for r in Reason.values if r in values.allowed_reasons],
        allowed_conditions=[c for c in Condition.values if c in values.allowed_conditions],
        shipping_paid_by=values.shipping_paid_by,
        requires_description=values.requires_description,
        min_photos=values.min_photos,
        resolutions=[r for r in Resolution.values if r in values.resolutions],
        effective_from=now,
        created_by=actor_user(actor),
    )
    logger.info(
        "return policy set",
        extra={"seller_id": seller.pk, "version": policy.version,
               "actor_id": getattr(actor, "pk", None)},
    )  # fmt: skip
    return policy


# --- Requests ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemChoice:
    order_item_id: int
    quantity: int
    condition: str


class ReturnRefused(ApplicationError):
    """The request breaks the policy in force: the message says which rule and why."""

    code = "return_refused"


def _check_photos(photos: Sequence[UploadedFile]) -> list[CleanUpload]:
    """Each photo decoded and re-encoded without its metadata (no GPS position of the buyer's
    home is kept); ApplicationError for the first that is not an image."""
    if len(photos) > MAX_PHOTOS:
        raise ApplicationError(_("Add at most %(n)s photos.") % {"n": MAX_PHOTOS},
                               code="too_many_photos", field="photos")  # fmt: skip
    kinds = []
    for photo in photos:
        if photo.size > PHOTO_MAX_BYTES:
            raise ApplicationError(
                _("%(name)s: a photo must be 5 MB or less.") % {"name": photo.name},
                code="file_too_large",
                field="photos",
            )  # fmt: skip
        try:
            kinds.append(clean_upload(photo, allowed=IMAGE_KINDS))
        except NotTheFileItClaims:
            raise ApplicationError(
                _("%(name)s: a photo must be a JPEG, PNG or WebP image.") % {"name": photo.name},
                code="unsupported_file", field="photos",
            ) from None  # fmt: skip
    return kinds


def _judge(
    *, policy: ReturnPolicy, delivered_at: datetime, now: datetime, reason: str,
    conditions: Sequence[str], description: str, photo_count: int, resolution: str,
) -> None:  # fmt: skip
    """Raise ReturnRefused with the rule broken, or return when the policy allows it."""
    if not policy.accepts_returns:
        raise ReturnRefused(_("This seller does not accept returns."), field="reason")
    window_end = delivered_at + timedelta(days=policy.window_days)
    if now > window_end:
        day = formats.date_format(timezone.localtime(window_end), "DATE_FORMAT")
        raise ReturnRefused(
            _("Returns are accepted within %(days)s days of delivery: the window for this "
              "order ended on %(day)s.") % {"days": policy.window_days, "day": day},
            code="outside_window",
        )  # fmt: skip
    if reason not in policy.allowed_reasons:
        allowed = ", ".join(str(label) for label in policy.reason_labels()) or "-"
        label = Reason(reason).label if reason in Reason.values else reason
        raise ReturnRefused(
            _("“%(reason)s” is not a reason this seller accepts returns for (accepted: "
              "%(allowed)s).") % {"reason": label, "allowed": allowed},
            code="reason_not_allowed", field="reason",
        )  # fmt: skip
    for condition in conditions:
        if condition not in policy.allowed_conditions:
            allowed = ", ".join(str(label) for label in policy.condition_labels())
            label = Condition(condition).label if condition in Condition.values else condition
            raise ReturnRefused(
                _("Items in the condition “%(condition)s” are not taken back (accepted: "
                  "%(allowed)s).") % {"condition": label, "allowed": allowed},
                code="condition_not_allowed", field="items",
            )  # fmt: skip
    if policy.requires_description and not description.strip():
        raise ReturnRefused(_("Describe the problem: this seller needs a description."),
                            code="description_required", field="description")  # fmt: skip
    if photo_count < policy.min_photos:
        raise ReturnRefused(
            _("Add at least %(min)s photo(s) of the items (%(given)s given).")
            % {"min": policy.min_photos, "given": photo_count},
            code="photos_required", field="photos",
        )  # fmt: skip
    if resolution not in policy.resolutions:
        offered = " / ".join(str(Resolution(r).label) for r in policy.resolutions)
        raise ReturnRefused(_("This seller offers only: %(offered)s.") % {"offered": offered},
                            code="resolution_not_allowed", field="resolution")  # fmt: skip


def _audit(request: ReturnRequest, *, from_status: str, actor, now: datetime, note: str = ""):
    user, label = actor_parts(actor)
    ReturnEvent.objects.create(
        request=request, from_status=from_status, to_status=request.status, actor=user,
        actor_label=label, note=note[:500], created_at=now,
    )  # fmt: skip


def _announce(request: ReturnRequest, now: datetime) -> None:
    """The step the request just made, to whoever listens (in this transaction)."""
    step = ReturnStep(
        request_id=request.pk, reference=request.reference, status=request.status,
        shipment_id=request.delivered_shipment_id,
        data={"return": {
            "id": request.pk, "reference": request.reference, "status": request.status,
            "reason": request.reason, "resolution": request.resolution,
            "refund_amount": request.refund_amount, "currency": request.currency,
            "refused_reason": request.refused_reason or None,
            "return_tracking_number": request.return_shipment.tracking_number
            if request.return_shipment_id else None,
        }},
        occurred_at=now,
    )  # fmt: skip
    return_step_recorded.send(sender=ReturnRequest, step=step)


@transaction.atomic
def return_request_create(
    *,
    order: Order,
    items: Sequence[ItemChoice],
    reason: str,
    resolution: str,
    description: str = "",
    photos: Sequence[UploadedFile] = (),
    now: datetime | None = None,
) -> ReturnRequest:
    """A buyer asks to return items of a delivered order.

    The request is judged by the policy in force when the order was delivered; a request that
    breaks it raises ReturnRefused saying which rule (outside the window, a reason or condition
    not accepted, missing description or photos, resolution not offered) and nothing is stored.
    Also refused: no delivered parcel, another return open on the order, items not of the order
    or more units than remain returnable, photos that are not JPEG/PNG/WebP or over 5 MB.
    On success the order's payout is held and buyer and seller are notified.
    """
    now = now or timezone.now()
    order = Order.objects.select_for_update(of=("self",)).select_related("seller").get(pk=order.pk)
    delivery = selectors.order_delivery(order=order)
    if delivery is None:
        raise ReturnRefused(_("A return can be asked once the order is delivered."),
                            code="not_delivered")  # fmt: skip
    if ReturnRequest.objects.filter(order=order, status__in=ReturnRequest.OPEN_STATUSES).exists():
        raise ReturnRefused(_("A return is already under way for this order."),
                            code="return_already_open")  # fmt: skip
    if reason not in Reason.values:
        raise ApplicationError(_("Choose a reason from the list."), field="reason")
    if resolution not in Resolution.values:
        raise ApplicationError(_("Choose a refund or an exchange."), field="resolution")
    if len(description) > DESCRIPTION_MAX_LENGTH:
        raise ApplicationError(
            _("The description has at most %(n)s characters.") % {"n": DESCRIPTION_MAX_LENGTH},
            field="description",
        )
    chosen = [item for item in items if item.quantity > 0]
    if not chosen:
        raise ApplicationError(_("Choose at least one item to return."), code="no_items",
                               field="items")  # fmt: skip
    remaining = selectors.returnable_quantities(order=order)
    lines = OrderItem.objects.in_bulk([item.order_item_id for item in chosen])
    seen = set()
    for item in chosen:
        line = lines.get(item.order_item_id)
        if line is None or line.order_id != order.pk or item.order_item_id in seen:
            raise ApplicationError(_("An item is not part of this order."), field="items")
        seen.add(item.order_item_id)
        if item.quantity > remaining.get(line.pk, 0):
            raise ApplicationError(
                _("%(item)s: at most %(n)s unit(s) can be returned.")
                % {"item": line.name, "n": remaining.get(line.pk, 0)},
                code="quantity_too_high", field="items",
            )  # fmt: skip
        if item.condition not in Condition.values:
            raise ApplicationError(_("Say in which condition each item is."), field="items")
    cleaned_photos = _check_photos(photos)
    policy = selectors.policy_in_force(seller_id=order.seller_id, at=delivery.delivered_at)
    _judge(
        policy=policy, delivered_at=delivery.delivered_at, now=now, reason=reason,
        conditions=[item.condition for item in chosen], description=description,
        photo_count=len(photos), resolution=resolution,
    )  # fmt: skip
    try:
        with transaction.atomic():
            request = ReturnRequest.objects.create(
                order=order, seller_id=order.seller_id, policy=policy, reason=reason,
                description=description.strip(), resolution=resolution,
                delivered_shipment=delivery, delivered_at=delivery.delivered_at,
                refund_amount=sum(lines[i.order_item_id].unit_amount * i.quantity
                                  for i in chosen),
                currency=order.currency, requested_at=now,
            )  # fmt: skip
    except IntegrityError:  # another request for this order committed first
        raise ReturnRefused(_("A return is already under way for this order."),
                            code="return_already_open") from None  # fmt: skip
    ReturnItem.objects.bulk_create(
        ReturnItem(request=request, order_item_id=i.order_item_id, quantity=i.quantity,
                   condition=i.condition)
        for i in chosen
    )  # fmt: skip
    for clean in cleaned_photos:
        row = ReturnPhoto(request=request, content_type=clean.kind, size_bytes=clean.size)
        row.file.save(f"{request.pk}-{clean.content.name}"[-100:], clean.content, save=False)
        row.save()
    _audit(request, from_status="", actor=BUYER, now=now, note=f"reason {reason}")
    payout_return_open(order_id=order.pk, reference=request.reference, actor=None, now=now)
    _announce(request, now)
    return request


def _locked(request: ReturnRequest | int) -> ReturnRequest:
    pk = request if isinstance(request, int) else request.pk
    return ReturnRequest.objects.select_for_update().get(pk=pk)


def _require(request: ReturnRequest, *statuses: str, doing: str) -> None:
    if request.status not in statuses:
        raise ApplicationError(
            f"Cannot {doing}: the return is {request.get_status_display().lower()}.",
            code="invalid_transition",
        )


@transaction.atomic
def return_request_accept(*, request: ReturnRequest, actor, now: datetime | None = None):
    """The seller accepts a requested return; the buyer is told to send the items back.
    Idempotent on an accepted request. (Authorisation is the caller's: the portal's scope.)"""
    now = now or timezone.now()
    request = _locked(request)
    if request.status == ReturnRequest.Status.ACCEPTED:
        return request
    _require(request, ReturnRequest.Status.REQUESTED, doing="accept it")
    previous, request.status, request.decided_at = (
        request.status,
        ReturnRequest.Status.ACCEPTED,
        now,
    )
    request.save()
    _audit(request, from_status=previous, actor=actor, now=now)
    _announce(request, now)
    return request


@transaction.atomic
def return_request_refuse(
    *, request: ReturnRequest, actor, reason: str, now: datetime | None = None
) -> ReturnRequest:
    """The seller refuses a requested return, saying why (the buyer reads it); the payout's
    hold is lifted. Raises ApplicationError without a reason or once the return went further."""
    if not reason.strip():
        raise ApplicationError("Say why the return is refused: the buyer reads it.",
                               field="reason")  # fmt: skip
    now = now or timezone.now()
    request = _locked(request)
    _require(request, ReturnRequest.Status.REQUESTED, doing="refuse it")
    previous, request.status = request.status, ReturnRequest.Status.REFUSED
    request.refused_reason, request.decided_at = reason.strip()[:500], now
    request.save()
    _audit(request, from_status=previous, actor=actor, now=now, note=reason)
    payout_return_close(order_id=request.order_id, reference=request.reference, actor=actor,
                        reason="refused by the seller", now=now)  # fmt: skip
    _announce(request, now)
    return request


@transaction.atomic
def return_request_cancel(*, request: ReturnRequest, now: datetime | None = None):
    """The buyer withdraws a return not yet sent back; the payout's hold is lifted."""
    now = now or timezone.now()
    request = _locked(request)
    _require(request, ReturnRequest.Status.REQUESTED, ReturnRequest.Status.ACCEPTED,
             doing="cancel it")  # fmt: skip
    previous, request.status = request.status, ReturnRequest.Status.CANCELLED
    request.save()
    _audit(request, from_status=previous, actor=BUYER, now=now)
    payout_return_close(order_id=request.order_id, reference=request.reference, actor=None,
                        reason="cancelled by the buyer", now=now)  # fmt: skip
    return request


@transaction.atomic
def return_shipment_add(
    *, request: ReturnRequest, tracking_number: str, carrier: str | None = None,
    carrier_name: str = "", actor, now: datetime | None = None,
) -> ReturnRequest:  # fmt: skip
    """Give an accepted return its tracking number (the seller's label or the buyer's own):
    the parcel is registered as a return shipment of the order (courier detected from the
    number when not given) and followed like any parcel. Raises ApplicationError for an
    unusable number or courier (nothing stored) or when the return is not accepted."""
    now = now or timezone.now()
    request = _locked(request)
    _require(request, ReturnRequest.Status.ACCEPTED, doing="add a tracking number")
    shipment, created = shipment_register(
        order=request.order, carrier=carrier or None, tracking_number=tracking_number,
        carrier_name=carrier_name, direction=Shipment.Direction.RETURN, actor=actor,
    )  # fmt: skip
    if not created or shipment.direction != Shipment.Direction.RETURN:
        raise ApplicationError("This tracking number is already a parcel of this order.",
                               code="duplicate_tracking_number",
                               field="tracking_number")  # fmt: skip
    previous = request.status
    request.status, request.return_shipment = ReturnRequest.Status.SHIPPED, shipment
    request.save()
    _audit(request, from_status=previous, actor=actor, now=now,
           note=f"{shipment.carrier} {shipment.tracking_number}")  # fmt: skip
    return request


@transaction.atomic
def return_receive(*, request: ReturnRequest | int, actor, now: datetime | None = None):
    """The items are back with the seller (the return parcel was delivered, or the seller says
    so): refund the returned items through the ledger, or close the hold for an exchange.
    Idempotent: a received request is returned unchanged."""
    now = now or timezone.now()
    request = _locked(request)
    if request.status == ReturnRequest.Status.RECEIVED:
        return request
    _require(request, ReturnRequest.Status.SHIPPED, doing="receive it")
    previous = request.status
    request.status, request.received_at = ReturnRequest.Status.RECEIVED, now
    request.save()
    note = "exchange: nothing refunded"
    if request.resolution == Resolution.REFUND and request.refund_amount > 0:
        payout = payout_return_refund(
            order_id=request.order_id, reference=request.reference,
            amount=request.refund_amount, actor=actor, now=now,
        )  # fmt: skip
        note = f"refunded {request.refund_amount}" if payout else "no payout to refund from"
    else:
        payout_return_close(order_id=request.order_id, reference=request.reference,
                            actor=actor, reason="exchange received", now=now)  # fmt: skip
    _audit(request, from_status=previous, actor=actor, now=now, note=note)
    _announce(request, now)
    return request


def returns_receive_delivered(*, shipment_ids: Sequence[int] | None = None) -> int:
    """Receive the shipped returns whose return parcel is delivered back to the seller: those
    of these parcels, or (None: the sweep) all of them. Each in its own transaction (one
    failure does not stop the others); idempotent. Returns how many were received."""
    requests = ReturnRequest.objects.filter(
        return_shipment__status="delivered", status=ReturnRequest.Status.SHIPPED
    )
    if shipment_ids is not None:
        requests = requests.filter(return_shipment_id__in=list(shipment_ids))
    ids = list(requests.order_by("id").values_list("id", flat=True))
    received = 0
    for request_id in ids:
        try:
            return_receive(request=request_id, actor=None)
        except ApplicationError:
            logger.exception("return %s could not be received", request_id)
        else:
            received += 1
    return received
