"""Reading couriers' JSON answers defensively: a missing or mistyped field reads as empty, and
a body that is not a JSON object is the courier's fault (CarrierPayloadError), never ours."""

from __future__ import annotations

import json
from collections.abc import Mapping

from tracking.carriers.faults import CarrierPayloadError


def json_load(body: bytes, courier: str, what: str = "answer") -> object:
    """The JSON value of a courier's body; CarrierPayloadError when it is not JSON.

    The one place every courier body is decoded: a body nested deeper than the interpreter's
    recursion limit (100,000 ``[``) makes ``json.loads`` raise RecursionError, which is the
    courier's malformed payload like any other, not a crash of the batch or the push endpoint.
    """
    try:
        return json.loads(body)
    except (TypeError, UnicodeDecodeError, ValueError) as exc:
        raise CarrierPayloadError(f"{courier} {what} is not JSON: {exc}") from exc
    except RecursionError:
        raise CarrierPayloadError(f"{courier} {what} is nested too deeply to be JSON") from None


def json_object(body: bytes, courier: str) -> Mapping[str, object]:
    payload = json_load(body, courier)
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


def json_list(raw: Mapping[str, object], key: str) -> list[object] | None:
    """The list at ``key``, a single object there as a list of one (couriers drop the brackets
    when there is one item: UPS, PostNL, USPS), [] when missing or null; None for anything else
    (a number, a string), which the caller refuses as the courier's malformed payload."""
    value = raw.get(key)
    if value is None:
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, Mapping):
        return [value]
    return None
