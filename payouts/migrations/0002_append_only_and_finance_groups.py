"""The ledger and the audit trail refuse UPDATE and DELETE in the database itself (PostgreSQL:
a trigger), so no code path, admin action or stray SQL can rewrite history; corrections are
reversal entries. TRUNCATE (test flushes, the benchmark) is not affected.

Also creates the "finance" group (console, release, hold, POD review) and the "finance lead"
group (the same plus the override release without proof of delivery).
"""

from django.db import migrations

APPEND_ONLY_TABLES = ["payouts_journalentry", "payouts_journalline", "payouts_payoutevent"]

FINANCE_PERMISSIONS = [
    ("payouts", "view_finance_console"),
    ("payouts", "release_payout"),
    ("payouts", "view_payout"),
    ("payouts", "view_journalentry"),
    ("payouts", "view_payoutevent"),
    ("tracking", "review_pod"),
]
GROUPS = {
    "finance": FINANCE_PERMISSIONS,
    "finance lead": [*FINANCE_PERMISSIONS, ("payouts", "override_pod_release")],
}


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        """
        CREATE OR REPLACE FUNCTION payouts_refuse_change() RETURNS trigger AS $$
        BEGIN
            RAISE EXCEPTION '%% is append-only: post a reversal instead', TG_TABLE_NAME;
        END;
        $$ LANGUAGE plpgsql;
        """
    )
    for table in APPEND_ONLY_TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION payouts_refuse_change()"
        )


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in APPEND_ONLY_TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    schema_editor.execute("DROP FUNCTION IF EXISTS payouts_refuse_change()")


def create_groups(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after migrate; the groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codes in GROUPS.items():
        group, _created = Group.objects.get_or_create(name=name)
        for app_label, codename in codes:
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


def drop_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("payouts", "0001_initial"),
        ("tracking", "0003_pod_review_permission"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(create_triggers, drop_triggers),
        migrations.RunPython(create_groups, drop_groups),
    ]
