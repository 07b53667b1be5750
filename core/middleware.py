"""Request guards shared by every page and API (config/settings.py MIDDLEWARE).

RejectNulMiddleware       a NUL byte in the path, the query string or a form field -> 400
NotFoundMiddleware        core.errors.NotFound escaping a page view -> the site's 404
ContentSecurityPolicy...  see core/csp.py
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.views.defaults import page_not_found

from core.errors import NotFound

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


def _has_nul(values) -> bool:
    return any("\x00" in value for value in values)


class RejectNulMiddleware:
    """PostgreSQL text cannot hold a NUL byte: a query with one fails in the driver, which
    answered ``/t/%00/`` and ``?q=%00`` with a 500. No legitimate URL or form holds one, so it
    is refused here, once, for every route, before any view reads it.

    Multipart bodies are left to the views' forms (Django's and DRF's CharFields refuse NUL):
    reading them here would spend the upload before the view chose its handlers."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        query = request.GET
        suspect = (
            "\x00" in request.path
            or _has_nul(query.keys())
            or _has_nul(value for values in query.lists() for value in values[1])
        )
        if not suspect and request.content_type == FORM_CONTENT_TYPE:
            form = request.POST
            suspect = _has_nul(form.keys()) or _has_nul(
                value for values in form.lists() for value in values[1]
            )
        if suspect:
            return HttpResponseBadRequest(
                "Bad request: NUL bytes are not allowed.", content_type="text/plain"
            )
        return self.get_response(request)


class NotFoundMiddleware:
    """A service or selector raising core.errors.NotFound from a page view (a CS action on an
    exception id that does not exist) is the site's 404, not a 500. The API turns it into a
    JSON 404 itself (core/api/exceptions.py)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if isinstance(exception, NotFound):
            return page_not_found(request, exception)
        return None
