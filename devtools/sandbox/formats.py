"""Helpers every emulated courier's renderer shares: Paris time, step ordering.

Each courier's own body shapes live in ``devtools/sandbox/couriers/<slug>.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta, timezone

from devtools.sandbox.journeys import DELIVERED_KINDS, SeenStep

# --- Paris time -------------------------------------------------------------------------------


def _last_sunday(year: int, month: int) -> date:
    day = date(year, month + 1, 1) - timedelta(days=1)
    return day - timedelta(days=(day.weekday() - 6) % 7)


def paris_offset(moment: datetime) -> timedelta:
    """France's UTC offset at ``moment`` (aware). France follows the EU summer-time rule (last
    Sunday of March to last Sunday of October, switching at 01:00 UTC); computing it here keeps
    the sandbox free of any time-zone database."""
    moment = moment.astimezone(UTC)
    summer_starts = datetime.combine(_last_sunday(moment.year, 3), time(1), UTC)
    summer_ends = datetime.combine(_last_sunday(moment.year, 10), time(1), UTC)
    return timedelta(hours=2) if summer_starts <= moment < summer_ends else timedelta(hours=1)


def to_paris(moment: datetime) -> datetime:
    return moment.astimezone(timezone(paris_offset(moment))).replace(microsecond=0)


def paris_iso(moment: datetime) -> str:
    """``2024-05-19T10:00:00+02:00``"""
    return to_paris(moment).isoformat()


def paris_local_iso(moment: datetime) -> str:
    """``2024-05-19T10:00:00``: local wall-clock time without an offset, as DHL often sends."""
    return to_paris(moment).replace(tzinfo=None).isoformat()


def utc_iso(moment: datetime) -> str:
    """``2024-05-19T08:00:00Z``"""
    return moment.astimezone(UTC).replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def newest_first(seen: Sequence[SeenStep]) -> list[SeenStep]:
    return sorted(seen, key=lambda s: (s.at, s.step.offset), reverse=True)


def delivery_step(seen: Sequence[SeenStep]) -> SeenStep | None:
    delivered = [s for s in seen if s.step.kind in DELIVERED_KINDS]
    return delivered[-1] if delivered else None
