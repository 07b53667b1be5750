import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.db import connection, transaction
from django.utils import timezone

from notifications import services
from notifications.models import Notification, NotificationRule
from tests.sellers.factories import OrderFactory
from tests.support.ingest import courier_says, scan
from tests.tracking.factories import ShipmentFactory

AFTER_WINDOW = timedelta(seconds=121)


def sweep_later(delta=AFTER_WINDOW):
    return services.outbox_sweep(now=timezone.now() + delta)


@pytest.mark.django_db(transaction=True)
def test_rollback_of_the_status_change_sends_nothing(django_q_sync):
    # given a parcel of a buyer with an email and a phone
    shipment = ShipmentFactory(order__buyer_phone="06 12 34 56 78")
    # when the transaction that changed its status rolls back after the outbox rows were written
    with pytest.raises(RuntimeError), transaction.atomic():
        courier_says(shipment, scan("out_for_delivery"))
        assert Notification.objects.filter(shipment=shipment).count() == 2  # written inside
        raise RuntimeError("the caller failed after ingesting")
    services.outbox_sweep(now=timezone.now() + AFTER_WINDOW)
    # then no row survived and nothing left the machine
    assert Notification.objects.count() == 0
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_commit_enqueues_the_job_that_sends_the_sms_at_once(django_q_sync, sms_outbox):
    # given a buyer with a phone number
    shipment = ShipmentFactory(order__buyer_phone="+33 6 12 34 56 78")
    # when the courier says the parcel is out for delivery (committed; django-q2 runs inline)
    courier_says(shipment, scan("out_for_delivery"))
    # then the on-commit job sent the SMS; the email waits for the end of its window
    assert [sms["to"] for sms in sms_outbox] == ["+33612345678"]
    states = dict(Notification.objects.values_list("channel", "state"))
    assert states == {"sms": "sent", "email": "pending"}


@pytest.mark.django_db
def test_crash_after_commit_loses_nothing_the_sweeper_sends_it(sms_outbox):
    # given status changes whose on-commit jobs never ran (the worker died after the commit:
    # this test's transaction never runs on-commit callbacks)
    shipment = ShipmentFactory(order__buyer_phone="0612345678", order__buyer_locale="en")
    courier_says(shipment, scan("out_for_delivery"))
    assert set(Notification.objects.values_list("state", flat=True)) == {"pending"}
    # when the periodic sweeper runs after the consolidation window
    totals = sweep_later()
    # then everything was sent, once
    assert totals["notifications"] == 2
    assert len(mail.outbox) == 1 and len(sms_outbox) == 1
    assert mail.outbox[0].subject.endswith("Your parcel is out for delivery")
    assert set(Notification.objects.values_list("state", flat=True)) == {"sent"}
    assert sweep_later(timedelta(hours=1)) == {"notifications": 0, "webhooks": 0}


@pytest.mark.django_db
def test_parcels_of_one_order_moving_together_make_one_consolidated_email():
    # given an order with three parcels; two move within the window, the third much later
    order = OrderFactory(buyer_locale="fr")
    first, second, third = ShipmentFactory.create_batch(3, order=order, seller=order.seller)
    courier_says(first, scan("out_for_delivery"))
    courier_says(second, scan("in_transit", hours_ago=2), scan("delivered", hours_ago=1))
    # when the window ends
    sweep_later()
    # then one email lists both parcels with their own news and links
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == [order.buyer_email]
    assert email.subject == f"{order.seller.name} : du nouveau sur votre commande {order.reference}"
    assert first.tracking_number in email.body and second.tracking_number in email.body
    assert "Votre colis est en cours de livraison" in email.body
    assert "Votre colis a été livré" in email.body
    assert f"/t/s/{first.public_token}/" in email.body
    sent = Notification.objects.filter(channel="email")
    assert sent.values("message_id").distinct().count() == 1
    # and a later change of the third parcel is its own email
    courier_says(third, scan("out_for_delivery"))
    sweep_later(timedelta(minutes=10))
    assert len(mail.outbox) == 2
    assert mail.outbox[1].subject.endswith("Votre colis est en cours de livraison")


@pytest.mark.django_db
def test_the_same_status_is_never_notified_twice_for_a_shipment():
    # given a parcel out for delivery, notified
    shipment = ShipmentFactory()
    courier_says(shipment, scan("out_for_delivery", hours_ago=5))
    sweep_later()
    # when the courier goes back and forth and repeats "out for delivery" (failed attempt, new
    # round) and the outbox is recorded again for the same change
    courier_says(shipment, scan("failed_attempt", hours_ago=4))
    courier_says(shipment, scan("out_for_delivery", hours_ago=1))
    courier_says(shipment, scan("out_for_delivery", hours_ago=1))
    sweep_later(timedelta(hours=1))
    # then out_for_delivery was emailed once, the failed attempt once
    emails = Notification.objects.filter(shipment=shipment, channel="email")
    assert sorted(emails.values_list("trigger", "state")) == [
        ("failed_attempt", "sent"),
        ("out_for_delivery", "sent"),
    ]
    assert len(mail.outbox) == 2


