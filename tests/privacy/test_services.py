"""A buyer's personal data: export, erasure (ledger and audit kept), the retention policy."""

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from core.errors import NotFound
from notifications.models import DeliveryFeedback, Notification
from payouts.models import JournalEntry, JournalLine, Payout
from payouts.services import ledger_check, payout_release
from privacy.models import PrivacyRequest
from privacy.services import (
    PrivacyError,
    buyer_data_erase,
    buyer_data_export,
    retention_apply,
    subject_digest,
)
from returns.models import ReturnPhoto
from sellers.models import Order
from tests.returns.factories import delivered_order, requested_return
from tests.sellers.factories import OrderFactory, SellerFactory, UserFactory
from tests.tracking.factories import ShipmentFactory, TrackingEventFactory
from tracking.models import ProofOfDelivery, RawPayload, ShipmentAudit, ShipmentNote
from tracking.services.payloads import raw_payload_build

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
HELENE = {
    "buyer_name": "Hélène Lefèvre",
    "buyer_email": "Helene.Lefevre@orange.fr",
    "buyer_phone": "+262692123456",
    "destination_country": "FR",
    "destination_postcode": "97400",
}


def _notify(shipment, channel, recipient, state="sent"):
    return Notification.objects.create(
        shipment=shipment, order=shipment.order, seller=shipment.seller, trigger="delivered",
        status_key=f"delivered-{channel}", status="delivered", channel=channel,
        recipient=recipient, state=state, last_error="550 5.1.1 <helene.lefevre@orange.fr>",
    )  # fmt: skip


@pytest.fixture
def helene(settings, tmp_path):
    """Hélène (Saint-Denis, La Réunion): a released order with a courier POD, a second order
    with a return and its photo, notifications, a raw courier answer and a CS note; and a
    buyer in Köln who must keep everything."""
    settings.MEDIA_ROOT = tmp_path
    with time_machine.travel(NOW, tick=False):
        first, _lamp, _shade = delivered_order(reference="MAI-20261104-0007", **HELENE)
        payout = Payout.objects.get(order=first)
        payout.buyer_confirmed_at = timezone.now()
        payout.save()
        payout_release(payout=payout, actor=None)
        shipment = first.shipments.get()
        raw = raw_payload_build(
            carrier="laposte", kind="poll",
            body=b'{"shipment": {"recipient": "Helene Lefevre", "city": "Saint-Denis"}}',
        )  # fmt: skip
        raw.save()
        TrackingEventFactory(
            shipment=shipment, status="delivered", message="Remis en main propre à H. LEFEVRE",
            raw_payload=raw, city="Saint-Denis", postcode="97400", country="RE",
        )  # fmt: skip
        _notify(shipment, "email", "helene.lefevre@orange.fr")
        _notify(shipment, "sms", "+262692123456")
        ShipmentNote.objects.create(shipment=shipment, body="Mme Lefèvre rappelle au 0692 12 34 56")
        ShipmentAudit.objects.create(shipment=shipment, action="resync_requested")
        DeliveryFeedback.objects.create(
            channel="sms", address="+262692123456", event="failed", suppresses=True,
            provider="twilio", description="Twilio undelivered, error 30005", occurred_at=NOW,
        )  # fmt: skip
        second_return = requested_return(photo=True)
        second = second_return.order
        Order.objects.filter(pk=second.pk).update(
            **{**HELENE, "buyer_email": "helene.lefevre@ORANGE.fr"}, reference="MAI-20261120-0031"
        )
        second_return.description = "La lampe est arrivée rayée"
        second_return.save()
        jurgen = OrderFactory(
            reference="MAI-20261201-0450", buyer_name="Jürgen Weiß",
            buyer_email="juergen.weiss@web.de", buyer_phone="+4915112345678",
            destination_country="DE", destination_postcode="50667",
        )  # fmt: skip
        _notify(ShipmentFactory(order=jurgen), "email", "juergen.weiss@web.de")
    return {"first": first, "second": second, "jurgen": jurgen, "payout": payout, "raw": raw}


