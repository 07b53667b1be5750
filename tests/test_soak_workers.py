"""Many workers: the courier-faults soak with django-q2 on Redis and two ``qcluster`` processes
against PostgreSQL, as production runs on several machines.

    this test: parcels, orders, payouts, a seller webhook endpoint, a faulty sandbox courier,
               an SMTP server and a webhook receiver (all on 127.0.0.1)
      -> qcluster A and qcluster B (separate processes, one Redis queue, one database):
         their schedulers race for the same schedules; their workers run the batch jobs
      -> a driver process enqueues the dispatcher, the payout release and the outbox sweep
         every second on top of the schedules, so dispatchers and senders overlap all the time

At the end: every parcel has its full journey, no event is stored twice, none is left
unscheduled; django-q2's own task records show that no shipment was in two batch jobs running
at the same time and that no schedule fired twice for one tick; every email and webhook event
arrived once; every payout was released at most once and the ledger balances.
"""

from __future__ import annotations

import os
import sys
import time
from collections import Counter, defaultdict
from datetime import datetime
from importlib import import_module
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection
from django.db.models import Count
from django.utils import timezone
from django_q.models import Schedule, Task

from core.schedules import schedules_ensure
from devtools.sandbox.journeys import SCENARIOS, journey_for
from devtools.sandbox.numbers import number_for_scenario
from devtools.sandbox.server import make_app, run_in_thread
from notifications.models import Notification, WebhookDelivery, WebhookEvent
from notifications.signing import new_secret
from payouts.models import JournalEntry, Payout
from payouts.services import ledger_check, payout_open_for_order
from tests.notifications.factories import WebhookEndpointFactory
from tests.support.mail import running_smtp_server
from tests.support.processes import database_url, running_processes
from tests.support.services import redis_client_or_skip
from tests.support.webhooks import running_receiver
from tests.tracking.factories import ShipmentFactory
from tracking.models import CarrierSyncState, Shipment, TrackingEvent
from tracking.status import Status

SHIPMENTS = int(os.environ.get("SOAK_WORKERS_SHIPMENTS", "240"))
CARRIERS = ("laposte", "gls", "fedex")
CLUSTERS = 2
# A journey step every 3 s of wall time: the longest journey (11 steps) is over in ~35 s.
STEP_SECONDS = 3
FAULTS = {"error_500": 0.10, "error_429": 0.05, "retry_after_seconds": 1, "malformed": 0.02,
          "timeout": 0.01, "timeout_seconds": 3}  # fmt: skip
# Long enough for the dispatch schedule (every minute) to come round twice with both clusters
# up; the run ends as soon as everything is settled after that, or at the deadline.
MIN_SECONDS, MAX_SECONDS = 80, 300
REDIS_URL = os.environ.get("SOAK_REDIS_URL", "redis://127.0.0.1:6379/14")
DISPATCH_SCHEDULE = "tracking.dispatch_due_syncs"
SECRET = new_secret()  # every seller's endpoint (the receiver checks one secret)

DRIVER = """
import os, time
from django_q.tasks import async_task
deadline = time.monotonic() + float(os.environ["SOAK_DRIVER_SECONDS"])
while time.monotonic() < deadline and not os.path.exists(os.environ["SOAK_STOP_FILE"]):
    async_task("tracking.tasks.dispatch_due_syncs", group="soak:dispatch")
    async_task("payouts.tasks.release_due", group="soak:release")
    async_task("notifications.tasks.sweep_outbox", group="soak:sweep")
    time.sleep(1)
"""

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _redis_or_skip():
    return redis_client_or_skip(REDIS_URL)


def _schedules_due_now() -> datetime:
    """The apps' schedules (a transactional test before this one flushed them), due at once so
    that both schedulers race for the first tick; returns that first tick's time."""
    schedules_ensure(app_labels=["tracking", "payouts", "notifications"])
    first_tick = timezone.now()
    Schedule.objects.update(next_run=first_tick)
    import_module("notifications.migrations.0002_default_rules").create_defaults(apps, None)
    return first_tick


