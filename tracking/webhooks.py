"""Inbound courier pushes: thin views over tracking.services.push."""

import logging

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from tracking import carriers
from tracking.carriers.base import PushNotConfigured, PushRejected
from tracking.services.push import PushMalformed, push_receive

logger = logging.getLogger(__name__)


@csrf_exempt  # couriers authenticate with their signature or token, not a session
@require_POST
def carrier_push(request: HttpRequest, carrier: str) -> JsonResponse:
    headers = {name.lower(): value for name, value in request.headers.items()}
    try:
        receipt = push_receive(carrier=carrier, headers=headers, body=request.body)
    except carriers.UnknownCarrier:
        return JsonResponse({"error": "unknown_carrier"}, status=404)
    except PushNotConfigured as exc:
        # Our configuration, not the sender, is at fault: nothing is stored or trusted.
        logger.error("push refused, not configured: %s", exc, extra={"carrier": carrier})
        return JsonResponse({"error": exc.code, "message": str(exc)}, status=503)
    except PushRejected as exc:
        return JsonResponse({"error": exc.code, "message": str(exc)}, status=401)
    except PushMalformed as exc:
        return JsonResponse({"error": exc.code, "message": exc.message}, status=400)
    return JsonResponse(
        {"received": True, "duplicate": receipt.duplicate},
        status=200 if receipt.duplicate else 202,
    )
