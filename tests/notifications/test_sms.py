import pytest
import responses
from django.utils import timezone

from notifications import services
from notifications.content import HEADLINES, SUPPORTED_LOCALES, render_buyer_sms
from notifications.models import Notification
from notifications.sms import GSM_BASIC, GSM_EXTENSION, gsm_units
from tests.support.ingest import courier_says, scan
from tests.tracking.factories import ShipmentFactory

TWILIO_URL = "https://api.twilio.com/2010-04-01/Accounts/AC123/Messages.json"


@pytest.fixture
def twilio(settings):
    settings.SMS_BACKEND = "notifications.sms.TwilioSmsBackend"
    settings.TWILIO_ACCOUNT_SID = "AC123"
    settings.TWILIO_AUTH_TOKEN = "token"
    settings.TWILIO_FROM = "+33700000000"
    with responses.RequestsMock() as mock:
        yield mock


@pytest.mark.django_db
def test_sms_goes_through_twilios_messages_api(twilio):
    # given Twilio accepting the message
    twilio.post(TWILIO_URL, status=201, json={"sid": "SM42", "status": "queued"})
    shipment = ShipmentFactory(order__buyer_phone="06 12 34 56 78", order__buyer_locale="it")
    # when the parcel is out for delivery and the outbox is sent
    courier_says(shipment, scan("out_for_delivery"))
    services.notifications_send(shipment_ids=[shipment.id], now=timezone.now())
    # then Twilio got a form-encoded request with the E.164 number, our sender, an Italian text
    request = twilio.calls[0].request
    form = dict(item.split("=", 1) for item in request.body.split("&"))
    assert form["To"] == "%2B33612345678" and form["From"] == "%2B33700000000"
    assert request.headers["Authorization"].startswith("Basic ")
    note = Notification.objects.get(channel="sms")
    assert (note.state, note.provider_message_id) == ("sent", "SM42")


@pytest.mark.django_db
def test_sms_refused_by_twilio_fails_without_retrying(twilio):
    # given Twilio refusing the number (a permanent error)
    twilio.post(
        TWILIO_URL,
        status=400,
        json={"code": 21211, "message": "The 'To' number is not valid.", "status": 400},
    )
    shipment = ShipmentFactory(order__buyer_phone="+33612345678")
    courier_says(shipment, scan("failed_attempt"))
    # when sent
    services.notifications_send(shipment_ids=[shipment.id], now=timezone.now())
    # then it failed for good, with Twilio's words in the log
    note = Notification.objects.get(channel="sms")
    assert note.state == "failed"
    assert "21211" in note.last_error


@pytest.mark.django_db
def test_sms_provider_outage_is_retried_later(twilio):
    # given Twilio down, then back
    twilio.post(TWILIO_URL, status=503, body="unavailable")
    twilio.post(TWILIO_URL, status=201, json={"sid": "SM43"})
    shipment = ShipmentFactory(order__buyer_phone="+33612345678")
    courier_says(shipment, scan("available_for_pickup"))
    now = timezone.now()
    # when sent, then swept after the backoff
    services.notifications_send(shipment_ids=[shipment.id], now=now)
    note = Notification.objects.get(channel="sms")
    assert (note.state, note.attempt_count) == ("pending", 1)
    services.notifications_send(now=note.next_attempt_at)
    # then it went out on the second attempt
    note.refresh_from_db()
    assert (note.state, note.provider_message_id, note.attempt_count) == ("sent", "SM43", 2)


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
@pytest.mark.django_db
def test_every_sms_fits_one_gsm_segment(locale):
    # given a seller with a long, accented name
    shipment = ShipmentFactory(seller__name="Fromagerie Père Gâtéçon & Fils — Épicerie fine")
    for trigger in HEADLINES:
        note = Notification(shipment=shipment, trigger=trigger)
        # when the SMS is written
        body = render_buyer_sms(notification=note, locale=locale)
        # then it is GSM-7 only, one segment, and ends with the tracking link
        assert set(body) <= GSM_BASIC | GSM_EXTENSION, body
        assert gsm_units(body) <= 160, body
        assert body.endswith(f"/t/s/{shipment.public_token}/")


@pytest.mark.django_db
def test_sms_sender_skips_a_queued_landline_and_says_why(twilio):
    # given an SMS queued to a mobile, whose recipient was later changed to a landline (or
    # queued before the mobile-only rule)
    shipment = ShipmentFactory(order__buyer_phone="06 12 34 56 78")
    courier_says(shipment, scan("out_for_delivery"))
    Notification.objects.filter(channel="sms").update(recipient="+33123456789")
    # when the outbox is sent
    services.notifications_send(shipment_ids=[shipment.id], now=timezone.now())
    # then Twilio is not called (the mock would fail on any request) and the log says why
    note = Notification.objects.get(channel="sms")
    assert (note.state, note.last_error) == (
        "skipped", "+33123456789 is a landline: it cannot receive an SMS."
    )  # fmt: skip
    assert len(twilio.calls) == 0
