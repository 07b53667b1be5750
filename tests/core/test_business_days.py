"""The one business-day calendar (core.business_days): weekends, French holidays and the
destination's, and one meaning of counting for every caller."""

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from core.business_days import (
    FRANCE,
    add_business_days,
    business_days_ago,
    business_days_between,
    is_business_day,
    on_or_after,
)

SATURDAY = date(2026, 12, 5)
MONDAY = date(2026, 12, 7)


def test_add_business_days_from_a_weekend_counts_the_next_business_day_as_the_first():
    # the old tracking calendar moved Saturday to Monday first (Saturday + 1 = Tuesday); the
    # seller metrics' counted Monday as the first business day after Saturday: that one wins
    assert add_business_days(SATURDAY, 1, country=FRANCE) == MONDAY
    assert business_days_between(SATURDAY, MONDAY, country=FRANCE) == 1
    assert add_business_days(SATURDAY, 0, country=FRANCE) == SATURDAY
    assert on_or_after(SATURDAY, country=FRANCE) == MONDAY


def test_business_days_count_the_destination_holidays_only_when_asked():
    # Belgian National Day, Tuesday 2026-07-21: a business day in France, not in Belgium
    national_day = date(2026, 7, 21)
    assert is_business_day(national_day, country=FRANCE)
    assert not is_business_day(national_day, country="BE")
    assert add_business_days(date(2026, 7, 20), 1, country="BE") == date(2026, 7, 22)
    # French holidays always count, whatever the destination (Labour Day, Friday 2026-05-01)
    assert not is_business_day(date(2026, 5, 1), country="GB")
    # a country the holidays library does not know: France's calendar
    assert is_business_day(date(2026, 7, 21), country="ZZ")


def test_business_days_between_is_negative_when_the_end_comes_first():
    assert business_days_between(MONDAY, SATURDAY, country=FRANCE) == -1
    assert business_days_between(MONDAY, MONDAY, country=FRANCE) == 0


def test_business_days_ago_walks_back_over_weekends_and_holidays():
    # from Monday 2026-05-04, one business day back is Thursday 2026-04-30 (Friday: Labour Day)
    assert business_days_ago(date(2026, 5, 4), 1, country=FRANCE) == date(2026, 4, 30)
    assert business_days_ago(date(2026, 5, 4), 0, country=FRANCE) == date(2026, 5, 4)


@given(
    start=st.dates(min_value=date(2025, 1, 1), max_value=date(2028, 12, 31)),
    days=st.integers(min_value=0, max_value=40),
    country=st.sampled_from(["FR", "DE", "BE", "GB", "ES", "IT"]),
)
def test_business_days_between_undoes_add_business_days(start, days, country):
    end = add_business_days(start, days, country=country)
    assert business_days_between(start, end, country=country) == days
    assert days == 0 or is_business_day(end, country=country)
