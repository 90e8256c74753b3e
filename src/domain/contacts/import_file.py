"""What kind of file an import was given (CSV text or an Excel workbook), and a sheet as CSV text.

A workbook's first sheet is turned into CSV text once, when the import starts; that text is what the job
keeps and plans from (`CsvFile`), so an xlsx import has the same mapping, row numbers, row report, batches,
progress and resumption as a CSV one. Row numbers stay those of the sheet: empty rows are kept as empty
lines, which the CSV reader skips but counts.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from enum import StrEnum

from pywhatsapp.domain.errors import InvalidInput

XLSX_MAGIC = b"PK\x03\x04"
"""An xlsx file is a ZIP archive."""
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
"""Excel 97-2003 (.xls) and other old Office files."""
XLSX_TYPES = frozenset(
    {
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.ms-excel.sheet.macroenabled.12",
    }
)
BINARY_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
)
MAX_SHEET_ROWS = 1_048_576
"""Excel's own limit."""
MAX_SHEET_TEXT = 64 * 1024 * 1024
"""The sheet as CSV text, at most; a workbook that expands past it (a ZIP bomb) is refused."""
DELIMITERS = ",;\t|"


class UnsupportedFile(InvalidInput):
    """The file is neither CSV text nor an xlsx workbook (an image, a PDF, an old .xls...)."""


class ImportFileKind(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


def detect_kind(data: bytes, *, filename: str | None, content_type: str | None) -> ImportFileKind:
    """By the bytes first (they cannot lie), then by the name and the declared type."""
    name = (filename or "").lower()
    declared = (content_type or "").split(";", 1)[0].strip().lower()
    if data.startswith(XLSX_MAGIC):
        return ImportFileKind.XLSX
    if data.startswith(OLE2_MAGIC) or name.endswith(".xls"):
        raise UnsupportedFile("old Excel files (.xls) cannot be read: save the sheet as .xlsx or CSV")
    if name.endswith((".xlsx", ".xlsm")) or declared in XLSX_TYPES:
        raise UnsupportedFile("the file is named or sent as an Excel workbook but is not one (no xlsx data)")
    for signature, kind in BINARY_SIGNATURES:
        if data.startswith(signature):
            raise UnsupportedFile(f"the file is {kind}, not a CSV or xlsx file")
    if b"\x00" in data[:8192]:
        raise UnsupportedFile("the file is binary, not a CSV or xlsx file (it holds NUL bytes)")
    return ImportFileKind.CSV


def _delimiter_found(text: str) -> str:
    """The delimiter `CsvFile.parse` will find in the header line (whichever of , ; tab | it holds most)."""
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    return max(DELIMITERS, key=first_line.count)


def sheet_as_csv(rows: Iterable[Sequence[str]]) -> str:
    """The sheet's rows (from row 1, empty rows included) as CSV text that `CsvFile.parse` reads back
    into the same cells with the same row numbers."""
    records = []
    size = 0
    for number, row in enumerate(rows, start=1):
        if number > MAX_SHEET_ROWS:
            raise InvalidInput(f"the sheet has more than {MAX_SHEET_ROWS} rows")
        cells = list(row)
        while cells and not cells[-1]:
            cells.pop()
        size += sum(len(cell) + 3 for cell in cells) + 2
        if size > MAX_SHEET_TEXT:
            raise InvalidInput(f"the sheet holds more than {MAX_SHEET_TEXT // (1024 * 1024)} MB of text")
        records.append(cells)
    if not records or not any(cell.strip() for cell in records[0]):
        raise InvalidInput("the sheet is empty: its first row must name the columns")
    # A header cell holding separators could make the reader pick another one: choose one it will find.
    for delimiter in DELIMITERS:
        out = io.StringIO()
        writer = csv.writer(out, delimiter=delimiter, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
        writer.writerow(records[0])
        if _delimiter_found(out.getvalue()) == delimiter:
            writer.writerows(records[1:])
            return out.getvalue()
    raise InvalidInput("the sheet's column names hold too many separators (, ; tab |) to be read")
