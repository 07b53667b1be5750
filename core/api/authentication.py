from django.utils import timezone
from rest_framework import authentication, exceptions

from core.models import ApiToken


class ApiTokenAuthentication(authentication.TokenAuthentication):
    """``Authorization: Token pcl_…``; the token's scope (seller or marketplace) is request.auth."""

    keyword = "Token"

    def authenticate_credentials(self, key: str):
        try:
            token = (
                ApiToken.objects.active()
                .select_related("seller")
                .get(key_hash=ApiToken.hash_key(key))
            )
        except ApiToken.DoesNotExist:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.") from None
        # Bounded write: at most one timestamp update a minute per token.
        now = timezone.now()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return (ApiTokenUser(token), token)


class ApiTokenUser:
    """The request.user of a token-authenticated call: authenticated, never staff."""

    is_authenticated = True
    is_anonymous = False
    is_staff = False
    is_superuser = False
    is_active = True

    def __init__(self, token: ApiToken) -> None:
        self.token = token
        self.pk = None
        self.id = None

    def __str__(self) -> str:
        return f"token:{self.token.key_prefix}"

    def has_perm(self, perm, obj=None) -> bool:
        return False
