"""Sellers confirm shipment of their orders with a courier and a tracking number (services).

    form / API -> shipment_confirm(order, carrier, number) -> tracking shipment_register
    CSV upload -> tracking_upload_create (decode, size and row limits) -> on commit:
        tasks.tracking_upload_run(id) -> tracking_upload_run: rows grouped by order, each order
        checked whole and applied in its own transaction (a bad row leaves its order untouched),
        progress and per-row errors saved every PROGRESS_EVERY rows for the htmx progress bar
    a worker dies mid-way -> its lease (claimed_until) expires -> the redelivered job, or the
        sellers.tracking_uploads_resume schedule, claims it again and resumes after the last
        saved progress (orders past it are applied again: confirming is idempotent)

Checks on every number: the courier's format (tracking.detection, check digits included) and
that no other order already uses it (the same parcel cannot prove two deliveries).
"""

from __future__ import annotations

import csv
import io
import logging
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.csvexport import FORMULA_PREFIXES
from core.errors import ApplicationError
from core.fanout import job_on_commit
from sellers.models import Order, Seller, TrackingUpload
from tracking import carriers
from tracking.detection import detect, normalise_number
from tracking.models import OTHER_CARRIER, Shipment
from tracking.services.shipments import shipment_register, tracking_number_claim_check

logger = logging.getLogger(__name__)

# Progress is written after this many rows: often enough for a live bar, rarely enough that a
# 20,000-row file does not spend its time updating one row.
PROGRESS_EVERY = 200
# A running job renews its lease at every progress write; one whose lease ran out is taken to
# be dead. Longer than the slowest PROGRESS_EVERY rows, shorter than django-q2's retry (180 s)
# so that a redelivered job finds the lease expired.
UPLOAD_LEASE = timedelta(minutes=2)
# A queued upload whose job has not started after this long is queued again by the sweep.
QUEUED_GRACE = timedelta(minutes=10)
COLUMN_ALIASES = {
    "order": ("order", "order_reference", "reference", "commande"),
    "carrier": ("carrier", "courier", "transporteur"),
    "tracking_number": ("tracking_number", "tracking", "numero_suivi", "numéro de suivi"),
    "carrier_name": ("carrier_name", "courier_name"),
}


def tracking_number_check(*, carrier: str, tracking_number: str) -> str:
    """The normalised number if it fits the courier's format; ApplicationError otherwise.

    Couriers with known formats must match one (with a valid check digit where the format has
    one); "other" couriers and aggregators have no format to check."""
    number = normalise_number(tracking_number)
    if tracking_number.strip().startswith(FORMULA_PREFIXES):
        raise ApplicationError(
            "This cell is a spreadsheet formula, not a tracking number.",
            code="invalid_tracking_number", field="tracking_number",
        )  # fmt: skip
    if not 4 <= len(number) <= 64 or not number.isalnum():
        raise ApplicationError(
            "A tracking number has 4 to 64 letters and digits.",
            code="invalid_tracking_number", field="tracking_number",
        )  # fmt: skip
    if carrier == OTHER_CARRIER:
        return number
    try:
        adapter = carriers.get_adapter(carrier)
    except carriers.UnknownCarrier:
        raise ApplicationError(
            f"Unknown courier {carrier!r}.", code="unknown_carrier", field="carrier"
        ) from None
    if not adapter.number_patterns:
        return number
    candidates = detect(number).candidates
    mine = [c for c in candidates if c.carrier == carrier]
    if not mine:
        others = ", ".join(c.carrier for c in candidates[:3])
        hint = f" It looks like a {others} number." if others else ""
        raise ApplicationError(
            f"{number} is not a {adapter.name} tracking number format.{hint}",
            code="tracking_number_format", field="tracking_number",
        )  # fmt: skip
    if all(c.checksum_valid is False for c in mine):
        raise ApplicationError(
            f"{number} looks like a mistyped {adapter.name} number (its check digit fails).",
            code="tracking_number_checksum", field="tracking_number",
        )  # fmt: skip
    return number


