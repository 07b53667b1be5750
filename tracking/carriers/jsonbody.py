"""Reading couriers' JSON answers defensively: a missing or mistyped field reads as empty, and
a body that is not a JSON object is the courier's fault (CarrierPayloadError), never ours."""

from __future__ import annotations

import json
from collections.abc import Mapping

from tracking.carriers.base import CarrierPayloadError


def json_object(body: bytes, courier: str) -> Mapping[str, object]:
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise CarrierPayloadError(f"{courier} answer is not JSON: {exc}") from exc
    if not isinstance(payload, Mapping):
        raise CarrierPayloadError(f"{courier} answer is not a JSON object")
    return payload


def json_child(raw: Mapping[str, object], key: str) -> Mapping[str, object]:
    """The object at ``key``; {} when it is missing or not an object."""
    value = raw.get(key)
    return value if isinstance(value, Mapping) else {}


def json_text(raw: Mapping[str, object], key: str) -> str:
    """The stripped string at ``key``; "" when it is missing or not a string."""
    value = raw.get(key)
    return value.strip() if isinstance(value, str) else ""
