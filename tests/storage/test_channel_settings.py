"""ChannelSettings: a channel's voice-note mode, spoken answers and language hint."""

from __future__ import annotations

import pytest

from bot.storage.channel_settings import DEFAULT_VOICE, ChannelSettings, ChannelVoice
from bot.storage.store import Store

GUILD, CHANNEL, THREAD, MOD = 1000, 2000, 3000, 7


@pytest.fixture
def settings(store: Store) -> ChannelSettings:
    return ChannelSettings(store)


async def test_a_channel_never_set_has_todays_behaviour(settings: ChannelSettings) -> None:
    voice = await settings.voice(CHANNEL)
    assert voice == DEFAULT_VOICE == ChannelVoice("transcript", spoken=False, language="auto")
    assert voice.language_hint is None


async def test_each_change_keeps_the_settings_not_given(settings: ChannelSettings) -> None:
    await settings.set_voice(CHANNEL, GUILD, by=MOD, mode="answer", spoken=True)
    voice = await settings.set_voice(CHANNEL, GUILD, by=MOD, language="vi")
    assert voice == ChannelVoice("answer", spoken=True, language="vi")
    assert voice.language_hint == "vi"
    voice = await settings.set_voice(CHANNEL, GUILD, by=MOD, spoken=False)
    assert voice == ChannelVoice("answer", spoken=False, language="vi")


async def test_a_thread_follows_its_channel_until_it_has_its_own(
    settings: ChannelSettings,
) -> None:
    await settings.set_voice(CHANNEL, GUILD, by=MOD, mode="summary", language="en")
    assert (await settings.voice(THREAD, CHANNEL)).mode == "summary"
    await settings.set_voice(THREAD, GUILD, by=MOD, mode="transcript")
    assert await settings.voice(THREAD, CHANNEL) == ChannelVoice("transcript")


@pytest.mark.parametrize("change", [{"mode": "shout"}, {"language": "fr"}])
async def test_unknown_values_are_refused(
    settings: ChannelSettings, change: dict[str, str]
) -> None:
    with pytest.raises(ValueError):
        await settings.set_voice(CHANNEL, GUILD, by=MOD, **change)  # type: ignore[arg-type]
