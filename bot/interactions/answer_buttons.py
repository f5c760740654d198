"""The buttons under an answer: Stop while it streams, then Regenerate, Continue, Delete,
Thread and 🔊 (read aloud).

They are stateless on our side: each button's `custom_id` carries what a press needs (the
action, the asker's id, and where memory keeps the exchange), and one `DynamicItem` class
turns any such id back into a button (discord.py 2.4+, "Dynamic Items"), so a press works
after a restart and on any process of the bot. Only Stop needs this process: it is found by
the answer's first message id in the chat service's `AnswerStops`.

Discord's limits (Interactions > Message Components): at most 5 buttons in an action row and
a `custom_id` of at most 100 characters; our ids stay under 70.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

import discord

from bot.chat.history import Exchange
from bot.chat.service import ChatOutcome, ChatRequest, ChatService
from bot.chat.stops import AnswerStops, StopSwitch
from bot.i18n import t
from bot.render import MessageHandle, ReplyTarget
from bot.render.targets import (
    ChannelTarget,
    DiscordMessageHandle,
    InteractionMessageHandle,
    InteractionTarget,
    ReplyChainTarget,
)

log = logging.getLogger(__name__)

#: The cog that handles presses (cogs/answers.py).
HANDLER_COG = "Answers"
#: Discord's limit on a component's custom_id.
MAX_CUSTOM_ID = 100

#: The targets that can carry buttons under their first message.
ButtonTarget = InteractionTarget | ReplyChainTarget | ChannelTarget


class Action(StrEnum):
    STOP = "stop"
    REGENERATE = "regen"
    CONTINUE = "cont"
    DELETE = "del"
    THREAD = "thread"
    READ = "read"


TEMPLATE = re.compile(
    r"nx:(?P<action>stop|regen|cont|del|thread|read)"
    r":(?P<asker>\d{1,20}):(?P<prompt>\d{1,20}):(?P<answer>\d{1,20})"
)

#: (emoji, label, style) of each button; labels are English keys of the catalogue.
LOOKS: dict[Action, tuple[str, str | None, discord.ButtonStyle]] = {
    Action.STOP: ("⏹️", "Stop", discord.ButtonStyle.danger),
    Action.REGENERATE: ("🔄", "Regenerate", discord.ButtonStyle.secondary),
    Action.CONTINUE: ("⏩", "Continue", discord.ButtonStyle.primary),
    Action.DELETE: ("🗑️", "Delete", discord.ButtonStyle.secondary),
    Action.THREAD: ("🧵", "Thread", discord.ButtonStyle.secondary),
    Action.READ: ("🔊", None, discord.ButtonStyle.secondary),
}


@dataclass(frozen=True)
class Press:
    """What one button says: the action, who asked, and the exchange (None: not kept)."""

    action: Action
    asker_id: int
    exchange: Exchange | None = None

    @property
    def custom_id(self) -> str:
        prompt, answer = (
            (self.exchange.prompt_id, self.exchange.answer_id) if self.exchange else (0, 0)
        )
        return f"nx:{self.action.value}:{self.asker_id}:{prompt}:{answer}"

    @classmethod
    def parse(cls, match: re.Match[str]) -> Press:
        prompt, answer = int(match["prompt"]), int(match["answer"])
        exchange = Exchange(prompt, answer) if prompt and answer else None
        return cls(Action(match["action"]), int(match["asker"]), exchange)


@runtime_checkable
class PressHandler(Protocol):
    async def on_press(self, interaction: discord.Interaction, press: Press) -> None: ...


class AnswerButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=TEMPLATE):
    """Any of an answer's buttons, rebuilt from its custom_id when pressed."""

    def __init__(self, press: Press, locale: str | None = None) -> None:
        emoji, label, style = LOOKS[press.action]
        super().__init__(
            discord.ui.Button(
                style=style,
                emoji=emoji,
                label=t(label, locale) if label else None,
                custom_id=press.custom_id,
            )
        )
        self.press = press

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> AnswerButton:
        return cls(Press.parse(match))

    async def callback(self, interaction: discord.Interaction) -> None:
        handler = interaction.client.get_cog(HANDLER_COG)  # type: ignore[attr-defined]
        if not isinstance(handler, PressHandler):
            log.error("No handler for the answer button %s", self.press.custom_id)
            return
        await handler.on_press(interaction, self.press)


def buttons_view(presses: Sequence[Press], locale: str | None) -> discord.ui.View | None:
    """A view of these buttons (one row of at most 5), or None when there are none."""
    if not presses:
        return None
    if len(presses) > 5:
        raise ValueError("at most 5 buttons fit a row")
    view = discord.ui.View(timeout=None)
    for press in presses:
        view.add_item(AnswerButton(press, locale))
    return view


def finished_presses(
    asker_id: int,
    outcome: ChatOutcome | None,
    *,
    exchange: Exchange | None,
    public: bool,
    threadable: bool,
    can_continue: bool | None = None,
) -> list[Press]:
    """The buttons an ended answer shows. Without memory of the exchange, only Delete and
    🔊; an answer only its asker sees (private) gets none."""
    if not public:
        return []
    if can_continue is None:
        can_continue = outcome is not None and outcome.finish_reason == "length"
    presses: list[Press] = []
    if exchange is not None:
        presses.append(Press(Action.REGENERATE, asker_id, exchange))
        if can_continue:
            presses.append(Press(Action.CONTINUE, asker_id, exchange))
    presses.append(Press(Action.DELETE, asker_id, exchange))
    if exchange is not None and threadable:
        presses.append(Press(Action.THREAD, asker_id, exchange))
    if outcome is None or outcome.text.strip():
        presses.append(Press(Action.READ, asker_id, exchange))  # reads all of a long answer
    return presses


