"""Real local servers for the notification tests: an SMTP server (aiosmtpd) and an HTTP
webhook receiver that verifies Parcelle's signature the way docs/webhooks.md tells receivers
to."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller

from notifications.sms import LocmemSmsBackend


@pytest.fixture(autouse=True)
def sms_outbox(settings):
    """Every test sends SMS to memory unless it picks another backend."""
    settings.SMS_BACKEND = "notifications.sms.LocmemSmsBackend"
    LocmemSmsBackend.outbox.clear()
    yield LocmemSmsBackend.outbox
    LocmemSmsBackend.outbox.clear()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Collect:
    def __init__(self) -> None:
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.messages.append(
            (list(envelope.rcpt_tos), message_from_bytes(envelope.content, policy=policy.default))
        )
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server(settings):
    """aiosmtpd on a free 127.0.0.1 port, Django's SMTP backend pointed at it. Yields the list
    of (envelope recipients, parsed message) that arrived."""
    handler = _Collect()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    try:
        yield handler.messages
    finally:
        controller.stop()


@dataclass
class Receiver:
    """A seller's or the CRM's webhook receiver: verifies the signature, answers 500 to the
    first ``fail_first`` requests (an outage), processes each event id once."""

    secret: str = ""
    fail_first: int = 0
    always_fail: bool = False
    url: str = ""
    requests: list[dict] = field(default_factory=list)
    processed: dict[str, dict] = field(default_factory=dict)  # event id -> body, once each
    bad_signatures: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def verify_signature(secret: str, body: bytes, header: str, tolerance: int = 300) -> bool:
    """The receiver side, written from the documentation (not from our signing module)."""
    fields = dict(item.split("=", 1) for item in header.split(","))
    timestamp = fields.get("t", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > tolerance:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return hmac.compare_digest(expected.hexdigest(), fields.get("v1", ""))


def _handler(receiver: Receiver):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with receiver.lock:
                receiver.requests.append(
                    {"headers": dict(self.headers), "body": body, "path": self.path}
                )
                count = len(receiver.requests)
                signed = verify_signature(
                    receiver.secret, body, self.headers.get("Parcelle-Signature", "")
                )
                if not signed:
                    receiver.bad_signatures += 1
                    status = 401
                elif receiver.always_fail or count <= receiver.fail_first:
                    status = 500
                else:
                    event = json.loads(body)
                    receiver.processed.setdefault(event["id"], event)  # idempotent by event id
                    status = 200
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"ok" if status == 200 else b"receiver says no")

        def log_message(self, *args):
            pass

    return Handler


@pytest.fixture
def webhook_receiver():
    """Start receivers on free ports: ``make(secret=…, fail_first=…)`` returns a Receiver."""
    servers = []

    def make(**options) -> Receiver:
        receiver = Receiver(**options)
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
        return receiver

    yield make
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture(autouse=True)
def default_rules(request):
    """The migration's default rules in every database test (a transactional test before this
    one flushed the rows the migration had created)."""
    marker = request.node.get_closest_marker("django_db")
    if marker is not None:
        from importlib import import_module

        from django.apps import apps

        transactional = marker.kwargs.get("transaction", False)
        request.getfixturevalue("transactional_db" if transactional else "db")
        import_module("notifications.migrations.0002_default_rules").create_defaults(apps, None)
