"""One chat exchange: memory in, streamed answer out, memory updated when it completed."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from bot.config import Settings
from bot.failures import StorageError
from bot.history import History, build_messages
from bot.i18n import t
from bot.nexai import NexaiClient, StreamInterruptedError
from bot.render import RateLimitMonitor, ReplyTarget, StreamedReply
from bot.store import storage_errors
from bot.subtext import SubtextEscaper, subtext
from bot.usage import Caller, Ledger

log = logging.getLogger(__name__)

CUT_OFF_NOTE = "⚠️ The answer was cut off before it finished."
STOPPED_NOTE = (
    "⚠️ The answer stopped here because the bot is restarting. Please ask again in a minute."
)


@dataclass(frozen=True)
class ChatRequest:
    caller: Caller
    channel_id: int
    author_name: str
    prompt: str
    model: str
    locale: str
    image_url: str | None = None
    remember: bool = True
    #: The server's system prompt; None: the bot's (SYSTEM_PROMPT).
    system_prompt: str | None = None


@dataclass(frozen=True)
class ChatOutcome:
    text: str
    complete: bool
    tokens: int = 0


class ChatService:
    def __init__(
        self,
        settings: Settings,
        client: NexaiClient,
        history: History,
        ledger: Ledger,
        monitor: RateLimitMonitor | None = None,
    ) -> None:
        self._settings = settings
        self._client = client
        self._history = history
        self._ledger = ledger
        self._monitor = monitor

    async def answer(
        self, request: ChatRequest, target: ReplyTarget, *, bot_id: int, bot_name: str
    ) -> ChatOutcome:
        """Stream the answer to `target`, charged to the caller as one `ask`.

        Errors before any text arrived propagate (nothing was sent, the charge is refunded); a
        stream cut midway keeps what arrived, says so, and leaves memory untouched. A complete
        answer is remembered before its last edit, so a follow-up question always sees it.
        Database failures arrive as `StorageError`, except after the answer arrived: then it is
        still shown, and only logged as not remembered or not settled.
        """
        with storage_errors():
            messages = await self._messages(request)
        reply = StreamedReply(
            target,
            pacer=self._monitor,
            edit_interval_s=self._settings.stream_edit_interval_s,
            empty_text=t("(The model returned an empty answer.)", request.locale),
        )
        outcome: ChatOutcome | None = None
        try:
            with storage_errors():
                async with self._ledger.charge(request.caller, "ask", 1, request.model) as charge:
                    try:
                        outcome = await self._stream(request, messages, reply)
                    except asyncio.CancelledError:  # the bot is shutting down: end it visibly
                        await end_stopped(reply, subtext(t(STOPPED_NOTE, request.locale)))
                        raise
                    except BaseException:
                        reply.cancel()
                        raise
                    charge.settle(tokens=outcome.tokens)
                if request.remember and outcome.complete and outcome.text.strip():
                    await self._history.add_exchange(
                        request.channel_id,
                        author_id=request.caller.user_id,
                        author_name=request.author_name,
                        prompt=request.prompt,
                        answer=outcome.text,
                        model=request.model,
                        bot_id=bot_id,
                        bot_name=bot_name,
                    )
        except StorageError as error:
            if outcome is None:
                raise
            log.error("Answer in channel %s shown but not recorded: %s", request.channel_id, error)
        note = None if outcome.complete else subtext(t(CUT_OFF_NOTE, request.locale))
        await reply.finish(note=note)
        return outcome

    async def _messages(self, request: ChatRequest) -> list[dict[str, Any]]:
        settings = self._settings
        turns = await self._history.recent(request.channel_id, settings.history_max_turns)
        return build_messages(
            system_prompt=request.system_prompt or settings.system_prompt,
            turns=turns,
            prompt=request.prompt,
            author_name=request.author_name,
            image_url=request.image_url,
            context_tokens=settings.context_tokens(request.model),
            answer_tokens=settings.answer_max_tokens,
            max_turns=settings.history_max_turns,
        )

    async def _stream(
        self, request: ChatRequest, messages: list[dict[str, Any]], reply: StreamedReply
    ) -> ChatOutcome:
        """Push the answer into `reply` until the stream ends or breaks."""
        stream = self._client.stream_chat(
            request.model, messages, max_tokens=self._settings.answer_max_tokens
        )
        escaper = SubtextEscaper()  # only the bot's own notes may look like subtext
        complete = True
        try:
            async for delta in stream:
                await reply.push(escaper.feed(delta))
        except StreamInterruptedError:
            log.warning("Answer in channel %s was cut off midway", request.channel_id)
            complete = False
        finally:
            await stream.aclose()
        await reply.push(escaper.flush())
        usage = stream.usage
        return ChatOutcome(stream.text, complete, usage.prompt_tokens + usage.completion_tokens)


async def end_stopped(reply: StreamedReply, note: str) -> None:
    """Show what arrived of a cancelled answer, then `note` (alone if nothing arrived)."""
    try:
        if reply.text.strip():
            await reply.finish(note=note)
        else:
            await reply.push(note)
            await reply.finish()
    except Exception:
        log.warning("Could not end a stopped answer", exc_info=True)
        reply.cancel()
