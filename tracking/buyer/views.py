"""Buyer tracking pages: public, reached by an unguessable token (or the look-up form).

    request -> per-IP rate limit -> selectors.public_*_version(token): one query, no model
            -> language (URL ?lang, switcher cookie, buyer_locale, Accept-Language, French)
            -> cache key from that version -> cached (HTML, CSP), or load (2-3 queries),
               render and keep it -> security headers (CSP, same-origin referrer, noindex, no-store)

Each page has a live partial (templates/buyer/_timeline.html) that htmx fetches every
TRACKING_PAGE_POLL_SECONDS while a parcel still moves; without JavaScript the page is whole.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from core.errors import NotFound
from tracking.buyer import selectors
from tracking.buyer.http import (
    LANGUAGE_PARAM,
    LOOKUP_WINDOW_SECONDS,
    PAGE_WINDOW_SECONDS,
    choose_language,
    content_security_policy,
    lookup_rate_limit,
    lookup_reference_rate_limit,
    page_cache_key,
    page_cache_seconds,
    page_rate_limit,
    poll_seconds,
    protect,
    rate_limit_exceeded,
    remember_language,
    style_hash,
    supported_language,
    too_many_requests,
)
from tracking.buyer.wording import brand_for, parcel_view

PAGE_TEMPLATE = "buyer/page.html"
LIVE_TEMPLATE = "buyer/_timeline.html"


def _limited(request: HttpRequest) -> HttpResponse | None:
    retry_after = rate_limit_exceeded(
        request, bucket="page", limit=page_rate_limit(), window=PAGE_WINDOW_SECONDS
    )
    return too_many_requests(retry_after) if retry_after else None


def _not_found(request: HttpRequest) -> HttpResponse:
    """The same answer for every unknown token, whichever kind of page was asked for."""
    language = choose_language(request)
    with translation.override(language):
        html = render_to_string(
            "buyer/not_found.html",
            {"language": language, "languages": settings.LANGUAGES, "page_path": request.path},
        )
    response = HttpResponse(html, status=404)
    response["Content-Language"] = language
    return protect(response)


def _page_html(
    *, kind: str, token: str, live: bool, language: str, order, parcels
) -> tuple[str, str]:
    """The page (or its live part) and its Content-Security-Policy, which allows the seller's
    colours by hash and its logo's origin."""
    brand = brand_for(order.seller)
    context = {
        "language": language,
        "languages": settings.LANGUAGES,
        "brand": brand,
        "order_reference": order.reference,
        "parcels": parcels,
        "parcel_count": sum(1 for parcel in parcels if not parcel.is_return),
        "moving": any(parcel.moving for parcel in parcels),
        "poll_seconds": poll_seconds(),
        "page_path": reverse(f"buyer:{kind}", args=[token]),
        "live_url": reverse(f"buyer:{kind}-live", args=[token])
        + "?"
        + urlencode({LANGUAGE_PARAM: language}),
        "lookup_url": reverse("buyer:lookup"),
    }
    html = render_to_string(LIVE_TEMPLATE if live else PAGE_TEMPLATE, context)
    csp = content_security_policy(style_sources=(style_hash(brand.css),), image_url=brand.logo_url)
    return html, csp


def _page_response(
    request: HttpRequest, *, kind: str, token: str, live: bool, version: dict, buyer_locale, render
) -> HttpResponse:
    """The page from the cache when nothing it shows changed (``version``: one query), else
    rendered by ``render(language)`` -> (html, csp) and kept."""
    language = choose_language(request, buyer_locale)
    key = page_cache_key(
        kind=f"{kind}-live" if live else kind,
        token=token,
        language=language,
        state=tuple(sorted(version.items())),
    )
    cached = cache.get(key)
    if cached is None:
        with translation.override(language):
            cached = render(language)
        if cached is None:  # deleted between the two reads
            return _not_found(request)
        cache.set(key, cached, timeout=page_cache_seconds())
    html, csp = cached
    response = HttpResponse(html)
    response["Content-Language"] = language
    patch_vary_headers(response, ("Cookie", "Accept-Language"))
    return protect(response, csp=csp)


def _order_response(request: HttpRequest, token: str, *, live: bool) -> HttpResponse:
    if limited := _limited(request):
        return limited
    version = selectors.public_order_version(token=token)
    if version is None:
        return _not_found(request)

    def render(language: str):
        try:
            order = selectors.public_order_get(token=token)
        except NotFound:
            return None
        parcels = [
            parcel_view(shipment, list(shipment.events.all()), number=number)
            for number, shipment in enumerate(
                selectors.public_order_shipments(order=order), start=1
            )
        ]
        return _page_html(
            kind="order", token=token, live=live, language=language, order=order, parcels=parcels
        )

    return _page_response(
        request,
        kind="order",
        token=token,
        live=live,
        version=version,
        buyer_locale=version["buyer_locale"],
        render=render,
    )


