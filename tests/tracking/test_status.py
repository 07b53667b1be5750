from datetime import UTC, datetime, timedelta

from tracking.carriers.base import CarrierEvent, PodData, TrackingResult
from tracking.status import (
    DerivedState,
    Status,
    StatusPoint,
    Substatus,
    derive_state,
    pod_standing,
    result_state,
)

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


# Found by `make mutate` (issue 22): continuing from a stored state, a second delivery scan,
# an exception after delivery, ties on unknown statuses and the pure POD rule.


def test_derive_state_second_delivery_scan_updates_the_substatus_not_the_time():
    points = [
        point(10, Status.DELIVERED, Substatus.DELIVERED_MAILBOX),
        point(11, Status.DELIVERED, Substatus.DELIVERED_SIGNED),
    ]
    assert derive_state(points) == DerivedState(
        Status.DELIVERED, Substatus.DELIVERED_SIGNED, T0 + timedelta(hours=11),
        T0 + timedelta(hours=10),
    )  # fmt: skip


def test_derive_state_exception_after_delivery_replaces_it():
    points = [point(10, Status.DELIVERED), point(20, Status.EXCEPTION, Substatus.EXCEPTION_LOST)]
    assert derive_state(points) == DerivedState(
        Status.EXCEPTION, Substatus.EXCEPTION_LOST, T0 + timedelta(hours=20), None
    )


def test_derive_state_continues_from_a_stored_delivery():
    # given a parcel already delivered (stored state), then a late hub scan
    since = DerivedState(
        Status.DELIVERED, Substatus.DELIVERED_SIGNED, T0 + timedelta(hours=10),
        T0 + timedelta(hours=10),
    )  # fmt: skip
    state = derive_state([point(12, Status.IN_TRANSIT)], since=since)
    # then the delivery stands, and the last event is the scan
    assert state == DerivedState(
        Status.DELIVERED, Substatus.DELIVERED_SIGNED, T0 + timedelta(hours=12),
        T0 + timedelta(hours=10),
    )  # fmt: skip
    # and with nothing new, the stored state is returned as it is
    assert derive_state([], since=since) is since


def test_derive_state_keeps_the_later_stored_last_event():
    since = DerivedState(Status.IN_TRANSIT, None, T0 + timedelta(hours=30), None)
    state = derive_state([point(40, Status.OUT_FOR_DELIVERY)], since=since)
    assert state.last_event_at == T0 + timedelta(hours=40)
    # a point older than the stored last event (the caller re-derives then; the time stays)
    state = derive_state([point(20, Status.OUT_FOR_DELIVERY)], since=since)
    assert state.last_event_at == T0 + timedelta(hours=30)


def test_derive_state_without_events_is_pending_with_nothing_known():
    assert derive_state([]) == DerivedState(Status.PENDING, None, None, None)


def test_derive_state_stored_pending_state_without_events_is_not_a_delivery_guard():
    # a stored state with no last event (never scanned) does not protect anything
    since = DerivedState(Status.DELIVERED, None, None, None)
    state = derive_state([point(1, Status.IN_TRANSIT)], since=since)
    assert (state.status, state.delivered_at) == (Status.IN_TRANSIT, None)


def test_status_point_order_ranks_an_unknown_status_as_in_transit():
    # same instant: an unknown status sits with in transit, before out for delivery
    unknown = point(5, "mystery", "zzz")
    assert derive_state([unknown, point(5, Status.OUT_FOR_DELIVERY)]).status == (
        Status.OUT_FOR_DELIVERY
    )
    # and against in transit itself, the substatus breaks the tie
    transit = point(5, Status.IN_TRANSIT, "aaa")
    assert derive_state([unknown, transit]).status == "mystery"
    assert derive_state([transit, point(5, "mystery", "a")]).status == Status.IN_TRANSIT
    # a missing substatus sorts before any
    assert derive_state([point(5, Status.IN_TRANSIT, "b"), point(5, "mystery")]).substatus == "b"


def test_result_state_derives_one_answer():
    events = (
        CarrierEvent(T0, Status.IN_TRANSIT, None, "T", "in transit"),
        CarrierEvent(T0 + timedelta(hours=5), Status.DELIVERED, Substatus.DELIVERED_MAILBOX, "D",
                     "delivered"),
    )  # fmt: skip
    assert result_state(TrackingResult("X1", events=events)) == DerivedState(
        Status.DELIVERED, Substatus.DELIVERED_MAILBOX, T0 + timedelta(hours=5),
        T0 + timedelta(hours=5),
    )  # fmt: skip


def test_pod_standing_fills_time_and_place_from_the_delivery_that_stands():
    state = DerivedState(Status.DELIVERED, Substatus.DELIVERED_MAILBOX, T0, T0)
    assert pod_standing(PodData(delivered_at=None, signed_by="M. A"), state) == PodData(
        delivered_at=T0, signed_by="M. A", location_type="mailbox"
    )
    # a substatus without a place leaves it empty
    signed = DerivedState(Status.DELIVERED, Substatus.DELIVERED_SIGNED, T0, T0)
    assert pod_standing(PodData(delivered_at=None), signed).location_type == ""
    no_substatus = DerivedState(Status.DELIVERED, None, T0, T0)
    assert pod_standing(PodData(delivered_at=None), no_substatus).location_type == ""
    assert pod_standing(None, state) is None


def test_derive_state_reads_on_after_a_second_delivery_scan_and_a_late_hub_scan():
    # a second delivery scan, then a late hub scan, then the parcel goes back: the return stands
    points = [
        point(10, Status.DELIVERED, Substatus.DELIVERED_MAILBOX),
        point(11, Status.DELIVERED, Substatus.DELIVERED_SIGNED),
        point(12, Status.IN_TRANSIT),
        point(13, Status.IN_TRANSIT),
        point(20, Status.EXCEPTION, Substatus.EXCEPTION_RETURNING_TO_SENDER),
    ]
    assert derive_state(points) == DerivedState(
        Status.EXCEPTION, Substatus.EXCEPTION_RETURNING_TO_SENDER, T0 + timedelta(hours=20), None
    )
    # and after a second delivery scan, a third one still updates the substatus
    points = [
        point(10, Status.DELIVERED, Substatus.DELIVERED_MAILBOX),
        point(11, Status.DELIVERED, Substatus.DELIVERED_NEIGHBOUR),
        point(12, Status.DELIVERED, Substatus.DELIVERED_SIGNED),
    ]
    assert derive_state(points).substatus == Substatus.DELIVERED_SIGNED
