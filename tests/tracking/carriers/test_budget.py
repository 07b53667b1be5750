"""A courier's request budget (per second, per day), shared by every worker: the rule in
tracking/carriers/budget.py, its stores in tracking/budgets.py."""

import os
import uuid

import pytest
import responses
from django.core import checks
from django.utils import timezone
from pyrate_limiter import Duration, InMemoryBucket, Rate, RateItem, RedisBucket

from tests.support.clock import ManualClock
from tests.support.services import redis_client_or_skip
from tests.tracking.factories import ShipmentFactory
from tracking import carriers
from tracking.budgets import courier_budget
from tracking.carriers import carrier_settings_from_environ
from tracking.carriers.budget import CarrierBudgetSpent, RequestBudget, budget_rates
from tracking.carriers.gls import GlsAdapter
from tracking.checks import courier_budget_store_check
from tracking.models import CarrierSyncState
from tracking.services.sync import carrier_batch_sync

REDIS_URL = os.environ.get("RATE_LIMIT_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")


def _rates(rates):
    return [(rate.limit, rate.interval) for rate in rates]


def _budget(rates, clock, *, max_wait_seconds=5.0, bucket=None):
    """A budget on a clock in milliseconds the test moves (``clock.sleep`` advances it)."""
    return RequestBudget(
        bucket or InMemoryBucket(rates),
        courier="gls",
        max_wait_seconds=max_wait_seconds,
        sleep=clock.sleep,
        clock_ms=lambda: int(clock.now * 1000),
    )


# --- the rates of a courier's documented limits ----------------------------------------------


def test_budget_rates_follow_the_couriers_limits():
    # whole requests per second in a one-second window
    assert _rates(budget_rates(per_second=10, per_day=None)) == [(10, 1000)]
    # under one a second, the window widens to hold one request: DHL 0.2/s, USPS one a minute
    assert _rates(budget_rates(per_second=0.2, per_day=None)) == [(1, 5000)]
    assert _rates(budget_rates(per_second=1 / 60, per_day=None)) == [(1, 60_000)]
    # a fractional pace rounds down within the second (never a burst above the limit)
    assert _rates(budget_rates(per_second=1.5, per_day=None)) == [(1, 1000)]
    # GLS: one a second and 500 a day
    assert _rates(budget_rates(per_second=1, per_day=500)) == [(1, 1000), (500, Duration.DAY.value)]


def test_budget_rates_drop_a_daily_quota_the_pace_cannot_reach():
    # 1 a second is at most 86,400 a day: a quota of 86,400 limits nothing, 86,399 does
    assert _rates(budget_rates(per_second=1, per_day=86_400)) == [(1, 1000)]
    assert _rates(budget_rates(per_second=1, per_day=86_399)) == [(1, 1000), (86_399, 86_400_000)]
    # no pace at all: only the day counts; no limit at all: no budget
    assert _rates(budget_rates(per_second=0, per_day=500)) == [(500, 86_400_000)]
    assert budget_rates(per_second=0, per_day=None) == []


def test_couriers_document_their_daily_quotas():
    assert GlsAdapter.requests_per_day == 500  # "by default, clients are limited to 500 a day"
    assert carriers.get_adapter("dhl").requests_per_day == 250
    assert carriers.get_adapter("fedex").requests_per_day is None


# --- waiting on a budget ------------------------------------------------------------------------


def test_budget_lets_the_limit_through_then_waits_for_the_window():
    clock = ManualClock(1000.0)
    budget = _budget([Rate(2, Duration.SECOND)], clock)

    budget.wait()
    budget.wait()
    assert clock.sleeps == []  # two a second fit at once

    clock.advance(0.25)
    budget.wait()  # the third waits until the first leaves the window, 0.75 s later
    assert clock.sleeps == [pytest.approx(0.75, abs=0.002)]
    assert clock.now == pytest.approx(1001.0, abs=0.002)


def test_budget_raises_without_sleeping_when_the_daily_quota_is_spent():
    clock = ManualClock(0.0)
    budget = _budget([Rate(1, Duration.SECOND), Rate(3, Duration.DAY)], clock)
    for _ in range(3):
        budget.wait()
        clock.advance(1.5)  # past the per-second window: only the day counts

    with pytest.raises(CarrierBudgetSpent) as raised:
        budget.wait()

    # the 4th request of the day is not sent, nor waited for inline: room again when the first
    # leaves the 24 hours
    assert clock.sleeps == []
    assert raised.value.code == "budget_spent"
    assert raised.value.retry_after_seconds == pytest.approx(86_400 - 4.5, abs=0.01)


def test_budget_raises_when_the_wait_is_longer_than_a_worker_may_sleep():
    clock = ManualClock(0.0)
    budget = _budget([Rate(1, 60 * Duration.SECOND.value)], clock, max_wait_seconds=5)  # USPS
    budget.wait()

    with pytest.raises(CarrierBudgetSpent) as raised:
        budget.wait()
    assert clock.sleeps == []
    assert raised.value.retry_after_seconds == pytest.approx(60, abs=0.01)

    # within the maximum, the wait is inline
    clock.advance(55.5)
    budget.wait()
    assert clock.sleeps == [pytest.approx(4.5, abs=0.002)]


