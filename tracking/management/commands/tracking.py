"""Operators' debugging commands. JSON on stdout; exit 0 on success, non-zero with a one-line
error on stderr for bad input.

    manage.py tracking parse --carrier SLUG FILE
    manage.py tracking detect NUMBER
    manage.py tracking sync SHIPMENT_ID_OR_NUMBER
    manage.py tracking edd_accuracy [--train-share 0.7]
    manage.py tracking detect_exceptions
"""

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tracking import carriers
from tracking.carriers.base import CarrierError, ParseResult, choose_our_parcels
from tracking.detection import detect
from tracking.models import Shipment
from tracking.services import shipment_sync_now, tracking_number_normalise
from tracking.status import pod_standing, result_state


def parse_result_as_dict(slug: str, result: ParseResult) -> dict[str, object]:
    shipments = []
    for tracking in result.shipments:
        state = result_state(tracking)
        pod = pod_standing(tracking.pod, state)
        eta = tracking.estimated_delivery
        shipments.append(
            {
                "tracking_number": tracking.tracking_number,
                "status": str(state.status),
                "substatus": str(state.substatus) if state.substatus else None,
                "estimated_delivery": eta.isoformat() if eta else None,
                "pod": pod.as_dict() if pod else None,
                "events": [
                    {
                        "occurred_at": e.occurred_at.isoformat(),
                        "status": str(e.status),
                        "substatus": str(e.substatus) if e.substatus else None,
                        "code": e.code,
                        "message": e.message,
                        "location": e.location.as_dict(),
                    }
                    for e in tracking.events
                ],
            }
        )
    errors = [
        {"tracking_number": e.tracking_number, "code": e.code, "message": e.message}
        for e in result.errors
    ]
    out: dict[str, object] = {"carrier": slug, "shipments": shipments, "errors": errors}
    if result.notes:  # which of several results for one number was kept, and why
        out["notes"] = list(result.notes)
    return out


class Command(BaseCommand):
    help = (
        "Operators' tracking tools: parse a courier payload, detect a courier, sync a parcel, "
        "measure the EDD prediction, detect exceptions."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        parse = sub.add_parser("parse", help="Parse a courier API answer (JSON or XML file).")
        parse.add_argument("--carrier", required=True)
        parse.add_argument("file")
        detect = sub.add_parser("detect", help="Which courier a tracking number belongs to.")
        detect.add_argument("number")
        sync = sub.add_parser("sync", help="Sync one shipment now (by id or tracking number).")
        sync.add_argument("shipment")
        accuracy = sub.add_parser(
            "edd_accuracy",
            help="Back-test the delivery-date prediction on delivered parcels: share delivered "
            "within the window, mean absolute error in days.",
        )
        accuracy.add_argument("--train-share", type=float, default=0.7)
        sub.add_parser("detect_exceptions", help="Run the exception detection job once.")

    def handle(self, *args, action: str, **options):
        try:
            payload = getattr(self, f"_{action}")(**options)
        except (CommandError, CarrierError, carriers.UnknownCarrier, OSError) as exc:
            sys.stderr.write(f"error: {exc}\n")
            sys.exit(2)
        self.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2))

    def _parse(self, *, carrier: str, file: str, **_) -> dict[str, object]:
        adapter = carriers.get_adapter(carrier)
        body = Path(file).read_bytes()
        # Several results for one number: without our parcel's dates, the most recent.
        result = choose_our_parcels(adapter.parse(body), courier=adapter.name)
        return parse_result_as_dict(adapter.slug, result)

    def _detect(self, *, number: str, **_) -> dict[str, object]:
        result = detect(number)
        if not result.tracking_number:
            raise CommandError("the tracking number is empty")
        return result.as_dict()

    def _edd_accuracy(self, *, train_share: float, **_) -> dict[str, object]:
        from tracking.services.edd import edd_accuracy

        if not 0.1 <= train_share <= 0.9:
            raise CommandError("--train-share must be between 0.1 and 0.9")
        return edd_accuracy(train_share=train_share).as_dict()

    def _detect_exceptions(self, **_) -> dict[str, object]:
        from tracking.services.exceptions import exceptions_detect

        summary = exceptions_detect()
        return {"opened": summary.opened, "resolved": summary.resolved}

    def _sync(self, *, shipment: str, **_) -> dict[str, object]:
        if shipment.isdigit() and Shipment.objects.filter(pk=int(shipment)).exists():
            target = Shipment.objects.get(pk=int(shipment))
        else:
            matches = list(
                Shipment.objects.filter(tracking_number=tracking_number_normalise(shipment))
            )
            if not matches:
                raise CommandError(f"no shipment with id or tracking number {shipment!r}")
            if len(matches) > 1:
                ids = ", ".join(str(s.id) for s in matches)
                raise CommandError(f"several shipments use {shipment!r} (ids {ids}); give an id")
            target = matches[0]
        outcome = shipment_sync_now(shipment=target)
        target.refresh_from_db()
        return {
            "shipment": target.id,
            "carrier": target.carrier,
            "tracking_number": target.tracking_number,
            "status": target.status,
            "substatus": target.substatus or None,
            "events": target.events.count(),
            "fault": outcome.fault or None,
            "last_sync_error": target.last_sync_error or None,
            "next_sync_at": target.next_sync_at.isoformat() if target.next_sync_at else None,
        }
