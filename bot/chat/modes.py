"""Whether a member's message is for the bot, by the place's chat mode. Pure: the cog says
what it saw in the message (`Heard`)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.storage.chat_places import Mode


@dataclass(frozen=True)
class Heard:
    """What a message in a server says to the bot."""

    #: The bot is among the message's mentions (a reply with its ping on mentions it too).
    mentioned: bool
    #: The message replies to one of the bot's messages.
    replies_to_bot: bool
    #: The message is in a thread the bot started.
    in_bot_thread: bool
    #: The message pings @everyone or @here.
    pings_everyone: bool
    content: str


def answers(mode: Mode, heard: Heard, aside_prefix: str) -> bool:
    """Whether the bot answers: never where the mode is off; a mention or a reply to the bot
    always elsewhere; any other message in "every message" places and the bot's own threads,
    except announcements (@everyone/@here) and asides (starting with `aside_prefix`)."""
    if mode == "off":
        return False
    if heard.mentioned or heard.replies_to_bot:
        return True
    if mode != "every" and not heard.in_bot_thread:
        return False
    if heard.pings_everyone:
        return False
    return not (aside_prefix and heard.content.lstrip().startswith(aside_prefix))
