"""The sandbox courier for tests: one fixture, one behaviour.

``sandbox`` serves ``devtools.sandbox`` on a free 127.0.0.1 port and points every adapter in
``settings.CARRIERS`` at it (``get_adapter(slug)`` then talks to the courier's twin), so a test
sees the couriers' real paths, headers and bodies over real HTTP. Its behaviour, everywhere:

- a journey shows one more step every ``STEP`` (60) seconds of sandbox time, counted from the first
  time a number is asked about; ``JOURNEY_DONE`` seconds later every scenario is over;
- the sandbox's clock is stopped: it moves only when the test says so (``sandbox.advance(s)``, or
  ``sandbox.clock.now = …``). It starts at the instant of ``@pytest.mark.sandbox(at=<aware
  datetime>)`` when the test states one (tests that assert on the dates a courier renders), else
  at the process clock's time when the fixture starts (tests that mix the sandbox and the
  database, whose "now" must agree with it);
- no faults until the test sets them (``sandbox.faults.set({...})``); fault draws use ``SEED``.

Tests that need another step length or several sandboxes build their own with
``devtools.sandbox.server.make_app`` (what they test is then the server itself).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from devtools.sandbox.couriers import get_courier
from devtools.sandbox.journeys import SCENARIOS, Step, journey_for
from devtools.sandbox.server import SandboxHandle, make_app, run_in_thread
from tests.support.clock import ManualClock
from tests.support.http import carrier_http_client
from tracking.carriers.base import CarrierAdapter, TrackingResult
from tracking.status import Status, result_state

STEP = 60.0  # sandbox seconds between two steps of a journey
JOURNEY_DONE = 40 * STEP  # every scenario has ended (the longest ends at step 11)
SEED = 7
# Matches no courier's number format: every courier answers it with a per-number error.
INVALID_NUMBER = "12AB"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sandbox(at): start the sandbox fixture's clock at this aware datetime"
    )


def unknown_number(slug: str, index: int = 0) -> str:
    """A number well formed for the courier's twin that the twin does not know."""
    courier = get_courier(slug)
    number = courier.candidate(index)
    return courier.unknown_prefix + number[len(courier.unknown_prefix) :]


@pytest.fixture
def sandbox(request: pytest.FixtureRequest, settings) -> SandboxHandle:
    """The sandbox courier (see the module's docstring); ``sandbox.clock`` is its clock."""
    marker = request.node.get_closest_marker("sandbox")
    clock = ManualClock(marker.kwargs["at"] if marker else time.time())
    with run_in_thread(make_app(clock=clock, step_seconds=STEP, seed=SEED)) as handle:
        handle.clock = clock
        settings.CARRIERS = {
            slug: {**config, "base_url": f"{handle.url}/{slug}"}
            for slug, config in settings.CARRIERS.items()
        }
        yield handle


# Where each scenario ends, as the journeys say it; a courier whose format cannot say a
# substatus overrides its entries ({**JOURNEY_FINALS, "delivered_signed": ("delivered", None)}).
JOURNEY_FINALS: dict[str, tuple[str, str | None]] = {
    name: (scenario.final_status, scenario.final_substatus) for name, scenario in SCENARIOS.items()
}


def track_one(adapter: CarrierAdapter, number: str) -> TrackingResult:
    """The one shipment the adapter reads for ``number``, which must come without errors."""
    result, _answers = adapter.track([number], client=carrier_http_client())
    assert result.errors == [], number
    [shipment] = result.shipments
    assert shipment.tracking_number == number
    return shipment


def walk_journey(
    sandbox: SandboxHandle, adapter: CarrierAdapter, number: str
) -> Iterator[tuple[int, Step, TrackingResult]]:
    """Follow ``number``'s journey through the adapter: ask once (the first sight anchors the
    journey), then each time the sandbox clock reaches the next step, ask again and yield
    (index of the step, the step, the one shipment the adapter read: see ``track_one``)."""
    adapter.track([number], client=carrier_http_client())
    elapsed = 0.0
    for index, step in enumerate(journey_for(adapter.slug, number).steps):
        sandbox.advance(step.offset * STEP - elapsed)
        elapsed = step.offset * STEP
        yield index, step, track_one(adapter, number)


def assert_journey_ended(shipment: TrackingResult, final: tuple[str, str | None]) -> None:
    """The shipment's state is ``final``, with a POD dated at the delivery when (and only
    when) a delivery stands."""
    assert (result_state(shipment).status, result_state(shipment).substatus) == final
    if final[0] == Status.DELIVERED:
        assert shipment.pod is not None
        assert shipment.pod.delivered_at == result_state(shipment).delivered_at
    else:
        assert shipment.pod is None
