"""A clock tests move by hand, and the instants they pin."""

from __future__ import annotations

from datetime import UTC, datetime

# 2024-05-19T08:00:00Z, a Sunday: summer time in Paris (+02:00), Amsterdam (+02:00) and London
# (+01:00), so every courier format renders its summer offset. The sandbox tests' journeys start
# here (``pytest.mark.sandbox(at=SUMMER_SUNDAY)``, see tests.support.sandbox).
SUMMER_SUNDAY = datetime(2024, 5, 19, 8, 0, tzinfo=UTC)


class ManualClock:
    """Seconds (epoch, or any origin for a monotonic clock) that change only when the test sets
    ``clock.now``, calls ``advance``, or when code under test calls ``clock.sleep`` (recorded in
    ``clock.sleeps``): inject ``clock`` where code reads the time and ``clock.sleep`` where it
    waits."""

    def __init__(self, now: float | datetime) -> None:
        self.now = now.timestamp() if isinstance(now, datetime) else float(now)
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