def shipment_number_vet(*, order: Order, carrier: str | None, tracking_number: str) -> str:
    """The normalised number, checked against the courier's format (when the courier is given)
    and against every other live shipment (tracking's one rule, tracking_number_claim_check).
    Raises ApplicationError (codes tracking_number_format, tracking_number_checksum,
    duplicate_tracking_number, ...)."""
    if carrier is None:  # detected at registration, which applies the same rule
        return normalise_number(tracking_number)
    number = tracking_number_check(carrier=carrier, tracking_number=tracking_number)
    tracking_number_claim_check(order=order, carrier=carrier, tracking_number=number)
    return number


@transaction.atomic
def shipment_confirm(
    *,
    order: Order,
    carrier: str,
    tracking_number: str,
    carrier_name: str = "",
    actor=None,
) -> tuple[Shipment, bool]:
    """The seller hands ``order`` to ``carrier`` under ``tracking_number``: vetted by
    ``shipment_number_vet`` (courier format, not used by another order), then registered
    (idempotent: the same number on the same order again returns the same shipment)."""
    number = shipment_number_vet(order=order, carrier=carrier, tracking_number=tracking_number)
    shipment, created = shipment_register(
        order=order, carrier=carrier, tracking_number=number, carrier_name=carrier_name,
        actor=actor,
    )  # fmt: skip
    if created:
        # The confirmation time is the first fact of the delivery performance protection.
        job_on_commit("sellers.tasks.protections_refresh", [order.pk], group="sellers")
    logger.info(
        "shipment confirmed",
        extra={"order_id": order.pk, "shipment_id": shipment.pk, "shipment_created": created,
               "actor_id": getattr(actor, "pk", None)},
    )  # fmt: skip
    return shipment, created


# --- CSV uploads ------------------------------------------------------------------------------


@dataclass(frozen=True)
class UploadRow:
    line: int
    order: str
    carrier: str
    tracking_number: str
    carrier_name: str


def decode_upload(data: bytes) -> str:
    """UTF-8 (with or without BOM), else Windows-1252 (what French Excel writes); anything else
    is refused with a clear message rather than read as mojibake."""
    if b"\x00" in data:
        raise ApplicationError(
            "This file is not a CSV text file (it contains binary data).", code="bad_encoding"
        )
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ApplicationError(
        "This file is neither UTF-8 nor Windows-1252 text: save it as CSV UTF-8.",
        code="bad_encoding",
    )


def _reader(text: str) -> csv.DictReader:
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    return csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)


def _columns(fieldnames: list[str] | None) -> dict[str, str]:
    found: dict[str, str] = {}
    for name in fieldnames or []:
        key = (name or "").strip().lower()
        for column, aliases in COLUMN_ALIASES.items():
            if key in aliases and column not in found:
                found[column] = name
    missing = [c for c in ("order", "carrier", "tracking_number") if c not in found]
    if missing:
        raise ApplicationError(
            f"The first line must name the columns order, carrier and tracking_number "
            f"(missing: {', '.join(missing)}).",
            code="bad_header",
        )
    return found


def parse_upload(text: str) -> list[UploadRow]:
    """The rows of a tracking CSV. Raises ApplicationError for a missing header or too many
    rows (settings.TRACKING_UPLOAD_MAX_ROWS)."""
    reader = _reader(text)
    columns = _columns(reader.fieldnames)
    rows = []
    try:
        for record in reader:
            if len(rows) >= settings.TRACKING_UPLOAD_MAX_ROWS:
                raise ApplicationError(
                    f"A file has at most {settings.TRACKING_UPLOAD_MAX_ROWS} rows: split it.",
                    code="too_many_rows",
                )
            values = {c: (record.get(name) or "").strip() for c, name in columns.items()}
            if not any(values.values()):
                continue  # blank line
            rows.append(
                UploadRow(
                    line=reader.line_num,
                    order=values["order"],
                    carrier=values["carrier"].lower(),
                    tracking_number=values["tracking_number"],
                    carrier_name=values.get("carrier_name", ""),
                )
            )
    except csv.Error as error:
        raise ApplicationError(f"This CSV cannot be read: {error}.", code="bad_csv") from None
    return rows


