"""Accent- and case-blind search (PostgreSQL only; SQLite registers parcelle_fold per connection,
see core.textsearch, and needs nothing here):

- the ``unaccent`` and ``pg_trgm`` extensions (both trusted: no superuser needed on PG 13+);
- ``parcelle_fold(text)``: lower(unaccent(text)), declared IMMUTABLE so indexes can use it
  (``unaccent`` is STABLE; pinning its dictionary makes the result depend on the text only);
- trigram GIN indexes on parcelle_fold() of the buyer's name and email, the order reference and
  the seller's name: the search compares ``parcelle_fold(col) LIKE '%' || parcelle_fold(q) || '%'``
  and pg_trgm serves LIKE with a leading wildcard. They replace 0006's upper(name) indexes.
"""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION parcelle_fold(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
AS $$ SELECT lower(public.unaccent('public.unaccent'::regdictionary, value)) $$
"""

INDEXES = [
    ("cs_order_name_fold_trgm", "sellers_order", "buyer_name"),
    ("cs_order_email_fold_trgm", "sellers_order", "buyer_email"),
    ("cs_order_reference_fold_trgm", "sellers_order", "reference"),
    ("cs_seller_name_fold_trgm", "sellers_seller", "name"),
]
REPLACED = ["cs_order_name_trgm", "cs_seller_name_trgm"]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public")
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(FUNCTION)
    for name, table, column in INDEXES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} "
            f"USING gin (parcelle_fold({column}::text) gin_trgm_ops)"
        )
    for name in REPLACED:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _column in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS cs_order_name_trgm ON sellers_order "
        "USING gin (upper(buyer_name::text) gin_trgm_ops)"
    )
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS cs_seller_name_trgm ON sellers_seller "
        "USING gin (upper(name::text) gin_trgm_ops)"
    )
    schema_editor.execute("DROP FUNCTION IF EXISTS parcelle_fold(text)")


class Migration(migrations.Migration):
    dependencies = [
        ("tracking", "0010_pod_evidence"),
        ("sellers", "0007_tracking_upload_lease"),
    ]

    operations = [migrations.RunPython(create, drop)]
