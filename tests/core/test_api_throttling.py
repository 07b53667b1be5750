"""API quotas per token, announced with the IETF RateLimit fields, counted in the shared cache."""

import os
import threading
from datetime import UTC, datetime, timedelta

import pytest
import requests
import time_machine
from django.core.cache import cache
from rest_framework.test import APIClient

from core.services import api_token_create
from tests.support.services import redis_client_or_skip

REDIS_URL = os.environ.get("RATE_LIMIT_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
# 10:00:05 UTC: 55 seconds left in that minute's window
START = datetime(2026, 11, 25, 10, 0, 5, tzinfo=UTC)


@pytest.fixture
def quota_of_three(settings):
    settings.API_RATE_LIMIT_REQUESTS = 3
    settings.API_RATE_LIMIT_WINDOW_SECONDS = 60
    cache.clear()
    yield
    cache.clear()


@time_machine.travel(START, tick=False)
@pytest.mark.django_db
def test_each_answer_says_the_quota_and_what_is_left(quota_of_three, seller_api):
    answers = [seller_api.get("/api/v1/shipments/") for _ in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 200]
    assert {a["RateLimit-Policy"] for a in answers} == {"default;q=3;w=60"}
    assert [a["RateLimit"] for a in answers] == [
        "default;r=2;t=55",
        "default;r=1;t=55",
        "default;r=0;t=55",
    ]


@time_machine.travel(START, tick=False)
@pytest.mark.django_db
def test_past_the_quota_the_answer_is_429_with_retry_after(quota_of_three, seller_api):
    for _ in range(3):
        assert seller_api.get("/api/v1/shipments/").status_code == 200

    refused = seller_api.get("/api/v1/shipments/")

    assert refused.status_code == 429
    assert refused["Retry-After"] == "55"  # the same moment as the reset parameter
    assert refused["RateLimit"] == "default;r=0;t=55"
    assert refused.json() == {
        "code": "rate_limited",
        "message": "Too many requests: try again in 55 seconds.",
    }


@pytest.mark.django_db
def test_the_quota_is_per_token_and_comes_back_with_the_next_window(
    quota_of_three, seller, seller_api, other_seller_api
):
    with time_machine.travel(START, tick=False):
        for _ in range(3):
            seller_api.get("/api/v1/shipments/")
        assert seller_api.get("/api/v1/shipments/").status_code == 429
        # another token (another seller's system) has its own quota
        assert other_seller_api.get("/api/v1/shipments/")["RateLimit"] == "default;r=2;t=55"
        # a second token of the same seller too: the quota is the token's
        _token, key = api_token_create(name="second system", seller=seller)
        second = APIClient()
        second.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        assert second.get("/api/v1/shipments/").status_code == 200
    # on the edge: the last second of the window is still refused, the next one is not
    with time_machine.travel(START + timedelta(seconds=54), tick=False):
        assert seller_api.get("/api/v1/shipments/").status_code == 429
    with time_machine.travel(START + timedelta(seconds=55), tick=False):
        answer = seller_api.get("/api/v1/shipments/")
        assert answer.status_code == 200
        assert answer["RateLimit"] == "default;r=2;t=60"


@pytest.mark.django_db(transaction=True)
def test_a_concurrent_burst_on_the_shared_cache_gets_exactly_the_quota(live_server, settings):
    # given the cache production uses (Redis: web nodes share it) and a quota of 17 a minute
    client = redis_client_or_skip(REDIS_URL)
    client.flushdb()
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
    settings.API_RATE_LIMIT_REQUESTS = 17
    settings.API_RATE_LIMIT_WINDOW_SECONDS = 3600  # the burst never straddles two windows
    _token, key = api_token_create(name="crm", seller=None)
    barrier = threading.Barrier(8)
    codes: list[int] = []
    lock = threading.Lock()

    def burst() -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"Token {key}"
        barrier.wait(timeout=10)
        for _ in range(5):
            status = session.get(f"{live_server.url}/api/v1/shipments/", timeout=30).status_code
            with lock:
                codes.append(status)

    # when 8 threads send 40 requests at once with one token
    threads = [threading.Thread(target=burst) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    client.flushdb()

    # then exactly 17 got through, whatever the interleaving
    assert sorted(set(codes)) == [200, 429]
    assert codes.count(200) == 17
