"""One live shipment per courier and tracking number (issue 14: one delivered parcel proved
delivery for several orders).

Existing rows that break the rule must not make the migration fail: in each group of live
shipments sharing a courier and number, the first registered (lowest id) keeps the number and
the later ones are voided (``void_reason`` says why, their sync stops). A voided parcel proves
nothing, so the payouts of those orders fall back to "held" at their next evaluation: finance
sees them and can release with an audited override if the parcel really was theirs.
"""

from django.db import migrations, models
from django.db.models import Count, Min
from django.utils import timezone

VOID_REASON = "Duplicate tracking number found by migration tracking 0008 (issue 14)"


def void_duplicates(apps, schema_editor):
    Shipment = apps.get_model("tracking", "Shipment")
    groups = (
        Shipment.objects.values("carrier", "tracking_number")
        .annotate(n=Count("id"), first_id=Min("id"))
        .filter(n__gt=1)
        .order_by()
    )
    now = timezone.now()
    for group in groups.iterator():
        Shipment.objects.filter(
            carrier=group["carrier"], tracking_number=group["tracking_number"]
        ).exclude(id=group["first_id"]).update(
            voided_at=now, void_reason=VOID_REASON, next_sync_at=None
        )


class Migration(migrations.Migration):
    dependencies = [
        ("sellers", "0006_ranking_covering_indexes"),
        ("tracking", "0007_shipment_direction"),
    ]

    operations = [
        migrations.AddField(
            model_name="shipment",
            name="void_reason",
            field=models.CharField(blank=True, max_length=300),
        ),
        migrations.AddField(
            model_name="shipment",
            name="voided_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(void_duplicates, migrations.RunPython.noop, elidable=False),
        migrations.AddConstraint(
            model_name="shipment",
            constraint=models.UniqueConstraint(
                condition=models.Q(("voided_at__isnull", True)),
                fields=("carrier", "tracking_number"),
                name="shipment_number_live_once",
            ),
        ),
        # Implied by the new rule for live parcels; a voided one may be registered again.
        migrations.RemoveConstraint(model_name="shipment", name="shipment_once_per_order"),
    ]
