"""What one emulated courier gives the sandbox server.

A courier module in this package defines a ``SandboxCourier`` subclass and exposes an instance
as ``COURIER``; the server finds it by its slug (``/<slug>/…`` routes to it). The module owns the
courier's number format, routes, authentication headers and body shapes, including its error and
fault bodies. Journeys (what happens to a parcel, and when) are shared: see ``journeys.py``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol

from devtools.sandbox.journeys import Journey, SeenStep

# Credentials starting with this are ones the courier refuses (revoked, mistyped). Any other
# non-empty value is accepted, so the demo and the tests need no real secret.
REFUSED_CREDENTIAL_PREFIX = "refused-"


def refuses(*credentials: str) -> bool:
    """Whether the courier turns these credentials down: one is missing or marked refused."""
    return any(not value or value.startswith(REFUSED_CREDENTIAL_PREFIX) for value in credentials)


@dataclass
class Reply:
    """An HTTP answer. ``body`` is JSON-able data, or text/bytes already in the courier's format."""

    status: int
    body: Any
    content_type: str = "application/json"
    headers: list[tuple[str, str]] = field(default_factory=list)

    def encoded(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body, ensure_ascii=False).encode()


@dataclass(frozen=True)
class CourierRequest:
    method: str
    path: str  # after "/<slug>", e.g. "/suivi/v2/idships/6A123…"
    query: Mapping[str, Sequence[str]]
    headers: Mapping[str, str]  # lower-case names
    body: bytes = b""

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "").strip()

    def param(self, name: str) -> str:
        values = self.query.get(name) or [""]
        return values[0]


@dataclass(frozen=True)
class Parcel:
    """A parcel as the sandbox sees it now: its journey and the steps already visible."""

    journey: Journey
    seen: Sequence[SeenStep]
    planned_delivery: datetime


class ParcelSource(Protocol):
    def parcel(self, carrier: str, number: str) -> Parcel: ...

    # Couriers that only answer for numbers registered with them first (AfterShip): whether
    # ``register`` created the registration (False: it existed), and whether it exists.
    def register(self, carrier: str, number: str) -> bool: ...

    def is_registered(self, carrier: str, number: str) -> bool: ...


class SandboxCourier:
    slug: ClassVar[str]
    # Numbers the courier accepts; anything else is "invalid" in the courier's own words.
    number_patterns: ClassVar[Sequence[re.Pattern[str]]]
    # Well-formed numbers starting with this are unknown to the courier ("not found").
    unknown_prefix: ClassVar[str]

    def candidate(self, value: int) -> str:
        """A well-formed number made from ``value`` (with a valid check digit where the format
        has one); ``number_for_scenario`` searches these."""
        raise NotImplementedError

    def handle(self, request: CourierRequest, parcels: ParcelSource) -> Reply:
        raise NotImplementedError

    def fault_reply(self, fault: str, retry_after_seconds: int) -> Reply:
        """The courier's own body for an injected ``error_500`` or ``error_429``."""
        raise NotImplementedError

    def is_well_formed(self, number: str) -> bool:
        return any(p.fullmatch(number) for p in self.number_patterns)

    def is_unknown(self, number: str) -> bool:
        return number.startswith(self.unknown_prefix)

    def knows(self, number: str) -> bool:
        return self.is_well_formed(number) and not self.is_unknown(number)
