"""Operators' notification tools. JSON on stdout; exit 0 on success, non-zero with a one-line
error on stderr for bad input.

    manage.py notifications replay --since 2026-11-02T00:00:00+01:00 [--endpoint ID]
    manage.py notifications replay --event EVENT_UUID [--event …] [--endpoint ID]
    manage.py notifications sweep
"""

import json
import uuid

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from notifications.models import WebhookEndpoint, WebhookEvent
from notifications.services import outbox_sweep, webhook_replay


def parse_since(value: str):
    moment = parse_datetime(value)
    if moment is None:
        day = parse_date(value)
        if day is None:
            raise CommandError(f"--since {value!r} is not an ISO date or datetime")
        moment = timezone.datetime.combine(day, timezone.datetime.min.time())
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


class Command(BaseCommand):
    help = "Replay webhook events (one, several, or all since a date); sweep the outbox now."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        replay = sub.add_parser("replay", help="Send events again with their original id.")
        replay.add_argument("--since", help="ISO date or datetime (local time if naive).")
        replay.add_argument("--event", action="append", default=[], help="Event id (UUID).")
        replay.add_argument("--endpoint", type=int, help="Only to this endpoint (id).")
        sub.add_parser("sweep", help="Send everything due now (what the schedule does).")

    def handle(self, *args, **options):
        if options["action"] == "sweep":
            self.stdout.write(json.dumps(outbox_sweep()))
            return
        since = parse_since(options["since"]) if options["since"] else None
        event_ids = None
        if options["event"]:
            try:
                uuids = [uuid.UUID(value) for value in options["event"]]
            except ValueError as exc:
                raise CommandError(f"--event: {exc}") from exc
            event_ids = list(
                WebhookEvent.objects.filter(event_id__in=uuids).values_list("id", flat=True)
            )
            if len(event_ids) != len(set(uuids)):
                raise CommandError("--event: some of these event ids do not exist")
        if since is None and event_ids is None:
            raise CommandError("replay needs --since or --event")
        endpoint = options["endpoint"]
        if endpoint is not None and not WebhookEndpoint.objects.filter(pk=endpoint).exists():
            raise CommandError(f"--endpoint {endpoint}: no such endpoint")
        ids = webhook_replay(event_ids=event_ids, since=since, endpoint_id=endpoint)
        self.stdout.write(json.dumps({"queued_deliveries": len(ids)}))
