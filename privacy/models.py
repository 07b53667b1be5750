"""The audit trail of buyers' privacy requests: who erased or exported whose data, and when.

It never holds the personal data itself: the buyer is named by a keyed digest of their email
(HMAC-SHA256 with SECRET_KEY, so the digest cannot be reversed by hashing guessed addresses
without the key) and by the ids of their orders, which the ledger keeps anyway."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class PrivacyRequest(models.Model):
    class Kind(models.TextChoices):
        ERASURE = "erasure", "Erasure (right to be forgotten)"
        EXPORT = "export", "Export (right of access)"
        RETENTION = "retention", "Retention policy (scheduled)"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    actor_label = models.CharField(max_length=150)
    # How the buyer was named ("email" or "order"), never the value typed.
    looked_up_by = models.CharField(max_length=10, blank=True)
    subject_digest = models.CharField(max_length=64, blank=True)
    order_ids = models.JSONField(default=list, blank=True)
    # What was removed, as counts per kind of row ("orders": 2, "files": 3...).
    counts = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["created_at"], name="privacy_request_time")]
        permissions = [
            ("erase_buyer_data", "Can erase a buyer's personal data"),
            ("export_buyer_data", "Can export a buyer's personal data"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} by {self.actor_label} at {self.created_at:%Y-%m-%d %H:%M}"
