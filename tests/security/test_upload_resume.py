"""Issue 14, item 12: a CSV upload survives the death of its worker.

Before: a worker killed mid-way left the upload "running" for ever (824 of 1,000 rows never
applied), and the redelivered job did nothing because it only claimed queued uploads. Now the
running job holds a lease renewed at each progress write; once it expires, the redelivered job
or the sellers.tracking_uploads_resume schedule claims the upload and resumes after the last
saved progress.

The first test kills a real worker process (SIGKILL) mid-file: it needs a database another
process can open, so it runs on PostgreSQL (CI) and is skipped on the in-memory SQLite."""

import logging
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone
from django_q.conf import Conf

from sellers.models import TrackingUpload
from sellers.schedules import SCHEDULES
from sellers.uploads import PROGRESS_EVERY, UPLOAD_LEASE, tracking_uploads_resume
from tests.sellers.factories import OrderFactory, SellerMemberFactory
from tracking.models import Shipment

ROOT = Path(__file__).resolve().parents[2]
ROWS = 1000


def _upload_through_the_portal(client) -> tuple[TrackingUpload, object]:
    member = SellerMemberFactory()
    lines = ["order,carrier,tracking_number"]
    for i in range(ROWS):
        OrderFactory(seller=member.seller, reference=f"BULK-{i}")
        lines.append(f"BULK-{i},laposte,6A{i:011d}")
    client.force_login(member.user)
    file = SimpleUploadedFile("bulk.csv", "\n".join(lines).encode())
    response = client.post("/seller/upload/", {"upload": "1", "file": file})
    assert response.status_code == 302
    return TrackingUpload.objects.get(seller=member.seller), member.seller


def _database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _shipment_confirmations(caplog) -> int:
    return sum(1 for r in caplog.records if r.getMessage() == "shipment confirmed")


@pytest.mark.django_db(transaction=True)
def test_upload_resume_a_worker_killed_mid_file_is_resumed_where_it_stopped(
    client, monkeypatch, caplog
):
    if connection.vendor != "postgresql":
        pytest.skip("a second process cannot open the in-memory SQLite test database")
    # given a 1,000-row upload from the portal (queued in the ORM broker, not run inline), its
    # job running in a worker process
    upload, seller = _upload_through_the_portal(client)
    worker = subprocess.Popen(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", "shell", "-c",
         f"from sellers.tasks import tracking_upload_run; tracking_upload_run({upload.pk})"],
        cwd=ROOT, env={**os.environ, "DATABASE_URL": _database_url()},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip

    # when the worker is killed once it has saved some progress
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        upload.refresh_from_db()
        if upload.processed_rows >= PROGRESS_EVERY:
            break
        time.sleep(0.02)
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=30)
    upload.refresh_from_db()
    checkpoint = upload.processed_rows
    assert upload.state == "running" and PROGRESS_EVERY <= checkpoint < ROWS, checkpoint

    # then a redelivery while the lease holds does nothing (the worker might still be alive)
    from sellers.tasks import tracking_upload_run

    tracking_upload_run(upload.pk)
    upload.refresh_from_db()
    assert (upload.state, upload.processed_rows) == ("running", checkpoint)

    # and once the lease has expired the scheduled sweep resumes it after the checkpoint
    # (its job runs inline from here on)
    monkeypatch.setattr(Conf, "SYNC", True)
    caplog.set_level(logging.INFO, logger="sellers.uploads")
    with time_machine.travel(timezone.now() + UPLOAD_LEASE + timedelta(seconds=1), tick=True):
        assert tracking_uploads_resume() == 1
    upload.refresh_from_db()
    assert (upload.state, upload.processed_rows, upload.applied_rows, upload.errors) == (
        "done", ROWS, ROWS, []
    )  # fmt: skip
    assert _shipment_confirmations(caplog) == ROWS - checkpoint  # not from the start
    assert Shipment.objects.filter(seller=seller).count() == ROWS
    assert Shipment.objects.filter(seller=seller).values("order").distinct().count() == ROWS


@pytest.mark.django_db
def test_upload_resume_an_upload_stuck_running_is_picked_up_by_the_sweep(
    client, django_q_sync, django_capture_on_commit_callbacks
):
    # given an upload its job never finished: running, no lease (what a dead worker left
    # before this fix), 200 rows done
    member = SellerMemberFactory()
    lines = ["order,carrier,tracking_number"]
    for i in range(300):
        OrderFactory(seller=member.seller, reference=f"R-{i}")
        lines.append(f"R-{i},laposte,6A{i:011d}")
    upload = TrackingUpload.objects.create(
        seller=member.seller, content="\n".join(lines), total_rows=300, state="running",
        processed_rows=200, applied_rows=200,
    )  # fmt: skip

    # when the sweep runs
    with django_capture_on_commit_callbacks(execute=True):
        resumed = tracking_uploads_resume()

    # then it finishes the 100 rows left, and the page says done
    upload.refresh_from_db()
    assert resumed == 1
    assert (upload.state, upload.processed_rows, upload.applied_rows) == ("done", 300, 300)
    assert Shipment.objects.filter(seller=member.seller).count() == 100  # rows 200-299
    client.force_login(member.user)
    partial = client.get(f"/seller/upload/{upload.pk}/", HTTP_HX_REQUEST="true")
    assert b"300 of 300" in partial.content


@pytest.mark.django_db
def test_upload_resume_a_live_job_keeps_its_upload(django_q_sync):
    upload = TrackingUpload.objects.create(
        seller=SellerMemberFactory().seller, content="order,carrier,tracking_number\nA,x,1",
        total_rows=1, state="running", claimed_until=timezone.now() + UPLOAD_LEASE,
    )  # fmt: skip

    assert tracking_uploads_resume() == 0
    upload.refresh_from_db()
    assert upload.state == "running"


def test_upload_resume_the_sweep_is_scheduled():
    assert any(s["func"] == "sellers.tasks.tracking_uploads_resume" for s in SCHEDULES)
