import hashlib
import secrets

from django.db import models


class ApiTokenQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)


class ApiToken(models.Model):
    """A credential for API clients, scoped to one seller or (seller empty) to the marketplace.

    Only a SHA-256 of the key is stored: a leaked database does not leak working tokens.
    """

    KEY_PREFIX = "pcl_"

    name = models.CharField(max_length=100)
    seller = models.ForeignKey(
        "sellers.Seller",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        help_text="Empty: the token acts for the whole marketplace.",
    )
    key_prefix = models.CharField(max_length=12, help_text="First characters, to recognise a key.")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    def __str__(self) -> str:
        scope = self.seller.name if self.seller_id else "marketplace"
        return f"{self.name} ({scope}, {self.key_prefix}…)"

    @property
    def is_marketplace(self) -> bool:
        return self.seller_id is None

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    def generate_key(cls) -> str:
        return cls.KEY_PREFIX + secrets.token_urlsafe(32)