def _shipment_response(request: HttpRequest, token: str, *, live: bool) -> HttpResponse:
    if limited := _limited(request):
        return limited
    version = selectors.public_shipment_version(token=token)
    if version is None:
        return _not_found(request)

    def render(language: str):
        try:
            shipment = selectors.public_shipment_get(token=token)
        except NotFound:
            return None
        shipment.order.seller = shipment.seller  # loaded once by the selector
        events = selectors.public_shipment_events(shipment=shipment)
        return _page_html(
            kind="shipment",
            token=token,
            live=live,
            language=language,
            order=shipment.order,
            parcels=[parcel_view(shipment, events, number=1)],
        )

    return _page_response(
        request,
        kind="shipment",
        token=token,
        live=live,
        version=version,
        buyer_locale=version["buyer_locale"],
        render=render,
    )


@require_GET
def order_page(request: HttpRequest, token: str) -> HttpResponse:
    """Every parcel of an order: /t/<order.public_token>/."""
    return _order_response(request, token, live=False)


@require_GET
def order_live(request: HttpRequest, token: str) -> HttpResponse:
    """The order page's live part, for htmx."""
    return _order_response(request, token, live=True)


@require_GET
def shipment_page(request: HttpRequest, token: str) -> HttpResponse:
    """One parcel: /t/s/<shipment.public_token>/."""
    return _shipment_response(request, token, live=False)


@require_GET
def shipment_live(request: HttpRequest, token: str) -> HttpResponse:
    """The parcel page's live part, for htmx."""
    return _shipment_response(request, token, live=True)


@require_GET
def language_choose(request: HttpRequest) -> HttpResponse:
    """The language switcher: keeps the choice in the language cookie and goes back to the
    tracking page it came from (only a local /t/ path or the look-up: no open redirect).
    A GET form, so that cached pages need no per-visitor CSRF token; it only sets a
    preference on the caller's own browser."""
    next_path = request.GET.get("next", "")
    lookup_path = reverse("buyer:lookup")
    local = url_has_allowed_host_and_scheme(next_path, allowed_hosts=None)
    if not (local and (next_path.startswith("/t/") or next_path == lookup_path)):
        next_path = lookup_path
    response = protect(HttpResponseRedirect(next_path, status=303))
    language = supported_language(request.GET.get("language"))
    if language:
        remember_language(response, language)
    return response


class LookupForm(forms.Form):
    reference = forms.CharField(label=_("Order reference"), max_length=64)
    postcode_or_email = forms.CharField(
        label=_("Delivery postcode or email address"), max_length=254
    )


@require_http_methods(["GET", "POST"])
def lookup(request: HttpRequest) -> HttpResponse:
    """/track/: find an order by its reference and the delivery postcode or buyer's email,
    then go to its page. A wrong answer never says which part was wrong."""
    if limited := _limited(request):
        return limited
    language = choose_language(request)
    error = ""
    with translation.override(language):
        if request.method == "POST":
            retry_after = rate_limit_exceeded(
                request, bucket="lookup", limit=lookup_rate_limit(), window=LOOKUP_WINDOW_SECONDS
            )
            if retry_after:
                return too_many_requests(retry_after)
            form = LookupForm(request.POST)
            if form.is_valid():
                # Also per reference, from any address: guessing one order's postcode from
                # many addresses (a botnet, IPv6 prefixes) is as slow as from one.
                retry_after = rate_limit_exceeded(
                    request,
                    bucket="lookup-reference",
                    limit=lookup_reference_rate_limit(),
                    window=LOOKUP_WINDOW_SECONDS,
                    subject=" ".join(form.cleaned_data["reference"].split()).upper(),
                )
                if retry_after:
                    return too_many_requests(retry_after)
                order = selectors.public_order_lookup(
                    reference=form.cleaned_data["reference"],
                    postcode_or_email=form.cleaned_data["postcode_or_email"],
                )
                if order is not None:
                    url = reverse("buyer:order", args=[order.public_token])
                    if supported_language(request.GET.get(LANGUAGE_PARAM)):
                        url += "?" + urlencode({LANGUAGE_PARAM: language})
                    return protect(HttpResponseRedirect(url, status=303))
                error = _(
                    "We could not find an order with these details. Check the order reference "
                    "in your confirmation email and try again."
                )
        else:
            form = LookupForm()
        html = render_to_string(
            "buyer/lookup.html",
            {
                "form": form,
                "error": error,
                "language": language,
                "languages": settings.LANGUAGES,
                "page_path": request.path,
            },
            request=request,
        )
    response = HttpResponse(html)
    response["Content-Language"] = language
    patch_vary_headers(response, ("Cookie", "Accept-Language"))
    return protect(response)
