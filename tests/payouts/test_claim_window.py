"""The buyer's claim window on the calendar: calendar days from the last delivery, whatever the
day it ends on, and named by its Paris day."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.business_days import FRANCE, is_business_day
from core.errors import ApplicationError
from payouts import services

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")


@pytest.mark.time_machine(datetime(2027, 6, 30, 10, 0, tzinfo=PARIS), tick=False)
def test_payout_claim_window_ending_on_a_public_holiday_ends_on_that_holiday(open_payout, settings):
    # given a parcel proven delivered on Wednesday 30 June 2027 at 10:00, a 14-day window
    settings.PAYOUT_CLAIM_WINDOW_DAYS = 14
    payout = open_payout(days_ago=0)
    # then the window ends 14 calendar days later, on Bastille Day: holidays do not move it
    ends = datetime(2027, 7, 14, 10, 0, tzinfo=PARIS)
    assert not is_business_day(ends.date(), country=FRANCE)
    assert payout.release_due_at == ends
    # when the release job looks a minute before, then it is still held, and says until when
    with pytest.raises(ApplicationError, match="claim window ends 2027-07-14"):
        services.payout_release(payout=payout, actor=None, now=ends - timedelta(minutes=1))
    assert services.payout_evaluate(payout=payout, now=ends - timedelta(minutes=1)).status == "held"
    # and at the end of the window it is eligible, holiday or not
    assert services.payout_evaluate(payout=payout, now=ends).status == "eligible"


@pytest.mark.time_machine(datetime(2027, 7, 1, 0, 30, tzinfo=PARIS), tick=False)
def test_payout_claim_window_is_named_by_its_paris_day_not_its_utc_day(open_payout, settings):
    # given a delivery at 00:30 in Paris on 1 July 2027 (still 30 June in UTC)
    settings.PAYOUT_CLAIM_WINDOW_DAYS = 14
    payout = open_payout(days_ago=0)
    # then the window ends at 00:30 on 15 July in Paris (22:30 UTC on the 14th)
    assert payout.release_due_at == datetime(2027, 7, 15, 0, 30, tzinfo=PARIS)
    # and finance is told the Paris day
    with pytest.raises(ApplicationError, match="claim window ends 2027-07-15"):
        services.payout_release(payout=payout, actor=None)
