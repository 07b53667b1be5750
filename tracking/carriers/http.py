"""The HTTP session every courier adapter uses: timeouts, retries, Retry-After, rate limit.

Retries stay short on purpose: a sync job must not sleep for minutes inside a worker. When the
courier asks for a longer pause than ``max_inline_wait_seconds`` the client raises
``CarrierRateLimited`` and the sync job backs the courier off instead.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import requests

from tracking.carriers.budget import RequestBudget
from tracking.carriers.faults import CarrierAuthError, CarrierRateLimited, CarrierUnavailable

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class CarrierResponse:
    """One HTTP response kept whole, so it can be parsed and retained as the raw payload."""

    url: str
    status_code: int
    content_type: str
    body: bytes


class RateLimiter:
    """Spaces requests at least ``1 / per_second`` apart for one client (thread-safe).

    The pace of a client on its own (tests, ``manage.py tracking``); the sync jobs use the
    courier's shared budget instead (tracking/carriers/budget.py), which every worker sees.
    """

    def __init__(
        self,
        per_second: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self._clock = clock
        self._sleep = sleep
        self._next_at = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = self._clock()
            delay = self._next_at - now
            self._next_at = max(now, self._next_at) + self.interval
        if delay > 0:
            self._sleep(delay)


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """Parse a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class CarrierHttpClient:
    """A requests session with the courier's rate limit, timeouts and bounded retries."""

    def __init__(
        self,
        *,
        timeout_seconds: float = 10.0,
        max_attempts: int = 3,
        backoff_seconds: float = 0.5,
        max_inline_wait_seconds: float = 5.0,
        requests_per_second: float = 0.0,
        budget: RequestBudget | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.timeout_seconds = timeout_seconds
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self.max_inline_wait_seconds = max_inline_wait_seconds
        if session is None:
            session = requests.Session()
            # requests.Session already sets "python-requests/x", so setdefault would be a no-op:
            # couriers should see who calls them. A session passed in keeps its own User-Agent.
            session.headers["User-Agent"] = "Parcelle/1.0 (+tracking back-office)"
        self.session = session
        # Waited on before every request: the courier's shared budget, or this client's pace.
        self.rate_limiter = budget or RateLimiter(requests_per_second, sleep=sleep)
        self._sleep = sleep

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str | Sequence[str]] | None = None,
        data: bytes | str | None = None,
        json: object = None,
        accept_status: frozenset[int] = frozenset({200}),
    ) -> CarrierResponse:
        """Send one request, retrying 429/5xx/timeouts; return the response whose status is in
        ``accept_status`` (couriers answer "not found" with 4xx bodies we must parse).

        Raises CarrierAuthError on 401/403, CarrierRateLimited on a long or repeated 429,
        CarrierUnavailable on timeouts, connection errors and 5xx after the last attempt.
        """
        last_fault: Exception | None = None
        for attempt in range(1, self.max_attempts + 1):
            self.rate_limiter.wait()
            try:
                response = self.session.request(
                    method,
                    url,
                    headers=headers,
                    params=params,
                    data=data,
                    json=json,
                    timeout=self.timeout_seconds,
                )
            except requests.Timeout as exc:
                last_fault = CarrierUnavailable(f"timeout after {self.timeout_seconds}s: {url}")
                last_fault.__cause__ = exc
            except requests.RequestException as exc:
                last_fault = CarrierUnavailable(f"connection failed: {exc.__class__.__name__}")
                last_fault.__cause__ = exc
            else:
                if response.status_code in accept_status:
                    return CarrierResponse(
                        url=response.url,
                        status_code=response.status_code,
                        content_type=response.headers.get("Content-Type", ""),
                        body=response.content,
                    )
                if response.status_code in {401, 403}:
                    raise CarrierAuthError(
                        f"courier refused our credentials (HTTP {response.status_code})"
                    )
                if response.status_code not in RETRYABLE_STATUS:
                    raise CarrierUnavailable(f"unexpected HTTP {response.status_code} from {url}")
                wait = retry_after_seconds(response.headers.get("Retry-After"))
                if response.status_code == 429:
                    last_fault = CarrierRateLimited(
                        "courier rate limit reached (HTTP 429)", retry_after_seconds=wait
                    )
                else:
                    last_fault = CarrierUnavailable(
                        f"courier error HTTP {response.status_code}", retry_after_seconds=wait
                    )
                # A 503 may carry a long Retry-After too: never sleep minutes inside a worker.
                if wait is not None and wait > self.max_inline_wait_seconds:
                    raise last_fault
                if attempt < self.max_attempts:
                    self._sleep(wait if wait is not None else self._backoff(attempt))
                    continue
                break
            if attempt < self.max_attempts:
                self._sleep(self._backoff(attempt))
        assert last_fault is not None  # noqa: S101 - the loop ran at least once
        raise last_fault

    def _backoff(self, attempt: int) -> float:
        return self.backoff_seconds * (2 ** (attempt - 1))
