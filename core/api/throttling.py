"""API request budgets per caller, announced with the IETF RateLimit header fields
(draft-ietf-httpapi-ratelimit-headers):

    RateLimit-Policy: default;q=600;w=60     600 requests per 60-second window
    RateLimit: default;r=598;t=41            598 left in this window, which ends in 41 s

A caller is its API token (every web node counts the same token: the counter is in the cache,
Redis in production, incremented atomically), else the signed-in user, else the address. Past
the quota the answer is 429 with ``Retry-After`` (the same moment as ``t``), in the API's error
body. Fixed windows: simple, one counter per caller and window.
"""

from __future__ import annotations

import math
import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

from core.clientip import client_ip

POLICY = "default"


def _caller(request) -> str:
    token = getattr(request, "auth", None)
    if token is not None and getattr(token, "pk", None) is not None:
        return f"token:{token.pk}"
    if request.user and request.user.is_authenticated:
        return f"user:{request.user.pk}"
    return f"ip:{client_ip(request)}"


class ApiRateThrottle(BaseThrottle):
    """The default throttle of every API view (REST_FRAMEWORK in config/settings.py)."""

    def allow_request(self, request, view) -> bool:
        quota = settings.API_RATE_LIMIT_REQUESTS
        window = settings.API_RATE_LIMIT_WINDOW_SECONDS
        now = time.time()
        window_start = int(now // window) * window
        key = f"api-rl:{_caller(request)}:{window_start}"
        # add() then incr(): atomic on Redis, so concurrent requests on several nodes never
        # lose a count (a get-then-set would)
        cache.add(key, 0, timeout=window + 1)
        try:
            used = cache.incr(key)
        except ValueError:  # evicted between add and incr: this request opens the window
            cache.set(key, 1, timeout=window + 1)
            used = 1
        self.reset_seconds = max(1, math.ceil(window_start + window - now))
        # the headers are written by RateLimitHeadersMiddleware from the Django request
        request._request.rate_limit = {
            "policy": f"{POLICY};q={quota};w={window}",
            "limit": f"{POLICY};r={max(0, quota - used)};t={self.reset_seconds}",
        }
        return used <= quota

    def wait(self) -> float:
        return self.reset_seconds


class RateLimitHeadersMiddleware:
    """Adds the RateLimit fields to every API answer that a throttle counted (429s included)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        rate_limit = getattr(request, "rate_limit", None)
        if rate_limit:
            response["RateLimit-Policy"] = rate_limit["policy"]
            response["RateLimit"] = rate_limit["limit"]
        return response
