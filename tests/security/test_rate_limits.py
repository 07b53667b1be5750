"""Issue 14, item 10: rate limits that hold with many processes.

With REDIS_URL unset the counters lived in each gunicorn worker's memory (26 look-ups went
through a limit of 10 with four workers): production settings without a shared cache now fail
the system check (so ``migrate`` and ``check`` refuse to run), and the order look-up is also
limited per order reference, whatever address the guesses come from."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import cache

from core.checks import rate_limits_need_a_shared_cache
from tests.sellers.factories import OrderFactory

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "a-long-random-production-key-" + "k7Qz9" * 10,
    "ALLOWED_HOSTS": "parcelle.example",
}


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def manage_check(env: dict[str, str]) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DEBUG"}}
    return subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", "check"], cwd=ROOT, capture_output=True, text=True,
        env={**environ, **env}, timeout=120, check=False,
    )  # fmt: skip


def test_rate_limits_production_without_a_shared_cache_fails_the_check():
    result = manage_check(PRODUCTION_ENV)

    assert result.returncode != 0
    assert "parcelle.E101" in result.stderr
    assert "Set REDIS_URL" in result.stderr


def test_rate_limits_production_with_redis_passes_the_check():
    result = manage_check({**PRODUCTION_ENV, "REDIS_URL": "redis://127.0.0.1:6379/6"})

    assert "parcelle.E101" not in result.stdout + result.stderr


def test_rate_limits_development_may_keep_the_local_cache(settings):
    settings.DEBUG = True
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

    assert rate_limits_need_a_shared_cache() == []


@pytest.mark.django_db
def test_rate_limits_one_reference_guessed_from_many_addresses_is_limited(client, settings):
    # given a per-address limit no single address reaches
    settings.TRACKING_LOOKUP_RATE_LIMIT = 10
    settings.TRACKING_LOOKUP_REFERENCE_RATE_LIMIT = 10
    order = OrderFactory(reference="CMD-2026-0042", destination_postcode="69003")

    # when eleven addresses each guess one postcode of the same order
    codes = [
        client.post(
            "/track/",
            {"reference": "cmd-2026-0042", "postcode_or_email": f"{75000 + n}"},
            REMOTE_ADDR=f"203.0.113.{n}",
        ).status_code
        for n in range(11)
    ]

    # then the eleventh is refused, and so is the right answer until the window ends
    assert codes == [200] * 10 + [429]
    right = client.post(
        "/track/",
        {"reference": "CMD-2026-0042", "postcode_or_email": "69003"},
        REMOTE_ADDR="198.51.100.7",
    )
    assert right.status_code == 429
    # another order's reference is not affected
    other = OrderFactory(reference="CMD-2026-0043", destination_postcode="69003")
    found = client.post(
        "/track/",
        {"reference": "CMD-2026-0043", "postcode_or_email": "69003"},
        REMOTE_ADDR="198.51.100.7",
    )
    assert found.status_code == 303
    assert found["Location"] == f"/t/{other.public_token}/"
    assert order.public_token not in found["Location"]
