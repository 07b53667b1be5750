"""The instants the calendar sweep moves the clock to, one list for `make test-dates` (faketime)
and for the calendar tests that pin them with time-machine.

Chosen where calendar code goes wrong: each day of one week (weekends, Friday evening, Monday
morning, the 17:00 hand-over cut-off), both time changes in Europe/Paris, a UTC instant already
on the next day (and year, and a holiday) in Paris, a French public holiday on a weekday, and
August. `python -m tests.support.calendar_instants` prints them as UTC
"YYYY-MM-DD HH:MM:SS" lines.
"""

from datetime import UTC, datetime

INSTANTS: dict[str, datetime] = {
    # one week; Paris is UTC+1 in December
    "monday-morning": datetime(2026, 12, 7, 7, 30, tzinfo=UTC),  # 08:30 Paris
    "tuesday-noon": datetime(2026, 12, 8, 11, 0, tzinfo=UTC),
    "wednesday-after-cutoff": datetime(2026, 12, 9, 16, 30, tzinfo=UTC),  # 17:30 Paris
    "thursday": datetime(2026, 12, 10, 9, 0, tzinfo=UTC),
    "friday-evening": datetime(2026, 12, 11, 17, 30, tzinfo=UTC),  # 18:30 Paris
    "saturday": datetime(2026, 12, 12, 10, 0, tzinfo=UTC),
    "sunday-night": datetime(2026, 12, 13, 22, 30, tzinfo=UTC),  # 23:30 Paris
    # spring change, Sunday 28 March 2027: 02:00 CET -> 03:00 CEST
    "spring-0130": datetime(2027, 3, 28, 0, 30, tzinfo=UTC),  # 01:30 CET
    "spring-0230": datetime(2027, 3, 28, 1, 30, tzinfo=UTC),  # 02:30 does not exist: 03:30 CEST
    # autumn change, Sunday 31 October 2027: 03:00 CEST -> 02:00 CET, 02:30 happens twice
    "autumn-0130": datetime(2027, 10, 30, 23, 30, tzinfo=UTC),  # 01:30 CEST
    "autumn-0230-cest": datetime(2027, 10, 31, 0, 30, tzinfo=UTC),  # 02:30 CEST, the first
    "autumn-0230-cet": datetime(2027, 10, 31, 1, 30, tzinfo=UTC),  # 02:30 CET, the second
    # still 31 December in UTC, already 1 January (a public holiday) 00:30 in Paris
    "new-year-utc-2330": datetime(2026, 12, 31, 23, 30, tzinfo=UTC),
    # Bastille Day, a Wednesday: a public holiday in the middle of a week
    "holiday-14-july": datetime(2027, 7, 14, 8, 0, tzinfo=UTC),
    # August, the month half of France is away (and 15 August, Assumption, is a Sunday)
    "august": datetime(2027, 8, 16, 6, 30, tzinfo=UTC),  # Monday 08:30 Paris
}


if __name__ == "__main__":
    for instant in INSTANTS.values():
        print(instant.strftime("%Y-%m-%d %H:%M:%S"))
