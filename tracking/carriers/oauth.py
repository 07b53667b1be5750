"""OAuth 2 client-credentials tokens, for the couriers whose APIs use them (UPS, FedEx, USPS, GLS).

    tokens = OAuthToken(courier="UPS", request=lambda client: client.request("POST", …))
    response = send_with_token(tokens, client, lambda token: client.request(…Bearer token…))

A token is kept until a minute before the expiry the courier announced; a request refused with
401/403 renews it once (couriers revoke tokens early) and is sent again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from tracking.carriers.base import (
    CarrierAdapter,
    CarrierAuthError,
    CarrierPayloadError,
    CarrierResponse,
)
from tracking.carriers.jsonbody import json_load

if TYPE_CHECKING:
    from tracking.carriers.http import CarrierHttpClient

# Renew this long before the announced expiry: a token must not expire between our check and
# the courier's.
TOKEN_MARGIN_SECONDS = 60.0


class OAuthToken:
    """One courier account's token, shared by the threads of a process.

    One thread fetches while the others wait on the lock, then reuse its token; ``refused``
    renews only if the cached token is still the one the courier just refused (another thread
    may have renewed it meanwhile).
    """

    def __init__(
        self,
        *,
        courier: str,
        request: Callable[[CarrierHttpClient], CarrierResponse],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.courier = courier
        self._request = request
        self._clock = clock
        self._lock = threading.Lock()
        self._token = ""
        self._expires_at = 0.0

    def get(self, client: CarrierHttpClient, *, refused: str = "") -> str:
        """A valid token. Raises CarrierAuthError (credentials refused by the token endpoint)
        or CarrierPayloadError (an answer that is not a token)."""
        with self._lock:
            fresh = self._token and self._clock() < self._expires_at
            if fresh and self._token != refused:
                return self._token
            token, lifetime = token_from_json(self._request(client).body, self.courier)
            self._token = token
            self._expires_at = self._clock() + lifetime - TOKEN_MARGIN_SECONDS
            return token


class OAuthCarrierAdapter(CarrierAdapter):
    """An adapter whose courier wants a client-credentials bearer token: it keeps the account's
    credentials and one token cache per adapter; the subclass says how to ask for a token
    (``_request_token``) and sends its requests through ``send_with_token(self.tokens, …)``."""

    def __init__(
        self, *, base_url: str, client_id: str = "", client_secret: str = "", **options: object
    ) -> None:
        super().__init__(base_url=base_url, **options)
        self.client_id = client_id
        self.client_secret = client_secret
        # Looked up at each call, so that a test can move the clock of an adapter it built.
        self._clock = time.monotonic
        self.tokens = OAuthToken(
            courier=self.name, request=self._request_token, clock=lambda: self._clock()
        )

    def _request_token(self, client: CarrierHttpClient) -> CarrierResponse:
        raise NotImplementedError


def send_with_token(
    tokens: OAuthToken, client: CarrierHttpClient, send: Callable[[str], CarrierResponse]
) -> CarrierResponse:
    """``send(token)``; if the courier refuses the token, renew it once and send again."""
    token = tokens.get(client)
    try:
        return send(token)
    except CarrierAuthError:
        return send(tokens.get(client, refused=token))


def token_from_json(body: bytes, courier: str) -> tuple[str, float]:
    """(access_token, lifetime in seconds) from a token endpoint's JSON answer. ``expires_in``
    is a number for most couriers, a string for some (UPS): both are accepted."""
    payload = json_load(body, courier, "token answer")
    if not isinstance(payload, Mapping):
        raise CarrierPayloadError(f"{courier} token answer is not a JSON object")
    token = payload.get("access_token")
    if not isinstance(token, str) or not token:
        raise CarrierPayloadError(f"{courier} token answer without access_token")
    lifetime = payload.get("expires_in")
    if isinstance(lifetime, bool):
        lifetime = None
    try:
        seconds = float(str(lifetime))
    except ValueError:
        seconds = 0.0
    if not seconds > 0:
        raise CarrierPayloadError(f"{courier} token answer without a positive numeric expires_in")
    return token, seconds
