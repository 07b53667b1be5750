from datetime import datetime

from django.db import transaction
from django.utils import timezone

from core.models import ApiToken, IdempotencyKey


@transaction.atomic
def api_token_create(*, name: str, seller=None) -> tuple[ApiToken, str]:
    """Create a token and return it with its clear key, which is shown once and never stored."""
    key = ApiToken.generate_key()
    token = ApiToken.objects.create(
        name=name, seller=seller, key_prefix=key[:12], key_hash=ApiToken.hash_key(key)
    )
    return token, key


def idempotency_keys_purge(*, now: datetime | None = None) -> int:
    """Delete the Idempotency-Keys past their expiry (API_IDEMPOTENCY_KEY_TTL_HOURS); returns how
    many. Safe to run twice at once: a plain DELETE of rows nobody reads again."""
    deleted, _ = IdempotencyKey.objects.filter(expires_at__lte=now or timezone.now()).delete()
    return deleted
