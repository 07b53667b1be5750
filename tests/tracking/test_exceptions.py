"""CS exceptions: opened by ingestion (courier statuses) and by the detection job (the clock),
closed when they no longer hold, worked by agents; the job's openings notify by the rules."""

from datetime import datetime, timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.business_days import FRANCE, business_days_ago
from core.errors import ApplicationError
from notifications.models import Notification, WebhookDelivery, WebhookEvent
from tests.notifications.factories import WebhookEndpointFactory
from tests.sellers.factories import OrderFactory, UserFactory
from tests.tracking.factories import ShipmentExceptionFactory, ShipmentFactory, cs_agent
from tracking.carriers.base import CarrierEvent, Location, TrackingResult
from tracking.models import Shipment, ShipmentAudit, ShipmentException
from tracking.services import ShipmentUpdate, events_ingest
from tracking.services.cs import exception_assign, exception_resolve
from tracking.services.exceptions import exceptions_detect

pytestmark = pytest.mark.django_db


def ingest(shipment, *events):
    result = TrackingResult(
        tracking_number=shipment.tracking_number,
        events=tuple(
            CarrierEvent(
                occurred_at=when, status=status, substatus=substatus, code=status[:6],
                message=status, location=Location(city="Lyon", country="FR"),
            )
            for when, status, substatus in events
        ),
    )  # fmt: skip
    return events_ingest(updates=[ShipmentUpdate(shipment.id, result)])


def ago(**kwargs) -> datetime:
    return timezone.now() - timedelta(**kwargs)


def open_kinds(shipment) -> set[str]:
    return set(shipment.exceptions.filter(resolved_at=None).values_list("kind", flat=True))


@pytest.mark.parametrize(
    ("status", "substatus", "kind"),
    [
        ("failed_attempt", "failed_attempt.recipient_absent", "failed_attempt"),
        ("exception", "exception.address_issue", "address_issue"),
        ("exception", "exception.customs", "customs"),
        ("exception", "exception.returning_to_sender", "returning"),
        ("exception", "exception.damaged", "lost_damaged"),
        ("exception", "exception.lost", "lost_damaged"),
        ("exception", "exception.delayed", "delayed"),
    ],
)
def test_events_ingest_opens_the_exception_a_courier_status_announces(status, substatus, kind):
    # given
    shipment = ShipmentFactory()
    # when the courier reports it, twice
    ingest(shipment, (ago(hours=3), "in_transit", None), (ago(hours=1), status, substatus))
    ingest(shipment, (ago(hours=3), "in_transit", None), (ago(hours=1), status, substatus))
    # then one open exception of that kind
    assert open_kinds(shipment) == {kind}
    assert ShipmentException.objects.count() == 1


def test_exceptions_detect_settles_a_delivered_failed_attempt_but_not_a_damaged_parcel():
    # given
    shipment = ShipmentFactory()
    ingest(shipment, (ago(hours=5), "failed_attempt", "failed_attempt.recipient_absent"))
    ShipmentExceptionFactory(shipment=shipment, kind="lost_damaged")
    # when it is delivered, and the job runs
    ingest(shipment, (ago(hours=1), "delivered", "delivered.signed"))
    exceptions_detect()
    # then
    failed = shipment.exceptions.get(kind="failed_attempt")
    assert (failed.resolution, failed.resolved_at is not None) == ("courier_resolved", True)
    assert open_kinds(shipment) == {"lost_damaged"}


def test_shipment_exception_is_open_once_per_kind_in_the_database():
    shipment = ShipmentFactory()
    ShipmentExceptionFactory(shipment=shipment, kind="stuck")
    with pytest.raises(IntegrityError), transaction.atomic():
        ShipmentExceptionFactory(shipment=shipment, kind="stuck")
    # a resolved one does not count
    ShipmentException.objects.update(resolved_at=timezone.now(), resolution="handled")
    ShipmentExceptionFactory(shipment=shipment, kind="stuck")


def backdate(shipment, **fields):
    Shipment.objects.filter(pk=shipment.pk).update(**fields)
    shipment.refresh_from_db()


def test_exceptions_detect_flags_a_parcel_without_a_first_scan_after_48_hours():
    # given a parcel uploaded three days ago that the courier never scanned, and a recent one
    old, recent = ShipmentFactory(), ShipmentFactory()
    backdate(old, created_at=ago(days=3))
    backdate(recent, created_at=ago(hours=20))
    other = ShipmentFactory(carrier="other", carrier_name="Colis Privé")
    backdate(other, created_at=ago(days=3))
    # when the job runs twice
    first = exceptions_detect()
    second = exceptions_detect()
    # then only the old one, once (a courier Parcelle cannot ask has no scans to wait for)
    assert first.opened["no_first_scan"] == 1 and second.opened["no_first_scan"] == 0
    assert open_kinds(old) == {"no_first_scan"}
    assert open_kinds(recent) == open_kinds(other) == set()
    # and when the first scan arrives, the next run settles it
    ingest(old, (ago(hours=1), "in_transit", None))
    exceptions_detect()
    assert open_kinds(old) == set()


