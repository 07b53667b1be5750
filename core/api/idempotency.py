"""Safe retries of creating POSTs: the ``Idempotency-Key`` request header.

Semantics follow the IETF draft "The Idempotency-Key HTTP Header Field"
(draft-ietf-httpapi-idempotency-key-header):

- no header: the POST runs as usual (no idempotency);
- a key not seen from this caller (token, else user): the POST runs, and its 2xx answer (status,
  body, Location) is stored with the key, in the transaction of the create;
- the same key with the same request again: the stored answer, nothing created
  (``Idempotent-Replayed: true``);
- the same key with another body, or on another endpoint: 422 ``idempotency_key_reused``;
- the same key while its first request is still running: 409 ``idempotency_key_in_progress``;
- an empty key or one longer than ``MAX_KEY_LENGTH``: 400 ``idempotency_key_invalid``;
- a request that fails (an error answer or an exception) stores nothing, so the key may be
  retried, with a corrected body too;
- keys live ``API_IDEMPOTENCY_KEY_TTL_HOURS`` (24); an expired key is a new key, and the hourly
  ``core.purge_idempotency_keys`` schedule deletes them.

The row is the lock:

    claim: INSERT (caller, key) in progress, committed at once; a unique violation = seen before
    -> atomic: SELECT … FOR UPDATE NOWAIT (locked by another request: 409)
               expired or unlocked in progress: reset to this request
               done: other request hash 422, else replay
               run the view; 2xx: store the answer, done -> COMMIT (the create and the answer)
    -> failure: rolled back with the create, and the in-progress row deleted

A request that dies mid-way leaves an in-progress row nobody locks: the next request with the
key takes it over (whatever its body), as it does a row just claimed by a request that then lost
the race to lock it.
"""

from __future__ import annotations

import functools
import hashlib
import json
from datetime import timedelta

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.settings import api_settings

from core.errors import ApplicationError, Conflict, Unprocessable
from core.models import ApiToken, IdempotencyKey

HEADER = "Idempotency-Key"
# Room for a UUID, a ULID or a client's "<order ref>-<attempt>"; the column holds 255.
MAX_KEY_LENGTH = 255
# The answer's headers a retry must see again (where the created thing lives).
KEPT_HEADERS = ("Location", "Content-Location")
REPLAYED_HEADER = "Idempotent-Replayed"
# PostgreSQL's lock_not_available: FOR UPDATE NOWAIT met a row another request holds.
LOCK_NOT_AVAILABLE = "55P03"


def _caller(request) -> str:
    """Whose key it is: the API token, else the signed-in user (a CS agent's session)."""
    if isinstance(request.auth, ApiToken):
        return f"token:{request.auth.pk}"
    return f"user:{request.user.pk}"


def key_parse(raw: str) -> str:
    """The key from the header: the draft sends it as a structured-field string ("…"); a bare
    token is accepted too. Raises ApplicationError (400) when empty or too long."""
    key = raw.strip()
    if len(key) >= 2 and key[0] == key[-1] == '"':
        key = key[1:-1]
    if not key:
        raise ApplicationError(f"{HEADER} is empty.", code="idempotency_key_invalid")
    if len(key) > MAX_KEY_LENGTH:
        raise ApplicationError(
            f"{HEADER} is {len(key)} characters long; at most {MAX_KEY_LENGTH} are allowed.",
            code="idempotency_key_invalid",
        )
    return key


def _file_digest(upload: UploadedFile) -> str:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)  # the view reads it again
    return digest.hexdigest()


