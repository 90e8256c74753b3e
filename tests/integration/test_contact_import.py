"""CSV imports over real HTTP: the job answers at once, progress is stored and pushed on `/ws`, every bad row
is reported by its number, existing contacts are updated, and an app stopped mid-import resumes it with no
row lost or stored twice. The CLI imports and exports the same way."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
import sqlalchemy as sa

from pywhatsapp.adapters.persistence.database import create_engine
from pywhatsapp.adapters.persistence.unit_of_work import SqlAlchemyUnitOfWorkFactory
from pywhatsapp.entrypoints.settings import Settings
from tests.integration.conftest import add_tenant_with_user, make_settings, token_for

# Explicitly re-exported: test_faults imports it from this module.
from tests.support.contact_imports import poll_until_finished as poll_until_finished
from tests.support.contact_imports import run_cli
from tests.support.live_server import LiveServer
from tests.support.realtime import EventStream, of_type

pytestmark = pytest.mark.postgres


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def phone(n: int) -> str:
    """A valid US number, written in one of several formats."""
    digits = f"{n:04d}"
    return [f"+1 415 555 {digits}", f"(415) 555-{digits}", f"1415555{digits}", f"001-415-555-{digits}"][n % 4]


def big_csv(rows: int) -> tuple[str, list[dict[str, Any]]]:
    """`rows` data rows with a bad one every so often; the exact report they must produce."""
    lines = ["Mobile;Who;Labels;Town"]
    expected: list[dict[str, Any]] = []
    for n in range(rows):
        row = n + 2  # the header is row 1
        if n % 500 == 17:
            lines.append(f";Nobody {n};;")
            expected.append({"row": row, "phone": "", "code": "missing_phone"})
        elif n % 500 == 42:
            lines.append(f"555-01{n % 10};Short {n};;")
            expected.append({"row": row, "phone": f"555-01{n % 10}", "code": "bad_number"})
        elif n % 500 == 99:
            lines.append(f"{phone(n - 1)};Again {n};;")  # the previous row's number, written differently
            expected.append({"row": row, "phone": phone(n - 1), "code": "duplicate_in_file"})
        else:
            lines.append(f"{phone(n)};Person {n};imported,batch-{n % 3};Town {n % 7}")
    return "\r\n".join(lines) + "\r\n", expected


async def start_import(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    text: str,
    mapping: dict[str, str] | None = None,
    **form: str,
) -> dict[str, Any]:
    fields = {**form, **({"mapping": json.dumps(mapping)} if mapping else {})}
    response = await client.post(
        "/api/v1/contacts/imports",
        headers=headers,
        files={"file": ("people.csv", text.encode(), "text/csv")},
        data=fields,
    )
    assert response.status_code == 202, response.text
    job: dict[str, Any] = response.json()["data"]
    return job


MAPPING = {"phone": "Mobile", "name": "Who", "tags": "Labels", "attributes.town": "Town"}


async def test_a_few_thousand_rows_with_bad_ones_reported_exactly_and_progress_on_the_socket(
    client: httpx.AsyncClient, uow_factory: SqlAlchemyUnitOfWorkFactory, live_server: LiveServer
) -> None:
    member = await add_tenant_with_user(uow_factory, "acme")
    token = await token_for(client, member.username)
    headers = bearer(token)
    # Two contacts exist already: the import updates them (name replaced, tags added, attributes merged).
    for n, extra in ((0, {"tags": ["old"], "attributes": {"tier": "gold"}}), (1, {})):
        made = await client.post(
            "/api/v1/contacts", headers=headers, json={"phone": f"+1415555{n:04d}", **extra}
        )
        assert made.status_code == 201, made.text
    text, expected_report = big_csv(3000)
    stream = await EventStream.open(live_server.url, token=token)
    try:
        job = await start_import(client, headers, text, MAPPING)
        assert job["status"] == "queued" and job["total_rows"] == 3000 and job["processed"] == 0
        finished, seen = await poll_until_finished(client, headers, job["id"])
        events = await stream.wait_for(of_type("contact_import_progress", id=job["id"], status="completed"))
        progress = [e["data"] for e in stream.matching(of_type("contact_import_progress", id=job["id"]))]
    finally:
        await stream.close()

    bad = len(expected_report)
    assert bad == 18
    assert finished["status"] == "completed" and finished["error"] is None
    assert (finished["processed"], finished["created"], finished["updated"], finished["rejected"]) == (
        3000,
        3000 - bad - 2,
        2,
        bad,
    )
    assert [{k: r[k] for k in ("row", "phone", "code")} for r in finished["report"]] == expected_report
    assert all(r["reason"] for r in finished["report"])
    assert seen == sorted(seen)
    # One event per committed batch (500 rows by default), in order, then the completion.
    processed = [e["processed"] for e in progress]
    assert processed == sorted(processed) and processed[0] == 0 and processed[-1] == 3000
    assert {500, 1000, 2500} <= set(processed) and events[0]["data"]["rejected"] == bad
    assert events[0]["tenant_id"] == str(member.tenant_id)

    contacts = (await client.get("/api/v1/contacts", headers=headers, params={"q": "4155550000"})).json()[
        "data"
    ]
    (first,) = contacts["items"]
    assert first["name"] == "Person 0" and first["tags"] == ["old", "imported", "batch-0"]
    assert first["attributes"] == {"tier": "gold", "town": "Town 0"}
    total = (await client.get("/api/v1/contacts", headers=headers)).json()["data"]["total"]
    assert total == 3000 - bad

    again = await start_import(client, headers, text, MAPPING)
    repeated, _ = await poll_until_finished(client, headers, again["id"])
    assert (repeated["created"], repeated["updated"], repeated["rejected"]) == (0, 3000 - bad, bad)


async def test_bad_files_and_mappings_are_refused_at_once_and_other_tenants_see_no_job(
    client: httpx.AsyncClient, uow_factory: SqlAlchemyUnitOfWorkFactory
) -> None:
    member = await add_tenant_with_user(uow_factory, "acme")
    headers = bearer(await token_for(client, member.username))
    stranger = bearer(await token_for(client, (await add_tenant_with_user(uow_factory, "globex")).username))

    async def refused(files: Any, data: dict[str, str] | None = None, status: int = 422) -> str:
        response = await client.post(
            "/api/v1/contacts/imports", headers=headers, files=files, data=data or {}
        )
        assert response.status_code == status, response.text
        assert response.json()["status"] == "error"
        message: str = response.json()["message"]
        return message

    csv_file = {"file": ("a.csv", b"Name,Cell\nAda,+14155550100\n", "text/csv")}
    assert "no phone column" in await refused(csv_file)
    assert "no column 'Phone'" in await refused(csv_file, {"mapping": json.dumps({"phone": "Phone"})})
    assert "mapping must be a JSON object" in await refused(csv_file, {"mapping": "phone=Cell"})
    assert "UTF-8" in await refused({"file": ("a.csv", b"phone\n\x81\x8d\x8f\x90\x9d\n", "text/csv")})
    assert "empty" in await refused({"file": ("a.csv", b"", "text/csv")})
    assert "'file'" in await refused({"other": ("a.csv", b"phone\n", "text/csv")})
    assert "region" in await refused(
        csv_file, {"mapping": json.dumps({"phone": "Cell"}), "default_region": "ZZ"}
    )

    job = await start_import(client, headers, "Name,Mobile\nAda,+14155550100\n", {"phone": "Mobile"})
    done, _ = await poll_until_finished(client, headers, job["id"])
    assert done["created"] == 1
    assert (await client.get(f"/api/v1/contacts/imports/{job['id']}", headers=stranger)).status_code == 404
    assert (await client.get("/api/v1/contacts/imports", headers=stranger)).json()["data"]["total"] == 0
    assert (await client.get("/api/v1/contacts", headers=stranger)).json()["data"]["total"] == 0
    listed = (await client.get("/api/v1/contacts/imports", headers=headers)).json()["data"]
    assert [j["id"] for j in listed["items"]] == [job["id"]]
    # The contract's name for the call works too, with the columns named phone/name/tags.
    legacy = await client.post(
        "/api/v1/contacts/import",
        headers=headers,
        files={"file": ("b.csv", b"phone,name,tags\n+14155550199,Bo,a,b\n", "text/csv")},
    )
    assert legacy.status_code == 202, legacy.text
    finished, _ = await poll_until_finished(client, headers, legacy.json()["data"]["id"])
    assert finished["created"] == 1 and finished["mapping"]["tags"] == "tags"


async def _stored(database_url: str, tenant_id: UUID) -> tuple[dict[str, Any], int]:
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as connection:
            job = (
                await connection.execute(
                    sa.text(
                        "SELECT status, processed, created, updated, rejected, lease_owner"
                        " FROM contact_imports WHERE tenant_id = :t"
                    ),
                    {"t": tenant_id},
                )
            ).one()
            count = await connection.scalar(
                sa.text("SELECT count(*) FROM contacts WHERE tenant_id = :t"), {"t": tenant_id}
            )
    finally:
        await engine.dispose()
    return dict(job._mapping), int(count or 0)


async def test_an_app_stopped_mid_import_resumes_it_with_no_row_lost_or_doubled(
    database_url: str, uow_factory: SqlAlchemyUnitOfWorkFactory
) -> None:
    settings: Settings = make_settings(database_url, CONTACT_IMPORT_BATCH_SIZE="20")
    member = await add_tenant_with_user(uow_factory, "acme")
    text, expected_report = big_csv(3000)

    first = LiveServer(settings).__enter__()
    stopped = False
    try:
        async with httpx.AsyncClient(base_url=first.url, timeout=30) as client:
            headers = bearer(await token_for(client, member.username))
            job = await start_import(client, headers, text, MAPPING)
            while True:
                current = (await client.get(f"/api/v1/contacts/imports/{job['id']}", headers=headers)).json()
                if current["data"]["processed"] >= 400:
                    break
                await asyncio.sleep(0.01)
        await asyncio.to_thread(first.__exit__)  # a graceful stop: the running batch is rolled back
        stopped = True
    finally:
        if not stopped:
            first.__exit__()

    halfway, stored = await _stored(database_url, member.tenant_id)
    assert halfway["status"] == "running" and halfway["lease_owner"] is None, halfway
    assert 400 <= halfway["processed"] < 3000, halfway
    # Exactly the rows up to the stored position are stored: every batch committed with its position.
    rejected_before = sum(1 for r in expected_report if r["row"] - 2 < halfway["processed"])
    assert stored == halfway["created"] == halfway["processed"] - rejected_before
    assert halfway["rejected"] == rejected_before

    with LiveServer(settings) as second:
        async with httpx.AsyncClient(base_url=second.url, timeout=30) as client:
            headers = bearer(await token_for(client, member.username))
            done, _ = await poll_until_finished(client, headers, job["id"])
    assert done["status"] == "completed"
    assert (done["processed"], done["created"], done["updated"], done["rejected"]) == (
        3000,
        3000 - len(expected_report),
        0,  # no row was stored twice: a second write would count as an update
        len(expected_report),
    )
    assert [r["row"] for r in done["report"]] == [r["row"] for r in expected_report]
    _, stored = await _stored(database_url, member.tenant_id)
    assert stored == 3000 - len(expected_report)


def _rows(text: str) -> list[dict[str, str]]:
    """An export's rows by phone, without the columns an import does not carry (times, opt-out)."""
    kept = [
        {k: v for k, v in row.items() if k not in ("created_at", "opted_out", "opted_out_changed_at")}
        for row in csv.DictReader(io.StringIO(text))
    ]
    return sorted(kept, key=lambda row: row["phone"])