def test_exceptions_detect_flags_a_parcel_stuck_for_its_status_in_business_days():
    # given a parcel in transit whose last scan is four business days old, one of yesterday
    today = timezone.localdate()
    four_days = timezone.make_aware(
        datetime.combine(business_days_ago(today, 4, country=FRANCE), datetime.min.time())
    )
    stuck, moving = ShipmentFactory(), ShipmentFactory()
    ingest(stuck, (four_days, "in_transit", None))
    ingest(moving, (ago(hours=20), "in_transit", None))
    # when
    exceptions_detect()
    # then
    assert open_kinds(stuck) == {"stuck"}
    assert open_kinds(moving) == set()
    # and a new scan settles it at the next run
    ingest(stuck, (ago(hours=1), "in_transit", None))
    exceptions_detect()
    assert open_kinds(stuck) == set()
    assert stuck.exceptions.get().resolution == "courier_resolved"


def test_exceptions_detect_flags_parcels_past_the_courier_estimate_or_the_promised_date():
    # given one parcel past its courier's window, one past the promised date, one on time,
    # all three scanned hours ago, so none is also "stuck" whatever the day the test runs
    late_eta = ShipmentFactory()
    ingest(late_eta, (ago(hours=4), "in_transit", None))
    backdate(late_eta, estimated_delivery_at=ago(days=3), estimated_delivery_end_at=ago(days=2))
    late_promise = ShipmentFactory(
        order=OrderFactory(promised_delivery_date=timezone.localdate() - timedelta(days=1))
    )
    ingest(late_promise, (ago(hours=4), "in_transit", None))
    on_time = ShipmentFactory()
    ingest(on_time, (ago(hours=4), "in_transit", None))
    backdate(on_time, estimated_delivery_at=timezone.now() + timedelta(days=1))
    # when
    summary = exceptions_detect()
    # then
    assert summary.opened["delayed"] == 2
    assert open_kinds(late_eta) == open_kinds(late_promise) == {"delayed"}
    assert open_kinds(on_time) == set()


def test_exceptions_detect_notifies_a_delay_to_the_buyer_and_the_seller_by_the_rules():
    # given a late parcel whose seller has a webhook endpoint
    shipment = ShipmentFactory(
        order=OrderFactory(promised_delivery_date=timezone.localdate() - timedelta(days=2))
    )
    ingest(shipment, (ago(hours=4), "in_transit", None))
    WebhookEndpointFactory(seller=shipment.seller)
    Notification.objects.all().delete()
    # when the job opens the delay, then runs again
    exceptions_detect()
    exceptions_detect()
    # then the buyer gets one "delayed" email (the default rules), the seller one event
    emails = Notification.objects.filter(shipment=shipment, channel="email")
    assert [(n.trigger, n.status_key) for n in emails] == [("delayed", "delayed")]
    events = WebhookEvent.objects.filter(type="shipment.exception")
    assert events.count() == 1
    assert events.get().payload["data"]["exception"]["kind"] == "delayed"
    assert WebhookDelivery.objects.filter(event__type="shipment.exception").count() == 1


def test_exceptions_detect_tells_only_the_seller_about_a_number_never_scanned():
    shipment = ShipmentFactory()
    backdate(shipment, created_at=ago(days=3))
    WebhookEndpointFactory(seller=shipment.seller)
    exceptions_detect()
    assert not Notification.objects.filter(shipment=shipment).exists()
    assert WebhookEvent.objects.get().payload["data"]["exception"]["kind"] == "no_first_scan"


def test_exception_resolve_needs_a_known_reason_and_changes_nothing_otherwise():
    exception = ShipmentExceptionFactory()
    agent = cs_agent()
    with pytest.raises(ApplicationError, match="Give a reason"):
        exception_resolve(exception=exception, resolution="because", actor=agent)
    exception.refresh_from_db()
    assert exception.resolved_at is None and not ShipmentAudit.objects.exists()
    # a real reason resolves it, once
    exception_resolve(exception=exception, resolution="false_alarm", note="ok", actor=agent)
    with pytest.raises(ApplicationError, match="already resolved"):
        exception_resolve(exception=exception, resolution="handled", actor=agent)
    assert ShipmentAudit.objects.get().detail["resolution"] == "false_alarm"


def test_exception_assign_refuses_someone_who_is_not_a_cs_agent():
    exception = ShipmentExceptionFactory()
    with pytest.raises(ApplicationError, match="not a CS agent"):
        exception_assign(exception=exception, assignee=UserFactory(is_staff=True), actor=None)
    agent = cs_agent()
    exception_assign(exception=exception, assignee=agent, actor=agent)
    exception.refresh_from_db()
    assert exception.assigned_to == agent and exception.assigned_at is not None


def test_exceptions_detect_judges_a_return_parcel_by_its_courier_not_the_buyers_promise():
    # given a return parcel of an order whose promised date has passed, no courier estimate
    order = OrderFactory(promised_delivery_date=timezone.localdate() - timedelta(days=5))
    back = ShipmentFactory(order=order, direction=Shipment.Direction.RETURN)
    ingest(back, (ago(hours=4), "in_transit", None))
    # when
    exceptions_detect()
    # then it is not "delayed": the promise was for the parcel to the buyer
    assert open_kinds(back) == set()
