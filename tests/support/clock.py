"""Clocks tests move by hand, and the instants they pin."""

from __future__ import annotations

from datetime import UTC, datetime

# 2024-05-19T08:00:00Z, a Sunday: summer time in Paris (+02:00), Amsterdam (+02:00) and London
# (+01:00), so every courier format renders its summer offset. The sandbox tests' journeys start
# here (see tests.support.sandbox).
SUMMER_SUNDAY = datetime(2024, 5, 19, 8, 0, tzinfo=UTC)


class SandboxClock:
    """Epoch seconds that only change when the test says so (``clock.now = …``)."""

    def __init__(self, now: float | datetime) -> None:
        self.now = now.timestamp() if isinstance(now, datetime) else float(now)

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
