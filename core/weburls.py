"""What a seller-supplied link may look like, in one place (branding links, the logo whose
origin goes into the tracking page's Content-Security-Policy).

A URL is accepted only as ``https://host[:port][/path][?query]``: a DNS host name (letters,
digits, hyphens, dots), no user-info, and none of the characters that end a CSP source or an
HTML attribute (whitespace, ``;``, ``,``, quotes, ``<``, ``>``, backslash). Django's
URLValidator lets ``https://a;sandbox;@evil.example/logo.png`` through (``a;sandbox;`` is
user-info), and its netloc injected ``sandbox`` into the page's policy."""

from __future__ import annotations

import re

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_STRICT_HTTPS_URL = re.compile(
    rf"https://(?P<host>{_LABEL}(?:\.{_LABEL})+)(?::(?P<port>[0-9]{{1,5}}))?"
    r"(?P<rest>[/?#][A-Za-z0-9\-._~%!$&()*+=:@/?#\[\]]*)?"
)
MAX_URL_LENGTH = 500


def strict_https_url(value: str) -> bool:
    """True when ``value`` is an https URL of the strict shape above."""
    if not value or len(value) > MAX_URL_LENGTH:
        return False
    match = _STRICT_HTTPS_URL.fullmatch(value)
    return bool(match) and (match["port"] is None or 0 < int(match["port"]) < 65536)


def https_origin(value: str) -> str:
    """``https://host[:port]`` of a strict URL (the CSP source of its images), else ""."""
    if not strict_https_url(value):
        return ""
    match = _STRICT_HTTPS_URL.fullmatch(value)
    port = f":{match['port']}" if match["port"] else ""
    return f"https://{match['host'].lower()}{port}"
