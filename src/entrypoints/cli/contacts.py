"""`pywhatsapp contacts import|export`: a tenant's contacts from and to CSV files.

The import is the same job as `POST /api/v1/contacts/imports`, run in this process with a progress bar.
If it is interrupted, the job keeps its position: a running server resumes it (or run
`pywhatsapp contacts import --resume JOB_ID`).
"""

from __future__ import annotations

import sys
from pathlib import Path
from uuid import UUID

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from pywhatsapp.application.contacts.import_contacts import MAX_FILE_BYTES
from pywhatsapp.domain.contacts.contact_import import ContactImport, ImportStatus
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.domain.tenancy.membership import Role
from pywhatsapp.domain.tenancy.tenant import Tenant
from pywhatsapp.entrypoints.cli.context import CliContext, console, errors, fail, pass_context

REPORT_ROWS_SHOWN = 20


def _operator(ctx: CliContext, reference: str) -> tuple[Tenant, Principal]:
    ctx.database_url()
    tenant = ctx.run(ctx.container.list_tenants().find(reference))
    if tenant is None:
        fail(f"no tenant {reference!r}; list them with: pywhatsapp tenant list")
    return tenant, Principal(
        user_id=tenant.id,
        username="cli",
        tenant_id=tenant.id,
        tenant_slug=tenant.slug,
        tenant_name=tenant.name,
        role=Role.OWNER,
        api_key_id=tenant.id,  # the operator is no user of the tenant: nobody is recorded as creator
    )


def _pairs(values: tuple[str, ...]) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for value in values:
        key, sep, column = value.partition("=")
        if not sep or not key.strip() or not column:
            fail(f"--map takes FIELD=COLUMN (e.g. phone=Phone, attributes.city=City), not {value!r}")
        pairs[key.strip()] = column
    return pairs


@click.group("contacts")
def contacts() -> None:
    """A tenant's contacts: import from and export to CSV."""


@contacts.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=False)
@click.option("--tenant", "tenant_ref", default="default", show_default=True, help="Tenant slug or id.")
@click.option(
    "--map",
    "mappings",
    multiple=True,
    metavar="FIELD=COLUMN",
    help="phone=<column> (required unless a column is named phone), name=, tags=, attributes.<name>=.",
)
@click.option("--tag-separator", default=None, help="Between tags in the tags column (default ',').")
@click.option(
    "--region", default=None, help="Region of numbers without a country code (DEFAULT_PHONE_REGION)."
)
@click.option("--resume", "resume_id", type=click.UUID, help="Finish an interrupted import job instead.")
@pass_context
def import_(
    ctx: CliContext,
    file: Path | None,
    tenant_ref: str,
    mappings: tuple[str, ...],
    tag_separator: str | None,
    region: str | None,
    resume_id: UUID | None,
) -> None:
    """Import contacts from a CSV (UTF-8) or xlsx FILE, its first row naming the columns; existing ones
    are updated."""
    if (file is None) == (resume_id is None):
        fail("give a FILE to import, or --resume JOB_ID")
    tenant, operator = _operator(ctx, tenant_ref)
    owner = ctx.container.contact_import_scheduler().owner
    if file is not None:
        if file.stat().st_size > MAX_FILE_BYTES:
            fail(f"{file} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
        job = ctx.run(
            ctx.container.start_contact_import().execute(
                operator,
                data=file.read_bytes(),
                owner=owner,
                filename=file.name,
                mapping=_pairs(mappings) or None,
                tag_separator=tag_separator,
                default_region=region,
            )
        )
        console.print(f"Import [bold]{job.id}[/] of {job.total_rows} rows into tenant {tenant.slug}")
    else:
        assert resume_id is not None
        claimed = ctx.run(_claim(ctx, tenant.id, resume_id, owner))
        if claimed is None:
            fail(
                f"no unfinished import {resume_id} free to resume in tenant {tenant.slug} (it may be running)"
            )
        job = claimed
        console.print(f"Resuming import [bold]{job.id}[/] at row {job.processed} of {job.total_rows}")
    finished = _run_with_progress(ctx, job, owner)
    if finished is None:
        fail("another runner took the import over; see GET /api/v1/contacts/imports/" + str(job.id))
    _summarize(finished)
    if finished.status is ImportStatus.FAILED:
        raise SystemExit(1)


async def _claim(ctx: CliContext, tenant_id: UUID, job_id: UUID, owner: UUID) -> ContactImport | None:
    async with ctx.container.uow_factory()(tenant_id) as uow:
        job = await uow.contact_imports.claim(
            owner, lease_seconds=ctx.container.run_contact_import().lease_seconds, job_id=job_id
        )
        await uow.commit()
    return job


def _run_with_progress(ctx: CliContext, job: ContactImport, owner: UUID) -> ContactImport | None:
    with Progress(
        TextColumn("[bold]importing"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[counts]}"),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    ) as bar:
        task = bar.add_task("import", total=job.total_rows, completed=job.processed, counts="")

        def show(progress: ContactImport) -> None:
            counts = f"created {progress.created}, updated {progress.updated}, rejected {progress.rejected}"
            bar.update(task, completed=progress.processed, counts=counts)

        return ctx.run(
            ctx.container.run_contact_import().execute(job.tenant_id, job.id, owner=owner, on_progress=show)
        )


def _summarize(job: ContactImport) -> None:
    colour = "green" if job.status is ImportStatus.COMPLETED else "red"
    console.print(
        f"[{colour}]{job.status.value}[/]: {job.processed} rows, {job.created} created, "
        f"{job.updated} updated, {job.rejected} rejected"
    )
    if job.error:
        errors.print(f"[bold red]Error:[/] {job.error}")
    if job.report:
        table = Table("row", "phone", "reason")
        for entry in job.report[:REPORT_ROWS_SHOWN]:
            table.add_row(str(entry.get("row")), str(entry.get("phone")), str(entry.get("reason")))
        console.print(table)
        if job.rejected > REPORT_ROWS_SHOWN:
            console.print(
                f"... {job.rejected - REPORT_ROWS_SHOWN} more; the full report: "
                f"GET /api/v1/contacts/imports/{job.id}"
            )


@contacts.command("export")
@click.option("--tenant", "tenant_ref", default="default", show_default=True, help="Tenant slug or id.")
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write here (default: stdout)."
)
@pass_context
def export(ctx: CliContext, tenant_ref: str, output: Path | None) -> None:
    """Export every contact as CSV (phone, name, tags, attributes.<name>..., opt-out)."""
    _, operator = _operator(ctx, tenant_ref)

    async def write() -> None:
        sink = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
        try:
            async for chunk in ctx.container.export_contacts().csv_chunks(operator):
                sink.write(chunk)
        finally:
            if output:
                sink.close()
            else:
                sink.flush()

    ctx.run(write())
    if output:
        console.print(f"Wrote the contacts of tenant {operator.tenant_slug} to {output}")