async def test_cli_import_and_export_round_trip_through_the_api(
    client: httpx.AsyncClient, uow_factory: SqlAlchemyUnitOfWorkFactory, database_url: str, tmp_path: Path
) -> None:
    source = await add_tenant_with_user(uow_factory, "source")
    target = await add_tenant_with_user(uow_factory, "target")
    source_headers = bearer(await token_for(client, source.username))
    target_headers = bearer(await token_for(client, target.username))

    people = tmp_path / "people.csv"
    people.write_text(
        "Who,Mobile,Town,Labels\n"
        'Ada,+1 415 555 0100,Oslo,"vip;sf"\n'
        '"Lovelace, Ada",(415) 555-0101,"Bergen, NO",vip\n'
        "Bad,12,,\n"
        "Émile,0044 20 7946 0000,Paris,\n",
        encoding="utf-8",
    )
    result = await asyncio.to_thread(
        run_cli,
        "contacts", "import", str(people), "--tenant", "source",
        "--map", "phone=Mobile", "--map", "name=Who", "--map", "attributes.town=Town",
        "--map", "tags=Labels", "--tag-separator", ";",
        database_url=database_url, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "completed" in result.stdout and "3 created" in result.stdout and "1 rejected" in result.stdout
    assert "not a valid phone number" in result.stdout

    exported = await client.get("/api/v1/contacts/export", headers=source_headers)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    assert (
        exported.text.splitlines()[0]
        == "phone,name,tags,attributes.town,opted_out,opted_out_changed_at,created_at"
    )
    rows = _rows(exported.text)
    assert rows == [
        {"phone": "+14155550100", "name": "Ada", "tags": "vip,sf", "attributes.town": "Oslo"},
        {"phone": "+14155550101", "name": "Lovelace, Ada", "tags": "vip", "attributes.town": "Bergen, NO"},
        {"phone": "+442079460000", "name": "Émile", "tags": "", "attributes.town": "Paris"},
    ]

    # The export imports as it is (columns phone, name, tags, attributes.*) into another tenant ...
    job = await start_import(client, target_headers, exported.text)
    done, _ = await poll_until_finished(client, target_headers, job["id"])
    assert (done["created"], done["rejected"]) == (3, 0)
    again = await client.get("/api/v1/contacts/export", headers=target_headers)
    assert _rows(again.text) == rows
    # ... and the CLI writes the same export.
    out = tmp_path / "export.csv"
    cli_export = await asyncio.to_thread(
        run_cli,
        "contacts",
        "export",
        "--tenant",
        "target",
        "-o",
        str(out),
        database_url=database_url,
        cwd=tmp_path,
    )
    assert cli_export.returncode == 0, cli_export.stdout + cli_export.stderr
    assert _rows(out.read_text(encoding="utf-8")) == rows
    assert (await client.get("/api/v1/contacts/export", headers=source_headers)).text == exported.text
