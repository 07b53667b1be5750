"""The caller's address, one definition for every limit that counts per address (the buyer
pages' rate limits, the login throttle)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The caller's address: REMOTE_ADDR, or the address our own proxies saw when
    TRACKING_TRUSTED_PROXY_COUNT says how many of them append to X-Forwarded-For (the entries
    further left are the client's say-so and cannot be trusted)."""
    proxies = settings.TRACKING_TRUSTED_PROXY_COUNT
    if proxies > 0:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        hops = [h for h in hops if h]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR", "")