@transaction.atomic
def tracking_upload_create(
    *, seller: Seller, filename: str, data: bytes, actor=None
) -> TrackingUpload:
    """Keep a seller's CSV and queue its processing after commit. Raises ApplicationError for a
    file too large, not text, without the columns, or with too many rows: nothing is stored."""
    if len(data) > settings.TRACKING_UPLOAD_MAX_BYTES:
        raise ApplicationError(
            f"The file is larger than {settings.TRACKING_UPLOAD_MAX_BYTES // (1024 * 1024)} MB: "
            "split it.",
            code="file_too_large",
        )
    text = decode_upload(data)
    rows = parse_upload(text)
    if not rows:
        raise ApplicationError("The file has no rows under its header.", code="empty_file")
    upload = TrackingUpload.objects.create(
        seller=seller, filename=filename[:200], content=text, total_rows=len(rows),
        created_by=actor if getattr(actor, "pk", None) else None,
    )  # fmt: skip
    transaction.on_commit(lambda: _enqueue(upload.pk))
    return upload


def _enqueue(upload_id: int) -> None:
    from django_q.tasks import async_task

    async_task("sellers.tasks.tracking_upload_run", upload_id, task_name=f"upload-{upload_id}")


OrderCheck = tuple[Order | None, dict[int, str]]
NOT_APPLIED = "Not applied: another row of this order has an error."


def _order_errors(seller: Seller, reference: str, rows: list[UploadRow]) -> OrderCheck:
    errors: dict[int, str] = {}
    order = Order.objects.filter(seller=seller, reference=reference).first()
    if not reference:
        return None, {row.line: "The order reference is empty." for row in rows}
    if order is None:
        return None, {row.line: f"You have no order {reference!r}." for row in rows}
    for row in rows:
        try:
            shipment_number_vet(
                order=order, carrier=row.carrier, tracking_number=row.tracking_number
            )
            if row.carrier == OTHER_CARRIER and not row.carrier_name:
                raise ApplicationError('Name the courier (carrier_name) when it is "other".')
        except ApplicationError as error:
            errors[row.line] = error.message
    return order, errors


def _claim(upload_id: int) -> str | None:
    """Take the upload for this job: queued, or running under a lease that expired (its worker
    died). Returns the job's token, or None when another live job has it or it is finished."""
    now = timezone.now()
    token = uuid.uuid4().hex
    claimable = Q(state=TrackingUpload.State.QUEUED) | Q(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
        state=TrackingUpload.State.RUNNING,
    )
    claimed = (
        TrackingUpload.objects.filter(claimable, pk=upload_id)
        .update(state=TrackingUpload.State.RUNNING, claimed_until=now + UPLOAD_LEASE,
                run_token=token)
    )  # fmt: skip
    return token if claimed else None


def _save_progress(upload_id: int, token: str, **fields) -> bool:
    """Write progress and renew the lease; False when another job took the upload over (this
    one was presumed dead), which must then stop."""
    return bool(
        TrackingUpload.objects.filter(pk=upload_id, run_token=token).update(
            claimed_until=timezone.now() + UPLOAD_LEASE, **fields
        )
    )


