"""Export a tenant's contacts as CSV rows (`GET /api/v1/contacts/export`, `pywhatsapp contacts export`).

The rows are read a page at a time, each page in its own short transaction, so a large export streams
without holding a transaction open. The columns are what an import reads back: `phone`, `name`, `tags`
(joined by commas) and one `attributes.<name>` column per custom attribute, then the opt-out state.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from uuid import UUID

from pywhatsapp.application.common.unit_of_work import UnitOfWorkFactory
from pywhatsapp.domain.contacts.contact import Contact
from pywhatsapp.domain.contacts.phone import display_phone
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.domain.tenancy.membership import Role

PAGE_SIZE = 1000
FIXED_COLUMNS = ["phone", "name", "tags"]
TRAILING_COLUMNS = ["opted_out", "opted_out_changed_at", "created_at"]


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value) if isinstance(value, (dict, list)) else str(value)


class ExportContacts:
    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    async def csv_chunks(self, principal: Principal) -> AsyncIterator[str]:
        """The CSV text in chunks: the header, then a chunk per page of contacts."""
        principal.require(Role.ADMIN)
        async with self._uow_factory(principal.tenant_id) as uow:
            attributes = await uow.contact_book.attribute_names()
        header = [*FIXED_COLUMNS, *(f"attributes.{name}" for name in attributes), *TRAILING_COLUMNS]
        yield _line(header)
        after: UUID | None = None
        while True:
            async with self._uow_factory(principal.tenant_id) as uow:
                page = await uow.contact_book.page_after(after, limit=PAGE_SIZE)
            if not page:
                return
            yield "".join(_line(_row(contact, attributes)) for contact in page)
            after = page[-1].id


def _row(contact: Contact, attributes: list[str]) -> list[str]:
    return [
        display_phone(contact.wa_id),
        contact.name or "",
        ",".join(contact.tags),
        *(_cell(contact.attributes.get(name)) for name in attributes),
        _cell(contact.opted_out),
        contact.opted_out_changed_at.isoformat() if contact.opted_out_changed_at else "",
        contact.created_at.isoformat(),
    ]


def _line(cells: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(cells)
    return buffer.getvalue()