def _batch_jobs_per_cluster(logs: Path) -> dict[str, Counter]:
    """Which cluster process ran each batch job, from the clusters' logs (task records name
    the cluster, and both clusters share one name so that they share one queue)."""
    names = set(
        Task.objects.filter(func="tracking.tasks.sync_carrier_batch").values_list("name", flat=True)
    )
    runs = {}
    for n in range(CLUSTERS):
        text = (logs / f"qcluster_{n}.log").read_text(errors="replace")
        runs[f"qcluster_{n}"] = Counter(
            name
            for name in names
            if f"processing {name} 'tracking.tasks.sync_carrier_batch'" in text
        )
    return runs


def _journeys_complete(expected: dict[int, int]) -> bool:
    stored = dict(Shipment.objects.annotate(n=Count("events")).values_list("id", "n"))
    return stored == expected


def _settled() -> bool:
    return not (
        Notification.objects.filter(state__in=["pending", "sending"]).exists()
        or WebhookDelivery.objects.filter(state__in=["pending", "sending"]).exists()
        or Payout.objects.filter(status=Payout.Status.ELIGIBLE).exists()
    )


def _overlapping_batches() -> list[tuple[int, str, str]]:
    """Shipments that were in two batch jobs whose run times overlap (by django-q2's records)."""
    runs = defaultdict(list)
    for task in Task.objects.filter(func="tracking.tasks.sync_carrier_batch"):
        _carrier, ids = task.args
        for shipment_id in ids:
            runs[shipment_id].append((task.started, task.stopped, task.id))
    overlaps = []
    for shipment_id, intervals in runs.items():
        intervals.sort()
        for (_s1, end1, id1), (start2, _e2, id2) in zip(intervals, intervals[1:], strict=False):
            if start2 < end1:
                overlaps.append((shipment_id, id1, id2))
    return overlaps


