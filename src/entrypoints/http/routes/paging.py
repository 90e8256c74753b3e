"""The list envelope (`ListPage`) filled from what the use cases return, for every route that lists."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from pywhatsapp.application.common.list_records import Page
from pywhatsapp.entrypoints.http.envelope import ListPage

T = TypeVar("T")
R = TypeVar("R")


def list_page(page: Page[T], read: Callable[[T], R]) -> ListPage[R]:
    """A use case's page of records (limit and offset as it applied them), each shown as `read` makes it."""
    return ListPage(
        items=[read(item) for item in page.items], total=page.total, limit=page.limit, offset=page.offset
    )


def whole_list(items: list[R]) -> ListPage[R]:
    """A list the use case returns whole: the list envelope with everything on its only page."""
    return ListPage(items=items, total=len(items), limit=len(items), offset=0)
