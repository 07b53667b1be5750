import pytest

from payouts.services import payout_open_for_order
from tests.payouts.factories import OrderFactory, finance_user, proven_parcel


@pytest.fixture
def finance(db):
    return finance_user()


@pytest.fixture
def finance_lead(db):
    return finance_user(lead=True)


@pytest.fixture
def open_payout(db):
    """Open a payout for an order (paid now); ``parcels`` proven parcels delivered days_ago."""

    def make(*, parcels: int = 1, days_ago: int = 20, order=None, **order_fields):
        order = order or OrderFactory(**order_fields)
        for _ in range(parcels):
            proven_parcel(order, days_ago=days_ago)
        payout, _created = payout_open_for_order(order=order, actor=None, payment_reference="PSP-1")
        return payout

    return make
