"""Courier faults soak: sandbox parcels synced through the real dispatcher and batch jobs while
the sandbox injects 10% 5xx, 5% 429 with Retry-After, 2% malformed bodies and 1% timeouts.

Time is simulated: each round advances the sandbox and our clock by one hour, dispatches every
due shipment (in process, as the django-q2 jobs would) and syncs it. At the end every parcel has
its full journey, no event is stored twice, none is left unscheduled, and the courier back-offs
are on record. SOAK_SHIPMENTS sets the size (CI: 600; `make soak`: 10,000).
"""

import os
from collections import Counter
from datetime import timedelta
from unittest import mock

import pytest
from django.db.models import Count
from django.utils import timezone

from devtools.sandbox.journeys import SCENARIOS, journey_for
from devtools.sandbox.numbers import number_for_scenario
from devtools.sandbox.server import make_app, run_in_thread
from tests.tracking.factories import ShipmentFactory
from tracking.carriers.http import CarrierHttpClient
from tracking.models import CarrierSyncState, Shipment, TrackingEvent
from tracking.services import carrier_batch_sync, sync_dispatch_due
from tracking.status import Status

SHIPMENTS = int(os.environ.get("SOAK_SHIPMENTS", "600"))
# Couriers that take many numbers a request, so a large soak stays minutes, not hours.
CARRIERS = ("laposte", "gls", "fedex")
STEP = timedelta(hours=1)
MAX_ROUNDS = 80  # the longest journey (11 steps) plus cadence and back-offs fits well within
FAULTS = {"error_500": 0.10, "error_429": 0.05, "retry_after_seconds": 1, "malformed": 0.02,
          "timeout": 0.01, "timeout_seconds": 0.4}  # fmt: skip


@pytest.mark.django_db
def test_soak_every_parcel_gets_its_full_journey_despite_courier_faults(settings, capsys):
    # given parcels spread over couriers and scenarios, and a faulty sandbox
    app = make_app(step_seconds=STEP.total_seconds(), faults=FAULTS, seed=42)
    scenarios = sorted(SCENARIOS)
    with run_in_thread(app) as sandbox:
        settings.CARRIERS = {
            slug: {**config, "base_url": f"{sandbox.url}/{slug}"}
            for slug, config in settings.CARRIERS.items()
        }
        now = timezone.now()
        for i in range(SHIPMENTS):
            carrier = CARRIERS[i % len(CARRIERS)]
            number = number_for_scenario(carrier, scenarios[i % len(scenarios)], index=i)
            ShipmentFactory(carrier=carrier, tracking_number=number, next_sync_at=now)
        expected = {
            s.id: len(journey_for(s.carrier, s.tracking_number).steps)
            for s in Shipment.objects.all()
        }
        client = CarrierHttpClient(timeout_seconds=0.25, max_attempts=3, backoff_seconds=0,
                                   requests_per_second=0, sleep=lambda seconds: None)  # fmt: skip
        faults = Counter()

        # when the dispatcher and the batch jobs run, round after round
        with mock.patch("tracking.services.sync.sync_jobs_enqueue"):
            for _round in range(MAX_ROUNDS):
                while jobs := sync_dispatch_due(now=now):
                    for carrier, ids in jobs:
                        outcome = carrier_batch_sync(carrier=carrier, shipment_ids=ids,
                                                     client=client, now=now)  # fmt: skip
                        faults[outcome.fault or "ok"] += 1
                stored = dict(Shipment.objects.annotate(n=Count("events")).values_list("id", "n"))
                if stored == expected:  # every parcel has its whole journey
                    break
                now += STEP
                sandbox.advance(STEP.total_seconds())

    # then every parcel has exactly the events of its journey, and the status it leads to
    incomplete = []
    for shipment in Shipment.objects.annotate(n=Count("events")):
        journey = journey_for(shipment.carrier, shipment.tracking_number)
        final = journey.scenario
        if shipment.n != len(journey.steps) or shipment.status != final.final_status:
            incomplete.append((shipment.carrier, shipment.tracking_number, final.name,
                               shipment.n, len(journey.steps), shipment.status))  # fmt: skip
    duplicates = (
        TrackingEvent.objects.values("shipment_id", "occurred_at", "carrier_code", "message")
        .annotate(n=Count("id")).filter(n__gt=1).count()
    )  # fmt: skip
    unscheduled = Shipment.objects.filter(next_sync_at=None).exclude(
        status__in=[Status.DELIVERED, Status.EXCEPTION]
    )
    states = {
        s.carrier: (s.failures_total, s.requests_total) for s in CarrierSyncState.objects.all()
    }
    with capsys.disabled():
        print(f"\nsoak: {SHIPMENTS} parcels, {TrackingEvent.objects.count()} events, "
              f"{_round + 1} rounds; job outcomes {dict(faults)}; "
              f"courier (failures, requests) {states}")  # fmt: skip
    assert incomplete == [], incomplete[:5]
    assert duplicates == 0
    assert not unscheduled.exists()
    # faults reached the courier back-off (beyond what the client's retries absorbed), and every
    # courier's health is on record for operators (admin: Carrier sync states)
    assert sum(count for outcome, count in faults.items() if outcome != "ok") > 0
    assert set(states) == set(CARRIERS)
