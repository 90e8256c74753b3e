"""The bounds of a page that a use case lists: the same as `ListRecords` takes."""

from __future__ import annotations

from pywhatsapp.application.common.list_records import MAX_OFFSET, MAX_PAGE_SIZE
from pywhatsapp.domain.errors import InvalidInput


def check_page(limit: int, offset: int) -> None:
    """Refuse a page of more than MAX_PAGE_SIZE records, or an offset below 0 or beyond MAX_OFFSET."""
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE_SIZE}")
    if not 0 <= offset <= MAX_OFFSET:
        raise InvalidInput(f"offset must be between 0 and {MAX_OFFSET}")