@pytest.mark.django_db
def test_sending_twice_sends_each_notification_once():
    # given one due notification
    shipment = ShipmentFactory()
    courier_says(shipment, scan("delivered"))
    later = timezone.now() + AFTER_WINDOW
    # when the job and the sweeper both run (one after the other)
    first = services.notifications_send(shipment_ids=[shipment.id], now=later)
    second = services.notifications_send(shipment_ids=[shipment.id], now=later)
    services.outbox_sweep(now=later)
    # then one email
    assert (first, second) == (1, 0)
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="SKIP LOCKED is PostgreSQL's")
def test_concurrent_senders_deliver_one_email_through_smtp(smtp_server):
    # given 20 parcels of 20 orders, each with a due email
    shipments = ShipmentFactory.create_batch(20)
    for shipment in shipments:
        courier_says(shipment, scan("delivered"))
    later = timezone.now() + AFTER_WINDOW
    barrier = threading.Barrier(6)

    def sender():
        barrier.wait()
        try:
            services.notifications_send(now=later)
        finally:
            connection.close()

    # when six workers send at the same instant
    threads = [threading.Thread(target=sender) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then the SMTP server received exactly one email per buyer
    recipients = sorted(rcpt for rcpts, _message in smtp_server for rcpt in rcpts)
    assert recipients == sorted(s.order.buyer_email for s in shipments)
    assert Notification.objects.filter(channel="email", state="sent").count() == 20


@pytest.mark.django_db
def test_seller_override_beats_the_marketplace_default(sms_outbox):
    # given a seller who turned buyer SMS on for "shipped" (off by default) and email off
    shipment = ShipmentFactory(order__buyer_phone="0612345678")
    NotificationRule.objects.create(
        seller=shipment.seller, trigger="shipped", audience="buyer", channel="sms", enabled=True
    )
    NotificationRule.objects.create(
        seller=shipment.seller, trigger="shipped", audience="buyer", channel="email", enabled=False
    )
    other = ShipmentFactory(order__buyer_phone="0612345679")
    # when both parcels ship
    for parcel in (shipment, other):
        courier_says(parcel, scan("info_received", hours_ago=3), scan("in_transit"))
    sweep_later()
    # then the seller's buyer got an SMS and no email, the other buyer the defaults
    assert [sms["to"] for sms in sms_outbox] == ["+33612345678"]
    assert [email.to for email in mail.outbox] == [[other.order.buyer_email]]


@pytest.mark.django_db
def test_a_buyer_without_a_valid_phone_is_logged_as_skipped(sms_outbox):
    # given a buyer whose phone cannot be a number
    shipment = ShipmentFactory(order__buyer_phone="06 12")
    # when the parcel is out for delivery
    courier_says(shipment, scan("out_for_delivery"))
    sweep_later()
    # then no SMS, and the log says why
    note = Notification.objects.get(channel="sms")
    assert (note.state, sms_outbox) == ("skipped", [])
    assert note.last_error.startswith("Invalid phone number")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("phone", "why"),
    [
        ("+33123456789", "+33123456789 is a landline: it cannot receive an SMS."),
        ("01 23 45 67 89", "+33123456789 is a landline: it cannot receive an SMS."),
        ("+33899999999", "+33899999999 is a premium-rate number: it cannot receive an SMS."),
    ],
)
def test_no_sms_goes_to_a_number_that_cannot_receive_one(sms_outbox, phone, why):
    # given a buyer whose number is a real one, but a landline or a premium-rate line
    shipment = ShipmentFactory(order__buyer_phone=phone)
    # when the parcel is out for delivery
    courier_says(shipment, scan("out_for_delivery"))
    sweep_later()
    # then nothing is sent (nor paid for) and the delivery log says why
    note = Notification.objects.get(channel="sms")
    assert (note.state, note.last_error, sms_outbox) == ("skipped", why, [])


@pytest.mark.django_db
def test_an_overseas_buyer_gets_the_sms_on_their_own_calling_code(sms_outbox):
    # given a Réunion buyer filed as France with a 974 postcode, number typed locally
    shipment = ShipmentFactory(order__buyer_phone="0692 12 34 56",
                               order__destination_postcode="97400")  # fmt: skip
    # when the parcel is out for delivery
    courier_says(shipment, scan("out_for_delivery"))
    sweep_later()
    # then the SMS goes to +262, not to a +33 number that does not exist
    assert [sms["to"] for sms in sms_outbox] == ["+262692123456"]


@pytest.mark.django_db
def test_status_changes_without_news_notify_nobody():
    # given a parcel whose courier only acknowledged the label
    shipment = ShipmentFactory()
    # when that is ingested
    courier_says(shipment, scan("info_received"))
    # then no buyer notification (but a status_changed event would go to endpoints)
    assert Notification.objects.count() == 0


@pytest.mark.django_db
def test_default_rules_migration_is_idempotent():
    from importlib import import_module

    from django.apps import apps

    migration = import_module("notifications.migrations.0002_default_rules")
    returns = import_module("notifications.migrations.0004_return_rules")
    for create in (migration.create_defaults, returns.create_defaults) * 2:
        create(apps, None)
    defaults = NotificationRule.objects.filter(seller__isnull=True)
    assert defaults.count() == (8 + 4) * 3  # shipment triggers + return steps
    assert set(defaults.filter(channel="sms", enabled=True).values_list("trigger", flat=True)) == {
        "out_for_delivery",
        "available_for_pickup",
        "failed_attempt",
    }


@pytest.mark.django_db
@pytest.mark.time_machine(datetime(2026, 12, 3, 9, 0, tzinfo=UTC), tick=False)
def test_outbox_sweep_sends_the_email_only_once_its_consolidation_window_ends(settings):
    # given a 120-second window and a parcel out for delivery (its on-commit job never ran)
    settings.NOTIFICATION_CONSOLIDATION_SECONDS = 120
    shipment = ShipmentFactory(order__buyer_locale="en")
    courier_says(shipment, scan("out_for_delivery"))
    # when the sweeper runs a second before the window ends, then the email waits
    assert sweep_later(timedelta(seconds=119))["notifications"] == 0
    assert mail.outbox == []
    # and when it runs a second after, then it leaves
    assert sweep_later(timedelta(seconds=121))["notifications"] == 1
    assert len(mail.outbox) == 1
