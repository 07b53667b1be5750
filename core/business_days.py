"""Business days: the one calendar every rule counts in (transit times, EDD, stuck parcels,
handling days, the seller's expected ship date).

A business day is Monday to Friday, not a French public holiday (the marketplace and its
sellers work in France) and not a public holiday of ``country``, the parcel's destination
(``holidays``). Every function takes ``country`` explicitly: pass the destination where the
parcel's arrival matters, ``"FR"`` for France alone (a country the library does not know counts
as France alone).

Counting, one meaning everywhere: ``add_business_days(start, n)`` is the n-th business day
after ``start`` (a parcel handed over on Saturday and delivered on Monday took one business
day), and ``business_days_between`` is its inverse: the business days after ``start`` up to and
including ``end``. Pure Python: no Django.
"""

from __future__ import annotations

import contextlib
from datetime import date, timedelta
from functools import lru_cache

import holidays

FRANCE = "FR"


@lru_cache(maxsize=512)
def holidays_of(country: str, year: int) -> frozenset[date]:
    """France's public holidays in ``year``, plus ``country``'s when it is another one."""
    days = set(holidays.country_holidays(FRANCE, years=year))
    country = (country or FRANCE).upper()
    if country != FRANCE:
        # a country the library does not know: French days only
        with contextlib.suppress(NotImplementedError):
            days |= set(holidays.country_holidays(country, years=year))
    return frozenset(days)


def is_business_day(day: date, *, country: str) -> bool:
    return day.weekday() < 5 and day not in holidays_of(country, day.year)


def next_business_day(day: date, *, country: str) -> date:
    """The first business day strictly after ``day``."""
    day += timedelta(days=1)
    while not is_business_day(day, country=country):
        day += timedelta(days=1)
    return day


def on_or_after(day: date, *, country: str) -> date:
    """``day`` itself when it is a business day, else the next one."""
    return day if is_business_day(day, country=country) else next_business_day(day, country=country)


def add_business_days(start: date, days: int, *, country: str) -> date:
    """The ``days``-th business day after ``start`` (``days`` >= 0; 0: ``start`` itself)."""
    day = start
    for _ in range(days):
        day = next_business_day(day, country=country)
    return day


@lru_cache(maxsize=65536)  # the rollups count millions of parcels over a few thousand lanes-days
def business_days_between(start: date, end: date, *, country: str) -> int:
    """Business days after ``start`` up to and including ``end``: 0 the same day (or before the
    next business day), negative when ``end`` is before ``start``."""
    if end < start:
        return -business_days_between(end, start, country=country)
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        if is_business_day(day, country=country):
            count += 1
    return count


def business_days_ago(today: date, count: int, *, country: str) -> date:
    """The ``count``-th business day before ``today`` (0: ``today`` itself)."""
    day = today
    for _ in range(count):
        day -= timedelta(days=1)
        while not is_business_day(day, country=country):
            day -= timedelta(days=1)
    return day
