"""Business days in France (Monday to Friday, French public holidays excluded, `holidays`)."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays


@lru_cache(maxsize=32)
def _holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("FR", years=year))


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _holidays(day.year)


def next_business_day(day: date) -> date:
    """The first business day strictly after ``day``."""
    day += timedelta(days=1)
    while not is_business_day(day):
        day += timedelta(days=1)
    return day


def on_or_after(day: date) -> date:
    return day if is_business_day(day) else next_business_day(day)


def add_business_days(day: date, count: int) -> date:
    """``count`` business days after ``day`` (0: ``day`` itself, moved to a business day)."""
    day = on_or_after(day)
    for _ in range(count):
        day = next_business_day(day)
    return day


def business_days_between(start: date, end: date) -> int:
    """Business days from ``start`` to ``end``: 0 the same day, 1 the next business day.
    Negative when ``end`` is before ``start``."""
    if end < start:
        return -business_days_between(end, start)
    count, day = 0, on_or_after(start)
    while day < end:
        day = next_business_day(day)
        if day <= end:
            count += 1
    return count


def business_days_ago(today: date, count: int) -> date:
    """The date ``count`` business days before ``today``."""
    day = today
    for _ in range(count):
        day -= timedelta(days=1)
        while not is_business_day(day):
            day -= timedelta(days=1)
    return day
