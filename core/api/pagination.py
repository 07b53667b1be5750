"""The one paginator of every API list: page sizes are bounded, and a limit or offset that is
not a plain integer a database can hold is refused with a 400 (never passed to the database,
where a 20-digit offset overflowed the bigint and answered with a 500)."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import BasePagination, CursorPagination, LimitOffsetPagination

from core.converters import MAX_DB_ID, ascii_int
from core.errors import ApplicationError

# Rows per page at most: a CRM client walks a long list with offset, it never gets it whole.
MAX_PAGE_SIZE = 200
# Rows per page when the client does not say (the REST_FRAMEWORK setting every list shares).
PAGE_SIZE = settings.REST_FRAMEWORK["PAGE_SIZE"]


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


class KeysetCursorPagination(CursorPagination):
    """``?cursor=`` (opaque, from a page's ``next``/``previous``) and ``?limit=`` (1 to
    MAX_PAGE_SIZE) over a unique integer key such as ``-id``: each page is ``WHERE id < last
    ORDER BY id DESC LIMIT n`` on the key's index, so page 10 000 costs what page 1 costs (an
    OFFSET reads and drops every row before it), and a row inserted while a client walks the
    list neither shifts nor repeats the rows it has yet to see.

    The key must be unique (the primary key, or a unique integer column): DRF's cursor falls back
    to an offset among rows sharing a position, which a unique key never needs. A cursor a client
    edited is refused with a 400 ``invalid_cursor`` before it reaches the database (DRF reads the
    position as text and handed ``id < 'x'`` to the ORM: a 500)."""

    page_size = PAGE_SIZE
    page_size_query_param = "limit"
    max_page_size = MAX_PAGE_SIZE
    ordering = "-id"
    invalid_cursor_message = "Invalid cursor: pass a page's next or previous link unchanged."

    def __init__(self, ordering: str | None = None) -> None:
        if ordering is not None:
            self.ordering = ordering

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None or raw == "":
            return self.page_size
        value = ascii_int(raw, maximum=MAX_DB_ID)
        if value is None:
            raise ValidationError(
                {"limit": [f"Must be a whole number from 0 to {MAX_DB_ID}."]}, code="invalid"
            )
        return min(value, self.max_page_size) if value else self.page_size

    def decode_cursor(self, request):
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            raise self._invalid() from None
        # Our keys are unique, so a cursor we wrote never carries an offset; the position is a
        # key a bigint holds.
        if cursor is not None and (
            cursor.offset or (cursor.position is not None and ascii_int(cursor.position) is None)
        ):
            raise self._invalid()
        return cursor

    def _invalid(self) -> ApplicationError:
        return ApplicationError(self.invalid_cursor_message, code="invalid_cursor", field="cursor")


class ListPagination:
    """The lists that grow to millions of rows (shipments, events): cursor paging by default,
    offset paging when the request gives ``offset``.

    Clients written against the offset pages keep working: they pass ``offset`` (their second
    page on) and get ``{count, next, previous, results}`` as before, in the same order as the
    cursor pages, so a first page fetched without ``offset`` then ``offset=50`` neither skips nor
    repeats a row. Without ``offset`` the answer is a cursor page, ``{next, previous,
    results}``: counting a million rows is itself a full scan, which is why the default has no
    ``count``. Both at once is ambiguous and refused."""

    def __init__(self, *, ordering: str = "-id") -> None:
        self.ordering = ordering
        self._paginator: BasePagination | None = None

    def paginate_queryset(self, queryset, request, view=None):
        params = request.query_params
        if params.get("offset") and params.get("cursor"):
            raise ApplicationError(
                "Give either cursor or offset, not both.", code="invalid", field="cursor"
            )
        if params.get("offset"):
            self._paginator = BoundedLimitOffsetPagination()
            queryset = queryset.order_by(self.ordering)
        else:
            self._paginator = KeysetCursorPagination(ordering=self.ordering)
        return self._paginator.paginate_queryset(queryset, request, view=view)

    def get_paginated_response(self, data):
        return self._paginator.get_paginated_response(data)


def paging_parameters() -> list[OpenApiParameter]:
    """The query parameters of a ListPagination list, for its schema."""
    return [
        OpenApiParameter(
            "cursor", str, description="Opaque position from a page's `next` or `previous` "
            "link. Without it (and without `offset`), the first page.",
        ),
        OpenApiParameter(
            "limit", int, description=f"Rows per page, 1 to {MAX_PAGE_SIZE} (larger asks get "
            f"{MAX_PAGE_SIZE}; default {PAGE_SIZE}).",
        ),
        OpenApiParameter(
            "offset", int, description="Offset paging, kept for clients written against it: "
            "rows to skip. Cost grows with the offset; the answer then also has `count`. Not "
            "with `cursor`.",
        ),
    ]  # fmt: skip


def paginated_schema(serializer_class) -> serializers.Serializer:
    """The page envelope of a ListPagination list, for its schema: ``{next, previous, results}``,
    and ``count`` in offset paging."""
    name = serializer_class.__name__.removesuffix("Output")
    return inline_serializer(
        name=f"Paginated{name}List",
        fields={
            "count": serializers.IntegerField(
                required=False, help_text="Rows in the whole list: in offset paging only."
            ),
            "next": serializers.URLField(
                allow_null=True, help_text="The next page's URL; null on the last page."
            ),
            "previous": serializers.URLField(
                allow_null=True, help_text="The previous page's URL; null on the first page."
            ),
            "results": serializer_class(many=True),
        },
    )
