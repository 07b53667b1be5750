"""SMS: the provider interface, its backends, and GSM-7 text that fits one segment.

    get_sms_backend().send(to="+33612345678", body="…") -> SmsResult

Backends (setting SMS_BACKEND, dotted path): ConsoleSmsBackend (development, the demo),
LocmemSmsBackend (tests: keeps messages in ``outbox``), TwilioSmsBackend (Twilio's Messages
API; settings TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM or
TWILIO_MESSAGING_SERVICE_SID).
"""

from __future__ import annotations

import logging
import sys
import unicodedata
from dataclasses import dataclass

import requests
from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

# One SMS segment: 160 characters of the GSM 03.38 alphabet. Anything else (an emoji, "ê")
# switches the whole message to UCS-2 and 70 characters, tripling the cost of a long one.
SMS_MAX_GSM_UNITS = 160
GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = set("^{}\\[~]|€")  # two units each (escape + character)
# Common letters outside GSM-7, written as close as the alphabet allows.
_REPLACEMENTS = {"ç": "c", "’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-", "…": "..."}


def gsm_units(text: str) -> int:
    return sum(2 if char in GSM_EXTENSION else 1 for char in text)


def to_gsm(text: str) -> str:
    """``text`` in the GSM-7 alphabet: accents GSM lacks (ê, ô, ç) lose them, the rest goes."""
    out = []
    for char in text:
        char = _REPLACEMENTS.get(char, char)
        if all(c in GSM_BASIC or c in GSM_EXTENSION for c in char):
            out.append(char)
            continue
        base = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode()
        out.append(base)
    return "".join(out)


def fit_sms(*, prefix: str, text: str, link: str) -> str:
    """ "<prefix>: <text> <link>" in GSM-7 and at most one segment; the text is shortened (never
    the link, which is the point of the message)."""
    prefix, text, link = to_gsm(prefix)[:30], to_gsm(text), to_gsm(link)
    budget = SMS_MAX_GSM_UNITS - gsm_units(f"{prefix}:  {link}")
    if gsm_units(text) > budget:
        while text and gsm_units(text) > budget - 3:
            text = text[:-1]
        text = text.rstrip() + "..."
    return f"{prefix}: {text} {link}"


@dataclass(frozen=True)
class SmsResult:
    provider_message_id: str


class SmsError(Exception):
    """The provider refused or could not be reached. ``permanent``: retrying cannot help
    (an invalid number), so the notification fails at once instead of retrying."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class SmsBackend:
    def send(self, *, to: str, body: str) -> SmsResult:
        raise NotImplementedError


class ConsoleSmsBackend(SmsBackend):
    def send(self, *, to: str, body: str) -> SmsResult:
        sys.stdout.write(f"SMS to {to}: {body}\n")
        return SmsResult(provider_message_id="console")


class LocmemSmsBackend(SmsBackend):
    outbox: list[dict[str, str]] = []  # shared, as django.core.mail's locmem outbox

    def send(self, *, to: str, body: str) -> SmsResult:
        LocmemSmsBackend.outbox.append({"to": to, "body": body})
        return SmsResult(provider_message_id=f"locmem-{len(LocmemSmsBackend.outbox)}")


class TwilioSmsBackend(SmsBackend):
    """Twilio Programmable Messaging: POST /2010-04-01/Accounts/{sid}/Messages.json, form
    encoded To/From (or MessagingServiceSid)/Body, HTTP basic auth with the account SID and
    auth token; 201 with the message's ``sid``, or 4xx with {"code", "message", "status"}."""

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        sender: str = "",
        messaging_service_sid: str = "",
        base_url: str = "https://api.twilio.com",
        timeout_seconds: float = 10,
    ) -> None:
        if not (sender or messaging_service_sid):
            raise ValueError("Twilio needs TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID")
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.sender = sender
        self.messaging_service_sid = messaging_service_sid
        self.base_url = base_url.rstrip("/")
        self.timeout_seconds = timeout_seconds

    def send(self, *, to: str, body: str) -> SmsResult:
        url = f"{self.base_url}/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        data = {"To": to, "Body": body}
        if settings.TWILIO_STATUS_CALLBACK_URL:
            # Twilio then tells us whether it arrived (notifications.views.twilio_status).
            data["StatusCallback"] = settings.TWILIO_STATUS_CALLBACK_URL
        if self.messaging_service_sid:
            data["MessagingServiceSid"] = self.messaging_service_sid
        else:
            data["From"] = self.sender
        try:
            response = requests.post(
                url,
                data=data,
                auth=(self.account_sid, self.auth_token),
                timeout=self.timeout_seconds,
            )
        except requests.RequestException as exc:
            raise SmsError(f"Twilio unreachable: {exc.__class__.__name__}") from exc
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        if response.status_code in (200, 201) and answer.get("sid"):
            return SmsResult(provider_message_id=answer["sid"])
        message = f"Twilio {response.status_code} {answer.get('code', '')}: " + str(
            answer.get("message", response.text[:200])
        )
        # 4xx other than throttling is about this message (bad number, unverified sender):
        # sending it again would fail again.
        permanent = 400 <= response.status_code < 500 and response.status_code != 429
        raise SmsError(message, permanent=permanent)


def get_sms_backend() -> SmsBackend:
    path = settings.SMS_BACKEND
    cls = import_string(path)
    if cls is TwilioSmsBackend:
        return TwilioSmsBackend(
            account_sid=settings.TWILIO_ACCOUNT_SID,
            auth_token=settings.TWILIO_AUTH_TOKEN,
            sender=settings.TWILIO_FROM,
            messaging_service_sid=settings.TWILIO_MESSAGING_SERVICE_SID,
            base_url=settings.TWILIO_BASE_URL,
        )
    return cls()
