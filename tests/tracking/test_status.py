from datetime import UTC, datetime, timedelta

from tracking.status import Status, StatusPoint, Substatus, derive_state

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


def point(hours: float, status: str, substatus: str | None = None) -> StatusPoint:
    return StatusPoint(T0 + timedelta(hours=hours), status, substatus)


def test_derive_state_without_events_is_pending():
    assert derive_state([]).status == Status.PENDING


def test_derive_state_follows_event_time_not_arrival_order():
    # given events listed newest first, as most courier APIs send them
    points = [
        point(30, Status.OUT_FOR_DELIVERY),
        point(2, Status.IN_TRANSIT),
        point(0, Status.INFO_RECEIVED),
    ]
    # when
    state = derive_state(points)
    # then
    assert state.status == Status.OUT_FOR_DELIVERY
    assert state.last_event_at == T0 + timedelta(hours=30)
    assert state.delivered_at is None


def test_derive_state_late_transit_scan_does_not_undo_delivery():
    # given a hub scan stamped after the delivery
    points = [
        point(0, Status.IN_TRANSIT),
        point(10, Status.DELIVERED, Substatus.DELIVERED_SIGNED),
        point(12, Status.IN_TRANSIT),
    ]
    # when
    state = derive_state(points)
    # then
    assert (state.status, state.substatus) == (Status.DELIVERED, Substatus.DELIVERED_SIGNED)
    assert state.delivered_at == T0 + timedelta(hours=10)
    assert state.last_event_at == T0 + timedelta(hours=12)


def test_derive_state_return_after_delivery_is_its_own_state():
    points = [
        point(10, Status.DELIVERED),
        point(50, Status.EXCEPTION, Substatus.EXCEPTION_RETURNING_TO_SENDER),
    ]
    state = derive_state(points)
    assert (state.status, state.substatus) == (
        Status.EXCEPTION,
        Substatus.EXCEPTION_RETURNING_TO_SENDER,
    )
    assert state.delivered_at is None


def test_derive_state_same_timestamp_ties_break_by_lifecycle():
    # given "out for delivery" and "delivered" stamped with the same minute, in either order
    a = [point(5, Status.DELIVERED), point(5, Status.OUT_FOR_DELIVERY)]
    # then delivered stands both ways
    assert derive_state(a).status == Status.DELIVERED
    assert derive_state(list(reversed(a))).status == Status.DELIVERED


def test_derive_state_failed_attempt_then_delivery():
    points = [
        point(0, Status.OUT_FOR_DELIVERY),
        point(1, Status.FAILED_ATTEMPT, Substatus.FAILED_ATTEMPT_RECIPIENT_ABSENT),
        point(24, Status.OUT_FOR_DELIVERY),
        point(26, Status.DELIVERED),
    ]
    assert derive_state(points).status == Status.DELIVERED


def test_derive_state_orders_the_repeated_dst_hour_by_instant():
    # given two scans in Paris's repeated hour (25 Oct 2026, 02:30 CEST then 02:10 CET)
    from zoneinfo import ZoneInfo

    paris = ZoneInfo("Europe/Paris")
    earlier = datetime(2026, 10, 25, 2, 30, tzinfo=paris, fold=0)  # 00:30 UTC
    later = datetime(2026, 10, 25, 2, 10, tzinfo=paris, fold=1)  # 01:10 UTC
    # when
    state = derive_state(
        [StatusPoint(later, Status.DELIVERED, None), StatusPoint(earlier, Status.IN_TRANSIT, None)]
    )
    # then the wall clock (02:10 < 02:30) does not fool the rule
    assert state.status == Status.DELIVERED
    assert state.last_event_at.timestamp() == later.timestamp()