def message_id_of(handle: MessageHandle) -> int | None:
    if isinstance(handle, DiscordMessageHandle | InteractionMessageHandle):
        return handle.message_id
    return None


async def delete_parts(
    client: discord.Client, channel_id: int | None, message_ids: Sequence[int], *, keep: int | None
) -> None:
    """Delete the other messages of a long answer (all but `keep`, the pressed one) through
    the channel; one already gone is fine, other failures are only logged."""
    if channel_id is None:
        return
    for message_id in message_ids:
        if message_id == keep:
            continue
        try:
            await client.http.delete_message(channel_id, message_id)
        except discord.NotFound:
            pass
        except discord.HTTPException as error:
            log.warning("Could not delete part %s of an answer: %s", message_id, error)


def release(view: discord.ui.View | None) -> None:
    """Unlink a view that was sent from its buttons. discord.py links them both ways, and
    such a cycle waits for a full garbage collection: a crowd of answers kept every view
    until then (bench/). Our buttons need no view once sent: a press finds its handler by
    the custom_id's template."""
    if view is not None:
        view.clear_items()


async def show_buttons(handle: MessageHandle, view: discord.ui.View | None) -> None:
    """Replace the buttons under a message of the answer; a failure is only logged (the
    answer itself was shown)."""
    if not isinstance(handle, DiscordMessageHandle | InteractionMessageHandle):
        return
    try:
        await handle.set_view(view)
    except discord.HTTPException as error:
        log.warning("Could not update the buttons under an answer: %s", error)


class _StoppableTarget:
    """A target whose first message carries the Stop button and registers the answer's
    switch under that message's id."""

    def __init__(self, inner: ButtonTarget, stops: AnswerStops, switch: StopSwitch) -> None:
        self.inner = inner
        self.stops = stops
        self.switch = switch
        self.first: MessageHandle | None = None
        self.first_id: int | None = None

    @property
    def route_key(self) -> str:
        return self.inner.route_key

    @property
    def max_parts(self) -> int | None:
        return self.inner.max_parts

    async def send_first(self, content: str) -> MessageHandle:
        handle = await self.inner.send_first(content)
        release(self.inner.first_view)  # sent with it: not kept for the whole answer
        self.inner.first_view = None
        self.first = handle
        self.first_id = message_id_of(handle)
        if self.first_id is not None:
            self.stops.register(self.first_id, self.switch)
        return handle

    async def send_next(self, content: str, previous: MessageHandle) -> MessageHandle:
        return await self.inner.send_next(content, previous)


def is_threadable(channel: object) -> bool:
    """A thread can start from a message here (a server text or news channel)."""
    return isinstance(channel, discord.TextChannel)


async def answer_with_buttons(
    chat: ChatService,
    request: ChatRequest,
    target: ButtonTarget,
    *,
    bot_id: int,
    bot_name: str,
    public: bool,
    threadable: bool,
) -> ChatOutcome:
    """Answer through `chat` with Stop under the answer while it streams, and the buttons
    that apply once it ended (on its last message; Stop leaves the first)."""
    asker = request.caller.user_id
    switch = StopSwitch()
    target.first_view = buttons_view([Press(Action.STOP, asker)], request.locale)
    ended: list[discord.ui.View] = []  # released once shown
    stoppable = _StoppableTarget(target, chat.stops, switch)
    reply_target: ReplyTarget = stoppable

    async def ended_view(outcome: ChatOutcome) -> discord.ui.View:
        """The buttons the ended answer shows (an empty view takes Stop away), once memory
        knows every part they act on. Called once: by the last edit, or after it showed none."""
        if len(outcome.messages) > 1:
            await chat.remember_messages(outcome, [message_id_of(m) for m in outcome.messages])
        presses = finished_presses(
            asker, outcome, exchange=outcome.exchange, public=public, threadable=threadable
        )
        view = buttons_view(presses, request.locale) or discord.ui.View(timeout=None)
        ended.append(view)
        return view

    try:
        try:
            outcome = await chat.answer(
                request,
                reply_target,
                bot_id=bot_id,
                bot_name=bot_name,
                stop=switch,
                buttons=ended_view,
            )
        except BaseException:
            if stoppable.first is not None:  # a partial answer stays, without its Stop button
                await show_buttons(stoppable.first, None)
            raise
        finally:
            if stoppable.first_id is not None:
                chat.stops.forget(stoppable.first_id)
        messages = outcome.messages
        if messages:
            if messages[0] is not messages[-1]:
                await show_buttons(messages[0], None)
            if not outcome.buttons_shown:  # the last message showed nothing new at the end
                await show_buttons(messages[-1], await ended_view(outcome))
    finally:
        release(target.first_view)  # still here when the first message never went out
        for view in ended:
            release(view)
    return outcome
