"""Tests that need a service beside the database file (Redis, Chromium, a second process on
PostgreSQL) skip on a developer's machine without it, and fail in CI, where the service is part
of the machine: a CI run that silently skipped them would prove nothing about them.

A PostgreSQL-only test on SQLite is not a missing service (SQLite is the embedded default, and
the calendar sweep runs on it on purpose): those keep their ``skipif(connection.vendor …)``.
"""

import os

import pytest

# CI providers set CI=true (and .ci/run exports it); "0"/"false" or unset mean a developer.
_OFF = {"", "0", "false", "no"}


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in _OFF


def require_service(service: str, *, available: bool, detail: str = "") -> None:
    """Go on when ``available``; otherwise fail in CI and skip elsewhere, saying what is
    missing (``service``: "Redis", "Chromium", …; ``detail``: where it was looked for)."""
    if available:
        return
    reason = f"needs {service}" + (f" ({detail})" if detail else "")
    if in_ci():
        pytest.fail(f"CI: {reason}, which CI machines run: a missing service is a failure")
    pytest.skip(reason)


def redis_client_or_skip(url: str):
    """A connected Redis client for ``url`` (see require_service when Redis is down)."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.ConnectionError:
        require_service("Redis", available=False, detail=url)
    return client
