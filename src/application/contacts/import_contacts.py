"""Import contacts from a CSV or xlsx file as a job that survives a stop (`POST /api/v1/contacts/imports`).

`StartContactImport` checks the file and the mapping, stores the job with the file, and answers at once.
`RunContactImport` then works through the rows in batches; each batch's contacts are stored in the same
transaction as the job's new position, counts and report, and the progress event is published with them.
A run that stops (the app shut down, the task was cancelled, the process died) leaves the job at the last
committed batch: the next run plans the same file again and continues from there, so no row is stored
twice and none is skipped. `ContactImportScheduler` runs jobs in the background and picks up jobs whose
runner went away (their lease ran out, or was given up on shutdown).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from uuid import UUID, uuid4

from pywhatsapp.application.common.list_records import MAX_OFFSET, MAX_PAGE_SIZE, Page
from pywhatsapp.application.common.unit_of_work import UnitOfWorkFactory
from pywhatsapp.application.contacts.spreadsheets import SpreadsheetReader
from pywhatsapp.domain.contacts.contact_import import (
    BatchResult,
    ColumnMapping,
    ContactDraft,
    ContactImport,
    CsvFile,
    ImportStatus,
    RejectedRow,
    RowOutcome,
    plan_import,
)
from pywhatsapp.domain.contacts.import_file import (
    ImportFileKind,
    UnsupportedFile,
    detect_kind,
    sheet_as_csv,
)
from pywhatsapp.domain.contacts.phone import known_region
from pywhatsapp.domain.errors import InvalidInput, NotFound
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.domain.realtime.event import EventType, RealtimeEvent
from pywhatsapp.domain.tenancy.membership import Role

logger = logging.getLogger(__name__)

LEASE_SECONDS = 60.0
"""A runner renews its job's lease with every batch; a job not renewed for this long is resumed elsewhere."""
MAX_FILE_BYTES = 20 * 1024 * 1024
ENCODINGS = ("utf-8-sig", "cp1252")
"""UTF-8 (with or without a byte-order mark), else the Windows code page spreadsheets often save in."""

Progress = Callable[[ContactImport], Awaitable[None] | None]


