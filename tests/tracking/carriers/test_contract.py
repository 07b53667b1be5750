"""One contract every courier adapter keeps, checked over real HTTP against its sandbox twin.

Parametrised over the registry (``tracking.carriers.ADAPTER_CLASSES``): a courier is checked as
soon as it is registered and has its twin in ``devtools/sandbox/couriers/``. Adapters are built by
``get_adapter`` from ``settings.CARRIERS``, which the ``sandbox`` fixture points at the twins.
Every adapter, whatever its format:

- reports an unknown number as a "not_found" error for that number, alone or next to a known
  number that it still reads;
- reports a number of no known format as an "invalid_number" error for that number;
- raises ``CarrierAuthError`` without credentials, and with credentials the courier refuses
  (the twins refuse values starting with ``REFUSED_CREDENTIAL_PREFIX``): the courier is in
  fault, no number is;
- raises ``CarrierRateLimited`` on a 429, carrying the courier's Retry-After, waited inline when
  short and handed to the sync job when long;
- raises ``CarrierUnavailable`` on 5xx (after the retry) and on a timeout;
- raises ``CarrierPayloadError`` on a body cut in half, on its first call (an OAuth or login
  answer for couriers that have one) and once it holds its token;
- tracks again with the same adapter once the courier recovers;
- sends at most ``batch_size`` numbers a request and answers for every number asked.

What a courier's API cannot say is listed in the tables below, each with its reason, and is
asserted as such (never skipped). Courier-specific behaviour (body shapes, messages, POD, codes)
stays in ``test_<slug>.py`` and ``tests/devtools/sandbox/test_<slug>_sandbox.py``.
"""

from __future__ import annotations

import math

import pytest
from django.conf import settings

from devtools.sandbox.couriers import sandbox_couriers
from devtools.sandbox.couriers.base import REFUSED_CREDENTIAL_PREFIX
from devtools.sandbox.numbers import number_for_scenario
from tests.support.http import carrier_http_client
from tests.support.sandbox import INVALID_NUMBER, unknown_number
from tracking.carriers import ADAPTER_CLASSES, get_adapter
from tracking.carriers.base import (
    CarrierAuthError,
    CarrierPayloadError,
    CarrierRateLimited,
    CarrierUnavailable,
)

SLUGS = sorted(ADAPTER_CLASSES)

# Couriers whose API answers a number of no known format exactly as one it does not know.
INVALID_READS_AS_NOT_FOUND = {
    "chronopost": "trackSkybillV2 answers any skybill number with an empty success",
    "dhl": "Shipment Tracking - Unified answers 404 'No result found' whatever the number",
    "fedex": "Track API answers TRACKINGNUMBER.NOTFOUND whatever the number",
}
# Couriers whose batch answer leaves an unknown number out instead of naming it.
UNKNOWN_IN_A_BATCH_IS_NOT_RETURNED = {
    "dhlexpress": "MyDHL's multi-number GET /tracking only lists the shipments it knows",
}
# Couriers that answer only for numbers registered with them: the first poll registers.
REGISTERS_ON_FIRST_SIGHT = {
    "aftership": "the trackings list leaves out numbers until POST /trackings registered them",
}
# Couriers whose tracking operation takes no credentials at all.
TRACKS_WITHOUT_CREDENTIALS = {
    "chronopost": "trackSkybillV2 is anonymous; account and password serve other operations",
}


def _known(slug: str, index: int = 0) -> str:
    return number_for_scenario(slug, "stuck", index)


def _credentials(slug: str, change) -> None:
    """Apply ``change`` to every setting of the courier but its base URL (keys, ids, secrets,
    accounts)."""
    config = settings.CARRIERS[slug]
    settings.CARRIERS = {
        **settings.CARRIERS,
        slug: {
            name: value if name == "base_url" else change(value) for name, value in config.items()
        },
    }


def _tracks_again(slug: str, sandbox) -> None:
    """Once the courier recovers, the same adapter reads the parcel."""
    sandbox.faults.clear()
    number = _known(slug)
    result, _answers = get_adapter(slug).track([number], client=carrier_http_client())
    assert [s.tracking_number for s in result.shipments] == [number]


def test_contract_covers_every_registered_adapter_and_only_them():
    # given the registry, the twins and the declared format gaps
    gaps = {
        **INVALID_READS_AS_NOT_FOUND,
        **UNKNOWN_IN_A_BATCH_IS_NOT_RETURNED,
        **REGISTERS_ON_FIRST_SIGHT,
        **TRACKS_WITHOUT_CREDENTIALS,
    }

    # then every adapter has a twin to be checked against, and no gap names a stranger
    assert set(ADAPTER_CLASSES) <= set(sandbox_couriers())
    assert set(gaps) <= set(ADAPTER_CLASSES)


# --- numbers the courier does not know, or that are no number at all --------------------------


@pytest.mark.parametrize("slug", SLUGS)
def test_contract_unknown_number_alone_is_a_not_found_error(sandbox, slug):
    # given a well-formed number the courier does not know
    number = unknown_number(slug)

    # when
    result, answers = get_adapter(slug).track([number], client=carrier_http_client())

    # then it is that number's error, not a fault nor a shipment
    assert len(answers) == 1
    assert result.shipments == []
    assert [(e.tracking_number, e.code) for e in result.errors] == [(number, "not_found")]


