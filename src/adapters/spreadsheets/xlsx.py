"""Excel workbooks (xlsx) read with openpyxl in read-only mode: rows stream from the sheet's XML.

The sheet's declared dimensions are ignored (`reset_dimensions`), so a file claiming a huge range does
not make every row padded to it; formulas give their last computed values (`data_only`).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from pywhatsapp.domain.errors import InvalidInput


def cell_text(value: Any) -> str:
    """A cell as its text: 14155550100 (a phone number typed as a number) stays 14155550100."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time.min else value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    return str(value).strip()


class OpenpyxlReader:
    def rows(self, data: bytes) -> Iterator[list[str]]:
        try:
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
            raise InvalidInput(f"the file is not a readable xlsx workbook ({type(error).__name__})") from None
        try:
            if not workbook.worksheets:
                raise InvalidInput("the workbook has no sheet")
            sheet = workbook.worksheets[0]
            if not hasattr(sheet, "reset_dimensions"):
                raise InvalidInput("the workbook's first sheet is a chart, not a table")
            sheet.reset_dimensions()
            try:
                for row in sheet.iter_rows(values_only=True):
                    yield [cell_text(value) for value in row]
            except (zipfile.BadZipFile, KeyError, ValueError, SyntaxError) as error:
                # defusedxml's refusals (entities, external references) are ValueErrors too
                raise InvalidInput(
                    f"the workbook's sheet could not be read ({type(error).__name__})"
                ) from None
        finally:
            workbook.close()
