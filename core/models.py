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


class IdempotencyKey(models.Model):
    """One caller's ``Idempotency-Key`` on one creating POST, and the answer it got.

    The row is the lock (core/api/idempotency.py): the unique (caller, key) lets one request in,
    and the request that runs holds the row ``FOR UPDATE`` until its create commits together
    with the stored response, so a crash leaves no half-done key behind.
    """

    class State(models.TextChoices):
        IN_PROGRESS = "in_progress", "in progress"
        DONE = "done", "done"

    # Token or user, e.g. "token:12" / "user:7": two callers may pick the same key.
    caller = models.CharField(max_length=40)
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    # SHA-256 of the request's parsed body (fields and uploaded files' bytes).
    request_hash = models.CharField(max_length=64)
    state = models.CharField(max_length=12, choices=State.choices, default=State.IN_PROGRESS)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    response_headers = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["caller", "key"], name="idempotency_key_per_caller"),
            models.CheckConstraint(
                condition=models.Q(state="in_progress") | models.Q(response_status__isnull=False),
                name="idempotency_key_done_has_response",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.caller} {self.method} {self.path} [{self.key}]"
