"""Accent- and case-blind text matching, the same on PostgreSQL and SQLite.

``Fold(expr)`` compiles to ``parcelle_fold(expr)`` on both databases:

- PostgreSQL: an IMMUTABLE SQL function over ``unaccent`` + ``lower`` (migration
  ``tracking 0011_cs_search_unaccent``), immutable so that trigram (pg_trgm GIN) indexes can be
  built on it; ``unaccent`` itself is only STABLE because its dictionary could change.
- SQLite: the Python function ``fold`` below, registered on every new connection
  (``CoreConfig.ready``), deterministic so that SQLite may use it in indexes too.

Both sides of a comparison are folded by the database (``Fold(Value(query))``), so a query and a
stored name always go through the same rule, whichever database runs it."""

from __future__ import annotations

import unicodedata

from django.db.models import Func, TextField

SQL_FUNCTION = "parcelle_fold"

# Letters that Unicode does not decompose into a base letter plus an accent, folded as
# PostgreSQL's unaccent.rules does (œ -> oe, ß -> ss...), so SQLite and PostgreSQL agree.
_LIGATURES = str.maketrans(
    {
        "œ": "oe",
        "æ": "ae",
        "ø": "o",
        "ß": "ss",
        "ł": "l",
        "đ": "d",
        "ð": "d",
        "þ": "th",
        "ı": "i",
    }
)


def fold(value: str | None) -> str | None:
    """``value`` without accents, in lower case ("Hélène LEFÈVRE" -> "helene lefevre")."""
    if value is None:
        return None
    decomposed = unicodedata.normalize("NFKD", value.lower())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return bare.translate(_LIGATURES)


class Fold(Func):
    """``parcelle_fold(expr)``: the database's accent- and case-blind form of a text column."""

    function = SQL_FUNCTION
    output_field = TextField()


def register_sqlite_fold(sender, connection, **kwargs) -> None:
    """connection_created receiver: gives each SQLite connection ``parcelle_fold``."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(SQL_FUNCTION, 1, fold, deterministic=True)
