"""ChatPlaces on both backends: a place's mode and persona, changed one setting at a time and
read back at once; the migration that turns the old mention channels into modes."""

from __future__ import annotations

import pytest

from bot.storage import migrations, migrations_pg
from bot.storage.chat_places import NOTHING, ChatPlaces, PlaceSettings
from bot.storage.guild_settings import GuildSettings
from bot.storage.store import Store
from tests.databases import Database

GUILD, CHANNEL, THREAD = 1000, 2000, 3000


async def test_settings_change_one_at_a_time_and_are_read_back_at_once(store: Store) -> None:
    places = ChatPlaces(store)
    assert await places.get(GUILD, CHANNEL) == NOTHING
    await places.change(GUILD, CHANNEL, by=1, mode="every")
    after = await places.change(GUILD, CHANNEL, by=1, model="gpt-4o", temperature=0.3)
    assert after == PlaceSettings(mode="every", model="gpt-4o", temperature=0.3)
    assert await ChatPlaces(store).get(GUILD, CHANNEL) == after  # stored, not only cached


async def test_a_place_back_to_all_defaults_loses_its_row(store: Store) -> None:
    places = ChatPlaces(store)
    await places.change(GUILD, THREAD, by=1, mode="off", system_prompt="Be brief.")
    await places.change(GUILD, THREAD, by=1, mode=None)
    assert await places.get(GUILD, THREAD) == PlaceSettings(system_prompt="Be brief.")
    await places.change(GUILD, THREAD, by=1, system_prompt=None)
    assert await places.of_guild(GUILD) == {}
    assert await store.fetch_value("SELECT COUNT(*) FROM chat_places") == 0


@pytest.mark.parametrize("change", [{"mode": "loud"}, {"temperature": 2.5}, {"temperature": -0.1}])
async def test_unknown_modes_and_temperatures_out_of_range_are_refused(
    store: Store, change: dict[str, object]
) -> None:
    with pytest.raises(ValueError):
        await ChatPlaces(store).change(GUILD, CHANNEL, by=1, **change)  # type: ignore[arg-type]


async def test_the_old_mention_channels_become_modes_that_mean_the_same(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server that answered mentions only in some channels: "off" by default, those on."""
    mine = next(i for i, sql in enumerate(migrations.MIGRATIONS) if "chat_places" in sql)
    module = "bot.storage.postgres" if database.url else "bot.storage.sqlite"
    known = migrations_pg.MIGRATIONS if database.url else migrations.MIGRATIONS
    monkeypatch.setattr(f"{module}.MIGRATIONS", known[:mine])
    store = await database.open()
    try:
        await store.execute_many(
            "INSERT INTO mention_channels (channel_id, guild_id, added_by, added_at)"
            " VALUES (?, ?, 7, 1.0)",
            [(CHANNEL, GUILD), (CHANNEL + 1, GUILD)],
        )
        await store.execute(
            "INSERT INTO guild_settings (guild_id, chat_model, updated_by, updated_at)"
            " VALUES (?, 'gpt-4o', 7, 1.0)",
            (GUILD,),
        )
    finally:
        await store.close()
    monkeypatch.undo()
    store = await database.open()
    try:
        config = await GuildSettings(store).get(GUILD)
        assert (config.chat_mode, config.chat_model) == ("off", "gpt-4o")
        assert (await GuildSettings(store).get(GUILD + 1)).chat_mode is None
        assert await ChatPlaces(store).of_guild(GUILD) == {
            CHANNEL: PlaceSettings(mode="mention"),
            CHANNEL + 1: PlaceSettings(mode="mention"),
        }
    finally:
        await store.close()
