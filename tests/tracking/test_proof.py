"""The POD gate's clock bound (tracking.proof): a delivery counts unless it is more than
DELIVERY_CLOCK_SKEW before the order existed."""

from datetime import UTC, datetime, timedelta

from tracking.proof import DELIVERY_CLOCK_SKEW, delivery_predates_order

ORDER_CREATED_AT = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def test_delivery_predates_order_skew_is_two_hours():
    assert timedelta(hours=2) == DELIVERY_CLOCK_SKEW


def test_delivery_predates_order_exactly_at_the_skew_bound_still_counts():
    # given a delivery scanned exactly two hours before the order (clock skew, not fraud)
    delivered_at = ORDER_CREATED_AT - DELIVERY_CLOCK_SKEW
    # then it is still this order's delivery
    assert not delivery_predates_order(delivered_at=delivered_at, order_created_at=ORDER_CREATED_AT)


def test_delivery_predates_order_one_microsecond_past_the_bound_is_refused():
    delivered_at = ORDER_CREATED_AT - DELIVERY_CLOCK_SKEW - timedelta(microseconds=1)
    assert delivery_predates_order(delivered_at=delivered_at, order_created_at=ORDER_CREATED_AT)


def test_delivery_predates_order_after_the_order_counts():
    delivered_at = ORDER_CREATED_AT + timedelta(days=1)
    assert not delivery_predates_order(delivered_at=delivered_at, order_created_at=ORDER_CREATED_AT)