@pytest.mark.parametrize("slug", SLUGS)
def test_contract_unknown_and_invalid_numbers_beside_a_known_one_are_their_own_errors(
    sandbox, slug
):
    # given a known number, an unknown one and one of no known format, asked together
    known, unknown = _known(slug), unknown_number(slug)
    adapter = get_adapter(slug)

    # when
    result, answers = adapter.track([known, unknown, INVALID_NUMBER], client=carrier_http_client())

    # then the known one is read and each other one has its error
    assert [s.tracking_number for s in result.shipments] == [known]
    unknown_code = "not_returned" if slug in UNKNOWN_IN_A_BATCH_IS_NOT_RETURNED else "not_found"
    invalid_code = "not_found" if slug in INVALID_READS_AS_NOT_FOUND else "invalid_number"
    assert sorted((e.tracking_number, e.code) for e in result.errors) == sorted(
        [(unknown, unknown_code), (INVALID_NUMBER, invalid_code)]
    )
    if adapter.batch_size == 1:
        assert len(answers) == 3  # one request per number


# --- the courier refuses us -------------------------------------------------------------------


@pytest.mark.parametrize(
    "credentials",
    [
        pytest.param(lambda _value: "", id="missing"),
        pytest.param(lambda value: REFUSED_CREDENTIAL_PREFIX + value, id="refused"),
    ],
)
@pytest.mark.parametrize("slug", SLUGS)
def test_contract_missing_or_refused_credentials_raise_auth_error(sandbox, slug, credentials):
    # given the courier's settings without credentials, or with ones the courier refuses
    _credentials(slug, credentials)
    number = _known(slug)

    # when / then the whole courier is in fault, unless its tracking takes no credentials
    adapter = get_adapter(slug)
    if slug in TRACKS_WITHOUT_CREDENTIALS:
        result, _answers = adapter.track([number], client=carrier_http_client())
        assert [s.tracking_number for s in result.shipments] == [number]
    else:
        with pytest.raises(CarrierAuthError):
            adapter.track([number], client=carrier_http_client())


@pytest.mark.parametrize("slug", SLUGS)
def test_contract_429_with_a_long_retry_after_raises_rate_limited_at_once(sandbox, slug):
    # given a courier answering 429, asking for a minute's pause
    sandbox.faults.set({"error_429": 1.0, "retry_after_seconds": 60})
    slept: list[float] = []

    # when / then the pause goes to the sync job; the worker does not sleep
    with pytest.raises(CarrierRateLimited) as limited:
        get_adapter(slug).track([_known(slug)], client=carrier_http_client(sleep=slept.append))
    assert limited.value.retry_after_seconds == 60
    assert slept == []
    _tracks_again(slug, sandbox)


@pytest.mark.parametrize("slug", SLUGS)
def test_contract_429_with_a_short_retry_after_is_waited_then_raised(sandbox, slug):
    # given a courier answering 429 to every request, asking for two seconds
    sandbox.faults.set({"error_429": 1.0, "retry_after_seconds": 2})
    slept: list[float] = []

    # when / then the client waits what the courier asked once, retries, then gives up
    with pytest.raises(CarrierRateLimited) as limited:
        get_adapter(slug).track([_known(slug)], client=carrier_http_client(sleep=slept.append))
    assert limited.value.retry_after_seconds == 2
    assert slept == [2.0]


# --- the courier fails ------------------------------------------------------------------------


@pytest.mark.parametrize("slug", SLUGS)
def test_contract_5xx_raises_unavailable(sandbox, slug):
    # given a courier answering 500 to everything
    sandbox.faults.set({"error_500": 1.0})

    # when / then
    with pytest.raises(CarrierUnavailable):
        get_adapter(slug).track([_known(slug)], client=carrier_http_client())
    _tracks_again(slug, sandbox)


@pytest.mark.parametrize("slug", SLUGS)
def test_contract_timeout_raises_unavailable(sandbox, slug):
    # given a courier slower than our timeout
    sandbox.faults.set({"timeout": 1.0, "timeout_seconds": 0.6})

    # when / then
    with pytest.raises(CarrierUnavailable, match="timeout"):
        get_adapter(slug).track([_known(slug)], client=carrier_http_client(timeout_seconds=0.3))
    _tracks_again(slug, sandbox)


@pytest.mark.parametrize("slug", SLUGS)
def test_contract_malformed_body_raises_payload_error_first_and_once_warm(sandbox, slug):
    # given a courier whose answers arrive cut in half
    adapter = get_adapter(slug)
    number = _known(slug)
    sandbox.faults.set({"malformed": 1.0})

    # when / then on the adapter's very first call (its token or login answer, if any)
    with pytest.raises(CarrierPayloadError):
        adapter.track([number], client=carrier_http_client())
    # and once it holds what it logged in with, on the tracking answer itself
    _tracks_again(slug, sandbox)
    sandbox.faults.set({"malformed": 1.0})
    with pytest.raises(CarrierPayloadError):
        adapter.track([number], client=carrier_http_client())
    _tracks_again(slug, sandbox)


# --- batches ----------------------------------------------------------------------------------


@pytest.mark.parametrize("slug", SLUGS)
def test_contract_one_more_number_than_a_batch_takes_two_requests_and_all_are_read(sandbox, slug):
    # given one number more than the courier takes in a request
    adapter = get_adapter(slug)
    numbers = [_known(slug, index) for index in range(adapter.batch_size + 1)]

    if slug in REGISTERS_ON_FIRST_SIGHT:
        adapter.track(numbers, client=carrier_http_client())

    # when
    result, answers = adapter.track(numbers, client=carrier_http_client())

    # then two requests carried them and every number was read
    assert len(answers) == math.ceil(len(numbers) / adapter.batch_size) == 2
    assert result.errors == []
    assert sorted(s.tracking_number for s in result.shipments) == sorted(numbers)
