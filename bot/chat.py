"""One chat exchange: memory in, streamed answer out, memory updated when it completed."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.config import Settings
from bot.history import History, build_messages
from bot.i18n import t
from bot.nexai import NexaiClient, StreamInterruptedError
from bot.render import RateLimitMonitor, ReplyTarget, StreamedReply

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChatRequest:
    channel_id: int
    author_id: int
    author_name: str
    prompt: str
    model: str
    locale: str
    image_url: str | None = None
    remember: bool = True


@dataclass(frozen=True)
class ChatOutcome:
    text: str
    complete: bool


class ChatService:
    def __init__(
        self,
        settings: Settings,
        client: NexaiClient,
        history: History,
        monitor: RateLimitMonitor | None = None,
    ) -> None:
        self._settings = settings
        self._client = client
        self._history = history
        self._monitor = monitor

    async def answer(
        self, request: ChatRequest, target: ReplyTarget, *, bot_id: int, bot_name: str
    ) -> ChatOutcome:
        """Stream the answer to `target`.

        Errors before any text arrived propagate (nothing was sent); a stream cut midway keeps
        what arrived, says so, and leaves memory untouched.
        """
        settings = self._settings
        turns = await self._history.recent(request.channel_id, settings.history_max_turns)
        messages = build_messages(
            system_prompt=settings.system_prompt,
            turns=turns,
            prompt=request.prompt,
            author_name=request.author_name,
            image_url=request.image_url,
            context_tokens=settings.context_tokens(request.model),
            answer_tokens=settings.answer_max_tokens,
            max_turns=settings.history_max_turns,
        )
        reply = StreamedReply(
            target,
            pacer=self._monitor,
            empty_text=t("(The model returned an empty answer.)", request.locale),
        )
        stream = self._client.stream_chat(
            request.model, messages, max_tokens=settings.answer_max_tokens
        )
        try:
            async for delta in stream:
                await reply.push(delta)
        except StreamInterruptedError:
            log.warning("Answer in channel %s was cut off midway", request.channel_id)
            await reply.finish(
                note=t("⚠️ The answer was cut off before it finished.", request.locale)
            )
            return ChatOutcome(reply.text, complete=False)
        except BaseException:
            reply.cancel()
            raise
        finally:
            await stream.aclose()
        await reply.finish()
        if request.remember and reply.text.strip():
            await self._history.add_exchange(
                request.channel_id,
                author_id=request.author_id,
                author_name=request.author_name,
                prompt=request.prompt,
                answer=reply.text,
                model=request.model,
                bot_id=bot_id,
                bot_name=bot_name,
            )
        return ChatOutcome(reply.text, complete=True)
