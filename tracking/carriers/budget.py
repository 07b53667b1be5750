"""A courier's request budget, shared by every worker that calls it.

A courier's limits are per account, not per process: two qclusters of two workers each, pacing
themselves at a courier's 2 requests a second, would send it 8. The budget is a sliding-window
log (pyrate-limiter) kept where every worker sees it: Redis in production (one sorted set per
courier, checked and appended atomically by a Lua script), local memory on the embedded
default (one process; see tracking/budgets.py for which one is used).

    per second   the courier's documented pace (``requests_per_second``); below one a second
                 (USPS: one a minute) the window is widened to hold one request
    per day      the courier's daily quota (``requests_per_day``, e.g. GLS's 500 by default),
                 a rolling 24 hours: never more in any 24 hours, hence never more in a calendar day

Waiting for the per-second window is short and done inline, like today's pacing; a wait longer
than the client's inline limit (the daily quota is spent) raises ``CarrierBudgetSpent``, and the
sync job backs the courier off until the budget has room again.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from pyrate_limiter import AbstractBucket, Duration, Rate, RateItem

from tracking.carriers.faults import CarrierRateLimited


class CarrierBudgetSpent(CarrierRateLimited):
    """Our own budget for the courier is spent: no request was sent. The courier backs off
    until the budget has room (``retry_after_seconds``)."""

    code = "budget_spent"


def budget_rates(*, per_second: float, per_day: int | None) -> list[Rate]:
    """pyrate-limiter rates for a courier's limits (none when it has no limit at all).

    A fractional pace is rounded down within one second (1.5/s allows 1 a second) rather than
    spread over a longer window, which would allow bursts above the per-second limit."""
    rates = []
    if per_second >= 1:
        rates.append(Rate(math.floor(per_second), Duration.SECOND))
    elif per_second > 0:
        rates.append(Rate(1, math.ceil(Duration.SECOND.value / per_second)))
    # A daily quota the pace can never reach limits nothing (and pyrate-limiter refuses it).
    if per_day and (per_second <= 0 or per_day < per_second * Duration.DAY.value / 1000):
        rates.append(Rate(per_day, Duration.DAY))
    return rates


class RequestBudget:
    """``wait()`` before each request: returns once the request fits the courier's budget.

    One per courier and process, shared by its threads: a bucket reports its last refusal in
    an attribute, so a check and the reading of its verdict happen under one lock (the sleep
    does not)."""

    def __init__(
        self,
        bucket: AbstractBucket,
        *,
        courier: str,
        max_wait_seconds: float,
        sleep: Callable[[float], None] = time.sleep,
        clock_ms: Callable[[], int] | None = None,
    ) -> None:
        self.bucket = bucket
        self.courier = courier
        self.max_wait_seconds = max_wait_seconds
        self._sleep = sleep
        # The bucket's own clock (wall time for Redis: the same on every worker) unless a test
        # passes one.
        self._now = clock_ms or bucket.now
        self._lock = threading.Lock()

    def wait(self) -> None:
        waited = 0.0
        while True:
            with self._lock:
                now = self._now()
                item = RateItem(self.courier, now)
                decision = self.bucket.put_decision(item)
                if decision.allowed:
                    self.bucket.leak(now)  # forget requests older than the longest window
                    return
                delay_ms = decision.retry_after_ms
                if delay_ms is None:
                    delay_ms = self.bucket.waiting(item)
            delay = max(delay_ms, 1) / 1000
            if waited + delay > self.max_wait_seconds:
                rate = decision.failing_rate
                spent = f"{rate.limit} requests in {rate.interval / 1000:g} s" if rate else "budget"
                raise CarrierBudgetSpent(
                    f"{self.courier}: our {spent} are spent; room again in {delay:.0f} s",
                    retry_after_seconds=delay,
                )
            self._sleep(delay)
            waited += delay
