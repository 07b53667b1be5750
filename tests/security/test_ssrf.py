"""Issue 14, item 6: webhook endpoints cannot be pointed at our own network.

Before: the admin accepted ``http://169.254.169.254/latest/meta-data/`` (cloud metadata),
loopback, private and non-http URLs, the delivery job POSTed there and the reply was stored and
shown. Now URLs are https only, literal addresses must be public, and at delivery time the
host is resolved once, every address checked, and the connection made to that checked address
(a name that resolved to a public address when saved and to 127.0.0.1 later is refused).

No test needs the internet: names resolve through a resolver the test controls
(``notifications.urlguard.resolve``), and the only receiver is a local one on 127.0.0.1.
"""

import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from notifications import urlguard
from notifications.models import (
    EventType,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from notifications.services.webhooks import RESPONSE_EXCERPT_BYTES, webhook_deliveries_send
from tests.notifications.factories import WebhookEndpointFactory
from tests.sellers.factories import SellerFactory

pytestmark = pytest.mark.django_db

ADD_URL = "/admin/notifications/webhookendpoint/add/"


@pytest.fixture
def production(settings):
    """What production runs: DEBUG off, loopback not allowed (the suite's default allows it)."""
    settings.DEBUG = False
    settings.WEBHOOK_ALLOW_LOOPBACK = False
    return settings


@pytest.fixture
def dns(monkeypatch):
    """A resolver the test controls: ``dns["hooks.example"] = ["127.0.0.1"]``."""
    table: dict[str, list[str]] = {}
    asked: list[str] = []

    def resolve(host, port):
        asked.append(host)
        return list(table[host])

    monkeypatch.setattr(urlguard, "resolve", resolve)
    table["asked"] = asked
    return table


class _Receiver:
    def __init__(self, status=200, body=b"ok", location=""):
        self.status, self.body, self.location = status, body, location
        self.requests: list[dict] = []


@pytest.fixture
def receiver():
    """A local HTTP receiver on 127.0.0.1 recording what reaches it."""
    servers = []

    def make(**options) -> _Receiver:
        state = _Receiver(**options)

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                self.rfile.read(length)
                state.requests.append({"path": self.path, "host": self.headers.get("Host")})
                self.send_response(state.status)
                if state.location:
                    self.send_header("Location", state.location)
                self.send_header("Content-Length", str(len(state.body)))
                self.end_headers()
                self.wfile.write(state.body)

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        state.port = server.server_address[1]
        return state

    yield make
    for server in servers:
        server.shutdown()
        server.server_close()


def _deliver_to(url: str) -> WebhookAttempt:
    """One event for an endpoint at ``url`` (stored as it was before the rule), sent by the
    delivery job; its attempt."""
    seller = SellerFactory()
    endpoint = WebhookEndpointFactory(seller=seller, url=url)
    event = WebhookEvent.objects.create(
        type=EventType.choices[0][0], seller=seller, source_key=f"ssrf:{url}", payload={"a": 1}
    )
    delivery = WebhookDelivery.objects.create(event=event, endpoint=endpoint)
    webhook_deliveries_send(ids=[delivery.id])
    return WebhookAttempt.objects.get(delivery=delivery)


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "https://169.254.169.254/latest/meta-data/",
        "https://127.0.0.1:8000/admin/",
        "https://localhost/hooks",
        "https://10.0.0.5/hooks",
        "https://192.168.1.1/hooks",
        "https://[::1]/hooks",
        "https://[::ffff:127.0.0.1]/hooks",
        "https://[fd00::1]/hooks",
        "https://0.0.0.0/hooks",
        "http://hooks.example/plain-http",
        "ftp://hooks.example/file",
        "https://user:secret@hooks.example/hooks",
    ],
)
def test_ssrf_the_admin_refuses_an_internal_or_non_https_endpoint(admin_client, production, url):
    response = admin_client.post(
        ADD_URL,
        {"name": "x", "url": url, "event_types": [EventType.choices[0][0]], "is_active": "on"},
    )

    assert response.status_code == 200  # the form again, with the error at the field
    assert response.context["adminform"].form.errors["url"]
    assert not WebhookDelivery.objects.exists()
    assert not WebhookEndpoint.objects.filter(url=url).exists()