def test_buyer_data_export_gives_every_order_parcel_message_and_return_of_the_buyer(helene):
    # when the buyer asks what is held about them, by one of their order references
    data = buyer_data_export(actor=None, order_reference="MAI-20261104-0007")
    # then both of Hélène's orders come (same email, any case), not Jürgen's
    assert [o["reference"] for o in data["orders"]] == ["MAI-20261104-0007", "MAI-20261120-0031"]
    first = data["orders"][0]
    assert first["buyer_name"] == "Hélène Lefèvre" and first["buyer_phone"] == "+262692123456"
    assert first["shipments"][0]["proof_of_delivery"]["signed_by"] == "C. MARTIN"
    assert first["shipments"][0]["events"][-1]["message"] == "Remis en main propre à H. LEFEVRE"
    # (the second order's return was announced to the address it had then: exported too)
    assert {n["recipient"] for n in data["notifications"]} >= {
        "helene.lefevre@orange.fr", "+262692123456",
    }  # fmt: skip
    assert (
        len(data["notifications"]) == Notification.objects.exclude(order=helene["jurgen"]).count()
    )
    assert data["returns"][0]["description"] == "La lampe est arrivée rayée"
    assert "juergen" not in json.dumps(data)
    # and the export is audited without the data itself
    audit = PrivacyRequest.objects.get(kind="export")
    assert audit.looked_up_by == "order"
    assert audit.order_ids == [helene["first"].pk, helene["second"].pk]
    assert audit.subject_digest == subject_digest("helene.lefevre@orange.fr")
    assert (
        "lefevre"
        not in json.dumps({f.name: str(getattr(audit, f.name)) for f in audit._meta.fields}).lower()
    )


def test_buyer_data_erase_removes_personal_data_everywhere_and_keeps_the_ledger(
    helene, django_capture_on_commit_callbacks
):
    # given the ledger as it stands, and the files on disk
    admin = UserFactory(username="dpo-lyon")
    entries_before = list(JournalLine.objects.order_by("id").values_list("account", "amount"))
    photo = ReturnPhoto.objects.get(request__order=helene["second"])
    photo_name = photo.file.name
    assert default_storage.exists(photo_name)
    # when Hélène asks to be forgotten, by email
    # (an erasure rolled back by its caller deletes no file)
    with pytest.raises(RuntimeError), transaction.atomic():
        buyer_data_erase(actor=admin, email="helene.lefevre@orange.fr")
        raise RuntimeError("rolled back")
    assert default_storage.exists(photo_name)
    assert Order.objects.filter(buyer_name="Hélène Lefèvre").count() == 2
    with django_capture_on_commit_callbacks(execute=True):
        audit = buyer_data_erase(actor=admin, email="helene.lefevre@orange.fr")
    # then no order of hers names, mails or phones her
    for order in (helene["first"], helene["second"]):
        order.refresh_from_db()
        assert (order.buyer_name, order.buyer_email, order.buyer_phone) == ("", "", "")
        # the lane the dashboards count stays
        assert (order.destination_country, order.destination_postcode) == ("FR", "97400")
    # her notifications' recipients and errors are gone, the rows stay for the counts
    notes = Notification.objects.filter(order=helene["first"])
    assert notes.count() == 2
    assert all(n.recipient.startswith("erased-") and n.last_error == "" for n in notes)
    # the courier's raw answer, the words of the events, the POD signatory and link are gone
    assert not RawPayload.objects.filter(pk=helene["raw"].pk).exists()
    # what Twilio said about her number is gone too
    assert not DeliveryFeedback.objects.exists()
    event = helene["first"].shipments.get().events.get()
    assert (event.message, event.status, event.postcode) == ("", "delivered", "97400")
    pod = ProofOfDelivery.objects.get(shipment__order=helene["first"])
    assert pod.signed_by == "" and pod.documents == []
    assert ShipmentNote.objects.get(shipment__order=helene["first"]).body.startswith("[erased")
    # her return's words and photo are gone, its amounts stay
    ret = helene["second"].returns.get()
    assert ret.description == "" and ret.refund_amount == 1500
    assert not ReturnPhoto.objects.filter(pk=photo.pk).exists()
    assert not default_storage.exists(photo_name)
    # and the ledger, payouts and the audit trail are untouched and still balance
    assert list(JournalLine.objects.order_by("id").values_list("account", "amount")) == (
        entries_before
    )
    assert Payout.objects.get(pk=helene["payout"].pk).status == "released"
    assert JournalEntry.objects.filter(payout=helene["payout"], kind="release").exists()
    ledger_check()
    assert ShipmentAudit.objects.filter(action="resync_requested").count() == 1
    # and Jürgen keeps everything
    jurgen = Order.objects.get(pk=helene["jurgen"].pk)
    assert jurgen.buyer_email == "juergen.weiss@web.de"
    assert Notification.objects.get(order=jurgen).recipient == "juergen.weiss@web.de"
    # and the erasure is audited: who, how many, a digest of whom, never the data
    assert audit.actor == admin and audit.actor_label == "dpo-lyon" and audit.kind == "erasure"
    assert audit.counts["orders"] == 2 and audit.counts["files"] == 1
    assert "lefevre" not in json.dumps([audit.counts, audit.order_ids, audit.subject_digest])


def test_buyer_data_erase_twice_changes_nothing_more(helene):
    buyer_data_erase(actor=None, order_reference="MAI-20261104-0007")
    again = buyer_data_erase(actor=None, order_reference="MAI-20261104-0007")
    assert again.counts["raw_payloads"] == 0 and again.counts["files"] == 0
    ledger_check()


