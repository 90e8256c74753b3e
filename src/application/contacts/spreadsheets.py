"""The port that reads a spreadsheet workbook's first sheet, row by row, for contact imports."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol


class SpreadsheetReader(Protocol):
    def rows(self, data: bytes) -> Iterator[list[str]]:
        """The first sheet's rows from row 1 on, empty rows included (as []), each cell as the text a
        person sees in it (numbers without a trailing .0, dates as ISO 8601). Streams: a large sheet is
        never held whole. Raises `InvalidInput` when the bytes are not a readable workbook."""
        ...
