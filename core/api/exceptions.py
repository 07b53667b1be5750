from rest_framework import status
from rest_framework.exceptions import Throttled
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import ApplicationError, Conflict, NotFound, PermissionDenied, Unprocessable

STATUS_BY_ERROR = {
    NotFound: status.HTTP_404_NOT_FOUND,
    PermissionDenied: status.HTTP_403_FORBIDDEN,
    Conflict: status.HTTP_409_CONFLICT,
    Unprocessable: status.HTTP_422_UNPROCESSABLE_ENTITY,
}


def exception_handler(exc, context):
    """Business errors become {"code", "message", "errors"}: 400, or 404/403/409/422 where they
    say so."""
    if isinstance(exc, ApplicationError):
        body = {"code": exc.code, "message": exc.message}
        if exc.field:
            body["errors"] = {exc.field: [exc.message]}
        return Response(body, status=STATUS_BY_ERROR.get(type(exc), status.HTTP_400_BAD_REQUEST))
    response = drf_exception_handler(exc, context)
    if isinstance(exc, Throttled) and response is not None:  # Retry-After is set by DRF
        response.data = {
            "code": "rate_limited",
            "message": f"Too many requests: try again in {exc.wait:.0f} seconds.",
        }
    return response
