"""Issue 14 item 2: outside DEBUG and tests there are no courier credential defaults.

The attack: with DEBUG off and DHL_PUSH_TOKEN unset, the DHL push token used to be the public
placeholder ``sandbox-push_token``; a push carrying it marked a stuck parcel delivered.signed
with a forged signatory, and the payout was released.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from payouts.models import Payout
from payouts.services import payout_open_for_order, payouts_reevaluate_open
from tests.sellers.factories import OrderFactory
from tests.tracking.factories import ShipmentFactory
from tracking import carriers
from tracking.carriers import carrier_settings_from_environ
from tracking.models import CarrierSyncState, ProofOfDelivery, RawPayload, TrackingEvent
from tracking.services.sync import sync_dispatch_due

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "a-long-random-production-key-" + "k7Qz9" * 10,
    "ALLOWED_HOSTS": "parcelle.example",
}


def _environment_without_courier_variables() -> dict[str, str]:
    prefixes = tuple(f"{carriers.env_prefix(slug)}_" for slug in carriers.ADAPTER_CLASSES)
    return {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}


def _run(code_or_args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, *code_or_args], cwd=ROOT, capture_output=True, text=True,
        env={**_environment_without_courier_variables(), **env}, timeout=120, check=False,
    )  # fmt: skip


@pytest.fixture
def production_carriers(settings):
    """settings.CARRIERS as config/settings.py builds it with DEBUG off and no courier secret."""
    settings.DEBUG = False
    settings.CARRIERS = carrier_settings_from_environ({}, placeholders=False)


def _forged_delivery(number: str) -> bytes:
    event = {
        "timestamp": "2026-12-03T09:15:00+01:00",
        "location": {"address": {"countryCode": "FR", "postalCode": "69003",
                                 "addressLocality": "Lyon"}},
        "statusCode": "delivered",
        "status": "Delivered",
        "description": "Delivered - signed for by: M. FORGED",
    }  # fmt: skip
    shipment = {"id": number, "service": "parcel-de", "status": event, "events": [event],
                "details": {"proofOfDelivery": {"signed": {"name": "M. FORGED"}}}}  # fmt: skip
    return json.dumps({"shipments": [shipment]}).encode()


@pytest.mark.django_db
def test_dhl_push_with_the_placeholder_token_is_refused_in_production(
    client, production_carriers, django_capture_on_commit_callbacks
):
    # given a stuck DHL parcel whose order's payout is held
    order = OrderFactory()
    shipment = ShipmentFactory(
        order=order, carrier="dhl", tracking_number="3318810025", status="in_transit"
    )
    payout, _ = payout_open_for_order(order=order, actor=None, payment_reference="PSP-1")

    # when an attacker pushes a signed delivery with the old public placeholder token
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/webhooks/couriers/dhl/",
            data=_forged_delivery("3318810025"),
            content_type="application/json",
            HTTP_X_PARCELLE_PUSH_TOKEN="sandbox-push_token",
        )
    payouts_reevaluate_open()

    # then the push is refused as not configured, and nothing is stored or trusted
    assert response.status_code == 503
    assert response.json()["error"] == "push_not_configured"
    assert "DHL_PUSH_TOKEN" in response.json()["message"]
    assert RawPayload.objects.count() == 0
    assert TrackingEvent.objects.count() == 0
    assert ProofOfDelivery.objects.count() == 0
    shipment.refresh_from_db()
    assert shipment.status == "in_transit"
    payout.refresh_from_db()
    assert payout.status == Payout.Status.HELD


@pytest.mark.django_db
def test_courier_without_api_credentials_is_not_polled_and_says_so(production_carriers):
    # given a due La Poste parcel and no LAPOSTE_API_KEY
    shipment = ShipmentFactory(carrier="laposte", status="in_transit")
    due_at = shipment.next_sync_at

    # when the dispatcher runs
    jobs = sync_dispatch_due()

    # then no courier is polled, the parcel still waits (due, not dropped), operators see why
    assert jobs == []
    shipment.refresh_from_db()
    assert shipment.next_sync_at == due_at
    state = CarrierSyncState.objects.get(carrier="laposte")
    assert state.last_error_code == "not_configured"
    assert "LAPOSTE_API_KEY" in state.last_error_message


def test_production_settings_have_no_placeholder_credentials():
    code = "import json, config.settings as s; print(json.dumps(s.CARRIERS))"
    result = _run(["-c", code], env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    configs = json.loads(result.stdout)
    assert configs["dhl"]["push_token"] == ""
    assert not [v for c in configs.values() for v in c.values() if v.startswith("sandbox-")]


def test_debug_settings_keep_the_sandbox_placeholders():
    code = "import json, config.settings as s; print(json.dumps(s.CARRIERS))"
    result = _run(["-c", code], env={"DEBUG": "1"})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["dhl"]["push_token"] == "sandbox-push_token"


def test_check_deploy_names_every_missing_courier_variable():
    result = _run(["manage.py", "check", "--deploy"], env=PRODUCTION_ENV)
    output = result.stdout + result.stderr
    for variable in ("DHL_PUSH_TOKEN", "DHL_API_KEY", "LAPOSTE_API_KEY", "UPS_CLIENT_SECRET",
                     "AFTERSHIP_WEBHOOK_SECRET", "DHLEXPRESS_PASSWORD"):  # fmt: skip
        assert variable in output, output
    assert "tracking.W001" in output and "tracking.W002" in output
