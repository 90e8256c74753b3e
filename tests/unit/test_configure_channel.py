"""`ConfigureChannel`: a tenant adds or changes a WhatsApp channel; a phone number belongs to one tenant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest

from pywhatsapp.application.channels.configure_channel import ChannelSettings, ConfigureChannel
from pywhatsapp.domain.channels.channel import DEFAULT_MESSAGES_PER_SECOND, MAX_MESSAGES_PER_SECOND, Channel
from pywhatsapp.domain.errors import Conflict, InvalidInput, NotFound
from tests.unit.conftest import World
from tests.unit.fakes import FakeChannelDirectory, FakeUnitOfWorkFactory

PNID = "106540352242922"
OTHER_PNID = "106540352242999"


@dataclass
class Setup:
    factory: FakeUnitOfWorkFactory
    directory: FakeChannelDirectory
    configure: ConfigureChannel
    acme: UUID
    globex: UUID

    def stored(self) -> list[Channel]:
        channels: list[Channel] = self.factory.committed("channels")
        return channels


@pytest.fixture
def setup(world: World) -> Setup:
    directory = FakeChannelDirectory(world.factory)
    return Setup(
        world.factory,
        directory,
        ConfigureChannel(world.factory, directory),
        world.acme.id,
        world.globex.id,
    )


def seed(setup: Setup, tenant_id: UUID, phone_number_id: str = PNID, **fields: object) -> Channel:
    channel = Channel(tenant_id=tenant_id, phone_number_id=phone_number_id, access_token="old-token")
    for name, value in fields.items():
        setattr(channel, name, value)
    setup.factory.put_record("channels", channel)
    return channel


async def test_a_new_channel_is_created_in_the_tenant(setup: Setup) -> None:
    saved = await setup.configure.execute(
        setup.acme,
        ChannelSettings(
            phone_number_id=f" {PNID} ",
            access_token="EAAG-token",
            waba_id="102290129340398",
            display_phone_number="+1 555 0100",
            app_secret="app-secret",
            verify_token="verify-me",
        ),
    )

    (stored,) = setup.stored()
    assert stored == saved
    assert (stored.tenant_id, stored.phone_number_id, stored.access_token) == (setup.acme, PNID, "EAAG-token")
    assert (stored.name, stored.messages_per_second, stored.is_active) == (
        "WhatsApp",
        DEFAULT_MESSAGES_PER_SECOND,
        True,
    )
    assert (stored.waba_id, stored.app_secret, stored.verify_token) == (
        "102290129340398",
        "app-secret",
        "verify-me",
    )


async def test_a_new_channel_is_found_by_webhooks_at_once(setup: Setup) -> None:
    # The conflict check asked the directory about the number (and it answered "nobody"): that answer must
    # not outlive the new channel.
    await setup.configure.execute(setup.acme, ChannelSettings(phone_number_id=PNID, access_token="t"))

    found = await setup.directory.by_phone_number_id(PNID)
    assert found is not None and found.tenant_id == setup.acme
    assert setup.directory.forgotten == 1


async def test_update_by_id_changes_only_what_is_given(setup: Setup) -> None:
    long_ago = datetime(2024, 1, 1, tzinfo=UTC)
    channel = seed(
        setup,
        setup.acme,
        name="Sales",
        waba_id="1",
        app_secret="s1",
        created_at=long_ago,
        updated_at=long_ago,
    )

    saved = await setup.configure.execute(
        setup.acme, ChannelSettings(phone_number_id="", name="Support", messages_per_second=20), channel.id
    )

    (stored,) = setup.stored()
    assert stored == saved
    assert stored.id == channel.id
    assert (stored.name, stored.messages_per_second) == ("Support", 20)
    assert (stored.phone_number_id, stored.access_token, stored.waba_id, stored.app_secret) == (
        PNID,
        "old-token",
        "1",
        "s1",
    )
    assert stored.created_at == long_ago
    assert stored.updated_at > long_ago
    assert setup.directory.forgotten == 1


async def test_update_by_id_can_move_to_a_new_phone_number(setup: Setup) -> None:
    channel = seed(setup, setup.acme)

    await setup.configure.execute(setup.acme, ChannelSettings(phone_number_id=OTHER_PNID), channel.id)

    (stored,) = setup.stored()
    assert (stored.id, stored.phone_number_id) == (channel.id, OTHER_PNID)
    assert await setup.directory.by_phone_number_id(PNID) is None


async def test_the_same_phone_number_again_updates_the_tenants_channel(setup: Setup) -> None:
    channel = seed(setup, setup.acme)

    saved = await setup.configure.execute(setup.acme, ChannelSettings(phone_number_id=PNID, name="Renamed"))

    (stored,) = setup.stored()
    assert (saved.id, stored.id, stored.name, stored.access_token) == (
        channel.id,
        channel.id,
        "Renamed",
        "old-token",
    )


async def test_a_phone_number_of_another_tenant_is_a_conflict(setup: Setup) -> None:
    theirs = seed(setup, setup.globex)

    with pytest.raises(Conflict):
        await setup.configure.execute(setup.acme, ChannelSettings(phone_number_id=PNID, access_token="mine"))

    assert setup.stored() == [theirs]


async def test_moving_a_channel_onto_another_tenants_number_is_a_conflict(setup: Setup) -> None:
    mine = seed(setup, setup.acme)
    theirs = seed(setup, setup.globex, OTHER_PNID)

    with pytest.raises(Conflict):
        await setup.configure.execute(setup.acme, ChannelSettings(phone_number_id=OTHER_PNID), mine.id)

    assert {c.id: c.phone_number_id for c in setup.stored()} == {mine.id: PNID, theirs.id: OTHER_PNID}


async def test_a_stale_directory_answer_does_not_hide_the_owner(setup: Setup) -> None:
    assert await setup.directory.by_phone_number_id(PNID) is None  # cached: nobody owns it
    seed(setup, setup.globex)  # another worker added it since

    with pytest.raises(Conflict):
        await setup.configure.execute(setup.acme, ChannelSettings(phone_number_id=PNID, access_token="t"))


async def test_moving_a_channel_onto_its_sibling_number_is_a_conflict(setup: Setup) -> None:
    # Phone numbers are unique across the installation, within a tenant too.
    first = seed(setup, setup.acme)
    second = seed(setup, setup.acme, OTHER_PNID)

    with pytest.raises(Conflict):
        await setup.configure.execute(setup.acme, ChannelSettings(phone_number_id=PNID), second.id)

    assert {c.id: c.phone_number_id for c in setup.stored()} == {first.id: PNID, second.id: OTHER_PNID}


@pytest.mark.parametrize(
    "phone_number_id",
    ["", "   ", "+15550100", "1555-0100", "abc", "12 34", "1.5", "12³", "١٢٣٤"],
    ids=["empty", "blank", "plus", "dash", "letters", "inner-space", "dot", "superscript", "arabic-indic"],
)
async def test_a_phone_number_id_that_is_not_ascii_digits_is_invalid(
    setup: Setup, phone_number_id: str
) -> None:
    with pytest.raises(InvalidInput, match="phone_number_id"):
        await setup.configure.execute(
            setup.acme, ChannelSettings(phone_number_id=phone_number_id, access_token="t")
        )

    assert setup.stored() == []


async def test_a_new_channel_needs_an_access_token(setup: Setup) -> None:
    with pytest.raises(InvalidInput, match="access_token"):
        await setup.configure.execute(setup.acme, ChannelSettings(phone_number_id=PNID))

    assert setup.stored() == []


async def test_an_empty_access_token_is_no_token(setup: Setup) -> None:
    with pytest.raises(InvalidInput, match="access_token"):
        await setup.configure.execute(setup.acme, ChannelSettings(phone_number_id=PNID, access_token=""))


async def test_an_unknown_channel_id_is_not_found(setup: Setup) -> None:
    with pytest.raises(NotFound):
        await setup.configure.execute(setup.acme, ChannelSettings(phone_number_id=PNID), uuid4())

    assert setup.stored() == []


async def test_another_tenants_channel_id_is_not_found(setup: Setup) -> None:
    theirs = seed(setup, setup.globex)

    with pytest.raises(NotFound):
        await setup.configure.execute(
            setup.acme, ChannelSettings(phone_number_id=PNID, name="mine"), theirs.id
        )

    assert setup.stored() == [theirs]


async def test_a_new_token_lifts_a_pause(setup: Setup) -> None:
    channel = seed(setup, setup.acme, paused_reason="access token expired")

    await setup.configure.execute(
        setup.acme, ChannelSettings(phone_number_id=PNID, access_token="fresh"), channel.id
    )

    (stored,) = setup.stored()
    assert (stored.access_token, stored.paused_reason) == ("fresh", None)


async def test_other_changes_keep_a_pause(setup: Setup) -> None:
    channel = seed(setup, setup.acme, paused_reason="access token expired")

    await setup.configure.execute(setup.acme, ChannelSettings(phone_number_id=PNID, name="x"), channel.id)

    (stored,) = setup.stored()
    assert stored.paused_reason == "access token expired"


async def test_a_channel_can_be_deactivated(setup: Setup) -> None:
    channel = seed(setup, setup.acme, verify_token="v")

    await setup.configure.execute(
        setup.acme, ChannelSettings(phone_number_id=PNID, is_active=False), channel.id
    )

    (stored,) = setup.stored()
    assert stored.is_active is False
    assert await setup.directory.verify_tokens() == set()


@pytest.mark.parametrize("rate", [1, MAX_MESSAGES_PER_SECOND])
async def test_messages_per_second_bounds_are_inclusive(setup: Setup, rate: int) -> None:
    saved = await setup.configure.execute(
        setup.acme, ChannelSettings(phone_number_id=PNID, access_token="t", messages_per_second=rate)
    )

    assert saved.messages_per_second == rate


@pytest.mark.parametrize("rate", [0, -1, MAX_MESSAGES_PER_SECOND + 1])
async def test_messages_per_second_out_of_bounds_is_invalid(setup: Setup, rate: int) -> None:
    channel = seed(setup, setup.acme)

    with pytest.raises(InvalidInput, match="messages_per_second"):
        await setup.configure.execute(
            setup.acme, ChannelSettings(phone_number_id=PNID, access_token="t", messages_per_second=rate)
        )
    with pytest.raises(InvalidInput, match="messages_per_second"):
        await setup.configure.execute(
            setup.acme, ChannelSettings(phone_number_id=PNID, messages_per_second=rate), channel.id
        )

    assert setup.stored() == [channel]


async def test_nothing_is_written_or_forgotten_when_the_change_is_refused(setup: Setup) -> None:
    seed(setup, setup.globex)

    with pytest.raises(Conflict):
        await setup.configure.execute(setup.acme, ChannelSettings(phone_number_id=PNID, access_token="t"))

    assert setup.directory.forgotten == 0
    assert all(unit.commits == 0 for unit in setup.factory.units)
