"""Inbound provider callbacks of the notifications app (thin: check, then one service call)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator

from notifications.services.feedback import twilio_status_record


@csrf_exempt
@require_POST
def twilio_status(request: HttpRequest) -> HttpResponse:
    """Twilio's SMS status callback. Authenticated by X-Twilio-Signature (HMAC-SHA1 of the full
    URL and the sorted form fields with the auth token, checked by twilio's RequestValidator):
    401 and nothing recorded when it does not match; 503 while no auth token is configured."""
    token = settings.TWILIO_AUTH_TOKEN
    if not token:
        return HttpResponse("SMS status callbacks are not configured.", status=503)
    # The URL Twilio signed: the public one (TWILIO_STATUS_CALLBACK_URL) when set, since a
    # load balancer may change the scheme or host this process sees.
    url = settings.TWILIO_STATUS_CALLBACK_URL or request.build_absolute_uri()
    signature = request.headers.get("X-Twilio-Signature", "")
    if not RequestValidator(token).validate(url, request.POST.dict(), signature):
        return HttpResponse("Bad signature.", status=401)
    twilio_status_record(params=request.POST.dict())
    return HttpResponse(status=204)
