"""The public side of the buyer tracking pages: language choice, per-IP rate limit, response
cache keys and security headers. No models here; the views (tracking/buyer/views.py) put it
together.

Settings (all optional, defaults in brackets):
    TRACKING_PAGE_RATE_LIMIT        page requests per client IP per minute [120]
    TRACKING_LOOKUP_RATE_LIMIT      order look-up attempts per client IP per 15 minutes [10]
    TRACKING_LOOKUP_REFERENCE_RATE_LIMIT  look-up attempts on one order reference, from any
                                    address, per 15 minutes [10]
    TRACKING_PAGE_CACHE_SECONDS     how long a rendered page is kept for one parcel state [300]
    TRACKING_PAGE_POLL_SECONDS      how often an open page asks for news while parcels move [60]
    TRACKING_TRUSTED_PROXY_COUNT    proxies in front of us that append to X-Forwarded-For [0]
"""

from __future__ import annotations

import base64
import hashlib
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.translation import gettext as _

from core import csp
from core.clientip import client_ip
from core.weburls import https_origin

LANGUAGE_PARAM = "lang"
PAGE_WINDOW_SECONDS = 60
LOOKUP_WINDOW_SECONDS = 15 * 60
# Bump when the templates change shape, so pages cached by the previous release are not served.
PAGE_CACHE_VERSION = 1


def page_rate_limit() -> int:
    return settings.TRACKING_PAGE_RATE_LIMIT


def lookup_rate_limit() -> int:
    return settings.TRACKING_LOOKUP_RATE_LIMIT


def lookup_reference_rate_limit() -> int:
    return settings.TRACKING_LOOKUP_REFERENCE_RATE_LIMIT


def page_cache_seconds() -> int:
    return settings.TRACKING_PAGE_CACHE_SECONDS


def poll_seconds() -> int:
    return settings.TRACKING_PAGE_POLL_SECONDS


# --- Language -----------------------------------------------------------------------------------


def supported_language(code: str | None) -> str | None:
    """The site language for a code such as "de", "fr-BE" or "en_GB"; None if we have none."""
    if not code or len(code) > 16:
        return None
    try:
        return translation.get_supported_language_variant(code.replace("_", "-").lower())
    except LookupError:
        return None


def choose_language(request: HttpRequest, buyer_locale: str | None = None) -> str:
    """The page's language, first found of: ``?lang=xx`` in the URL, the language switcher's
    cookie, the order's buyer_locale, the browser's Accept-Language, French (LANGUAGE_CODE)."""
    for candidate in (
        request.GET.get(LANGUAGE_PARAM),
        request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME),
        buyer_locale,
    ):
        language = supported_language(candidate)
        if language:
            return language
    # Accept-Language, then LANGUAGE_CODE (an invalid cookie was already passed over).
    return translation.get_language_from_request(request)


def remember_language(response: HttpResponse, language: str) -> None:
    """The language switcher's choice, kept for a year (not a secret: readable, Lax)."""
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=365 * 24 * 3600,
        samesite="Lax",
        secure=not settings.DEBUG,
        httponly=True,
    )


# --- Rate limit ---------------------------------------------------------------------------------


def rate_limit_exceeded(
    request: HttpRequest, *, bucket: str, limit: int, window: int, subject: str | None = None
) -> int:
    """Count this request against ``subject`` (the caller's IP by default; an order reference
    for the look-up) in a fixed window of ``window`` seconds. Returns 0 when allowed, else the
    seconds until the window ends (for Retry-After).

    Counters live in the default cache: Redis in production, shared by every web node and
    worker (core/checks.py refuses production settings without it)."""
    now = int(time.time())
    window_start = now - now % window
    who = client_ip(request) if subject is None else subject
    subject_hash = hashlib.sha256(who.encode()).hexdigest()[:32]
    key = f"tracking-rl:{bucket}:{window_start}:{subject_hash}"
    cache.add(key, 0, timeout=window + 5)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window + 5)
        count = 1
    if count <= limit:
        return 0
    return max(1, window_start + window - now)


def too_many_requests(retry_after: int) -> HttpResponse:
    response = HttpResponse(
        _("Too many requests. Please try again in a moment."),
        status=429,
        content_type="text/plain; charset=utf-8",
    )
    response["Retry-After"] = str(retry_after)
    return protect(response)


# --- Cache key ----------------------------------------------------------------------------------


def page_cache_key(*, kind: str, token: str, language: str, state: object) -> str:
    """The key of one rendered page: which page, whose (the token, hashed), in which language,
    and the state of what it shows (shipments' and PODs' updated_at, the branding's): any
    change to a parcel makes a new key, so nothing needs invalidating."""
    raw = repr((PAGE_CACHE_VERSION, kind, token, language, poll_seconds(), state))
    return "tracking-page:" + hashlib.sha256(raw.encode()).hexdigest()


# --- Security headers ---------------------------------------------------------------------------


def style_hash(css: str) -> str:
    """The CSP source allowing exactly this inline <style> (the seller's colours)."""
    digest = hashlib.sha256(css.encode()).digest()
    return "'sha256-" + base64.b64encode(digest).decode() + "'"


def content_security_policy(*, style_sources: tuple[str, ...] = (), image_url: str = "") -> str:
    """The page's policy (core/csp.py): its logo's origin only when the URL is strict (a
    stored URL from before the strict rule is left out, not trusted)."""
    origin = https_origin(image_url)
    return csp.policy(style_sources=style_sources, image_sources=(origin,) if origin else ())


def protect(response: HttpResponse, *, csp: str | None = None) -> HttpResponse:
    """Headers for every public tracking response: the token in the URL must not leak through
    Referer, the page must not be indexed or stored by shared caches, nothing runs but ours.

    ``same-origin``, not ``no-referrer``: no other site ever gets a Referer, while our own forms
    keep a real Origin header (under ``no-referrer`` browsers post ``Origin: null``, which
    Django's CSRF check rightly refuses)."""
    response["Content-Security-Policy"] = csp or content_security_policy()
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
