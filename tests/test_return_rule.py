"""What counts as a return: one definition (tracking.status.RETURN_SUBSTATUSES), every reader."""

from datetime import UTC, datetime

import pytest

from notifications.triggers import Trigger, trigger_for
from payouts.rules import POD_SOURCE_CARRIER, ParcelFacts, parcel_proven, parcel_returning
from tracking.buyer import wording
from tracking.status import RETURN_SUBSTATUSES, Status, Substatus

DELIVERED_AT = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


def test_return_substatuses_are_the_three_ways_back_to_the_seller():
    assert {
        Substatus.EXCEPTION_RETURNING_TO_SENDER,
        Substatus.EXCEPTION_RETURNED_TO_SENDER,
        Substatus.DELIVERED_TO_SENDER,
    } == RETURN_SUBSTATUSES


@pytest.mark.parametrize("substatus", sorted(RETURN_SUBSTATUSES))
def test_return_substatuses_mean_a_return_to_every_reader(substatus):
    # given a parcel going back to (or back at) the seller, with the courier's POD
    status = substatus.split(".")[0]
    parcel = ParcelFacts(1, status, substatus, DELIVERED_AT, POD_SOURCE_CARRIER, None)
    # then the payout gate, the notification trigger and the buyer page all call it a return
    assert parcel_returning(parcel)
    assert not parcel_proven(parcel)
    assert trigger_for(previous_status="", status=status, substatus=substatus) == Trigger.RETURNED
    assert wording._tone(status, substatus) == "returned"


def test_return_substatuses_leave_a_refusal_an_exception_of_its_own():
    # the buyer page colours a refusal like a return, but no rule counts it as one until the
    # courier reports the parcel going back (the buyer page's own list used to include it)
    assert Substatus.EXCEPTION_REFUSED not in RETURN_SUBSTATUSES
    trigger = trigger_for(
        previous_status="", status=Status.EXCEPTION, substatus=Substatus.EXCEPTION_REFUSED
    )
    assert trigger == Trigger.EXCEPTION
    assert wording._tone(Status.EXCEPTION, Substatus.EXCEPTION_REFUSED) == "returned"
