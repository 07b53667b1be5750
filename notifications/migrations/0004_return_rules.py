"""Default rules for the return steps (returns app): the buyer gets an email at each step, no
SMS; sellers' systems hear of every step. Idempotent like 0002."""

from django.db import migrations

TRIGGERS = ["return_requested", "return_accepted", "return_refused", "return_received"]


def create_defaults(apps, schema_editor):
    NotificationRule = apps.get_model("notifications", "NotificationRule")
    for trigger in TRIGGERS:
        for audience, channel, enabled in (
            ("buyer", "email", True),
            ("buyer", "sms", False),
            ("seller", "webhook", True),
        ):
            NotificationRule.objects.get_or_create(
                seller=None, trigger=trigger, audience=audience, channel=channel,
                defaults={"enabled": enabled},
            )  # fmt: skip


class Migration(migrations.Migration):
    dependencies = [("notifications", "0003_return_triggers")]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