def decode_csv(data: bytes) -> str:
    if len(data) > MAX_FILE_BYTES:
        raise InvalidInput(f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InvalidInput("the file is not text in UTF-8 (save the CSV as UTF-8)")


def progress_event(job: ContactImport) -> RealtimeEvent:
    return RealtimeEvent(
        EventType.CONTACT_IMPORT_PROGRESS,
        job.tenant_id,
        {
            "id": str(job.id),
            "status": job.status.value,
            "total_rows": job.total_rows,
            "processed": job.processed,
            "created": job.created,
            "updated": job.updated,
            "rejected": job.rejected,
        },
    )


class StartContactImport:
    """Check the file and the mapping, and store the job, leased to `owner` (who runs it next)."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        default_region: str,
        spreadsheets: SpreadsheetReader | None = None,
        lease_seconds: float = LEASE_SECONDS,
    ) -> None:
        self._uow_factory = uow_factory
        self._region = known_region(default_region)
        self._spreadsheets = spreadsheets
        self._lease_seconds = lease_seconds

    async def execute(
        self,
        principal: Principal,
        *,
        data: bytes,
        owner: UUID,
        filename: str | None = None,
        mapping: Mapping[str, str] | None = None,
        tag_separator: str | None = None,
        default_region: str | None = None,
        content_type: str | None = None,
    ) -> ContactImport:
        principal.require(Role.ADMIN)
        text = await self._source_text(data, filename, content_type)
        source = await asyncio.to_thread(CsvFile.parse, text)
        columns = (
            ColumnMapping.from_pairs(mapping, tag_separator=tag_separator)
            if mapping
            else ColumnMapping.guess(source.header, tag_separator=tag_separator)
        )
        source.check(columns)
        job = ContactImport(
            tenant_id=principal.tenant_id,
            mapping=columns.as_dict(),
            default_region=known_region(default_region) if default_region else self._region,
            total_rows=len(source.rows),
            filename=(filename or "")[:255] or None,
            created_by=None if principal.api_key_id else principal.user_id,
        )
        async with self._uow_factory(principal.tenant_id) as uow:
            await uow.contact_imports.add(job, text, owner=owner, lease_seconds=self._lease_seconds)
            await uow.events.publish(progress_event(job))
            await uow.commit()
        return job

    async def _source_text(self, data: bytes, filename: str | None, content_type: str | None) -> str:
        """The file as the CSV text the job keeps: a workbook's first sheet is converted once, here."""
        if len(data) > MAX_FILE_BYTES:
            raise InvalidInput(f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
        if detect_kind(data, filename=filename, content_type=content_type) is ImportFileKind.CSV:
            return decode_csv(data)
        reader = self._spreadsheets
        if reader is None:
            raise UnsupportedFile("xlsx files cannot be imported here; save the sheet as CSV")
        # Unzipping and parsing the sheet is CPU work: off the event loop, so the app keeps answering.
        return await asyncio.to_thread(lambda: sheet_as_csv(reader.rows(data)))


class ContactImportJobs:
    """Read a tenant's import jobs (polling)."""

    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    async def get(self, principal: Principal, job_id: UUID) -> ContactImport:
        principal.require(Role.ADMIN)
        async with self._uow_factory(principal.tenant_id) as uow:
            job = await uow.contact_imports.get(job_id)
        if job is None:
            raise NotFound(f"No contact import {job_id}")
        return job

    async def list(self, principal: Principal, *, limit: int = 50, offset: int = 0) -> Page[ContactImport]:
        principal.require(Role.ADMIN)
        if not 1 <= limit <= MAX_PAGE_SIZE or not 0 <= offset <= MAX_OFFSET:
            raise InvalidInput(f"limit must be between 1 and {MAX_PAGE_SIZE}, offset at least 0")
        async with self._uow_factory(principal.tenant_id) as uow:
            items, total = await uow.contact_imports.recent(limit=limit, offset=offset)
        return Page(items=items, total=total, limit=limit, offset=offset)


class RunContactImport:
    """Work through one leased job, a committed batch at a time, from where it stands."""

    def __init__(
        self, uow_factory: UnitOfWorkFactory, batch_size: int = 500, lease_seconds: float = LEASE_SECONDS
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self._uow_factory = uow_factory
        self._batch_size = batch_size
        self.lease_seconds = lease_seconds

    async def execute(
        self, tenant_id: UUID, job_id: UUID, *, owner: UUID, on_progress: Progress | None = None
    ) -> ContactImport | None:
        """Run the job to its end; the finished job, or None if another runner holds it now."""
        try:
            return await self._run(tenant_id, job_id, owner, on_progress)
        except asyncio.CancelledError:
            # Stopping: give the lease up so that the next runner resumes at the last committed batch.
            with contextlib.suppress(Exception):
                await asyncio.shield(self._release(tenant_id, job_id, owner))
            raise
        except Exception as error:
            logger.exception("contact import failed", extra={"import_id": str(job_id)})
            try:
                return await self._finish(tenant_id, job_id, owner, ImportStatus.FAILED, f"{error}"[:1000])
            except Exception:  # the database is away too: the lease runs out and another run resumes
                logger.warning("could not record the import's failure", exc_info=True)
                return None

    async def _run(
        self, tenant_id: UUID, job_id: UUID, owner: UUID, on_progress: Progress | None
    ) -> ContactImport | None:
        async with self._uow_factory(tenant_id) as uow:
            job = await uow.contact_imports.get(job_id)
            text = await uow.contact_imports.source(job_id)
        if job is None or text is None:
            return None
        if job.status.finished:
            return job
        # Parsing and checking every number is CPU work: off the event loop, so the app keeps answering.
        plan = await asyncio.to_thread(_plan, text, job)
        while job.processed < len(plan):
            batch = plan[job.processed : job.processed + self._batch_size]
            async with self._uow_factory(tenant_id) as uow:
                drafts = [row for row in batch if isinstance(row, ContactDraft)]
                counts = await uow.contact_book.upsert_drafts(drafts)
                result = BatchResult(
                    processed=len(batch),
                    created=counts.created,
                    updated=counts.updated,
                    rejected=[row for row in batch if isinstance(row, RejectedRow)],
                )
                moved = await uow.contact_imports.record_batch(
                    job, result, owner=owner, lease_seconds=self.lease_seconds
                )
                if moved is None:
                    logger.warning("contact import taken over by another runner", extra={"id": str(job_id)})
                    return None  # leaving without commit rolls this batch back
                await uow.events.publish(progress_event(moved))
                await uow.commit()
            job = moved
            await _notify(on_progress, job)
        finished = await self._finish(tenant_id, job_id, owner, ImportStatus.COMPLETED, None)
        if finished is not None:
            await _notify(on_progress, finished)
        return finished

    async def _finish(
        self, tenant_id: UUID, job_id: UUID, owner: UUID, status: ImportStatus, error: str | None
    ) -> ContactImport | None:
        async with self._uow_factory(tenant_id) as uow:
            job = await uow.contact_imports.finish(job_id, status, owner=owner, error=error)
            if job is not None:
                await uow.events.publish(progress_event(job))
            await uow.commit()
        return job

    async def _release(self, tenant_id: UUID, job_id: UUID, owner: UUID) -> None:
        async with self._uow_factory(tenant_id) as uow:
            await uow.contact_imports.release(job_id, owner)
            await uow.commit()


def _plan(text: str, job: ContactImport) -> list[RowOutcome]:
    return plan_import(CsvFile.parse(text), ColumnMapping.from_dict(job.mapping), job.default_region)


async def _notify(on_progress: Progress | None, job: ContactImport) -> None:
    if on_progress is None:
        return
    outcome = on_progress(job)
    if outcome is not None:
        await outcome


class ContactImportScheduler:
    """Runs import jobs as background tasks of this process, and resumes jobs no runner holds.

    One scheduler per process; its `owner` id names this process in the jobs' leases, so several workers
    (or a CLI import beside a server) never run one job at once."""

    def __init__(self, uow_factory: UnitOfWorkFactory, runner: RunContactImport) -> None:
        self._uow_factory = uow_factory
        self._runner = runner
        self.owner = uuid4()
        self._tasks: dict[UUID, asyncio.Task[ContactImport | None]] = {}

    def start(self, job: ContactImport) -> None:
        """Run a job this scheduler holds the lease of (as `StartContactImport` leaves a new one)."""
        if job.id in self._tasks:
            return
        task = asyncio.create_task(self._runner.execute(job.tenant_id, job.id, owner=self.owner))
        self._tasks[job.id] = task
        task.add_done_callback(lambda _: self._tasks.pop(job.id, None))

    async def resume_abandoned(self) -> int:
        """Claim and start every unfinished job whose lease is free or ran out; how many were started."""
        started = 0
        while True:
            async with self._uow_factory.for_all_tenants() as uow:
                job = await uow.contact_imports.claim(self.owner, lease_seconds=self._runner.lease_seconds)
                await uow.commit()
            if job is None:
                return started
            logger.info("resuming contact import", extra={"import_id": str(job.id), "at_row": job.processed})
            self.start(job)
            started += 1

    async def run_forever(self, interval: float = 5.0) -> None:
        while True:
            try:
                await self.resume_abandoned()
            except Exception:  # the database may be briefly away; the next round tries again
                logger.warning("could not look for contact imports to resume", exc_info=True)
            await asyncio.sleep(interval)

    async def wait(self, job_id: UUID) -> None:
        task = self._tasks.get(job_id)
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def stop(self) -> None:
        """Cancel the running jobs; each gives its lease up at its last committed batch."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    @property
    def running(self) -> set[UUID]:
        return set(self._tasks)
