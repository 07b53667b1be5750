"""Schema-checked bulk rows for the benchmarks: COPY built from the models, not from hand-kept
column lists.

A benchmark names the fields it gives a value (``TableRows(Shipment, ["order_id", ...])``); every
other concrete column is filled the way the ORM would fill it on ``Model.objects.create()``: the
field's ``default`` (callables called once per row, so ``public_token`` stays unique), ``now`` for
``auto_now``/``auto_now_add``, ``""`` for a ``blank=True`` text field. A column that is NOT NULL
and has none of these — a new required field — makes the constructor raise ``SchemaMismatch``
naming the model and the column, before any row is written; so does a NOT NULL column of the live
table that has no database default and that the model does not know (a migration not applied, or
a column added by hand). A new column therefore either gets a default or fails the smoke run at
once, instead of the COPY stopping half-way through a million rows (issue 20).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime


class SchemaMismatch(RuntimeError):  # noqa: N818 - the name says what it is
    """The benchmark's rows cannot fill this model's table as it is now."""


def _field_for(model, name: str):
    for field in model._meta.concrete_fields:
        if name in (field.name, field.attname, field.column):
            return field
    raise SchemaMismatch(f"{model._meta.label}: no concrete field or column named {name!r}")


def _plain(value):
    # TextChoices members are str subclasses psycopg does not adapt by themselves.
    return value.value if isinstance(value, enum.Enum) else value


class TableRows:
    """The full rows of one model's table from the values a benchmark supplies.

    ``columns`` lists every concrete column, supplied ones first in the given order;
    ``row(values)`` takes a tuple in the supplied order and returns the full row.
    """

    def __init__(self, model, supplied: Sequence[str], *, now: datetime) -> None:
        self.model = model
        self.now = now
        self.table = model._meta.db_table
        fields = [_field_for(model, name) for name in supplied]
        seen = {field.column for field in fields}
        if len(seen) != len(fields):
            raise SchemaMismatch(f"{model._meta.label}: a column is supplied twice: {supplied}")
        self._json = [i for i, field in enumerate(fields) if _is_json(field)]
        fillers: list[tuple[str, Callable[[], object] | None, object]] = []
        for field in model._meta.concrete_fields:
            if field.column in seen:
                continue
            if field.primary_key and field.db_returning:
                continue  # the serial/identity default of the database numbers the row
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                fillers.append((field.column, None, now))
            elif field.has_default():
                default = field.default
                if callable(default):
                    fillers.append((field.column, _adapted(field, default), None))
                else:
                    fillers.append((field.column, None, _adapt_value(field, default)))
            elif field.db_default is not _NOT_PROVIDED():
                continue  # the database fills it
            elif field.null:
                fillers.append((field.column, None, None))
            elif field.blank and field.empty_strings_allowed:
                fillers.append((field.column, None, ""))
            else:
                raise SchemaMismatch(
                    f"{model._meta.label}.{field.name} (column {self.table}.{field.column}) is "
                    "NOT NULL without a default and the benchmark gives it no value: give it a "
                    "default or a value in the benchmark's generator"
                )
        self.columns = [field.column for field in fields] + [column for column, _, _ in fillers]
        self._fillers = fillers
        self._has_callable = any(call is not None for _, call, _ in fillers)
        self._static_tail = tuple(value for _, _, value in fillers)
        _check_live_table(model, self.table, set(self.columns))

    def row(self, values: Sequence[object]) -> tuple:
        if self._json:
            values = list(values)
            for i in self._json:
                values[i] = _jsonb(values[i])
        if not self._has_callable:
            return (*values, *self._static_tail)
        tail = tuple(value if call is None else call() for _, call, value in self._fillers)
        return (*values, *tail)

    def copy_sql(self) -> str:
        from django.db import connection

        quote = connection.ops.quote_name
        return f"COPY {quote(self.table)} ({', '.join(quote(c) for c in self.columns)}) FROM STDIN"

    def copy(self, rows: Iterable[Sequence[object]]) -> int:
        """COPY ``rows`` (tuples in the supplied order) into the table on Django's connection,
        inside the caller's transaction if there is one. Returns the number of rows written."""
        from django.db import connection

        connection.ensure_connection()
        count = 0
        with connection.connection.cursor() as cursor, cursor.copy(self.copy_sql()) as copy:
            for values in rows:
                copy.write_row(self.row(values))
                count += 1
        return count


def copy_rows(model, supplied: Sequence[str], rows: Iterable[Sequence[object]], *, now) -> int:
    """Schema-check, then COPY: ``TableRows(model, supplied, now=now).copy(rows)``."""
    return TableRows(model, supplied, now=now).copy(rows)


def reset_sequence(model) -> None:
    """After COPY with explicit ids: move the id sequence past them (as Django's loaddata)."""
    from django.core.management.color import no_style
    from django.db import connection

    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), [model]):
            cursor.execute(statement)


def _NOT_PROVIDED():  # noqa: N802 - stands for the constant it returns
    from django.db.models.fields import NOT_PROVIDED

    return NOT_PROVIDED


def _is_json(field) -> bool:
    from django.db.models import JSONField

    return isinstance(field, JSONField)


def _jsonb(value):
    from psycopg.types.json import Jsonb

    return Jsonb(value)


def _adapt_value(field, value):
    return _jsonb(value) if _is_json(field) else _plain(value)


def _adapted(field, default: Callable[[], object]) -> Callable[[], object]:
    if _is_json(field):
        return lambda: _jsonb(default())
    return lambda: _plain(default())


def _check_live_table(model, table: str, columns: set[str]) -> None:
    """NOT NULL columns of the table as the database has it, without a database default, that
    the rows do not fill: the model and the migrations disagree, or a column was added by hand."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name, is_nullable, column_default, is_identity "
            "FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = %s",
            [table],
        )
        live = cursor.fetchall()
    if not live:
        raise SchemaMismatch(f"{model._meta.label}: table {table} does not exist (migrate first)")
    missing = [
        name
        for name, nullable, default, identity in live
        if nullable == "NO" and default is None and identity != "YES" and name not in columns
    ]
    if missing:
        raise SchemaMismatch(
            f"{model._meta.label}: table {table} has NOT NULL column(s) without a default that "
            f"the model does not fill: {', '.join(sorted(missing))}"
        )
    unknown = sorted(columns - {name for name, *_ in live})
    if unknown:
        raise SchemaMismatch(
            f"{model._meta.label}: the model has column(s) the table lacks: {', '.join(unknown)} "
            "(migrations not applied?)"
        )
