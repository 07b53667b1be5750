"""The marketplace's default notification rules: one row per trigger, audience and channel, so
that the admin shows every switch. Idempotent (get_or_create): re-running it, or running it
after an operator changed a default, keeps what is there."""

from django.db import migrations

TRIGGERS = [
    "shipped",
    "out_for_delivery",
    "available_for_pickup",
    "failed_attempt",
    "delayed",
    "delivered",
    "exception",
    "returned",
]
# Buyers get an email for every step; an SMS only when they have to act today (be home, go to
# the pickup point, rearrange a delivery). Sellers' systems hear of everything.
BUYER_SMS = {"out_for_delivery", "available_for_pickup", "failed_attempt"}


def defaults():
    for trigger in TRIGGERS:
        yield trigger, "buyer", "email", True
        yield trigger, "buyer", "sms", trigger in BUYER_SMS
        yield trigger, "seller", "webhook", True


def create_defaults(apps, schema_editor):
    NotificationRule = apps.get_model("notifications", "NotificationRule")
    for trigger, audience, channel, enabled in defaults():
        NotificationRule.objects.get_or_create(
            seller=None,
            trigger=trigger,
            audience=audience,
            channel=channel,
            defaults={"enabled": enabled},
        )


class Migration(migrations.Migration):
    dependencies = [("notifications", "0001_initial")]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
