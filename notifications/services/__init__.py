"""Writes of the notifications app (one module per concept)."""

from notifications.services.outbox import (
    exception_notifications_record,
    notifications_record,
    payouts_released_record,
)
from notifications.services.returns import return_step_record
from notifications.services.rules import rule_keys, seller_notification_rules_set
from notifications.services.sending import notifications_send, outbox_sweep
from notifications.services.webhooks import (
    webhook_deliveries_send,
    webhook_endpoint_enable,
    webhook_endpoint_rotate_secret,
    webhook_replay,
)

__all__ = [
    "exception_notifications_record",
    "notifications_record",
    "notifications_send",
    "outbox_sweep",
    "payouts_released_record",
    "return_step_record",
    "rule_keys",
    "seller_notification_rules_set",
    "webhook_deliveries_send",
    "webhook_endpoint_enable",
    "webhook_endpoint_rotate_secret",
    "webhook_replay",
]
