"""The benchmarks cannot rot (issue 20, item 1): every one of them runs in CI at a small size,
from an empty database, and verifies its results (``python -m benchmarks.run --smoke``); the
rows they COPY are schema-checked against the models and the live tables first.

The smoke runs in a child process on a database of its own (the benchmarks TRUNCATE the tables
they fill and start gunicorn): this test's database is left alone. Figures are not asserted: a
smoke run ignores the goals, timings belong to `make bench`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from psycopg import sql

from benchmarks.rows import SchemaMismatch, TableRows, copy_rows
from benchmarks.run import BENCHMARKS
from sellers.models import Seller
from tests.support.services import require_service
from tracking.models import Shipment, TrackingEvent

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)
# Generous: the smoke takes about a minute on 2 shared cores; a hung benchmark must still end.
SMOKE_TIMEOUT_SECONDS = 900

pytestmark = pytest.mark.postgres


@pytest.fixture
def on_postgres():
    # PostgreSQL is part of CI machines: there a missing one fails the test instead of skipping.
    require_service(
        "PostgreSQL",
        available=connection.vendor == "postgresql",
        detail="the benchmarks measure PostgreSQL only; set DATABASE_URL",
    )


def _maintenance_connection() -> psycopg.Connection:
    db = settings.DATABASES["default"]
    params = {"host": db.get("HOST") or "127.0.0.1", "port": db.get("PORT") or 5432,
              "user": db.get("USER") or None, "password": db.get("PASSWORD") or None}  # fmt: skip
    return psycopg.connect(
        dbname="postgres", autocommit=True, **{k: v for k, v in params.items() if v}
    )


def _drop_database(name: str) -> None:
    with _maintenance_connection() as maintenance:
        maintenance.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def test_benchmarks_smoke_runs_and_verifies_every_benchmark_from_an_empty_database(on_postgres):
    # given: a database of its own that does not exist yet (the benchmarks create and migrate it)
    db = settings.DATABASES["default"]
    name = f"{db['NAME']}_bench_smoke"
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"
    _drop_database(name)
    env = {**os.environ, "DATABASE_URL": url}
    try:
        # when
        done = subprocess.run(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "benchmarks.run", "--smoke"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=SMOKE_TIMEOUT_SECONDS,
            check=False,
        )
    finally:
        _drop_database(name)

    # then: it finished, every benchmark verified its results, docs/benchmarks.md untouched
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-6000:]
    summary = next(line for line in done.stdout.splitlines() if line.startswith("smoke: "))
    for module in BENCHMARKS:
        benchmark = __import__(module, fromlist=["NAME"]).NAME
        assert f"{benchmark}: verified" in summary, summary
    assert "recorded in docs/benchmarks.md" not in done.stdout


def test_table_rows_refuse_a_not_null_column_the_benchmark_leaves_without_a_value(db):
    # given: events without occurred_at (NOT NULL, no default, not blank)
    # when / then: refused before any row, naming the model and the column
    with pytest.raises(SchemaMismatch, match=r"tracking\.TrackingEvent\.occurred_at"):
        TableRows(TrackingEvent, ["shipment_id", "status", "dedupe_key"], now=NOW)


def test_table_rows_refuse_a_not_null_column_of_the_live_table_the_model_lacks(db, on_postgres):
    # given: a column added to the table behind the model's back (rolled back with the test)
    with connection.cursor() as cursor:
        cursor.execute(
            "ALTER TABLE sellers_seller ADD COLUMN bench_probe integer NOT NULL DEFAULT 0"
        )
        cursor.execute("ALTER TABLE sellers_seller ALTER COLUMN bench_probe DROP DEFAULT")

    # when / then
    with pytest.raises(SchemaMismatch, match=r"sellers_seller .*bench_probe"):
        TableRows(Seller, ["name", "slug"], now=NOW)


def test_table_rows_refuse_a_field_the_model_does_not_have(db):
    with pytest.raises(SchemaMismatch, match=r"sellers\.Seller: no concrete field .*'country'"):
        TableRows(Seller, ["name", "slug", "country"], now=NOW)


def test_copy_rows_fill_the_columns_not_given_as_the_orm_would(db, on_postgres):
    # given: sellers COPYed with their name and slug only
    written = copy_rows(Seller, ["name", "slug"], [("Atelier A", "a"), ("Atelier B", "b")], now=NOW)

    # then: model defaults, auto_now_add = the generator's now, blank text = ""
    assert written == 2
    stored = list(
        Seller.objects.order_by("slug").values_list("slug", "origin_country", "origin_postcode",
                                                    "created_at")
    )  # fmt: skip
    assert stored == [("a", "FR", "", NOW), ("b", "FR", "", NOW)]


def test_table_rows_call_callable_defaults_once_per_row(db, on_postgres):
    # given: shipments without direction nor public token (model defaults, one a callable)
    table = TableRows(Shipment, ["order_id", "seller_id", "carrier", "tracking_number"], now=NOW)
    direction = table.columns.index("direction")
    token = table.columns.index("public_token")

    # when
    rows = [table.row((1, 1, "laposte", f"6A{i:011d}")) for i in range(3)]

    # then
    assert {row[direction] for row in rows} == {Shipment.Direction.OUTBOUND.value}
    assert len({row[token] for row in rows}) == 3