def test_two_workers_on_one_redis_budget_share_its_limit():
    # given two workers' budgets (two processes: two buckets, two clients) on one Redis key
    client = redis_client_or_skip(REDIS_URL)
    key = f"test:courier-budget:{uuid.uuid4().hex}"
    clock = ManualClock(1_700_000_000.0)
    rates = [Rate(3, Duration.SECOND)]
    workers = [
        _budget(rates, clock, bucket=RedisBucket.init(rates, client, key), max_wait_seconds=0)
        for _ in range(2)
    ]
    try:
        # when they alternate requests within one second
        sent = []
        for attempt in range(6):
            try:
                workers[attempt % 2].wait()
                sent.append(attempt)
            except CarrierBudgetSpent:
                pass
        # then only 3 fit in that second, whoever sent them
        assert sent == [0, 1, 2]
        clock.advance(1.5)
        workers[1].wait()  # a new second: room again
    finally:
        client.delete(key)


# --- where the budget lives ----------------------------------------------------------------------


def test_a_courier_keeps_one_budget_per_process_between_batches(settings):
    settings.COURIER_BUDGET_REDIS_URL = ""
    gls = carriers.get_adapter("gls")

    budget = courier_budget(gls)

    assert isinstance(budget.bucket, InMemoryBucket)
    assert courier_budget(gls) is budget  # the next batch job draws on the same budget
    assert courier_budget(carriers.get_adapter("dhl")) is not budget
    assert _rates(budget.bucket.rates) == [(1, 1000), (500, 86_400_000)]


def test_a_courier_budget_lives_in_redis_when_configured(settings):
    redis_client_or_skip(REDIS_URL)
    settings.COURIER_BUDGET_REDIS_URL = REDIS_URL

    budget = courier_budget(carriers.get_adapter("gls"))

    assert isinstance(budget.bucket, RedisBucket)
    assert budget.bucket.bucket_key == "parcelle:courier-budget:gls"


def test_a_contract_raises_a_couriers_limits_by_the_naming_rule():
    environ = {"GLS_REQUESTS_PER_DAY": "20000", "DHL_REQUESTS_PER_SECOND": "3"}
    configs = carrier_settings_from_environ(environ, placeholders=True)

    gls = GlsAdapter(**configs["gls"])
    assert (gls.requests_per_second, gls.requests_per_day) == (1.0, 20_000)
    dhl = carriers.get_adapter("dhl").__class__(**configs["dhl"])
    assert (dhl.requests_per_second, dhl.requests_per_day) == (3.0, 250)
    assert "requests_per_day" not in configs["fedex"]  # unset: the documented limits stand

    with pytest.raises(ValueError, match="requests_per_day must be positive"):
        GlsAdapter(**carrier_settings_from_environ({"GLS_REQUESTS_PER_DAY": "0"})["gls"])


def test_check_warns_when_several_workers_keep_their_own_budgets(settings):
    settings.DEBUG = False
    settings.COURIER_BUDGET_REDIS_URL = ""
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "workers": 4}
    [warning] = courier_budget_store_check()
    assert warning.id == "tracking.W003"
    assert warning.level == checks.WARNING

    settings.COURIER_BUDGET_REDIS_URL = REDIS_URL
    assert courier_budget_store_check() == []
    settings.COURIER_BUDGET_REDIS_URL = ""
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "workers": 1}
    assert courier_budget_store_check() == []


# --- the sync job ----------------------------------------------------------------------------


@responses.activate
@pytest.mark.django_db
def test_a_spent_daily_quota_sends_nothing_and_backs_the_courier_off(settings):
    # given GLS's budget for the day already spent by earlier batches in this process
    settings.COURIER_BUDGET_REDIS_URL = ""
    gls = carriers.get_adapter("gls")
    budget = courier_budget(gls)
    now_ms = budget.bucket.now()

    for offset in range(gls.requests_per_day):
        # one every 2 s over the last 1000 s: every one still inside the 24 hours
        assert budget.bucket.put(RateItem("gls", now_ms - (gls.requests_per_day - offset) * 2000))
    shipments = ShipmentFactory.create_batch(3, carrier="gls")
    now = timezone.now()

    # when the next batch runs (responses has no route: a request sent would fail the test)
    outcome = carrier_batch_sync(carrier="gls", shipment_ids=[s.id for s in shipments], now=now)

    # then no request left, and the courier waits until the budget has room again (~24 h)
    assert outcome.fault == "budget_spent"
    assert len(responses.calls) == 0
    state = CarrierSyncState.objects.get(carrier="gls")
    assert state.last_error_code == "budget_spent"
    assert (state.backoff_until - now).total_seconds() == pytest.approx(86_400 - 1000, abs=5)
    for shipment in shipments:
        shipment.refresh_from_db()
        assert shipment.next_sync_at == state.backoff_until
