"""A courier's per-second limit holds across workers: two ``qcluster`` processes of two workers
each, on one Redis, run batch jobs for one courier at the same time, and the courier (the
sandbox, recording when each request arrives) never gets more than its limit in a second.

The same run with each process keeping its own budget (COURIER_BUDGET_REDIS_URL empty, the
embedded default) sends several times the limit: the test can tell the two apart.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from bisect import bisect_right
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_q.models import Task

from devtools.sandbox.numbers import number_for_scenario
from devtools.sandbox.server import SandboxApp, make_app, run_in_thread
from tests.support.processes import database_url, running_processes
from tests.support.services import redis_client_or_skip
from tests.tracking.factories import ShipmentFactory
from tracking.budgets import REDIS_KEY
from tracking.models import Shipment

REDIS_URL = os.environ.get("BUDGET_TEST_REDIS_URL", "redis://127.0.0.1:6379/12")
COURIER = "dhl"  # one number a request, an API key: each request is one parcel
LIMIT = 4  # DHL_REQUESTS_PER_SECOND for this test (DHL's own 0.2/s would make it slow)
# 4 batch jobs of 20 (tracking.services.sync.REQUESTS_PER_JOB), one per worker
SHIPMENTS = 80
CLUSTERS = 2
# Arrival times at the courier carry the workers' scheduling delays: on a loaded machine a
# request let through at the start of a window can reach the courier well after the next one.
# The courier's side is checked over windows this much shorter than a second (a burst of four
# workers without a shared budget is four times denser); the budget's own log, in Redis, is
# checked over the exact second.
JITTER_SECONDS = 0.3
DEADLINE_SECONDS = 120

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


class RecordingSandbox(SandboxApp):
    """The sandbox courier, noting when each request for COURIER arrives."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.arrivals: list[float] = []
        self._arrivals_lock = threading.Lock()

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO", "").startswith(f"/{COURIER}/"):
            with self._arrivals_lock:
                self.arrivals.append(time.monotonic())
        return super().__call__(environ, start_response)


def _busiest_window(arrivals: list[float], seconds: float) -> int:
    """The most requests that arrived within any window of ``seconds``."""
    times = sorted(arrivals)
    return max((bisect_right(times, t + seconds) - i for i, t in enumerate(times)), default=0)


def _admissions_logged(redis_client) -> list[float]:
    """When the shared budget let each request for COURIER through (its Redis log, in ms)."""
    key = REDIS_KEY.format(slug=COURIER)
    return [score / 1000 for _member, score in redis_client.zrange(key, 0, -1, withscores=True)]


def _overlapping_jobs() -> int:
    """How many batch jobs ran at the same time as another (django-q2's records)."""
    runs = sorted(
        Task.objects.filter(func="tracking.tasks.sync_carrier_batch").values_list(
            "started", "stopped"
        )
    )
    return sum(
        1 for (_s1, end1), (start2, _e2) in zip(runs, runs[1:], strict=False) if start2 < end1
    )


def _run_clusters(tmp_path, *, shared: bool) -> tuple[RecordingSandbox, list[float]]:
    redis_client = redis_client_or_skip(REDIS_URL)
    redis_client.flushdb()  # this test's own Redis database: no queue or budget left over
    base = make_app(step_seconds=3600)
    app = RecordingSandbox(clock=time.time, step_seconds=base.step_seconds, faults=None, seed=0)
    now = timezone.now()
    for i in range(SHIPMENTS):
        ShipmentFactory(
            carrier=COURIER,
            tracking_number=number_for_scenario(COURIER, "delivered_signed", index=i),
            next_sync_at=now - timedelta(minutes=1),
        )
    with run_in_thread(app) as sandbox:
        env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "REDIS_URL": REDIS_URL,
            "COURIER_BUDGET_REDIS_URL": REDIS_URL if shared else "",
            "CARRIER_SANDBOX_URL": sandbox.url,
            f"{COURIER.upper()}_REQUESTS_PER_SECOND": str(LIMIT),
            "Q_WORKERS": "2",
            "Q_SAVE_LIMIT": "0",  # keep every task record: the overlap check reads them
            "PYTHONUNBUFFERED": "1",
        }
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        commands = {f"qcluster_{n}": [*manage, "qcluster"] for n in range(CLUSTERS)}
        # one dispatch claims every parcel and enqueues the batch jobs on Redis
        dispatch = "from tracking.services.sync import sync_dispatch_due; sync_dispatch_due()"
        commands["dispatch"] = [*manage, "shell", "-c", dispatch]
        started = time.monotonic()
        with running_processes(commands, env, tmp_path) as children:
            while time.monotonic() - started < DEADLINE_SECONDS:
                time.sleep(1)
                if not Shipment.objects.filter(last_synced_at=None).exists():
                    break
                dead = [n for n, c in children.items() if n != "dispatch" and c.poll() is not None]
                assert not dead, (tmp_path / f"{dead[0]}.log").read_text()[-3000:]
    unsynced = Shipment.objects.filter(last_synced_at=None).count()
    assert unsynced == 0, (tmp_path / "qcluster_0.log").read_text()[-3000:]
    return app, _admissions_logged(redis_client)


def test_two_qclusters_never_send_a_courier_more_than_its_per_second_limit(tmp_path, capsys):
    if connection.vendor != "postgresql":
        pytest.skip("the clusters are separate processes: they need a database server")

    app, admitted = _run_clusters(tmp_path, shared=True)

    busiest = _busiest_window(app.arrivals, 1.0 - JITTER_SECONDS)
    # the window is closed at both ends: a request exactly one second after another shares it
    busiest_admitted = _busiest_window(admitted, 1.0)
    with capsys.disabled():
        print(f"\nshared budget: {len(app.arrivals)} requests, busiest second {busiest} at the "
              f"courier, {busiest_admitted} in the budget's log")  # fmt: skip
    assert len(app.arrivals) >= SHIPMENTS  # every parcel was asked about
    assert len(admitted) == len(app.arrivals)  # each request went through the shared budget
    assert _overlapping_jobs() >= 1  # the workers did compete for the courier
    assert busiest_admitted <= LIMIT
    assert busiest <= LIMIT


def test_workers_with_their_own_budgets_exceed_the_limit_together(tmp_path, capsys):
    # the control: the same run, each process pacing itself alone, goes over the limit, so the
    # test above would see a budget that is not shared
    if connection.vendor != "postgresql":
        pytest.skip("the clusters are separate processes: they need a database server")

    app, admitted = _run_clusters(tmp_path, shared=False)
    assert admitted == []  # nothing shared

    busiest = _busiest_window(app.arrivals, 1.0 - JITTER_SECONDS)
    with capsys.disabled():
        print(f"\nper-process budgets: {len(app.arrivals)} requests, busiest second {busiest}")
    assert _overlapping_jobs() >= 1
    assert busiest > LIMIT