def test_soak_many_workers_sync_notify_and_pay_once(tmp_path, capsys):
    if connection.vendor != "postgresql":
        pytest.skip("the clusters are separate processes: they need a database server")
    redis_client = _redis_or_skip()
    redis_client.flushdb()  # this test's own Redis database: no queue left from another run
    app = make_app(step_seconds=STEP_SECONDS, faults=FAULTS, seed=11)
    with (
        run_in_thread(app) as sandbox,
        running_smtp_server() as (smtp_port, emails),
        running_receiver(secret=SECRET) as receiver,
    ):
        # given parcels over couriers and scenarios, each order paid (payout held) and its
        # seller subscribed to every webhook event
        scenarios = sorted(SCENARIOS)
        now = timezone.now()
        for i in range(SHIPMENTS):
            carrier = CARRIERS[i % len(CARRIERS)]
            number = number_for_scenario(carrier, scenarios[i % len(scenarios)], index=i)
            shipment = ShipmentFactory(carrier=carrier, tracking_number=number, next_sync_at=now)
            payout_open_for_order(order=shipment.order, actor=None)
            WebhookEndpointFactory(seller=shipment.seller, url=receiver.url, secret=SECRET)
        expected = {
            s.id: len(journey_for(s.carrier, s.tracking_number).steps)
            for s in Shipment.objects.all()
        }
        first_tick = _schedules_due_now()
        env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "REDIS_URL": REDIS_URL,
            "CARRIER_SANDBOX_URL": sandbox.url,
            "CARRIER_HTTP_TIMEOUT_SECONDS": "2",
            "TRACKING_SYNC_INTERVAL_DIVISOR": "720",  # in transit: every 20 s
            "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
            "NOTIFICATION_CONSOLIDATION_SECONDS": "5",
            "PAYOUT_CLAIM_WINDOW_DAYS": "0",
            "Q_WORKERS": "2",
            "Q_SAVE_LIMIT": "0",  # keep every task record: the assertions read them
            "SOAK_STOP_FILE": str(tmp_path / "stop"),
            "SOAK_DRIVER_SECONDS": str(MAX_SECONDS),
            "PYTHONUNBUFFERED": "1",
        }
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        commands = {f"qcluster_{n}": [*manage, "qcluster"] for n in range(CLUSTERS)}
        commands["driver"] = [*manage, "shell", "-c", DRIVER]

        # when two clusters and the driver run until everything has settled
        started = time.monotonic()
        with running_processes(commands, env, tmp_path) as children:
            while time.monotonic() - started < MAX_SECONDS:
                time.sleep(2)
                dead = [name for name, child in children.items() if child.poll() is not None]
                assert not dead, (dead, (tmp_path / f"{dead[0]}.log").read_text()[-3000:])
                elapsed = time.monotonic() - started
                if elapsed > MIN_SECONDS and _journeys_complete(expected) and _settled():
                    break
            (tmp_path / "stop").touch()
        elapsed = time.monotonic() - started

    # then every parcel has exactly its journey and the status it leads to, nothing unscheduled
    incomplete = []
    for shipment in Shipment.objects.annotate(n=Count("events")):
        journey = journey_for(shipment.carrier, shipment.tracking_number)
        if shipment.n != len(journey.steps) or shipment.status != journey.scenario.final_status:
            incomplete.append((shipment.carrier, shipment.tracking_number, journey.scenario.name,
                               shipment.n, len(journey.steps), shipment.status))  # fmt: skip
    duplicate_events = (
        TrackingEvent.objects.values("shipment_id", "occurred_at", "carrier_code", "message")
        .annotate(n=Count("id")).filter(n__gt=1).count()
    )  # fmt: skip
    unscheduled = Shipment.objects.filter(next_sync_at=None).exclude(
        status__in=[Status.DELIVERED, Status.EXCEPTION]
    )
    # no shipment in two batch jobs at once, no schedule tick fired twice
    overlaps = _overlapping_batches()
    # (the schedule is due at first_tick + k minutes: tick k fires once, whichever cluster)
    ticks = Counter(
        int((started - first_tick).total_seconds() // 60)
        for started in Task.objects.filter(group=DISPATCH_SCHEDULE).values_list(
            "started", flat=True
        )
    )
    jobs = _batch_jobs_per_cluster(tmp_path)
    ran_twice = set(jobs["qcluster_0"]) & set(jobs["qcluster_1"])
    # every email and every webhook event once
    message_ids = Counter(message["X-Parcelle-Message"] for _rcpt, message in emails)
    delivered_per_event = Counter(
        request["headers"]["webhook-id"] for request in
        receiver.requests
    )  # fmt: skip
    events = WebhookEvent.objects.count()
    # every payout released at most once, the ledger sound
    releases = Counter(
        JournalEntry.objects.filter(kind="release").values_list("payout_id", flat=True)
    )
    released = Payout.objects.filter(status=Payout.Status.RELEASED).count()
    report = ledger_check()
    backoffs = {
        s.carrier: (s.failures_total, s.requests_total) for s in CarrierSyncState.objects.all()
    }
    with capsys.disabled():
        print(
            f"\nsoak (many workers): {SHIPMENTS} parcels, {CLUSTERS} qclusters on Redis, "
            f"{elapsed:.0f} s; {TrackingEvent.objects.count()} events; batch jobs per cluster "
            f"{ {name: len(ran) for name, ran in jobs.items()} }; dispatch schedule fires per "
            f"tick {dict(sorted(ticks.items()))}; "
            f"{len(emails)} emails; {len(receiver.processed)}/{events} webhook events received; "
            f"{released} payouts released; courier (failures, requests) {backoffs}; "
            f"faults served {dict(app.faults_served)}"
        )
    assert incomplete == [], incomplete[:5]
    assert duplicate_events == 0
    assert not unscheduled.exists()
    assert overlaps == [], overlaps[:5]
    assert len(ticks) >= 2 and set(ticks.values()) == {1}, ticks  # every tick fired once
    assert all(jobs.values()) and not ran_twice, jobs  # both clusters worked, each job once
    assert emails and all(count == 1 for count in message_ids.values()), message_ids
    sent = Notification.objects.filter(state="sent").values_list("message_id", flat=True)
    assert {str(message_id) for message_id in sent} == set(message_ids)
    assert receiver.bad_signatures == 0
    assert len(receiver.processed) == events > 0
    assert all(count == 1 for count in delivered_per_event.values()), delivered_per_event
    assert released > 0 and all(count == 1 for count in releases.values())
    assert report.released == released
    # faults were met: the sandbox served some (whether one outlasted a batch's retries and
    # backed a courier off depends on how the draws fell: the courier states above say)
    assert sum(app.faults_served.values()) > 0, app.faults_served
