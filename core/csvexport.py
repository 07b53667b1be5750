"""CSV exports opened in spreadsheets. Spreadsheets execute cells that start with = + - @ (and
tab or carriage return, which some strip first): every such text cell is prefixed with a quote,
so a seller named "=HYPERLINK(…)" stays text in the reader's spreadsheet."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator

from django.http import StreamingHttpResponse

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> str:
    """One cell, safe to open in a spreadsheet. Numbers stay numbers (a negative amount is not
    a formula); text that a spreadsheet would evaluate gets a leading quote."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return str(value)
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(header: list[str], rows: Iterable[Iterable[object]]) -> Iterator[str]:
    """The CSV text line by line, for a StreamingHttpResponse (exports can be large)."""
    writer = csv.writer(_Echo())
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow([csv_cell(cell) for cell in row])


def csv_response(filename: str, header: list[str], rows: Iterable[Iterable[object]]):
    """A streamed CSV download whose cells are all safe to open in a spreadsheet."""
    response = StreamingHttpResponse(csv_lines(header, rows), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
