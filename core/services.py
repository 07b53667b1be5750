from django.db import transaction

from core.models import ApiToken


@transaction.atomic
def api_token_create(*, name: str, seller=None) -> tuple[ApiToken, str]:
    """Create a token and return it with its clear key, which is shown once and never stored."""
    key = ApiToken.generate_key()
    token = ApiToken.objects.create(
        name=name, seller=seller, key_prefix=key[:12], key_hash=ApiToken.hash_key(key)
    )
    return token, key
