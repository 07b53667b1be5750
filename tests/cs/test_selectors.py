"""The CS console's reads of other apps (payouts, notifications) and of users, in cs.selectors."""

import pytest

from core.access import Scope
from cs.selectors import (
    cs_assignee_get,
    cs_seller_choices,
    shipment_notifications,
    shipment_payout,
)
from payouts.services import payout_open_for_order
from tests.sellers.factories import SellerFactory, UserFactory
from tests.tracking.factories import ShipmentFactory

pytestmark = pytest.mark.django_db


def test_shipment_payout_is_none_when_the_order_has_no_payout():
    # given a parcel whose order never opened a payout
    shipment = ShipmentFactory()
    # when / then
    assert shipment_payout(scope=Scope.marketplace(), order_id=shipment.order_id) is None


def test_shipment_payout_gives_the_orders_payout():
    # given a parcel whose order's payout is held in escrow
    shipment = ShipmentFactory()
    payout, _created = payout_open_for_order(order=shipment.order, actor=None)
    # when
    found = shipment_payout(scope=Scope.marketplace(), order_id=shipment.order_id)
    # then
    assert found == payout


def test_shipment_payout_is_none_outside_the_sellers_scope():
    # given another seller's order with a payout
    shipment = ShipmentFactory()
    payout_open_for_order(order=shipment.order, actor=None)
    other = SellerFactory()
    # when / then
    assert shipment_payout(scope=Scope.for_seller(other.id), order_id=shipment.order_id) is None


def test_shipment_notifications_of_a_parcel_without_any_is_empty():
    assert shipment_notifications(shipment_id=ShipmentFactory().id) == []


def test_cs_assignee_get_finds_the_user_or_none():
    user = UserFactory()
    assert cs_assignee_get(user_id=user.pk) == user
    assert cs_assignee_get(user_id=user.pk + 1000) is None


def test_cs_seller_choices_are_by_name():
    # given two sellers created in the reverse of the name order
    SellerFactory(name="Zèbre")
    SellerFactory(name="Atelier")
    # then the form offers them by name, not by creation
    names = [s.name for s in cs_seller_choices() if s.name in {"Zèbre", "Atelier"}]
    assert names == ["Atelier", "Zèbre"]
