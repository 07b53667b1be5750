"""Who did it: the one definition every audit row writer uses (payout events, ledger entries,
return events, shipment audits, POD upload versions).

An ``actor`` argument is one of:

- ``None``: the system (a schedule, a job, ingest, a migration) -> no user, label ``"system"``;
- a user with a row (staff, a seller's member, a CS agent) -> that user, label its username;
- ``BUYER``: the buyer, who has no account and acts through the parcel's token link
  (the tracking page, the return form) -> no user, label ``"buyer"``;
- an API token's stand-in user (``core.api.authentication.ApiTokenUser``: no row) -> no user,
  label its ``str()`` (``"token:<key prefix>"``).
"""

from __future__ import annotations

from typing import Final

from core.errors import PermissionDenied

LABEL_MAX_LENGTH = 150  # the audit tables' actor_label columns
SYSTEM_LABEL: Final = "system"
BUYER_LABEL: Final = "buyer"


class _Buyer:
    """The buyer behind a token link: no user row, never any permission."""

    def __repr__(self) -> str:
        return "BUYER"

    def __str__(self) -> str:
        return BUYER_LABEL

    def has_perm(self, perm: str) -> bool:
        return False


BUYER: Final = _Buyer()


def actor_parts(actor) -> tuple[object | None, str]:
    """(the user to store in a foreign key or None, the label for the audit trail)."""
    if actor is None:
        return None, SYSTEM_LABEL
    if actor is BUYER:
        return None, BUYER_LABEL
    if getattr(actor, "pk", None) is None:
        # an ApiTokenUser: no user row, its str() names the token
        return None, str(actor)[:LABEL_MAX_LENGTH]
    return actor, actor.get_username()[:LABEL_MAX_LENGTH]


def actor_user(actor):
    """The user row to store in an audit row's foreign key, or None (system, buyer, token)."""
    return actor_parts(actor)[0]


def require_perm(actor, perm: str, message: str) -> None:
    """Staff actions need the permission; the system, the buyer, tokens and anonymous callers
    never have it here. Raises PermissionDenied."""
    if actor is None or not actor.has_perm(perm):
        raise PermissionDenied(message)
