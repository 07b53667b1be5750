"""Issue 14, item 11: response headers.

- The seller's logo URL went into the tracking page's CSP as typed:
  ``https://a;sandbox;@evil.example/logo.png`` added a ``sandbox`` directive and trusted
  ``evil.example``'s user-info as part of an origin. Branding links are now strict.
- Back-office pages sent no Content-Security-Policy: every response now has one.
- Swagger UI came from a CDN at ``@latest`` on the staff sessions' origin (blank offline):
  it is served from our static files (drf-spectacular-sidecar), with no inline script.
"""

import re

import pytest
from django.contrib.staticfiles import finders
from django.urls import URLPattern, URLResolver, get_resolver

from core.csp import BACK_OFFICE_POLICY
from sellers.models import SellerBranding
from tests.sellers.factories import OrderFactory, SellerMemberFactory, UserFactory
from tests.tracking.factories import ShipmentFactory

pytestmark = pytest.mark.django_db

EVIL_LOGO = "https://a;sandbox;@evil.example/logo.png"


def _directives(header: str) -> dict[str, list[str]]:
    parts = [part.split() for part in header.split(";") if part.strip()]
    return {part[0]: part[1:] for part in parts}


@pytest.mark.parametrize(
    "url",
    [
        EVIL_LOGO,
        "https://user:pass@cdn.example/logo.png",
        "https://cdn.example/logo.png; script-src *",
        "https://cdn.example,evil.example/logo.png",
        "https://cdn.example/lo'go.png",
        "https://cdn.example/logo.png\nX: y",
        "http://cdn.example/logo.png",
    ],
)
def test_headers_the_portal_refuses_a_logo_url_that_could_inject_a_policy(client, url):
    # given a seller user on the branding page of the portal
    member = SellerMemberFactory()
    client.force_login(member.user)

    # when they save a hostile logo URL
    response = client.post("/seller/branding/", {"logo_url": url})

    # then the form says so and nothing is stored
    assert response.status_code == 200
    assert "Enter a full https:// address" in response.content.decode()
    assert not SellerBranding.objects.filter(seller=member.seller).exclude(logo_url="").exists()


def test_headers_the_portal_keeps_an_ordinary_logo_url(client):
    member = SellerMemberFactory()
    client.force_login(member.user)

    response = client.post("/seller/branding/", {"logo_url": "https://cdn.boutique.example/l.svg"})

    assert response.status_code == 302
    assert SellerBranding.objects.get(seller=member.seller).logo_url == (
        "https://cdn.boutique.example/l.svg"
    )


def test_headers_a_hostile_logo_stored_before_the_rule_adds_nothing_to_the_policy(client):
    # given a branding row written before the strict rule (straight into the table)
    order = OrderFactory()
    SellerBranding.objects.create(seller=order.seller, logo_url=EVIL_LOGO)
    ShipmentFactory(order=order)

    # when the buyer opens the tracking page
    response = client.get(f"/t/{order.public_token}/")

    # then the policy is the page's own: no sandbox, no evil origin, and no logo shown
    assert response.status_code == 200
    policy = _directives(response["Content-Security-Policy"])
    assert "sandbox" not in policy
    assert policy["img-src"] == ["'self'"]
    assert "evil.example" not in response.content.decode()


def test_headers_the_logo_origin_is_the_only_image_source_added(client):
    order = OrderFactory()
    SellerBranding.objects.create(seller=order.seller, logo_url="https://CDN.example:8443/l.png")
    ShipmentFactory(order=order)

    response = client.get(f"/t/{order.public_token}/")

    assert _directives(response["Content-Security-Policy"])["img-src"] == [
        "'self'",
        "https://cdn.example:8443",
    ]


def _routes(patterns=None, prefix: str = ""):
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if not hasattr(entry.pattern, "_route"):
            continue
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _routes(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            yield route


def test_headers_every_page_sends_a_content_security_policy(client):
    # given a superuser, so that staff pages render instead of redirecting
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    client.raise_request_exception = False
    urls = {
        "/"
        + re.sub(r"<(?:(\w+):)?\w+>", lambda m: "x" if m.group(1) in ("str", "slug") else "1", r)
        for r in _routes()
    }

    # when every route is asked for (whatever it answers: page, redirect, 404, 405)
    missing = {url for url in sorted(urls) if "Content-Security-Policy" not in client.get(url)}

    # then every answer carries a policy
    assert missing == set()


@pytest.mark.parametrize(
    "path", ["/seller/login/", "/admin/login/", "/cs/", "/finance/", "/api/docs/", "/nowhere/"]
)
def test_headers_back_office_pages_get_the_back_office_policy(admin_client, path):
    admin_client.raise_request_exception = False

    response = admin_client.get(path)

    policy = _directives(response["Content-Security-Policy"])
    assert response["Content-Security-Policy"] == BACK_OFFICE_POLICY
    assert policy["script-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]


def test_headers_the_api_docs_load_swagger_ui_from_our_own_static_files(admin_client):
    response = admin_client.get("/api/docs/")

    html = response.content.decode()
    sources = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]*)"', html)
    assert response.status_code == 200
    assert sources and all(src.startswith("/") for src in sources), sources
    assert "cdn" not in html.lower() and "@latest" not in html
    assert "<script>" not in html  # the start-up script is a URL too: the CSP holds
    for src in sources:
        if src.startswith("/static/"):
            assert finders.find(src.removeprefix("/static/")), src
    start_up = admin_client.get("/api/docs/?script=")
    assert start_up.status_code == 200
    assert "SwaggerUIBundle" in start_up.content.decode()
