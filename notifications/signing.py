"""Outbound webhook signatures, as Standard Webhooks (https://www.standardwebhooks.com) define
them, so that a receiver verifies us with any of its libraries:

    webhook-id: <the event's id>             the same on every retry and replay (dedupe on it)
    webhook-timestamp: <unix seconds>        of this attempt (refuse replays of old requests)
    webhook-signature: v1,<base64 sig> …     HMAC-SHA256 over f"{id}.{timestamp}.{body}"

keyed with the endpoint's secret, ``whsec_`` + base64 of 32 random bytes (the key is the
decoded bytes, not the text). During a secret rotation the signature header carries one
signature per valid secret, separated by spaces (docs/webhooks.md).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Sequence

from django.core.exceptions import ValidationError

SECRET_PREFIX = "whsec_"  # noqa: S105 - the standard's prefix, not a secret
SECRET_BYTES = 32


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_`` secret: its base64 part, decoded (strictly: a character
    outside standard base64 is an error, where lenient decoders would silently drop it)."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError(f"a webhook secret starts with {SECRET_PREFIX!r}")
    encoded = secret[len(SECRET_PREFIX) :]
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except binascii.Error as exc:
        raise ValueError("a webhook secret is whsec_ followed by standard base64") from exc
    if not key:
        raise ValueError("a webhook secret may not be empty")
    return key


def validate_secret(secret: str) -> None:
    """Model/form validator: a key standard verifiers decode as we do, of 24 to 64 bytes as the
    standard asks (secrets carried over from before it may be shorter: they still sign)."""
    try:
        key = secret_key(secret)
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc
    if not 24 <= len(key) <= 64:
        raise ValidationError("a webhook secret holds 24 to 64 bytes")


def signature(*, secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_headers(
    *, secrets_in_use: Sequence[str], msg_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """The three Standard Webhooks headers, signed with every secret in use (the current one,
    and the previous one while a rotation's overlap lasts)."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(
            signature(secret=secret, msg_id=msg_id, timestamp=timestamp, body=body)
            for secret in secrets_in_use
        ),
    }
