"""Contacts, their CSV imports and audiences: the domain rules and the use cases on the fakes."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import uuid4

import phonenumbers
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from pywhatsapp.application.contacts.import_contacts import (
    ContactImportScheduler,
    RunContactImport,
    StartContactImport,
)
from pywhatsapp.application.contacts.manage_audiences import ManageAudiences
from pywhatsapp.application.contacts.manage_contacts import ContactChanges, ManageContacts, NewContact
from pywhatsapp.application.contacts.ports import ContactQuery
from pywhatsapp.domain.contacts.audience import AudienceKind
from pywhatsapp.domain.contacts.contact_import import (
    ColumnMapping,
    ContactDraft,
    CsvFile,
    ImportStatus,
    RejectedRow,
    RejectReason,
    plan_import,
)
from pywhatsapp.domain.contacts.phone import InvalidPhoneNumber, known_region, normalize_phone
from pywhatsapp.domain.errors import Conflict, InvalidInput, NotFound
from pywhatsapp.domain.identity.principal import Principal
from pywhatsapp.domain.realtime.event import EventType
from pywhatsapp.domain.tenancy.membership import Role
from tests.unit.conftest import World
from tests.unit.fakes import FakeUnitOfWork, FakeUnitOfWorkFactory

# --- E.164 normalization ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "region", "wa_id"),
    [
        ("+1 (415) 555-0100", "US", "14155550100"),
        ("14155550100", "US", "14155550100"),
        ("14155550100", "GB", "14155550100"),  # a WhatsApp id needs no region
        ("(415) 555-0100", "US", "14155550100"),
        ("415-555-0100", "US", "14155550100"),
        ("011 44 20 7946 0000", "US", "442079460000"),  # the US international prefix
        ("0044 20 7946 0000", "US", "442079460000"),  # the common one, in any region
        ("020 7946 0000", "GB", "442079460000"),
        ("+44 (0)20 7946 0000", "DE", "442079460000"),
        ("4915111111111", "US", "4915111111111"),  # as Meta sends wa_id
        ("01511 1111111", "DE", "4915111111111"),
        ("tel:+1-415-555-0100", "US", "14155550100"),
        ("+1 415 555 0100 ext. 12", "US", "14155550100"),
    ],
)
def test_numbers_in_any_format_become_the_whatsapp_id(raw: str, region: str, wa_id: str) -> None:
    assert normalize_phone(raw, region) == wa_id


@pytest.mark.parametrize(
    "raw", ["", "   ", "12", "abc", "+1 555 123 4567", "+999 1234", "020 7946 0000", "1" * 80]
)
def test_what_is_not_a_valid_number_is_refused_with_a_reason(raw: str) -> None:
    with pytest.raises(InvalidPhoneNumber) as refused:
        normalize_phone(raw, "US")
    assert refused.value.message


def test_the_default_region_must_be_one_libphonenumber_knows() -> None:
    assert known_region(" gb ") == "GB"
    with pytest.raises(InvalidInput):
        known_region("XX")


def _valid_numbers() -> st.SearchStrategy[phonenumbers.PhoneNumber]:
    """Valid numbers of every region: its example numbers with their last digits varied."""
    kinds = [PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE]

    def build(region: str, kind: int, tail: int) -> phonenumbers.PhoneNumber | None:
        example = phonenumbers.example_number_for_type(region, kind)
        if example is None:
            return None
        national = str(example.national_number)
        varied = national[:-2] + f"{tail:02d}" if len(national) > 4 else national
        number = phonenumbers.PhoneNumber(
            country_code=example.country_code,
            national_number=int(varied),
            italian_leading_zero=example.italian_leading_zero,
            number_of_leading_zeros=example.number_of_leading_zeros,
        )
        return number if phonenumbers.is_valid_number(number) else None

    return st.builds(
        build,
        st.sampled_from(sorted(phonenumbers.SUPPORTED_REGIONS)),
        st.sampled_from(kinds),
        st.integers(min_value=0, max_value=99),
    ).filter(lambda number: number is not None)  # type: ignore[return-value]


@settings(max_examples=400, deadline=None)
@given(number=_valid_numbers(), default_region=st.sampled_from(["US", "GB", "DE", "IN", "BR", "NG"]))
def test_every_international_format_of_a_valid_number_gives_one_wa_id(
    number: phonenumbers.PhoneNumber, default_region: str
) -> None:
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    wa_id = e164.removeprefix("+")
    written = [
        e164,
        wa_id,
        "00" + wa_id,
        phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL),
        phonenumbers.format_number(number, PhoneNumberFormat.RFC3966),
    ]
    for text in written:
        assert normalize_phone(text, default_region) == wa_id, text
    # Idempotent: a stored wa_id normalizes to itself, whatever the region.
    assert normalize_phone(normalize_phone(written[3], default_region), "US") == wa_id


@settings(max_examples=300, deadline=None)
@given(number=_valid_numbers())
def test_a_national_format_in_its_own_region_gives_the_same_wa_id(number: phonenumbers.PhoneNumber) -> None:
    region = phonenumbers.region_code_for_number(number)
    assert region is not None
    national = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    # Bare national digits may also read as another country's WhatsApp id; that reading wins (documented).
    assume(not national.isdigit())
    assert normalize_phone(national, region) == phonenumbers.format_number(
        number, PhoneNumberFormat.E164
    ).removeprefix("+")


# --- CSV planning -------------------------------------------------------------------------------------------

CSV = (
    "Phone;Full name;Labels;City\r\n"
    "+1 415 555 0100;Ada;vip|sf;Oslo\r\n"
    ";No Number;;\r\n"
    "\r\n"
    "12;Short;;\r\n"
    "(415) 555-0100;Ada again;;\r\n"
    "+44 20 7946 0000;;uk;\r\n"
    f"+1 415 555 0101;{'x' * 201};;\r\n"
)


def test_a_plan_says_what_becomes_of_every_row_by_its_row_number() -> None:
    source = CsvFile.parse("\ufeff" + CSV)
    assert source.header == ["Phone", "Full name", "Labels", "City"]
    mapping = ColumnMapping.from_pairs(
        {"phone": "phone", "name": "Full name", "tags": "Labels", "attributes.city": "City"},
        tag_separator="|",
    )
    plan = plan_import(source, mapping, "US")
    assert plan[0] == ContactDraft(
        row=2, wa_id="14155550100", name="Ada", tags=["vip", "sf"], attributes={"city": "Oslo"}
    )
    rejected = [(r.row, r.code) for r in plan if isinstance(r, RejectedRow)]
    assert rejected == [
        (3, RejectReason.MISSING_PHONE),
        (5, RejectReason.BAD_NUMBER),  # row 4 is blank: skipped, but it keeps its number
        (6, RejectReason.DUPLICATE_IN_FILE),
        (8, RejectReason.BAD_VALUE),
    ]
    duplicate = next(
        r for r in plan if isinstance(r, RejectedRow) and r.code is RejectReason.DUPLICATE_IN_FILE
    )
    assert "row 2" in duplicate.reason and duplicate.phone == "(415) 555-0100"
    assert plan[4] == ContactDraft(row=7, wa_id="442079460000", name=None, tags=["uk"], attributes={})
    assert len(plan) == len(source.rows) == 6


def test_mappings_are_checked_against_the_header_and_guessed_without_one() -> None:
    source = CsvFile.parse(CSV)
    with pytest.raises(InvalidInput, match="no column 'Mobile'"):
        plan_import(source, ColumnMapping.from_pairs({"phone": "Mobile"}), "US")
    with pytest.raises(InvalidInput, match="phone"):
        ColumnMapping.from_pairs({"name": "Full name"})
    with pytest.raises(InvalidInput, match="not one of"):
        ColumnMapping.from_pairs({"phone": "Phone", "email": "Email"})
    guessed = ColumnMapping.guess(source.header)
    assert guessed.phone == "Phone" and guessed.name == "Full name" and guessed.tags == "Labels"
    with pytest.raises(InvalidInput, match="no phone column"):
        ColumnMapping.guess(["Name", "City"])
    with pytest.raises(InvalidInput, match="empty"):
        CsvFile.parse("\r\n\r\n")


# --- use cases on the fakes ---------------------------------------------------------------------------------


def owner_of(world: World) -> Principal:
    return Principal(
        user_id=world.alice.id,
        username="alice",
        tenant_id=world.acme.id,
        tenant_slug="acme",
        tenant_name="Acme",
        role=Role.ADMIN,
    )


async def test_contacts_are_unique_per_number_and_opt_out_changes_are_timed(world: World) -> None:
    contacts = ManageContacts(world.factory, "US")
    alice = owner_of(world)
    ada = await contacts.create(alice, NewContact(phone="(415) 555-0100", name=" Ada ", tags=["vip"]))
    assert ada.wa_id == "14155550100" and ada.name == "Ada"
    with pytest.raises(Conflict, match=str(ada.id)):
        await contacts.create(alice, NewContact(phone="+1 415 555 0100"))
    out = await contacts.update(alice, ada.id, ContactChanges(opted_out=True))
    assert out.opted_out and out.opted_out_changed_at is not None
    same = await contacts.update(alice, ada.id, ContactChanges(opted_out=True, tags=["vip", "b2b"]))
    assert same.opted_out_changed_at == out.opted_out_changed_at and same.tags == ["vip", "b2b"]
    page = await contacts.search(alice, ContactQuery(tag="b2b", opted_out=True))
    assert [c.id for c in page.items] == [ada.id] and page.total == 1
    in_globex = Principal(**{**owner_of(world).__dict__, "tenant_id": world.globex.id})
    with pytest.raises(NotFound):
        await contacts.get(in_globex, ada.id)
    agent = Principal(**{**owner_of(world).__dict__, "role": Role.AGENT})
    with pytest.raises(Exception, match="admin role"):
        await contacts.delete(agent, ada.id)
    await contacts.delete(alice, ada.id)
    with pytest.raises(NotFound):
        await contacts.get(alice, ada.id)


async def test_audiences_static_and_dynamic_with_counts(world: World) -> None:
    contacts, audiences = ManageContacts(world.factory, "US"), ManageAudiences(world.factory)
    alice = owner_of(world)
    made = [
        await contacts.create(alice, NewContact(phone=f"+1415555{n:04d}", tags=tags))
        for n, tags in enumerate([["vip"], ["vip", "sf"], ["sf"], []], start=200)
    ]
    static = await audiences.create(alice, name="Pilot", contact_ids=[made[0].id, made[3].id])
    assert static.audience.kind is AudienceKind.STATIC and static.member_count == 2
    dynamic = await audiences.create(alice, name="Tagged", tags=["vip", "sf"])
    assert dynamic.audience.kind is AudienceKind.DYNAMIC and dynamic.member_count == 3
    with pytest.raises(Conflict):
        await audiences.create(alice, name="Pilot")
    with pytest.raises(InvalidInput, match="No such contacts"):
        await audiences.add_members(alice, static.audience.id, [uuid4()])
    added = await audiences.add_members(alice, static.audience.id, [made[0].id, made[1].id])
    assert added.changed == 1 and added.audience.member_count == 3
    with pytest.raises(Conflict):
        await audiences.add_members(alice, dynamic.audience.id, [made[3].id])
    await contacts.update(alice, made[1].id, ContactChanges(opted_out=True))
    async with world.factory(alice.tenant_id) as uow:
        resolved = await uow.audience_members.contact_ids(dynamic.audience.id)
        everyone = await uow.audience_members.contact_ids(dynamic.audience.id, include_opted_out=True)
    assert set(resolved) == {made[0].id, made[2].id} and len(everyone) == 3
    removed = await audiences.remove_members(alice, static.audience.id, [made[3].id, made[2].id])
    assert removed.changed == 1 and removed.audience.member_count == 2
    page = await audiences.page(alice, limit=10)
    assert {(a.audience.name, a.member_count) for a in page.items} == {("Pilot", 2), ("Tagged", 3)}


class CrashingFactory(FakeUnitOfWorkFactory):
    """A factory whose units of work fail on the n-th commit, as a process killed mid-import would."""

    def __init__(self, base: FakeUnitOfWorkFactory, crash_on_commit: int) -> None:
        self.__dict__.update(base.__dict__)
        self.crash_on_commit = crash_on_commit
        self.commits_seen = 0

    def __call__(self, tenant_id: Any = None) -> FakeUnitOfWork:
        uow = super().__call__(tenant_id)
        real_commit = uow.commit

        async def commit() -> None:
            self.commits_seen += 1
            if self.commits_seen == self.crash_on_commit:
                raise asyncio.CancelledError  # stopped before this batch was committed
            await real_commit()

        uow.commit = commit  # type: ignore[method-assign]
        return uow


async def test_an_import_stopped_mid_way_resumes_with_no_row_lost_or_doubled(world: World) -> None:
    alice = owner_of(world)
    rows = [f"+1415555{n:04d},Person {n}" for n in range(300, 340)] + ["+14155550300,Dup", "bad,Bad"]
    data = ("phone,name\n" + "\n".join(rows) + "\n").encode()
    scheduler = ContactImportScheduler(world.factory, RunContactImport(world.factory, batch_size=7))
    job = await StartContactImport(world.factory, "US").execute(alice, data=data, owner=scheduler.owner)
    assert job.total_rows == 42 and job.status is ImportStatus.QUEUED

    crashing = CrashingFactory(world.factory, crash_on_commit=3)
    with pytest.raises(asyncio.CancelledError):
        await RunContactImport(crashing, batch_size=7).execute(alice.tenant_id, job.id, owner=scheduler.owner)
    world.factory.store = crashing.store
    async with world.factory(alice.tenant_id) as uow:
        halfway = await uow.contact_imports.get(job.id)
        stored = await uow.contacts.count()
    assert halfway is not None and halfway.processed == 14 and stored == 14 and halfway.created == 14

    # The stopped runner gave its lease up: the next round resumes at row 15.
    assert await scheduler.resume_abandoned() == 1
    await asyncio.gather(*[scheduler.wait(job_id) for job_id in list(scheduler.running)])
    async with world.factory(alice.tenant_id) as uow:
        done = await uow.contact_imports.get(job.id)
        stored = await uow.contacts.count()
    assert done is not None and done.status is ImportStatus.COMPLETED
    assert (done.processed, done.created, done.updated, done.rejected, stored) == (42, 40, 0, 2, 40)
    assert [(r["row"], r["code"]) for r in done.report] == [(42, "duplicate_in_file"), (43, "bad_number")]
    progress = [e for e in world.factory.published if e.type is EventType.CONTACT_IMPORT_PROGRESS]
    assert progress[-1].data["status"] == "completed" and progress[-1].data["processed"] == 42
