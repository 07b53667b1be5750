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
