"""The Content-Security-Policy of every response, built in one place.

    view sets its own policy (the buyer pages: the seller's colours by hash, the logo's origin)
        -> ContentSecurityPolicyMiddleware leaves it
    any other response (portal, consoles, admin, API, API docs, errors)
        -> ContentSecurityPolicyMiddleware sets BACK_OFFICE_POLICY

Scripts only ever come from our own origin (htmx, the admin's, Swagger UI / ReDoc from
drf-spectacular-sidecar): no inline script, no eval, no CDN.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

HEADER = "Content-Security-Policy"


def policy(*, style_sources: tuple[str, ...] = (), image_sources: tuple[str, ...] = ()) -> str:
    """The strict policy of the public pages, extended by exact style hashes and image
    origins (callers pass origins from core.weburls.https_origin, never raw input)."""
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",  # htmx is served from here; no inline script, no eval
            "style-src " + " ".join(["'self'", *style_sources]),
            "img-src " + " ".join(["'self'", *image_sources]),
            "connect-src 'self'",
            "form-action 'self'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ]
    )


# Staff and sellers' pages, the admin and the API docs. Inline styles stay allowed there only
# (the back-office templates and Swagger UI set style attributes); scripts do not.
BACK_OFFICE_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",  # Swagger UI's and the admin's icons are data: SVGs
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if HEADER not in response:
            response[HEADER] = BACK_OFFICE_POLICY
        return response
