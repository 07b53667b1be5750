"""Where the couriers' request budgets live (the budget itself: tracking/carriers/budget.py).

    COURIER_BUDGET_REDIS_URL set (default: REDIS_URL)
        one Redis sorted set per courier, ``parcelle:courier-budget:<slug>``: every worker of
        every qcluster, on every machine, draws from the same budget
    unset (the embedded default: SQLite, the ORM broker, one machine)
        local memory, per process: each worker process paces itself as it did before budgets
        were shared; ``manage.py check`` warns when that runs with several workers

One budget per courier, limits and store in each process, kept between batch jobs (a batch
must not start a fresh second for itself).
"""

from __future__ import annotations

from django.conf import settings
from pyrate_limiter import InMemoryBucket, RedisBucket

from tracking.carriers.base import CarrierAdapter
from tracking.carriers.budget import RequestBudget, budget_rates

REDIS_KEY = "parcelle:courier-budget:{slug}"

_budgets: dict[tuple[str, str, tuple[tuple[int, int], ...]], RequestBudget] = {}
_redis_clients: dict[str, object] = {}


def courier_budget(adapter: CarrierAdapter) -> RequestBudget | None:
    """The budget every request to ``adapter``'s courier waits on (None: the courier has no
    limit)."""
    rates = budget_rates(per_second=adapter.requests_per_second, per_day=adapter.requests_per_day)
    if not rates:
        return None
    url = settings.COURIER_BUDGET_REDIS_URL
    key = (adapter.slug, url, tuple((rate.limit, rate.interval) for rate in rates))
    budget = _budgets.get(key)
    if budget is None:
        if url:
            bucket = RedisBucket.init(rates, _redis(url), REDIS_KEY.format(slug=adapter.slug))
        else:
            bucket = InMemoryBucket(rates)
        budget = _budgets.setdefault(
            key,
            RequestBudget(
                bucket,
                courier=adapter.slug,
                max_wait_seconds=settings.COURIER_BUDGET_MAX_WAIT_SECONDS,
            ),
        )
    return budget


def _redis(url: str):
    import redis

    client = _redis_clients.get(url)
    if client is None:
        client = _redis_clients.setdefault(url, redis.Redis.from_url(url))
    return client


def budgets_forget() -> None:
    """Drop this process's budgets (tests: each starts with the couriers' budgets unspent)."""
    _budgets.clear()