def tracking_uploads_resume() -> int:
    """Queue the job again for every upload left behind: running with an expired lease (its
    worker died) or queued for longer than QUEUED_GRACE (its job was lost). Returns how many.
    Safe to run twice: the jobs themselves claim the upload, one at a time."""
    now = timezone.now()
    stale = TrackingUpload.objects.filter(
        Q(state=TrackingUpload.State.RUNNING)
        & (Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        | Q(state=TrackingUpload.State.QUEUED, created_at__lt=now - QUEUED_GRACE)
    )
    ids = list(stale.order_by("id").values_list("id", flat=True))
    for upload_id in ids:
        logger.warning("tracking upload resumed", extra={"upload_id": upload_id})
        _enqueue(upload_id)
    return len(ids)


def tracking_upload_run(*, upload_id: int) -> TrackingUpload:
    """Apply an upload's rows, order by order. Safe to run twice: only the job holding the
    upload's lease does the work, and a job redelivered after its worker died resumes after the
    last saved progress (orders applied since are confirmed again, which changes nothing). A
    row's error is kept with its line number; the other rows of that order are not applied
    either (an order is confirmed whole or not at all), and every other order goes ahead. A
    number twice in the file on different orders is refused on both."""
    token = _claim(upload_id)
    upload = TrackingUpload.objects.select_related("seller").get(pk=upload_id)
    if token is None:
        return upload
    try:
        rows = parse_upload(upload.content)
    except ApplicationError as error:
        upload.errors = [{"line": 1, "order": "", "error": error.message}]
        upload.state, upload.finished_at = TrackingUpload.State.FAILED, timezone.now()
        upload.save(update_fields=["errors", "state", "finished_at"])
        return upload
    by_order: OrderedDict[str, list[UploadRow]] = OrderedDict()
    number_orders: dict[tuple[str, str], set[str]] = {}
    for row in rows:
        by_order.setdefault(row.order, []).append(row)
        key = (row.carrier, normalise_number(row.tracking_number))
        number_orders.setdefault(key, set()).add(row.order)
    # Resume: the orders before the saved progress are done (progress is saved after whole
    # orders, in file order), with their counts and errors.
    errors: list[dict] = list(upload.errors)
    processed, applied, since_progress = upload.processed_rows, upload.applied_rows, 0
    skipped = 0
    for reference, order_rows in by_order.items():
        if skipped < upload.processed_rows:
            skipped += len(order_rows)
            continue
        order, row_errors = _order_errors(upload.seller, reference, order_rows)
        for row in order_rows:
            key = (row.carrier, normalise_number(row.tracking_number))
            if len(number_orders[key]) > 1 and row.line not in row_errors:
                row_errors[row.line] = (
                    f"{key[1]} appears in this file for several orders "
                    f"({', '.join(sorted(number_orders[key]))})."
                )
        if not row_errors:
            try:
                with transaction.atomic():
                    for row in order_rows:
                        shipment_confirm(
                            order=order, carrier=row.carrier, tracking_number=row.tracking_number,
                            carrier_name=row.carrier_name, actor=upload.created_by,
                        )  # fmt: skip
                applied += len(order_rows)
            except ApplicationError as error:  # e.g. a number registered meanwhile elsewhere
                row_errors = {order_rows[0].line: error.message}
        for row in order_rows:
            if row.line in row_errors:
                errors.append({"line": row.line, "order": reference, "error": row_errors[row.line]})
            elif row_errors:
                errors.append({"line": row.line, "order": reference, "error": NOT_APPLIED})
        processed += len(order_rows)
        since_progress += len(order_rows)
        if since_progress >= PROGRESS_EVERY:
            since_progress = 0
            if not _save_progress(
                upload.pk, token, processed_rows=processed, applied_rows=applied, errors=errors
            ):
                return upload  # another job took over: it carries on from our last progress
    finished = timezone.now()
    if not _save_progress(
        upload.pk, token, processed_rows=processed, applied_rows=applied, errors=errors,
        state=TrackingUpload.State.DONE, finished_at=finished,
    ):  # fmt: skip
        return upload
    upload.processed_rows, upload.applied_rows, upload.errors = processed, applied, errors
    upload.state, upload.finished_at = TrackingUpload.State.DONE, finished
    logger.info("tracking upload applied", extra={"upload_id": upload.pk, "applied": applied,
                                                  "errors": len(errors)})  # fmt: skip
    return upload
