"""A seller's (or the CRM's) webhook receiver: a real HTTP server that verifies Parcelle's
signature the way docs/webhooks.md tells receivers to, with the Standard Webhooks library
(``standardwebhooks``), not with our signing module."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass
class Receiver:
    """What the receiver was sent. It answers 401 to a bad signature, 500 to the first
    ``fail_first`` requests (an outage) or to all with ``always_fail``, and processes each event
    id once."""

    secret: str = ""
    fail_first: int = 0
    always_fail: bool = False
    url: str = ""
    requests: list[dict] = field(default_factory=list)
    processed: dict[str, dict] = field(default_factory=dict)  # event id -> body, once each
    bad_signatures: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def verify_signature(secret: str, body: bytes, headers: Mapping[str, str]) -> bool:
    """The receiver side: the standard's own verifier (5-minute tolerance, every signature of
    the header tried)."""
    try:
        Webhook(secret).verify(body, dict(headers), json_parse=False)
    except WebhookVerificationError:
        return False
    return True


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with receiver.lock:
                receiver.requests.append(
                    {"headers": dict(self.headers), "body": body, "path": self.path}
                )
                count = len(receiver.requests)
                signed = verify_signature(receiver.secret, body, self.headers)
                if not signed:
                    receiver.bad_signatures += 1
                    status = 401
                elif receiver.always_fail or count <= receiver.fail_first:
                    status = 500
                else:
                    event = json.loads(body)
                    # idempotent by message id (webhook-id, the event's id)
                    receiver.processed.setdefault(self.headers["webhook-id"], event)
                    status = 200
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"ok" if status == 200 else b"receiver says no")

        def log_message(self, *args):
            pass

    return Handler


@contextlib.contextmanager
def running_receiver(**options) -> Iterator[Receiver]:
    """A Receiver(**options) serving on a free 127.0.0.1 port at ``receiver.url``."""
    receiver = Receiver(**options)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def webhook_receiver():
    """Start receivers: ``webhook_receiver(secret=…, fail_first=…)`` returns a Receiver."""
    with contextlib.ExitStack() as stack:
        yield lambda **options: stack.enter_context(running_receiver(**options))
