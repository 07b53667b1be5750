"""Where outbound webhooks may go (server-side request forgery guard).

    endpoint saved (admin)   -> webhook_url_error(url): https only, a host name or a public
                                literal address, no user-info
    each delivery connection -> GuardedAdapter: resolve the host once, refuse any address that
                                is not public, connect to that very address (TLS still checks
                                the certificate against the host name), no proxy, no redirect

Checking at delivery time, on the address actually connected to, is what stops a name that
resolved to a public address when saved and to 169.254.169.254 (cloud metadata) or 127.0.0.1
later (DNS rebinding).

Loopback and plain http are allowed only with WEBHOOK_ALLOW_LOOPBACK (on by default under
DEBUG; the test suite's receivers listen on 127.0.0.1). Production refuses the setting: see
core/checks.py.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool


class BlockedAddress(OSError):
    """The endpoint's host resolved to an address webhooks must not reach."""


def loopback_allowed() -> bool:
    return settings.WEBHOOK_ALLOW_LOOPBACK


def address_error(address: str) -> str:
    """Why webhooks must not connect to ``address`` (an IP literal), or "" when they may."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip.is_loopback and loopback_allowed():
        return ""
    if not ip.is_global or ip.is_multicast:
        return f"{address} is not a public internet address"
    return ""


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (the system resolver; tests swap this function)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def webhook_url_error(url: str) -> str:
    """Why ``url`` cannot be a webhook endpoint, or "" when it can (checked when saved; the
    addresses it resolves to are checked again at every delivery)."""
    parts = urlsplit(url.strip())
    allowed_schemes = {"https", "http"} if (settings.DEBUG or loopback_allowed()) else {"https"}
    if parts.scheme not in allowed_schemes:
        return "Webhook endpoints must use https://."
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return "A webhook URL cannot carry a user name or password."
    host = parts.hostname or ""
    if not host:
        return "A webhook URL needs a host name."
    try:
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        return "The port of this webhook URL is not valid."
    if host == "localhost" or host.endswith(".localhost"):
        host = "127.0.0.1"
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return ""  # a name: its addresses are checked when connecting
    error = address_error(host)
    return f"Webhooks cannot be sent there: {error}." if error else ""


def _public_connection(host: str, port: int, timeout, source_address, options):
    """A socket to the first resolved address of ``host`` that is allowed (all of them are
    checked: one forbidden address refuses the host, so a round-robin cannot sneak one in)."""
    addresses = resolve(host, port)
    for address in addresses:
        if error := address_error(address):
            raise BlockedAddress(f"webhook to {host} refused: {error}")
    if not addresses:
        raise BlockedAddress(f"webhook to {host} refused: it resolves to no address")
    last: OSError | None = None
    for address in addresses:
        try:
            sock = socket.create_connection((address, port), timeout, source_address)
        except OSError as exc:
            last = exc
            continue
        for option in options or ():
            sock.setsockopt(*option)
        return sock
    raise last or BlockedAddress(f"webhook to {host}: no address answered")


class _GuardedHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        return _public_connection(
            self._dns_host, self.port, self.timeout, self.source_address, self.socket_options
        )


class _GuardedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        return _public_connection(
            self._dns_host, self.port, self.timeout, self.source_address, self.socket_options
        )


class _GuardedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class GuardedAdapter(HTTPAdapter):
    """A requests transport whose connections go only to allowed, freshly checked addresses."""

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _GuardedHTTPConnectionPool,
            "https": _GuardedHTTPSConnectionPool,
        }


def guarded_session():
    """A requests Session for webhooks: guarded connections, no environment proxy (a proxy
    would connect on our behalf, past the check), no redirects (set per request)."""
    session = requests.Session()
    session.trust_env = False
    adapter = GuardedAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
