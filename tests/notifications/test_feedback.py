"""Mail that bounces is noticed: providers' tracking webhooks (through django-anymail) and
Twilio's SMS status callbacks are recorded against the address, and later sends to a
hard-bounced, complaining or unreachable address are skipped with the reason.

The payloads are written after the providers' documented shapes (Postmark bounce and spam
complaint webhooks, SendGrid's event webhook, Twilio's status callback form fields)."""

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest
from django.core import mail

from notifications.models import DeliveryFeedback, Notification
from notifications.services import notifications_send
from tests.sellers.factories import OrderFactory
from tests.tracking.factories import ShipmentFactory

pytestmark = pytest.mark.django_db

SECRET = "parcelle-hooks:Zq8v1kP3"
AUTH = {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(SECRET.encode()).decode()}
TWILIO_TOKEN = "12345678901234567890123456789012"
NOW = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def providers(settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET, "MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_KEY}
    settings.TWILIO_AUTH_TOKEN = TWILIO_TOKEN
    settings.TWILIO_STATUS_CALLBACK_URL = ""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def postmark_bounce(email, *, message_id="883953f4-6105-42a2-a16a-77a8eac79483", id_=4323372036):
    return {
        "RecordType": "Bounce",
        "MessageStream": "outbound",
        "ID": id_,
        "Type": "HardBounce",
        "TypeCode": 1,
        "Name": "Hard bounce",
        "Tag": "shipment-delivered",
        "MessageID": message_id,
        "Metadata": {},
        "ServerID": 23,
        "Description": "The server was unable to deliver your message (ex: unknown user, "
        "mailbox not found).",
        "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
        "Email": email,
        "From": "suivi@parcelle.example",
        "BouncedAt": "2026-12-02T16:33:54.9070259Z",
        "DumpAvailable": False,
        "Inactive": True,
        "CanActivate": True,
        "Subject": "Votre colis est livré",
    }


def postmark_complaint(email):
    return {
        "RecordType": "SpamComplaint",
        "MessageStream": "outbound",
        "ID": 4323372099,
        "Type": "SpamComplaint",
        "TypeCode": 512,
        "Name": "Spam complaint",
        "Tag": "",
        "MessageID": "00000000-0000-4000-8000-000000000512",
        "ServerID": 23,
        "Description": "The subscriber explicitly marked this message as spam.",
        "Details": "Test spam complaint details",
        "Email": email,
        "From": "suivi@parcelle.example",
        "BouncedAt": "2026-12-02T17:01:00Z",
        "Subject": "Ihr Paket ist unterwegs",
    }


MAILGUN_KEY = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0"


def mailgun_failed(email, *, token="a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0"):
    """Mailgun's "failed" tracking webhook (permanent), signed with the webhook signing key:
    HMAC-SHA256 over timestamp + token."""
    timestamp = "1764700000"
    signature = hmac.new(
        MAILGUN_KEY.encode(), (timestamp + token).encode(), hashlib.sha256
    ).hexdigest()
    return {
        "signature": {"timestamp": timestamp, "token": token, "signature": signature},
        "event-data": {
            "event": "failed",
            "id": "G9Bn5sl1TC6nu79C8C0bwg",
            "timestamp": 1764700000.375624,
            "severity": "permanent",
            "reason": "bounce",
            "log-level": "error",
            "recipient": email,
            "delivery-status": {
                "code": 550,
                "message": "5.1.1 The email account that you tried to reach does not exist.",
                "description": "",
                "attempt-no": 1,
            },
            "message": {
                "headers": {
                    "to": email,
                    "message-id": "20261202163354.1.ABCDEF@mg.parcelle.example",
                    "from": "suivi@parcelle.example",
                    "subject": "Il tuo pacco è in consegna",
                },
            },
        },
    }


def pending_email(address, **order):
    shipment = ShipmentFactory(order=OrderFactory(buyer_email=address, **order))
    return Notification.objects.create(
        shipment=shipment, order=shipment.order, seller=shipment.seller, trigger="delivered",
        status_key="delivered", status="delivered", channel="email", recipient=address,
        next_attempt_at=NOW,
    )  # fmt: skip


def pending_sms(number, **order):
    shipment = ShipmentFactory(order=OrderFactory(buyer_phone=number, **order))
    return Notification.objects.create(
        shipment=shipment, order=shipment.order, seller=shipment.seller, trigger="delivered",
        status_key="delivered", status="delivered", channel="sms", recipient=number,
        next_attempt_at=NOW,
    )  # fmt: skip


def post_json(client, url, body, **headers):
    return client.post(url, json.dumps(body), content_type="application/json", **headers)


def test_postmark_hard_bounce_is_recorded_against_the_address_and_its_notification(client):
    # given an email sent through Postmark to a Belgian buyer, with Postmark's message id
    note = pending_email("h.lefevre@skynet.be", destination_country="BE")
    Notification.objects.filter(pk=note.pk).update(
        state="sent", provider_message_id="883953f4-6105-42a2-a16a-77a8eac79483"
    )
    # when Postmark posts its bounce webhook
    response = post_json(
        client, "/anymail/postmark/tracking/", postmark_bounce("H.Lefevre@skynet.be"), **AUTH
    )
    # then it is recorded, suppressing, against the address and the notification
    assert response.status_code == 200
    row = DeliveryFeedback.objects.get()
    assert (row.channel, row.address, row.event, row.suppresses, row.provider) == (
        "email", "h.lefevre@skynet.be", "bounced", True, "postmark",
    )  # fmt: skip
    assert row.notification_id == note.pk
    assert "550 5.1.1" in row.description


def test_provider_webhook_replayed_is_recorded_once(client):
    body = postmark_bounce("h.lefevre@skynet.be")
    post_json(client, "/anymail/postmark/tracking/", body, **AUTH)
    post_json(client, "/anymail/postmark/tracking/", body, **AUTH)
    assert DeliveryFeedback.objects.count() == 1


def test_provider_webhook_without_its_basic_auth_is_refused_and_records_nothing(client):
    wrong = {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(b"parcelle-hooks:guess").decode()}
    assert post_json(client, "/anymail/postmark/tracking/", postmark_bounce("a@b.de")).status_code
    response = post_json(client, "/anymail/postmark/tracking/", postmark_bounce("a@b.de"), **wrong)
    assert response.status_code in (400, 401, 403)
    assert not DeliveryFeedback.objects.exists()


def test_spam_complaint_and_mailgun_permanent_failure_suppress_the_address(client):
    post_json(client, "/anymail/postmark/tracking/", postmark_complaint("juergen@web.de"), **AUTH)
    response = post_json(
        client, "/anymail/mailgun/tracking/", mailgun_failed("giulia.rossi@libero.it"), **AUTH
    )
    assert response.status_code == 200
    rows = {r.address: r for r in DeliveryFeedback.objects.all()}
    assert rows["juergen@web.de"].event == "complained" and rows["juergen@web.de"].suppresses
    assert rows["giulia.rossi@libero.it"].event == "bounced"
    assert rows["giulia.rossi@libero.it"].suppresses


def test_mailgun_webhook_with_a_bad_signature_is_refused(client):
    body = mailgun_failed("giulia.rossi@libero.it")
    body["signature"]["signature"] = "0" * 64
    assert post_json(client, "/anymail/mailgun/tracking/", body, **AUTH).status_code != 200
    assert not DeliveryFeedback.objects.exists()


def test_later_email_to_a_hard_bounced_address_is_skipped_with_the_reason(client):
    # given a bounce recorded for one address
    post_json(client, "/anymail/postmark/tracking/", postmark_bounce("camille@laposte.net"), **AUTH)
    bounced = pending_email("camille@laposte.net")
    fine = pending_email("marie.dupont@free.fr")
    # when the outbox sends
    notifications_send(now=NOW)
    # then the bounced address gets nothing, with the reason in the delivery log
    bounced.refresh_from_db()
    assert bounced.state == "skipped"
    assert bounced.last_error.startswith("Suppressed: bounced (postmark, 2026-12-02)")
    # and the other buyer's email leaves as usual
    fine.refresh_from_db()
    assert fine.state == "sent"
    assert [m.to for m in mail.outbox] == [["marie.dupont@free.fr"]]


def test_a_soft_bounce_does_not_suppress(client):
    soft = {**postmark_bounce("anna@gmx.at"), "Type": "SoftBounce", "TypeCode": 4096}
    post_json(client, "/anymail/postmark/tracking/", soft, **AUTH)
    assert DeliveryFeedback.objects.get().event == "deferred"
    note = pending_email("anna@gmx.at", destination_country="AT")
    notifications_send(now=NOW)
    note.refresh_from_db()
    assert note.state == "sent"


def twilio_signature(url, params):
    """Twilio's documented algorithm, written out: the full URL, then each POST field name
    and value in field-name order, HMAC-SHA1 with the auth token, base64."""
    payload = url + "".join(f"{k}{params[k]}" for k in sorted(params))
    digest = hmac.new(TWILIO_TOKEN.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def twilio_callback(status, to, code=""):
    params = {
        "AccountSid": "AC" + "1" * 32,
        "ApiVersion": "2010-04-01",
        "From": "+33757000000",
        "MessageSid": "SM" + "e" * 30 + status[:2],
        "MessageStatus": status,
        "SmsSid": "SM" + "e" * 30 + status[:2],
        "SmsStatus": status,
        "To": to,
    }
    if code:
        params["ErrorCode"] = code
    return params


URL = "http://testserver/webhooks/sms/twilio/status/"


def test_twilio_status_callback_signed_is_recorded_and_suppresses_an_unknown_number(client):
    # given an SMS to a Réunion mobile number that Twilio says does not exist (30005)
    params = twilio_callback("undelivered", "+262692123456", "30005")
    # when Twilio calls back, signed
    response = client.post(URL, params, HTTP_X_TWILIO_SIGNATURE=twilio_signature(URL, params))
    # then the status is recorded against the number, suppressing
    assert response.status_code == 204
    row = DeliveryFeedback.objects.get()
    assert (row.channel, row.address, row.event, row.suppresses) == (
        "sms", "+262692123456", "failed", True,
    )  # fmt: skip
    assert row.description == "Twilio undelivered, error 30005"
    # and the next SMS to it is skipped with that reason
    note = pending_sms("+262692123456", destination_country="RE")
    notifications_send(now=NOW)
    note.refresh_from_db()
    assert note.state == "skipped" and "error 30005" in note.last_error


def test_twilio_status_callback_with_a_bad_signature_is_refused(client):
    params = twilio_callback("failed", "+447700900123", "30006")
    forged = twilio_signature(URL, {**params, "To": "+447700900999"})
    assert client.post(URL, params, HTTP_X_TWILIO_SIGNATURE=forged).status_code == 401
    assert client.post(URL, params).status_code == 401
    assert not DeliveryFeedback.objects.exists()


def test_twilio_temporary_failure_and_delivery_do_not_suppress(client):
    for params in (
        twilio_callback("undelivered", "+4915112345678", "30003"),  # handset off
        twilio_callback("delivered", "+32470123456"),
        twilio_callback("sent", "+32470123456"),  # intermediate: not recorded
    ):
        client.post(URL, params, HTTP_X_TWILIO_SIGNATURE=twilio_signature(URL, params))
    assert sorted(DeliveryFeedback.objects.values_list("event", "suppresses")) == [
        ("delivered", False), ("failed", False),
    ]  # fmt: skip


def test_twilio_status_callback_without_a_token_configured_answers_503(client, settings):
    settings.TWILIO_AUTH_TOKEN = ""
    params = twilio_callback("failed", "+33612345678", "30005")
    assert client.post(URL, params).status_code == 503


def test_twilio_sms_asks_for_status_callbacks_when_configured(settings):
    import responses

    from notifications.sms import TwilioSmsBackend

    settings.TWILIO_STATUS_CALLBACK_URL = "https://parcelle.example/webhooks/sms/twilio/status/"
    with responses.RequestsMock() as http:
        http.post(
            "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json",
            json={"sid": "SM1"},
            status=201,
        )
        TwilioSmsBackend(account_sid="AC1", auth_token="t", sender="+33757000000").send(
            to="+33612345678", body="Votre colis arrive"
        )
        sent = http.calls[0].request.body
    assert (
        "StatusCallback=https%3A%2F%2Fparcelle.example%2Fwebhooks%2Fsms%2Ftwilio%2Fstatus%2F"
        in (sent)
    )
