"""Production serving: deploy checks, health endpoints, structured logs."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.logging import JsonFormatter

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "a-long-random-production-key-" + "k7Qz9" * 10,
    "ALLOWED_HOSTS": "parcelle.example",
    # Production needs a shared cache for its rate limits (core/checks.py); nothing connects.
    "REDIS_URL": "redis://127.0.0.1:6379/6",
}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", *args], cwd=ROOT, capture_output=True, text=True,
        env={**os.environ, **env}, timeout=120, check=False,
    )  # fmt: skip


def _every_courier_credential() -> dict[str, str]:
    """Each courier credential set, by the naming rule <SLUG>_<CREDENTIAL>."""
    from tracking import carriers

    return {
        f"{carriers.env_prefix(slug)}_{name.upper()}": f"secret-{slug}-{name}"
        for slug, adapter in carriers.ADAPTER_CLASSES.items()
        for name in adapter.credentials
    }


def test_check_deploy_with_production_settings_reports_nothing():
    env = {**PRODUCTION_ENV, **_every_courier_credential()}
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = manage("check", env={**PRODUCTION_ENV, "SECRET_KEY": ""})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


@pytest.mark.django_db
def test_healthz_and_readyz_answer(client):
    assert client.get("/healthz/").json() == {"status": "ok"}
    ready = client.get("/readyz/")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "checks": {"database": True, "broker": True}}


@pytest.mark.django_db
def test_readyz_says_unavailable_when_the_broker_is_down(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    ready = client.get("/readyz/")
    assert ready.status_code == 503
    assert ready.json()["checks"] == {"database": True, "broker": False}


def test_json_formatter_writes_one_object_with_context():
    record = logging.makeLogRecord(
        {"name": "tracking.sync", "levelname": "WARNING", "msg": "courier %s down",
         "args": ("gls",), "carrier": "gls"}
    )  # fmt: skip
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "courier gls down"
    assert (line["level"], line["logger"], line["carrier"]) == ("WARNING", "tracking.sync", "gls")
