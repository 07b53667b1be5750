"""django-q2 entry points of core: one service call each."""

from core.services import idempotency_keys_purge


def purge_idempotency_keys() -> int:
    return idempotency_keys_purge()
