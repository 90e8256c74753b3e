"""Excel (xlsx) contact imports over real HTTP and through the CLI: the same job, mapping, row report,
batches and progress as a CSV import. The workbooks are written here with openpyxl, as Excel saves them:
phone numbers typed as numbers, dates as dates, an empty row in the middle, bad rows among good ones."""

from __future__ import annotations

import asyncio
import io
import json
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import Workbook

from pywhatsapp.adapters.persistence.unit_of_work import SqlAlchemyUnitOfWorkFactory
from tests.integration.conftest import add_tenant_with_user, token_for
from tests.support.contact_imports import poll_until_finished, run_cli

pytestmark = pytest.mark.postgres

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAPPING = {"phone": "Mobile", "name": "Who", "tags": "Labels", "attributes.joined": "Joined"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def workbook(rows: int) -> tuple[bytes, list[dict[str, Any]], int]:
    """An xlsx of `rows` data rows (an empty sheet row after the 100th), the report it must produce, and
    how many contacts it holds."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "People"
    sheet.append(["Mobile", "Who", "Labels", "Joined"])
    expected: list[dict[str, Any]] = []
    good = 0
    row = 1
    for n in range(rows):
        row += 1
        if n == 100:
            sheet.append([])  # an empty row: skipped, but the rows after it keep their sheet numbers
            row += 1
        if n % 97 == 13:
            sheet.append([None, f"Nobody {n}", None, None])
            expected.append({"row": row, "phone": "", "code": "missing_phone"})
        elif n % 97 == 50:
            sheet.append([12, f"Short {n}", None, None])
            expected.append({"row": row, "phone": "12", "code": "bad_number"})
        elif n % 97 == 70:
            sheet.append([14155550000 + n - 1, f"Again {n}", None, None])  # the row before's number
            expected.append({"row": row, "phone": str(14155550000 + n - 1), "code": "duplicate_in_file"})
        else:
            # Excel keeps a typed phone number as a number; some are text with a +.
            number: int | str = 14155550000 + n if n % 2 else f"+1 415 555 {n:04d}"
            sheet.append([number, f"Person {n}", f"xlsx,batch-{n % 3}", datetime(2024, 1, 1 + n % 28)])
            good += 1
    data = io.BytesIO()
    book.save(data)
    return data.getvalue(), expected, good


async def upload(
    client: httpx.AsyncClient, headers: dict[str, str], name: str, data: bytes, content_type: str, **form: str
) -> httpx.Response:
    return await client.post(
        "/api/v1/contacts/imports", headers=headers, files={"file": (name, data, content_type)}, data=form
    )


async def test_an_xlsx_import_reports_bad_rows_by_sheet_row_and_stores_the_rest(
    client: httpx.AsyncClient, uow_factory: SqlAlchemyUnitOfWorkFactory
) -> None:
    member = await add_tenant_with_user(uow_factory, "xlsx-shop")
    headers = bearer(await token_for(client, member.username))
    data, expected, good = workbook(1200)
    started = await upload(client, headers, "people.xlsx", data, XLSX, mapping=json.dumps(MAPPING))
    assert started.status_code == 202, started.text
    job = started.json()["data"]
    assert job["status"] == "queued" and job["total_rows"] == 1200 and job["filename"] == "people.xlsx"

    finished, seen = await poll_until_finished(client, headers, job["id"])
    assert finished["status"] == "completed", finished
    assert (finished["processed"], finished["created"], finished["rejected"]) == (1200, good, len(expected))
    assert [{k: r[k] for k in ("row", "phone", "code")} for r in finished["report"]] == expected
    assert seen == sorted(seen) and seen[-1] == 1200

    # A number typed as a number, a date cell and the tags arrive as a person sees them in Excel.
    found = await client.get("/api/v1/contacts", headers=headers, params={"q": "14155550001"})
    (person,) = found.json()["data"]["items"]
    assert person["name"] == "Person 1"
    assert person["wa_id"] == "14155550001"
    assert person["attributes"] == {"joined": "2024-01-02"} and set(person["tags"]) == {"xlsx", "batch-1"}
    listed = await client.get("/api/v1/contacts", headers=headers, params={"limit": 1})
    assert listed.json()["data"]["total"] == good

    # Without a mapping the columns are guessed from the header, as for CSV (Mobile is a phone column);
    # imported again, every contact is updated, none created twice.
    again = await upload(client, headers, "again.xlsx", data, "application/octet-stream")
    assert again.status_code == 202, again.text
    assert again.json()["data"]["mapping"]["phone"] == "Mobile"
    repeated, _ = await poll_until_finished(client, headers, again.json()["data"]["id"])
    assert (repeated["created"], repeated["updated"], repeated["rejected"]) == (0, good, len(expected))


async def test_progress_moves_batch_by_batch_and_another_tenant_sees_no_job(
    client: httpx.AsyncClient, uow_factory: SqlAlchemyUnitOfWorkFactory
) -> None:
    member = await add_tenant_with_user(uow_factory, "xlsx-batches")
    other = await add_tenant_with_user(uow_factory, "xlsx-other")
    headers = bearer(await token_for(client, member.username))
    data, expected, good = workbook(2600)
    # Sent without a file name or type: the bytes tell it is a workbook.
    started = await client.post(
        "/api/v1/contacts/imports",
        headers=headers,
        files={"file": ("upload", data)},
        data={"mapping": json.dumps(MAPPING)},
    )
    assert started.status_code == 202, started.text
    job_id = started.json()["data"]["id"]
    finished, seen = await poll_until_finished(client, headers, job_id)
    assert finished["created"] == good and finished["rejected"] == len(expected)
    # Batches of 500 commit one after another; polling sees the position move through them.
    assert set(seen) <= {0, 500, 1000, 1500, 2000, 2500, 2600}
    theirs = bearer(await token_for(client, other.username))
    assert (await client.get(f"/api/v1/contacts/imports/{job_id}", headers=theirs)).status_code == 404
    assert (await client.get("/api/v1/contacts", headers=theirs)).json()["data"]["total"] == 0


def zip_of(**files: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return out.getvalue()


async def test_files_that_are_neither_csv_nor_xlsx_are_refused_with_a_clear_reason(
    client: httpx.AsyncClient, uow_factory: SqlAlchemyUnitOfWorkFactory
) -> None:
    member = await add_tenant_with_user(uow_factory, "xlsx-refusals")
    headers = bearer(await token_for(client, member.username))
    cases = [
        ("scan.pdf", b"%PDF-1.7\n...", "application/pdf", 415, "a PDF document"),
        ("photo.png", b"\x89PNG\r\n\x1a\n\x00\x00", "image/png", 415, "a PNG image"),
        (
            "old.xls",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64,
            "application/vnd.ms-excel",
            415,
            ".xls",
        ),
        ("renamed.xlsx", b"Mobile\n+14155550100\n", XLSX, 415, "not one"),
        ("blob.bin", b"\x01\x02\x00\x03", "application/octet-stream", 415, "binary"),
        ("archive.xlsx", zip_of(**{"notes.txt": b"hello"}), XLSX, 422, "not a readable xlsx"),
        ("empty.xlsx", _empty_workbook(), XLSX, 422, "empty"),
    ]
    for name, data, content_type, status, words in cases:
        refused = await upload(client, headers, name, data, content_type, mapping=json.dumps(MAPPING))
        assert refused.status_code == status, (name, refused.text)
        body = refused.json()
        assert body["status"] == "error" and words in body["message"], (name, body)
    listed = await client.get("/api/v1/contacts/imports", headers=headers)
    assert listed.json()["data"]["total"] == 0


def _empty_workbook() -> bytes:
    out = io.BytesIO()
    Workbook().save(out)
    return out.getvalue()


async def test_the_cli_imports_an_xlsx_with_a_progress_bar_and_its_report(
    client: httpx.AsyncClient, uow_factory: SqlAlchemyUnitOfWorkFactory, database_url: str, tmp_path: Path
) -> None:
    member = await add_tenant_with_user(uow_factory, "xlsx-cli")
    data, expected, good = workbook(300)
    sheet = tmp_path / "people.xlsx"
    sheet.write_bytes(data)
    result = await asyncio.to_thread(
        run_cli,
        "contacts", "import", str(sheet), "--tenant", "xlsx-cli",
        "--map", "phone=Mobile", "--map", "name=Who", "--map", "tags=Labels",
        "--map", "attributes.joined=Joined",
        database_url=database_url, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{good} created" in result.stdout and f"{len(expected)} rejected" in result.stdout
    assert "300/300" in result.stdout
    headers = bearer(await token_for(client, member.username))
    jobs = (await client.get("/api/v1/contacts/imports", headers=headers)).json()["data"]["items"]
    assert jobs[0]["filename"] == "people.xlsx" and jobs[0]["report"][0]["row"] == expected[0]["row"]

    (tmp_path / "scan.xlsx").write_bytes(b"%PDF-1.7")
    refused = await asyncio.to_thread(
        run_cli, "contacts", "import", str(tmp_path / "scan.xlsx"), "--tenant", "xlsx-cli",
        database_url=database_url, cwd=tmp_path,
    )  # fmt: skip
    assert refused.returncode != 0 and "not one" in refused.stdout + refused.stderr