def request_hash(request) -> str:
    """SHA-256 of what the request asks, not of its bytes: JSON by its parsed value (spacing and
    key order do not matter), a multipart form by its fields and each file's name and bytes (the
    boundary differs on every send)."""
    data = request.data
    if hasattr(data, "lists"):  # QueryDict: form fields, several values per name possible
        fields = {
            name: sorted(values) for name, values in data.lists() if name not in request.FILES
        }
        files = {
            name: sorted([upload.name, _file_digest(upload)] for upload in uploads)
            for name, uploads in request.FILES.lists()
        }
        canonical = {"fields": fields, "files": files}
    else:
        canonical = {"json": data}
    encoded = json.dumps(canonical, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(encoded.encode()).hexdigest()


def _claim(*, caller: str, key: str, method: str, path: str, digest: str) -> IdempotencyKey:
    """The key's row: inserted now (committed at once, so other requests see it) or found."""
    now = timezone.now()
    try:
        with transaction.atomic():
            return IdempotencyKey.objects.create(
                caller=caller, key=key, method=method, path=path, request_hash=digest,
                created_at=now, expires_at=now + _ttl(),
            )  # fmt: skip
    except IntegrityError:
        return IdempotencyKey.objects.get(caller=caller, key=key)


def _ttl() -> timedelta:
    return timedelta(hours=settings.API_IDEMPOTENCY_KEY_TTL_HOURS)


def _lock(row: IdempotencyKey) -> IdempotencyKey | None:
    """The row locked for this transaction; None when it vanished (purged, or released by a
    request that failed). Raises Conflict (409) when another request holds it."""
    try:
        return IdempotencyKey.objects.select_for_update(nowait=True).filter(pk=row.pk).first()
    except OperationalError as exc:
        if getattr(exc.__cause__, "sqlstate", None) != LOCK_NOT_AVAILABLE:
            raise
        raise Conflict(
            f"A request with this {HEADER} is still being processed; retry once it has finished.",
            code="idempotency_key_in_progress",
        ) from None


def _replay(row: IdempotencyKey) -> Response:
    headers = {**row.response_headers, REPLAYED_HEADER: "true"}
    return Response(row.response_body, status=row.response_status, headers=headers)


def _store(row: IdempotencyKey, response: Response) -> None:
    # The body as the client got it (JSON types only), so a replay renders the same bytes.
    row.response_body = json.loads(JSONRenderer().render(response.data) or b"null")
    row.response_status = response.status_code
    row.response_headers = {name: response[name] for name in KEPT_HEADERS if name in response}
    row.state = IdempotencyKey.State.DONE
    row.save(update_fields=["response_body", "response_status", "response_headers", "state"])


def _reset(row: IdempotencyKey, *, method: str, path: str, digest: str, now) -> None:
    row.method, row.path, row.request_hash = method, path, digest
    row.state, row.response_status, row.response_body = row.State.IN_PROGRESS, None, None
    row.response_headers, row.created_at, row.expires_at = {}, now, now + _ttl()
    row.save()


def _run_once(view_method, view, request, args, kwargs, *, key: str) -> Response:
    caller, method, path = _caller(request), request.method, request.path
    digest = request_hash(request)
    for _attempt in range(2):  # a second time only if the row vanished between claim and lock
        claimed = _claim(caller=caller, key=key, method=method, path=path, digest=digest)
        ran = kept = False
        try:
            with transaction.atomic():
                row = _lock(claimed)
                if row is None:
                    continue
                now = timezone.now()
                # Expired (not purged yet), or in progress yet unlocked (just claimed by us, or
                # left by a request that died or failed): nobody answers for it, this one does.
                if row.expires_at <= now or row.state == row.State.IN_PROGRESS:
                    _reset(row, method=method, path=path, digest=digest, now=now)
                if (row.method, row.path, row.request_hash) != (method, path, digest):
                    raise Unprocessable(
                        f"This {HEADER} was already used with a different request "
                        f"({row.method} {row.path}); send a new key for a new request.",
                        code="idempotency_key_reused",
                    )
                if row.state == row.State.DONE:
                    return _replay(row)
                ran = True
                response = view_method(view, request, *args, **kwargs)
                if 200 <= response.status_code < 300:
                    _store(row, response)
                    kept = True
                return response
        finally:
            if ran and not kept:
                # The create was rolled back or answered an error: free the key for a retry,
                # with a corrected body too.
                IdempotencyKey.objects.filter(
                    pk=claimed.pk, state=IdempotencyKey.State.IN_PROGRESS
                ).delete()
    raise Conflict(
        f"A request with this {HEADER} is still being processed; retry once it has finished.",
        code="idempotency_key_in_progress",
    )


ERROR_OUTPUT = inline_serializer(
    "IdempotencyErrorOutput",
    {"code": serializers.CharField(), "message": serializers.CharField()},
)
HEADER_PARAMETER = OpenApiParameter(
    HEADER,
    str,
    OpenApiParameter.HEADER,
    required=False,
    description=(
        f"Makes a retry safe: the same key and body within API_IDEMPOTENCY_KEY_TTL_HOURS "
        f"(24 h) answers the first response again and creates nothing more "
        f"(`{REPLAYED_HEADER}: true`). At most {MAX_KEY_LENGTH} characters; per API token."
    ),
)
SCHEMA_RESPONSES = {
    400: OpenApiResponse(ERROR_OUTPUT, description=(
        f"Invalid input; `idempotency_key_invalid`: {HEADER} empty or longer than "
        f"{MAX_KEY_LENGTH} characters.")),
    409: OpenApiResponse(ERROR_OUTPUT, description=(
        f"`idempotency_key_in_progress`: a request with this {HEADER} is still running; "
        "retry later to get its answer.")),
    422: OpenApiResponse(ERROR_OUTPUT, description=(
        f"`idempotency_key_reused`: this {HEADER} was used with a different body or endpoint.")),
}  # fmt: skip


def _with_schema(wrapper) -> None:
    """Add the header and the 409/422 answers to the operation's schema, keeping what its own
    @extend_schema says (drf-spectacular would replace, not merge, a second ``responses``)."""
    kwargs = getattr(wrapper, "kwargs", {})
    base = kwargs.get("schema") or api_settings.DEFAULT_SCHEMA_CLASS

    class IdempotentSchema(base):
        def get_override_parameters(self):
            return [*super().get_override_parameters(), HEADER_PARAMETER]

        def get_response_serializers(self):
            responses = super().get_response_serializers()
            if not isinstance(responses, dict):  # one serializer: no status codes to add to
                return responses
            return {
                **responses,
                **{code: r for code, r in SCHEMA_RESPONSES.items() if code not in responses},
            }

    wrapper.kwargs = {**kwargs, "schema": IdempotentSchema}


def idempotent(view_method):
    """Decorate a creating ``post`` of an APIView (above its @extend_schema): it honours the
    ``Idempotency-Key`` header as the module docstring says."""

    @functools.wraps(view_method)
    def wrapper(view, request, *args, **kwargs):
        raw = request.headers.get(HEADER)
        if raw is None:
            return view_method(view, request, *args, **kwargs)
        return _run_once(view_method, view, request, args, kwargs, key=key_parse(raw))

    _with_schema(wrapper)
    return wrapper
