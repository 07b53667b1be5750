"""The courier HTTP client every test uses: the production client without its waits."""

from __future__ import annotations

import pytest

from tracking.carriers.http import CarrierHttpClient


def carrier_http_client(**overrides: object) -> CarrierHttpClient:
    """``CarrierHttpClient`` that never sleeps (no back-off, no rate limit, Retry-After not
    waited) and retries once, so fault tests run in milliseconds. ``overrides`` change any
    option, e.g. ``timeout_seconds=0.3`` against the sandbox's timeout fault, or
    ``max_attempts=1`` where a test counts the requests sent."""
    options: dict[str, object] = {
        "timeout_seconds": 2,
        "max_attempts": 2,
        "backoff_seconds": 0,
        "requests_per_second": 0,
        "sleep": lambda _seconds: None,
    }
    options.update(overrides)
    return CarrierHttpClient(**options)


@pytest.fixture
def carrier_client() -> CarrierHttpClient:
    """A ``carrier_http_client()`` with the default options."""
    return carrier_http_client()
