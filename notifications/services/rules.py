"""A seller's own notification rules (the seller portal): overrides of the marketplace defaults."""

from __future__ import annotations

from collections.abc import Mapping

from django.db import transaction

from notifications.models import Audience, Channel, NotificationRule
from notifications.triggers import Trigger

# The combinations a rule may take (the table's check constraint says the same).
RULE_CHANNELS: tuple[tuple[str, str], ...] = (
    (Audience.BUYER, Channel.EMAIL),
    (Audience.BUYER, Channel.SMS),
    (Audience.SELLER, Channel.WEBHOOK),
)
RuleKey = tuple[str, str, str]  # (trigger, audience, channel)


def rule_keys() -> list[RuleKey]:
    return [(t, a, c) for t in Trigger.values for a, c in RULE_CHANNELS]


@transaction.atomic
def seller_notification_rules_set(*, seller, enabled: Mapping[RuleKey, bool], actor=None) -> int:
    """Make ``seller``'s rules say ``enabled`` for every combination (missing keys: off).

    Where the seller agrees with the marketplace default, no override is kept, so a later change
    of the default reaches them; elsewhere an override row says what they chose. Returns the
    number of overrides the seller has afterwards.
    """
    defaults = {
        (r.trigger, r.audience, r.channel): r.enabled
        for r in NotificationRule.objects.filter(seller__isnull=True)
    }
    for key in rule_keys():
        wanted = bool(enabled.get(key, False))
        trigger, audience, channel = key
        scope = NotificationRule.objects.filter(
            seller=seller, trigger=trigger, audience=audience, channel=channel
        )
        if wanted == defaults.get(key, False):
            scope.delete()
        else:
            NotificationRule.objects.update_or_create(
                seller=seller, trigger=trigger, audience=audience, channel=channel,
                defaults={"enabled": wanted},
            )  # fmt: skip
    return NotificationRule.objects.filter(seller=seller).count()
