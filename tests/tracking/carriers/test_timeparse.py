from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracking.carriers.timeparse import (
    COUNTRY_TIMEZONES,
    country_timezone,
    parse_date_or_datetime,
    parse_datetime,
)

PARIS = ZoneInfo("Europe/Paris")
# Naive on purpose: they stand for a courier's wall-clock time without offset.
NAIVE_MIN = datetime(1990, 1, 1)  # noqa: DTZ001
NAIVE_MAX = datetime(2100, 1, 1)  # noqa: DTZ001


@pytest.mark.parametrize(
    ("value", "expected_iso"),
    [
        ("2023-03-09T09:38:00+01:00", "2023-03-09T09:38:00+01:00"),  # La Poste
        ("2023-03-09T09:38:00+0100", "2023-03-09T09:38:00+01:00"),  # GLS, no colon
        ("2023-03-09T09:38:00-0300", "2023-03-09T09:38:00-03:00"),
        ("2018-03-02T07:53:47Z", "2018-03-02T07:53:47+00:00"),  # DHL shipment level
        ("2018-03-02T07:53:47.250Z", "2018-03-02T07:53:47.250000+00:00"),
        ("  2023-03-09T09:38:00+01:00\n", "2023-03-09T09:38:00+01:00"),
    ],
)
def test_parse_datetime_keeps_the_given_offset(value, expected_iso):
    # given a time that carries its own offset, and a default zone that must not apply
    # when
    parsed = parse_datetime(value, default_tz=ZoneInfo("Asia/Tokyo"))
    # then
    assert parsed.isoformat() == expected_iso


@pytest.mark.parametrize(
    ("value", "expected_iso"),
    [
        ("2018-03-02T07:53:47", "2018-03-02T07:53:47+01:00"),  # winter: CET
        ("2018-07-02T07:53:47", "2018-07-02T07:53:47+02:00"),  # summer: CEST
    ],
)
def test_parse_datetime_reads_a_naive_time_in_the_given_zone(value, expected_iso):
    # given a courier's naive local time (DHL parcel-de) scanned in France
    # when
    parsed = parse_datetime(value, default_tz=PARIS)
    # then it is Paris wall-clock time, with the offset of that date
    assert parsed.isoformat() == expected_iso
    assert parsed.tzinfo is PARIS


def test_parse_datetime_defaults_a_naive_time_to_utc():
    # given no zone to read a naive time in
    # when
    parsed = parse_datetime("2018-03-02T07:53:47")
    # then UTC is used, never the server's local zone
    assert parsed == datetime(2018, 3, 2, 7, 53, 47, tzinfo=UTC)


@pytest.mark.parametrize("value", ["", "   ", "garbage", "2023-13-01T00:00:00", None, 1678350000])
def test_parse_datetime_rejects_what_is_not_an_iso_datetime(value):
    # given a value no courier documents as a time
    # when / then
    with pytest.raises(ValueError):
        parse_datetime(value)


@given(st.datetimes(min_value=NAIVE_MIN, max_value=NAIVE_MAX))
def test_parse_datetime_always_returns_an_aware_time_with_the_same_wall_clock(naive):
    # given any naive wall-clock time
    # when
    parsed = parse_datetime(naive.isoformat(), default_tz=PARIS)
    # then
    assert parsed.utcoffset() is not None
    assert parsed.replace(tzinfo=None) == naive


def test_parse_date_or_datetime_keeps_a_bare_day_as_a_date():
    # given an estimated delivery given as a day only
    # when
    parsed = parse_date_or_datetime("2023-03-09", default_tz=PARIS)
    # then no midnight is invented
    assert parsed == date(2023, 3, 9)
    assert not isinstance(parsed, datetime)


def test_parse_date_or_datetime_parses_a_datetime_like_parse_datetime():
    # given / when
    parsed = parse_date_or_datetime("2023-03-09T09:38:00", default_tz=PARIS)
    # then
    assert parsed == datetime(2023, 3, 9, 9, 38, tzinfo=PARIS)
    assert parsed.utcoffset() == timedelta(hours=1)


@pytest.mark.parametrize("value", ["2023-99-09", "", None])
def test_parse_date_or_datetime_rejects_garbage(value):
    # given / when / then
    with pytest.raises(ValueError):
        parse_date_or_datetime(value)


@pytest.mark.parametrize(
    ("country", "zone"),
    [
        ("FR", "Europe/Paris"),
        ("fr", "Europe/Paris"),
        (" de ", "Europe/Berlin"),
        ("ES", "Europe/Madrid"),  # capital, not the Canaries
        ("PT", "Europe/Lisbon"),  # capital, not the Azores
        ("GB", "Europe/London"),
        ("US", "America/New_York"),  # Washington
        ("BR", "America/Sao_Paulo"),  # Brasília
        ("RE", "Indian/Reunion"),
    ],
)
def test_country_timezone_gives_the_capitals_zone(country, zone):
    # given / when / then
    assert country_timezone(country) == ZoneInfo(zone)


@pytest.mark.parametrize("country", ["XX", "", None, "FRA"])
def test_country_timezone_falls_back_to_utc(country):
    # given an unknown or missing country
    # when
    zone = country_timezone(country)
    # then UTC, not a guess
    assert zone == ZoneInfo("UTC")


def test_country_timezone_table_only_names_real_zones():
    # given every entry of the table
    # when / then each is a two-letter upper-case code whose zone the system knows
    for code, name in COUNTRY_TIMEZONES.items():
        assert len(code) == 2 and code.isupper()
        assert country_timezone(code) == ZoneInfo(name)
