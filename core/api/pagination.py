"""The one paginator of every API list: page sizes are bounded, and a limit or offset that is
not a plain integer a database can hold is refused with a 400 (never passed to the database,
where a 20-digit offset overflowed the bigint and answered with a 500)."""

from __future__ import annotations

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination

from core.converters import MAX_DB_ID, ascii_int

# Rows per page at most: a CRM client walks a long list with offset, it never gets it whole.
MAX_PAGE_SIZE = 200


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    """``?limit=`` (1 to MAX_PAGE_SIZE; larger asks get MAX_PAGE_SIZE) and ``?offset=``."""

    max_limit = MAX_PAGE_SIZE

    def _query_int(self, request, name: str) -> int | None:
        raw = request.query_params.get(name)
        if raw is None or raw == "":
            return None
        value = ascii_int(raw, maximum=MAX_DB_ID)
        if value is None:
            raise ValidationError(
                {name: [f"Must be a whole number from 0 to {MAX_DB_ID}."]}, code="invalid"
            )
        return value

    def get_limit(self, request) -> int:
        value = self._query_int(request, self.limit_query_param)
        if value is None or value == 0:
            return self.default_limit
        return min(value, self.max_limit)

    def get_offset(self, request) -> int:
        return self._query_int(request, self.offset_query_param) or 0
