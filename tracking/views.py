"""The courier's proof document, for the people who review PODs: one authenticated view.

The URL carries the evidence's random token, never an id or a tracking number; the selector
decides who may open it (404 for everyone else, anonymous included: no login page to tell that
the document exists). The body is served as stored, with the content type found when it was
validated, never sniffed by the browser and never able to run anything (a sandboxing CSP: an
SVG is XML that could carry script).
"""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest
from django.views.decorators.http import require_GET

from core.errors import NotFound
from tracking.selectors import pod_evidence_for_viewer

EVIDENCE_POLICY = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox"


@require_GET
def pod_evidence_file(request: HttpRequest, token: str) -> FileResponse:
    try:
        evidence = pod_evidence_for_viewer(user=request.user, token=token)
    except NotFound:
        raise Http404("No such document.") from None
    extension = evidence.file.name.rsplit(".", 1)[-1]
    number = "".join(c for c in evidence.pod.shipment.tracking_number if c.isalnum())
    response = FileResponse(
        evidence.file.open("rb"),
        content_type=evidence.content_type,
        as_attachment=False,  # inline: finance reads it in the browser
        filename=f"pod-{evidence.carrier}-{number}-{evidence.kind}.{extension}",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = EVIDENCE_POLICY
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response