def test_ssrf_the_admin_keeps_a_public_https_endpoint(admin_client, production):
    response = admin_client.post(
        ADD_URL,
        {
            "name": "CRM",
            "url": "https://hooks.crm.example/parcelle",
            "event_types": [EventType.choices[0][0]],
            "is_active": "on",
        },
    )

    assert response.status_code == 302


def test_ssrf_a_name_resolving_to_loopback_is_refused_at_delivery(production, dns, receiver):
    # given an endpoint whose name now resolves to this machine, where something listens
    local = receiver()
    dns["hooks.example"] = ["127.0.0.1"]

    attempt = _deliver_to(f"http://hooks.example:{local.port}/hooks")

    # then nothing reached it and the attempt says why
    assert local.requests == []
    assert attempt.succeeded is False
    assert "127.0.0.1 is not a public internet address" in attempt.error
    assert attempt.response_excerpt == ""


def test_ssrf_dns_rebinding_after_validation_is_refused(admin_client, production, dns):
    # given a name that resolved to a public address when the endpoint was saved
    dns["rebind.example"] = ["93.184.216.34"]
    assert urlguard.webhook_url_error("https://rebind.example/hooks") == ""
    # when it resolves to the metadata service by the time an event is sent
    dns["rebind.example"] = ["169.254.169.254"]

    attempt = _deliver_to("https://rebind.example/hooks")

    assert attempt.succeeded is False
    assert "169.254.169.254 is not a public internet address" in attempt.error


def test_ssrf_one_private_address_among_public_ones_refuses_the_host(production, dns):
    dns["mixed.example"] = ["93.184.216.34", "10.1.2.3"]

    attempt = _deliver_to("https://mixed.example/hooks")

    assert "10.1.2.3 is not a public internet address" in attempt.error


def test_ssrf_the_connection_goes_to_the_address_that_was_checked(settings, dns, receiver):
    # given loopback allowed (the tests' switch) and a name only our resolver knows
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    local = receiver()
    dns["hooks.example"] = ["127.0.0.1"]

    attempt = _deliver_to(f"http://hooks.example:{local.port}/hooks")

    # then the POST reached the checked address, still addressed to the host name, and the
    # system resolver was never asked (it does not know hooks.example)
    assert attempt.succeeded is True
    assert local.requests == [{"path": "/hooks", "host": f"hooks.example:{local.port}"}]
    assert dns["asked"] == ["hooks.example"]


def test_ssrf_redirects_are_not_followed(settings, dns, receiver):
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    inner = receiver()
    outer = receiver(status=307, location=f"http://127.0.0.1:{inner.port}/internal")
    dns["hooks.example"] = ["127.0.0.1"]

    attempt = _deliver_to(f"http://hooks.example:{outer.port}/hooks")

    assert attempt.succeeded is False
    assert attempt.status_code == 307
    assert inner.requests == []


def test_ssrf_only_a_short_excerpt_of_the_reply_is_kept(settings, dns, receiver):
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    local = receiver(status=500, body=b"x" * 1_000_000)
    dns["hooks.example"] = ["127.0.0.1"]

    attempt = _deliver_to(f"http://hooks.example:{local.port}/hooks")

    assert len(attempt.response_excerpt) == RESPONSE_EXCERPT_BYTES


def test_ssrf_production_refuses_the_loopback_switch():
    root = Path(__file__).resolve().parents[2]
    environ = {k: v for k, v in os.environ.items() if k != "WEBHOOK_ALLOW_LOOPBACK"}
    production = {
        "DEBUG": "0",
        "SECRET_KEY": "a-long-random-production-key-" + "k7Qz9" * 10,
        "ALLOWED_HOSTS": "parcelle.example",
        "REDIS_URL": "redis://127.0.0.1:6379/6",
    }

    def run(*args, **env):
        return subprocess.run(  # noqa: S603 - our own manage.py
            [sys.executable, "manage.py", *args], cwd=root, capture_output=True, text=True,
            env={**environ, **production, **env}, timeout=120, check=False,
        )  # fmt: skip

    switched_on = run("check", WEBHOOK_ALLOW_LOOPBACK="1")
    default = run(
        "shell", "-c", "from django.conf import settings as s; print(s.WEBHOOK_ALLOW_LOOPBACK)"
    )

    assert switched_on.returncode != 0
    assert "parcelle.E102" in switched_on.stderr
    assert default.stdout.strip().splitlines()[-1] == "False"
