"""What a courier format raises on purpose: faults of the courier (the sync job backs it off)
and refused pushes. Pure Python, imported by the HTTP client and the adapters alike."""

from __future__ import annotations


class CarrierError(Exception):
    """Base of everything an adapter raises on purpose."""


class CarrierFault(CarrierError):
    """The courier, not one tracking number, failed: back off and retry the whole batch later."""

    code = "carrier_fault"

    def __init__(self, message: str, *, retry_after_seconds: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class CarrierUnavailable(CarrierFault):
    code = "unavailable"  # timeout, connection refused, 5xx after retries


class CarrierRateLimited(CarrierFault):
    code = "rate_limited"  # 429, honouring Retry-After


class CarrierAuthError(CarrierFault):
    code = "auth_failed"  # bad or expired credentials


class CarrierRequestRejected(CarrierFault):
    """The courier refused the request itself, not a number (a required header missing or
    wrong: our configuration): every number would fail alike, so the courier is backed off
    instead of each parcel being marked invalid."""

    code = "bad_request"


class CarrierPayloadError(CarrierFault):
    """The body is not what the courier's API documents (truncated, wrong shape, not JSON/XML)."""

    code = "malformed_payload"


class PushRejected(CarrierError):
    """A push that does not prove it comes from the courier (signature, token, stale timestamp).
    The endpoint answers 401 and stores nothing."""

    code = "push_rejected"


class PushNotConfigured(PushRejected):
    """Pushes cannot be verified because the courier's push secret is not configured: refused,
    nothing stored; the endpoint answers 503 (our configuration, not the sender, is at fault)."""

    code = "push_not_configured"
