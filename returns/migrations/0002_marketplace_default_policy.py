"""The marketplace's default return policy (version 1), in force since long before any order:
what applies to every seller until it sets its own. EU-style: 14 days after delivery, every
reason, unopened or as-new items, buyer pays the return shipping, refund or exchange.
Idempotent: a default already there is kept."""

from datetime import UTC, datetime

from django.db import migrations

REASONS = ["changed_mind", "wrong_size", "not_as_described", "damaged", "defective", "wrong_item"]


def create_default(apps, schema_editor):
    ReturnPolicy = apps.get_model("returns", "ReturnPolicy")
    if ReturnPolicy.objects.filter(seller__isnull=True).exists():
        return
    ReturnPolicy.objects.create(
        seller=None, version=1, accepts_returns=True, window_days=14, allowed_reasons=REASONS,
        allowed_conditions=["unopened", "like_new"], shipping_paid_by="buyer",
        requires_description=False, min_photos=0, resolutions=["refund", "exchange"],
        effective_from=datetime(2000, 1, 1, tzinfo=UTC),
    )  # fmt: skip


class Migration(migrations.Migration):
    dependencies = [("returns", "0001_initial")]

    operations = [migrations.RunPython(create_default, migrations.RunPython.noop)]
