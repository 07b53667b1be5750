from datetime import UTC, datetime

import pytest
import requests
import responses

from tests.support.clock import ManualClock
from tracking.carriers.base import (
    CarrierAuthError,
    CarrierRateLimited,
    CarrierResponse,
    CarrierUnavailable,
)
from tracking.carriers.http import CarrierHttpClient, RateLimiter, retry_after_seconds

URL = "https://courier.test/track"


class FakeSleep:
    """Records the pauses the client asks for instead of sleeping."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def sleep() -> FakeSleep:
    return FakeSleep()


@pytest.fixture
def client(sleep) -> CarrierHttpClient:
    return CarrierHttpClient(
        max_attempts=3, backoff_seconds=0.5, max_inline_wait_seconds=5.0, sleep=sleep
    )


# --- retries --------------------------------------------------------------------------------


@responses.activate
def test_client_request_retries_a_500_then_returns_the_success(client, sleep):
    # given the courier fails once, then answers
    responses.get(URL, status=500)
    responses.get(URL, body=b'{"ok": true}', content_type="application/json")

    # when
    answer = client.request("GET", URL)

    # then the whole answer is kept, after one backoff pause
    assert answer == CarrierResponse(
        url=URL, status_code=200, content_type="application/json", body=b'{"ok": true}'
    )
    assert len(responses.calls) == 2
    assert sleep.calls == [0.5]


@responses.activate
def test_client_request_gives_up_after_the_last_5xx(client, sleep):
    # given the courier keeps failing
    responses.get(URL, status=503)

    # when / then
    with pytest.raises(CarrierUnavailable, match="HTTP 503"):
        client.request("GET", URL)
    assert len(responses.calls) == 3
    assert sleep.calls == [0.5, 1.0]  # exponential backoff between attempts, none after the last


@responses.activate
def test_client_request_waits_a_short_retry_after_then_succeeds(client, sleep):
    # given a 429 asking for a 2-second pause
    responses.get(URL, status=429, headers={"Retry-After": "2"})
    responses.get(URL, body=b"{}")

    # when
    answer = client.request("GET", URL)

    # then the client honoured the courier's pause, not its own backoff
    assert answer.status_code == 200
    assert sleep.calls == [2.0]


@responses.activate
def test_client_request_raises_rate_limited_on_a_long_retry_after(client, sleep):
    # given a 429 asking for two minutes: too long to wait inside a worker
    responses.get(URL, status=429, headers={"Retry-After": "120"})

    # when
    with pytest.raises(CarrierRateLimited) as raised:
        client.request("GET", URL)

    # then the sync job gets the pause to back off with, and nothing slept
    assert raised.value.retry_after_seconds == 120.0
    assert raised.value.code == "rate_limited"
    assert len(responses.calls) == 1
    assert sleep.calls == []


@responses.activate
def test_client_request_raises_unavailable_on_a_long_retry_after_with_503(client, sleep):
    # given a 503 in maintenance, asking for an hour
    responses.get(URL, status=503, headers={"Retry-After": "3600"})

    # when
    with pytest.raises(CarrierUnavailable) as raised:
        client.request("GET", URL)

    # then no hour-long sleep inside the worker: the courier is backed off instead
    assert raised.value.retry_after_seconds == 3600.0
    assert len(responses.calls) == 1
    assert sleep.calls == []


@responses.activate
def test_client_request_raises_rate_limited_after_repeated_short_429(client, sleep):
    # given the courier keeps answering 429 with a short pause
    responses.get(URL, status=429, headers={"Retry-After": "1"})

    # when / then
    with pytest.raises(CarrierRateLimited):
        client.request("GET", URL)
    assert len(responses.calls) == 3
    assert sleep.calls == [1.0, 1.0]


@pytest.mark.parametrize("status", [401, 403])
@responses.activate
def test_client_request_raises_auth_error_without_retrying(client, sleep, status):
    # given the courier refuses our credentials
    responses.get(URL, status=status)

    # when / then
    with pytest.raises(CarrierAuthError, match=str(status)):
        client.request("GET", URL)
    assert len(responses.calls) == 1
    assert sleep.calls == []


@responses.activate
def test_client_request_returns_accepted_error_statuses(client):
    # given a courier answering "not found" with a body to parse
    responses.get(URL, status=404, body=b'{"status": 404}')

    # when
    answer = client.request("GET", URL, accept_status=frozenset({200, 404}))

    # then
    assert (answer.status_code, answer.body) == (404, b'{"status": 404}')


@responses.activate
def test_client_request_raises_unavailable_on_an_unexpected_status(client, sleep):
    # given a 404 the adapter did not declare as a parseable answer
    responses.get(URL, status=404)

    # when / then no retry: repeating will not help
    with pytest.raises(CarrierUnavailable, match="unexpected HTTP 404"):
        client.request("GET", URL)
    assert len(responses.calls) == 1


@responses.activate
def test_client_request_raises_unavailable_after_timeouts(client, sleep):
    # given the courier never answers in time
    responses.get(URL, body=requests.exceptions.ReadTimeout("read timed out"))

    # when
    with pytest.raises(CarrierUnavailable, match="timeout") as raised:
        client.request("GET", URL)

    # then every attempt was made, with backoff, and the cause is kept
    assert len(responses.calls) == 3
    assert sleep.calls == [0.5, 1.0]
    assert isinstance(raised.value.__cause__, requests.Timeout)


@responses.activate
def test_client_request_recovers_from_a_connection_error(client, sleep):
    # given the connection drops once
    responses.get(URL, body=requests.exceptions.ConnectionError("reset"))
    responses.get(URL, body=b"{}")

    # when
    answer = client.request("GET", URL)

    # then
    assert answer.status_code == 200
    assert sleep.calls == [0.5]


@responses.activate
def test_client_request_sends_headers_params_and_timeout(sleep):
    # given a client with a 3-second timeout
    client = CarrierHttpClient(timeout_seconds=3.0, sleep=sleep)
    route = responses.get(
        URL,
        match=[
            responses.matchers.header_matcher({"X-Key": "k"}),
            responses.matchers.query_param_matcher({"n": "1"}),
            responses.matchers.request_kwargs_matcher({"timeout": 3.0}),
        ],
    )

    # when
    client.request("GET", URL, headers={"X-Key": "k"}, params={"n": "1"})

    # then
    assert route.call_count == 1
    assert responses.calls[0].request.headers["User-Agent"].startswith("Parcelle/")


# --- Retry-After ----------------------------------------------------------------------------


def test_retry_after_seconds_reads_delta_seconds():
    # given / when / then
    assert retry_after_seconds(" 30 ") == 30.0


def test_retry_after_seconds_reads_an_http_date():
    # given an HTTP date 90 seconds after "now"
    now = datetime(2015, 10, 21, 7, 26, 30, tzinfo=UTC)

    # when
    seconds = retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=now)

    # then
    assert seconds == 90.0


def test_retry_after_seconds_clamps_a_past_http_date_to_zero():
    # given a date already passed
    now = datetime(2015, 10, 21, 8, 0, 0, tzinfo=UTC)

    # when / then
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=now) == 0.0


@pytest.mark.parametrize("value", [None, "", "soon", "-5", "1.5"])
def test_retry_after_seconds_ignores_what_it_cannot_read(value):
    # given a missing or non-standard header
    # when / then the client falls back to its own backoff
    assert retry_after_seconds(value) is None


# --- RateLimiter ----------------------------------------------------------------------------


def test_rate_limiter_spaces_requests_by_the_interval():
    # given 2 requests per second and a burst of 3 requests at the same instant
    clock = ManualClock(100.0)
    limiter = RateLimiter(2.0, clock=clock, sleep=clock.sleep)

    # when
    for _ in range(3):
        limiter.wait()

    # then the first goes at once and the others half a second apart
    assert clock.sleeps == [0.5, 0.5]
    assert clock.now == 101.0


def test_rate_limiter_does_not_wait_when_requests_are_already_spaced():
    # given requests arriving slower than the limit
    clock = ManualClock(100.0)
    limiter = RateLimiter(2.0, clock=clock, sleep=clock.sleep)

    # when
    limiter.wait()
    clock.now += 0.7
    limiter.wait()
    clock.now += 0.2
    limiter.wait()

    # then only the request that came too early waited, for what was left of the interval
    assert clock.sleeps == [pytest.approx(0.3)]


def test_rate_limiter_without_limit_never_waits():
    # given no rate configured
    clock = ManualClock(100.0)
    limiter = RateLimiter(0.0, clock=clock, sleep=clock.sleep)

    # when
    for _ in range(5):
        limiter.wait()

    # then
    assert clock.sleeps == []


@responses.activate
def test_client_request_goes_through_the_rate_limiter(sleep):
    # given a client limited to 4 requests per second, and a fake clock
    clock = ManualClock(100.0)
    client = CarrierHttpClient(requests_per_second=4.0, sleep=sleep)
    client.rate_limiter = RateLimiter(4.0, clock=clock, sleep=clock.sleep)
    responses.get(URL, body=b"{}")

    # when
    client.request("GET", URL)
    client.request("GET", URL)

    # then the second request waited its quarter second
    assert clock.sleeps == [0.25]