def test_ledger_check_command_passes_after_an_erasure(helene, capsys):
    buyer_data_erase(actor=None, email="helene.lefevre@orange.fr")
    call_command("payouts", "check_ledger")
    assert json.loads(capsys.readouterr().out)["released"] == 1


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({}, PrivacyError),
        ({"email": "a@b.fr", "order_reference": "X"}, PrivacyError),
        ({"email": "nobody@example.be"}, NotFound),
        ({"order_reference": "MAI-00000000-0000"}, NotFound),
    ],
)
def test_buyer_data_erase_refuses_bad_input_and_changes_nothing(helene, kwargs, error):
    with pytest.raises(error):
        buyer_data_erase(actor=None, **kwargs)
    assert Order.objects.filter(buyer_name="Hélène Lefèvre").count() == 2
    assert not PrivacyRequest.objects.exists()


def test_retention_apply_erases_what_is_past_each_window_and_nothing_else(
    helene, settings, django_capture_on_commit_callbacks
):
    # given the defaults: contacts 730 days, delivery logs 365, POD files 540, photos 180
    assert settings.PRIVACY_RETENTION_DAYS == {
        "buyer_contact": 730, "delivery_log": 365, "pod_file": 540, "return_photo": 180,
    }  # fmt: skip
    pod = ProofOfDelivery.objects.get(shipment__order=helene["first"])
    pod.uploaded_file.save("pod-helene.png", ContentFile(b"png"), save=True)
    pod_name = pod.uploaded_file.name
    ProofOfDelivery.objects.filter(pk=pod.pk).update(created_at=NOW)
    # when the job runs 200 days later: only the return photo is past its window
    later = retention_apply(now=NOW + timedelta(days=200))
    assert later == {"orders": 0, "notifications": 0, "files": 1}
    assert not ReturnPhoto.objects.exists()
    assert Order.objects.filter(buyer_name="Hélène Lefèvre").count() == 2
    # 400 days later: the delivery logs are pseudonymised (Jürgen's too: it is age, not person)
    later = retention_apply(now=NOW + timedelta(days=400))
    assert later["notifications"] == 3 and later["orders"] == 0
    # (a row still waiting to be sent is the sender's, not yet a log)
    assert (
        not Notification.objects.exclude(recipient__startswith="erased-")
        .exclude(state="pending")
        .exists()
    )
    # 600 days later: the uploaded POD file
    with django_capture_on_commit_callbacks(execute=True):
        assert retention_apply(now=NOW + timedelta(days=600))["files"] == 1
    assert not default_storage.exists(pod_name)
    # 800 days later: every buyer's contact details, the ledger still sound
    assert retention_apply(now=NOW + timedelta(days=800))["orders"] == 3
    assert not Order.objects.exclude(buyer_email="").exists()
    ledger_check()
    # and a second run finds nothing left, writing no audit row
    runs = PrivacyRequest.objects.filter(kind="retention").count()
    assert retention_apply(now=NOW + timedelta(days=800)) == {
        "orders": 0, "notifications": 0, "files": 0,
    }  # fmt: skip
    assert PrivacyRequest.objects.filter(kind="retention").count() == runs == 4


def test_retention_is_a_daily_schedule():
    from django_q.models import Schedule

    from core.schedules import schedules_ensure

    schedules_ensure()
    schedule = Schedule.objects.get(name="privacy.apply_retention")
    assert (schedule.func, schedule.schedule_type) == ("privacy.tasks.apply_retention", "D")


def test_privacy_command_exports_erases_and_refuses_bad_input(helene, capsys):
    UserFactory(username="dpo")
    call_command("privacy", "export", "--email", "HELENE.LEFEVRE@orange.fr")
    exported = json.loads(capsys.readouterr().out)
    assert len(exported["orders"]) == 2
    call_command("privacy", "erase", "--order", "MAI-20261120-0031", "--actor", "dpo")
    erased = json.loads(capsys.readouterr().out)
    assert erased["erased"]["orders"] == 2
    assert PrivacyRequest.objects.get(pk=erased["audit_id"]).actor_label == "dpo"
    with pytest.raises(SystemExit) as exit_:
        call_command("privacy", "erase", "--email", "nobody@example.co.uk")
    assert exit_.value.code == 1
    assert capsys.readouterr().err == "error: No order has this email address.\n"


def test_seller_of_other_buyers_is_not_touched_by_a_seller_named_like_the_buyer():
    # a seller's own name is not buyer data: erasing a buyer never renames a shop
    seller = SellerFactory(name="Hélène Lefèvre Créations")
    order = OrderFactory(seller=seller, **HELENE)
    buyer_data_erase(actor=None, email=HELENE["buyer_email"])
    seller.refresh_from_db()
    order.refresh_from_db()
    assert seller.name == "Hélène Lefèvre Créations" and order.buyer_name == ""
