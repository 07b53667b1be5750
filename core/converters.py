"""URL converters shared by the apps."""

from django.urls import register_converter


class IdConverter:
    """A database id in a URL: 1 to 18 digits, so it always fits a 64-bit integer column (a
    longer number is a 404, not an overflow in the database driver)."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(IdConverter, "id")

# Ids in request bodies and query strings: the largest value a bigint column holds.
MAX_DB_ID = 2**63 - 1


def ascii_int(value: str, *, maximum: int = MAX_DB_ID) -> int | None:
    """``value`` as a non-negative integer, or None: ASCII digits only (``str.isdigit`` also
    accepts "²" and "٣", which ``int()`` then refuses or reads), and no more than ``maximum``
    (a bigint column's largest value by default)."""
    if not value or not value.isascii() or not value.isdigit() or len(value) > len(str(maximum)):
        return None
    number = int(value)
    return number if number <= maximum else None
