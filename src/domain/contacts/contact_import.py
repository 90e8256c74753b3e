"""Importing contacts from a CSV file: which column means what, and what becomes of every row.

The plan of an import is a pure function of the file, the column mapping and the default region, so an
import stopped half-way can be planned again and resumed exactly at the row where it stopped: the rows
before it were committed together with the job's position, the rows after it were not.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from pywhatsapp.domain.clock import utc_now
from pywhatsapp.domain.contacts.contact import clean_attributes, clean_name, clean_tags
from pywhatsapp.domain.contacts.phone import InvalidPhoneNumber, normalize_phone
from pywhatsapp.domain.errors import DomainError, InvalidInput
from pywhatsapp.domain.ids import new_id

MAX_REPORTED_ROWS = 10_000
"""Rejected rows listed one by one in the report; past this, only counted (`rejected` stays exact)."""
MAX_FIELD_CHARS = 10_000
PHONE_HEADERS = ("phone", "phone_number", "phone number", "mobile", "wa_id", "whatsapp", "number")
NAME_HEADERS = ("name", "full name", "full_name", "display name")
TAG_HEADERS = ("tags", "labels")
DELIMITERS = ",;\t|"


class ImportStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"

    @property
    def finished(self) -> bool:
        return self in (ImportStatus.COMPLETED, ImportStatus.FAILED)


class RejectReason(StrEnum):
    MISSING_PHONE = "missing_phone"
    BAD_NUMBER = "bad_number"
    DUPLICATE_IN_FILE = "duplicate_in_file"
    BAD_VALUE = "bad_value"


@dataclass(frozen=True)
class ColumnMapping:
    """Which CSV column holds the phone number (required), the name, the tags and custom attributes."""

    phone: str
    name: str | None = None
    tags: str | None = None
    tag_separator: str = ","
    attributes: dict[str, str] = field(default_factory=dict)
    """Attribute name -> column."""

    @classmethod
    def from_pairs(cls, pairs: Mapping[str, str], *, tag_separator: str | None = None) -> ColumnMapping:
        """From `{"phone": "Phone", "name": "Name", "tags": "Labels", "attributes.city": "City"}`."""
        phone = name = tags = None
        attributes: dict[str, str] = {}
        for key, column in pairs.items():
            if not isinstance(column, str) or not column.strip():
                raise InvalidInput(f"mapping {key!r} must name a CSV column")
            target = key.strip()
            if target == "phone":
                phone = column
            elif target == "name":
                name = column
            elif target == "tags":
                tags = column
            elif target.startswith("attributes.") and target.removeprefix("attributes.").strip():
                attributes[target.removeprefix("attributes.").strip()] = column
            else:
                raise InvalidInput(f"mapping key {key!r} is not one of phone, name, tags, attributes.<name>")
        if phone is None:
            raise InvalidInput("the mapping must say which column holds the phone number (phone=<column>)")
        separator = "," if tag_separator is None else tag_separator
        if not 1 <= len(separator) <= 5 or "\x00" in separator:
            raise InvalidInput("tag_separator must be 1 to 5 characters")
        clean_attributes(dict.fromkeys(attributes, ""))  # attribute names follow the contact's rules
        return cls(phone=phone, name=name, tags=tags, tag_separator=separator, attributes=attributes)

    @classmethod
    def guess(cls, header: list[str], *, tag_separator: str | None = None) -> ColumnMapping:
        """Columns named phone/name/tags (and the like) and attributes.<name>, when no mapping is given."""
        lowered = {column.strip().lower(): column for column in header}

        def first(names: tuple[str, ...]) -> str | None:
            return next((lowered[n] for n in names if n in lowered), None)

        phone = first(PHONE_HEADERS)
        if phone is None:
            raise InvalidInput(
                f"no phone column found among {', '.join(header) or 'no columns'}; "
                "give a mapping such as phone=<column>"
            )
        pairs = {"phone": phone}
        for key, names in (("name", NAME_HEADERS), ("tags", TAG_HEADERS)):
            column = first(names)
            if column is not None:
                pairs[key] = column
        # Columns named `attributes.<name>` (as exports write them) are custom attributes.
        for column in header:
            if column.strip().startswith("attributes.") and column.strip() != "attributes.":
                pairs[column.strip()] = column
        return cls.from_pairs(pairs, tag_separator=tag_separator)

    def as_dict(self) -> dict[str, Any]:
        return {
            "phone": self.phone,
            "name": self.name,
            "tags": self.tags,
            "tag_separator": self.tag_separator,
            "attributes": dict(self.attributes),
        }

    @classmethod
    def from_dict(cls, stored: Mapping[str, Any]) -> ColumnMapping:
        return cls(
            phone=stored["phone"],
            name=stored.get("name"),
            tags=stored.get("tags"),
            tag_separator=stored.get("tag_separator") or ",",
            attributes=dict(stored.get("attributes") or {}),
        )

    def columns(self) -> list[str]:
        named = [self.phone, self.name, self.tags, *self.attributes.values()]
        return [column for column in named if column is not None]


@dataclass(frozen=True)
class CsvFile:
    """The header and the data rows of a CSV file; `rows` pairs each row with its number in the file as a
    spreadsheet shows it (the header is row 1). Blank lines are skipped but keep their numbers."""

    header: list[str]
    rows: list[tuple[int, list[str]]]

    @classmethod
    def parse(cls, text: str) -> CsvFile:
        if "\x00" in text:
            raise InvalidInput("the file holds NUL characters; is it really a CSV text file?")
        text = text.removeprefix("\ufeff")
        # The header row tells the delimiter: whichever of , ; tab | it holds most (commas on a tie).
        first_line = text.lstrip("\r\n").split("\n", 1)[0]
        delimiter = max(DELIMITERS, key=first_line.count)
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
        try:
            records = list(reader)
        except csv.Error as error:
            raise InvalidInput(f"the file is not valid CSV: {error}") from None
        if not records or not any(cell.strip() for cell in records[0]):
            raise InvalidInput("the file is empty: the first row must name the columns")
        header = [cell.strip() for cell in records[0]]
        rows = [(number, record) for number, record in enumerate(records[1:], start=2) if _has_data(record)]
        return cls(header=header, rows=rows)

    def check(self, mapping: ColumnMapping) -> None:
        """Every column the mapping names is in the header (exactly, or but for case and spaces)."""
        missing = [column for column in mapping.columns() if self._index(column) is None]
        if missing:
            raise InvalidInput(
                f"the file has no column {', '.join(repr(m) for m in missing)}; "
                f"its columns are {', '.join(repr(h) for h in self.header)}"
            )

    def _index(self, column: str) -> int | None:
        if column in self.header:
            return self.header.index(column)
        lowered = [h.strip().lower() for h in self.header]
        wanted = column.strip().lower()
        return lowered.index(wanted) if wanted in lowered else None

    def cell(self, record: list[str], column: str) -> str:
        index = self._index(column)
        if index is None or index >= len(record):
            return ""
        return record[index].strip()


def _has_data(record: list[str]) -> bool:
    return any(cell.strip() for cell in record)


@dataclass(frozen=True)
class ContactDraft:
    """A row that becomes a contact, created or merged into the one with its wa_id."""

    row: int
    wa_id: str
    name: str | None
    tags: list[str]
    attributes: dict[str, Any]


@dataclass(frozen=True)
class RejectedRow:
    row: int
    phone: str
    code: RejectReason
    reason: str

    def as_report(self) -> dict[str, Any]:
        return {"row": self.row, "phone": self.phone, "code": self.code.value, "reason": self.reason}


RowOutcome = ContactDraft | RejectedRow


def plan_import(source: CsvFile, mapping: ColumnMapping, default_region: str) -> list[RowOutcome]:
    """What becomes of every data row, in file order; a number seen on an earlier row is a duplicate."""
    source.check(mapping)
    first_row: dict[str, int] = {}
    outcomes: list[RowOutcome] = []
    for number, record in source.rows:
        phone = source.cell(record, mapping.phone)
        outcomes.append(_plan_row(source, mapping, default_region, number, record, phone, first_row))
    return outcomes


def _plan_row(
    source: CsvFile,
    mapping: ColumnMapping,
    default_region: str,
    number: int,
    record: list[str],
    phone: str,
    first_row: dict[str, int],
) -> RowOutcome:
    shown = phone[:64]
    if not phone:
        return RejectedRow(number, shown, RejectReason.MISSING_PHONE, "missing phone number")
    try:
        wa_id = normalize_phone(phone, default_region)
    except InvalidPhoneNumber as error:
        return RejectedRow(number, shown, RejectReason.BAD_NUMBER, error.message)
    if wa_id in first_row:
        return RejectedRow(
            number,
            shown,
            RejectReason.DUPLICATE_IN_FILE,
            f"duplicate within the file: +{wa_id} is on row {first_row[wa_id]} already",
        )
    try:
        if any(len(cell) > MAX_FIELD_CHARS for cell in record):
            raise InvalidInput(f"a field is longer than {MAX_FIELD_CHARS} characters")
        name = clean_name(source.cell(record, mapping.name)) if mapping.name else None
        tags = (
            clean_tags(source.cell(record, mapping.tags).split(mapping.tag_separator)) if mapping.tags else []
        )
        attributes = clean_attributes(
            {
                key: value
                for key, column in mapping.attributes.items()
                if (value := source.cell(record, column))
            }
        )
    except DomainError as error:
        return RejectedRow(number, shown, RejectReason.BAD_VALUE, error.message)
    first_row[wa_id] = number
    return ContactDraft(row=number, wa_id=wa_id, name=name, tags=tags, attributes=attributes)


@dataclass(kw_only=True)
class ContactImport:
    """An import job: its file and mapping, where it has got to, and what it found."""

    tenant_id: UUID
    mapping: dict[str, Any]
    default_region: str
    total_rows: int
    id: UUID = field(default_factory=new_id)
    filename: str | None = None
    status: ImportStatus = ImportStatus.QUEUED
    processed: int = 0
    """Rows done (stored or rejected); the next run starts at this row of the plan."""
    created: int = 0
    updated: int = 0
    rejected: int = 0
    report: list[dict[str, Any]] = field(default_factory=list)
    """Rejected rows: {"row", "phone", "code", "reason"}, at most MAX_REPORTED_ROWS of them."""
    error: str | None = None
    created_by: UUID | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    created_at: datetime = field(default_factory=utc_now)
    updated_at: datetime = field(default_factory=utc_now)


@dataclass(frozen=True)
class BatchResult:
    """What one committed batch did; the job's counters move by exactly this."""

    processed: int
    created: int
    updated: int
    rejected: list[RejectedRow]

    def progress_of(self, job: ContactImport) -> ContactImport:
        room = max(0, MAX_REPORTED_ROWS - len(job.report))
        job.processed += self.processed
        job.created += self.created
        job.updated += self.updated
        job.rejected += len(self.rejected)
        job.report = [*job.report, *(r.as_report() for r in self.rejected[:room])]
        return job
