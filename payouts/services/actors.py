"""Who acts: a staff user, an API token (no user row) or the system (None)."""

from __future__ import annotations

from core.errors import PermissionDenied


def actor_parts(actor) -> tuple[object | None, str]:
    """(the user to store in a foreign key or None, a label for the audit trail)."""
    if actor is None:
        return None, "system"
    if getattr(actor, "pk", None) is None:
        # An ApiTokenUser: no user row, its str() names the token ("token:pcl_…").
        return None, str(actor)[:150]
    return actor, actor.get_username()[:150]


def require_perm(actor, perm: str, message: str) -> None:
    """Staff actions need the permission; tokens and anonymous callers never have it."""
    if actor is None or not actor.has_perm(perm):
        raise PermissionDenied(message)
