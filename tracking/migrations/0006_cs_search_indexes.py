"""Indexes behind the CS search box, on PostgreSQL only (SQLite keeps working without them):

- B-tree on the normalised identifiers the search compares: upper(buyer_email) (``iexact``
  compiles to ``UPPER(col::text) = UPPER(%s)``), the buyer phone's last nine digits, tracking
  numbers by prefix (pattern ops, for ``LIKE 'X%'``).
- pg_trgm GIN on upper(name) for buyers and sellers: ``icontains`` compiles to
  ``UPPER(col::text) LIKE UPPER(%s)``, which these indexes serve.

The expressions must stay identical to those of cs.selectors.shipment_search (PhoneDigits,
and the UPPER of iexact and icontains).
"""

from django.db import migrations

INDEXES = [
    ("cs_order_email_upper", "sellers_order", "btree (upper(buyer_email::text))"),
    (
        "cs_order_phone_digits",
        "sellers_order",
        "btree (right(regexp_replace(buyer_phone, '[^0-9]', '', 'g'), 9))",
    ),
    ("cs_order_name_trgm", "sellers_order", "gin (upper(buyer_name::text) gin_trgm_ops)"),
    ("cs_seller_name_trgm", "sellers_seller", "gin (upper(name::text) gin_trgm_ops)"),
    (
        "cs_shipment_number_prefix",
        "tracking_shipment",
        "btree (tracking_number varchar_pattern_ops)",
    ),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, definition in INDEXES:
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING {definition}")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _definition in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("tracking", "0005_cs_agent_group"),
        ("sellers", "0002_sellerbranding"),
    ]

    operations = [migrations.RunPython(create, drop)]
