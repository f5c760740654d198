"""One chat exchange: memory in, streamed answer out, memory updated when it completed."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from bot.chat.documents import Attached, Document, attach, cut_note, memory_mention
from bot.chat.history import (
    Exchange,
    History,
    Turn,
    build_messages,
    estimate_tokens,
    room_for_document,
)
from bot.chat.stops import AnswerStops, StopSwitch
from bot.config import Settings
from bot.errors import StorageError
from bot.i18n import t
from bot.nexai import NexaiClient, StreamInterruptedError
from bot.ops.tasks import cancel_and_wait
from bot.quota.ledger import Ledger
from bot.quota.rules import Caller
from bot.render import GlobalBudget, MessageHandle, RateLimitMonitor, ReplyTarget, StreamedReply
from bot.render.reply import ButtonsFor
from bot.render.subtext import SubtextEscaper, subtext

log = logging.getLogger(__name__)

CUT_OFF_NOTE = "⚠️ The answer was cut off before it finished."
LENGTH_NOTE = "✂️ The answer reached its length limit. Ask me to continue."
REASONING_SPENT_NOTE = (
    "⚠️ The model spent its whole token budget reasoning and wrote no answer. "
    "Try a narrower question."
)
CONTENT_FILTER_NOTE = "⚠️ nexai's content filter stopped the answer here."
STOPPED_BY_MEMBER_NOTE = "⏹️ Stopped."
LONG_ANSWER_NOTE = "📄 The whole answer is in answer.md."
THINKING_STATUS = "Thinking… {seconds} s"
REASONING_STATUS = "Reasoning… {seconds} s"
#: While nothing has arrived, the status line is updated this often.
WAIT_STATUS_INTERVAL_S = 5.0
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
    #: The persona's system prompt, variables filled; None: the bot's (SYSTEM_PROMPT).
    system_prompt: str | None = None
    #: A text document attached to the prompt, already read (bot/chat/documents.py).
    document: Document | None = None
    #: The persona's temperature (None: the API's default); sent only to models that take one.
    temperature: float | None = None
    #: The text of the bot's message the prompt replies to: its exchange goes with the prompt.
    replied_to: str | None = None

    def remembered_prompt(self) -> str:
        """The prompt as memory keeps it: an attached document is only mentioned (its name,
        kind and size), never kept whole, so later turns don't send a big file again and the
        context stays for the conversation. The model is told the text was not kept, so it
        can ask for the file again when a later question needs it."""
        if self.document is None:
            return self.prompt
        return f"{self.prompt}\n{memory_mention(self.document)}"


@dataclass(frozen=True)
class ChatOutcome:
    text: str
    complete: bool
    tokens: int = 0
    tokens_estimated: bool = False
    #: `stop`, `length` (the token budget ran out), `content_filter`, or None (cut off).
    finish_reason: str | None = None
    #: Stopped with the Stop button: the text so far is kept (and remembered).
    stopped: bool = False
    #: Where memory keeps the exchange (None: not remembered).
    exchange: Exchange | None = None
    #: The answer's messages, in order.
    messages: tuple[MessageHandle, ...] = ()
    #: The `buttons` of `ChatService.answer` came with the last message's final edit.
    buttons_shown: bool = False

    def note(self, locale: str) -> str | None:
        """The quiet line under the answer that says how it ended, if not normally."""
        if self.stopped:
            text = STOPPED_BY_MEMBER_NOTE
        elif not self.complete:
            text = CUT_OFF_NOTE
        elif self.finish_reason == "length":
            text = LENGTH_NOTE if self.text.strip() else REASONING_SPENT_NOTE
        elif self.finish_reason == "content_filter":
            text = CONTENT_FILTER_NOTE
        else:
            return None
        return subtext(t(text, locale))


def _with_messages(
    buttons: Callable[[ChatOutcome], Awaitable[object]] | None, outcome: ChatOutcome
) -> ButtonsFor | None:
    """`buttons` as the reply asks for them: from the messages of the ended answer."""
    if buttons is None:
        return None

    async def make(handles: list[MessageHandle]) -> object:
        return await buttons(replace(outcome, messages=tuple(handles)))

    return make


class ChatService:
    def __init__(
        self,
        settings: Settings,
        client: NexaiClient,
        history: History,
        ledger: Ledger,
        monitor: RateLimitMonitor | None = None,
        budget: GlobalBudget | None = None,
    ) -> None:
        self._settings = settings
        self._client = client
        self._history = history
        self._ledger = ledger
        self._monitor = monitor
        self._budget = budget
        #: The answers streaming in this process, for their Stop buttons.
        self.stops = AnswerStops()

    async def answer(
        self,
        request: ChatRequest,
        target: ReplyTarget,
        *,
        bot_id: int,
        bot_name: str,
        stop: StopSwitch | None = None,
        buttons: Callable[[ChatOutcome], Awaitable[object]] | None = None,
    ) -> ChatOutcome:
        """Stream the answer to `target`, charged to the caller as one `ask`.

        `buttons` makes the buttons under the ended answer from its outcome (with every
        message, all sent by then); they come with its last edit (`ChatOutcome.buttons_shown`
        says whether they could).

        A long answer shows at most LONG_ANSWER_PARTS messages (fewer where `target` allows
        fewer); past them the last one ends with a note and the whole answer is attached to
        it as answer.md when it ends (see `StreamedReply`).

        `stop` ends the stream early (the Stop button): the text so far is kept with a note,
        remembered, and the charge settles to the tokens used (estimated).

        Errors before any text arrived propagate (nothing was sent, the charge is refunded); a
        stream cut midway keeps what arrived, says so, and leaves memory untouched. A complete
        answer is remembered before its last edit, so a follow-up question always sees it.
        Database failures arrive as `StorageError`, except after the answer arrived: then it is
        still shown, and only logged as not remembered or not settled.
        """
        messages, attached = await self._messages(request)
        reply = StreamedReply(
            target,
            pacer=self._monitor,
            budget=self._budget,
            edit_interval_s=self._settings.stream_edit_interval_s,
            empty_text=t("(The model returned an empty answer.)", request.locale),
            max_parts=self._max_parts(target),
            overflow_note=subtext(t(LONG_ANSWER_NOTE, request.locale)),
        )
        outcome: ChatOutcome | None = None
        try:
            async with self._ledger.charge(request.caller, "ask", 1, request.model) as charge:
                try:
                    outcome = await self._stream(request, messages, reply, stop)
                except asyncio.CancelledError:  # the bot is shutting down: end it visibly
                    await end_stopped(reply, subtext(t(STOPPED_NOTE, request.locale)))
                    raise
                except BaseException:
                    if reply.text:
                        reply.cancel()
                    else:  # nothing but a status line was shown: the error replaces it
                        await reply.discard()
                    raise
                charge.settle(tokens=outcome.tokens, tokens_estimated=outcome.tokens_estimated)
            kept = outcome.complete or outcome.stopped
            if request.remember and kept and outcome.text.strip():
                exchange = await self._history.add_exchange(
                    request.channel_id,
                    author_id=request.caller.user_id,
                    author_name=request.author_name,
                    prompt=request.remembered_prompt(),
                    answer=outcome.text,
                    model=request.model,
                    bot_id=bot_id,
                    bot_name=bot_name,
                )
                outcome = replace(outcome, exchange=exchange)
        except StorageError as error:
            if outcome is None:
                raise
            log.error("Answer in channel %s shown but not recorded: %s", request.channel_id, error)
        notes = [outcome.note(request.locale)]
        if request.document is not None and attached is not None:
            notes.append(cut_note(request.document, attached, request.locale))
        note = "\n".join(note for note in notes if note) or None
        if outcome.stopped and note and not reply.text.strip():  # stopped while it thought
            await reply.push(note)
            note = None
        handles = await reply.finish(note=note, buttons=_with_messages(buttons, outcome))
        return replace(outcome, messages=tuple(handles), buttons_shown=reply.buttons_shown)

    async def remember_messages(self, outcome: ChatOutcome, ids: Sequence[int | None]) -> None:
        """Record the Discord messages a remembered answer of several parts was shown in, so
        its buttons (under the last) reach every part; a failure is only logged."""
        if outcome.exchange is None:
            return
        try:
            await self._history.set_messages(outcome.exchange, [i for i in ids if i is not None])
        except StorageError as error:
            log.warning("Could not record the messages of a long answer: %s", error)

    def _max_parts(self, target: ReplyTarget) -> int:
        parts = self._settings.long_answer_parts
        return parts if target.max_parts is None else min(parts, target.max_parts)

    async def _messages(self, request: ChatRequest) -> tuple[list[dict[str, Any]], Attached | None]:
        """The messages for the API, and the attached document as the model sees it (its
        text fitted to the context first; history gets the rest)."""
        settings = self._settings
        system_prompt = request.system_prompt or settings.system_prompt
        context_tokens = self._client.capabilities.get(request.model).context_tokens
        prompt = request.prompt
        attached = None
        if request.document is not None:
            room = room_for_document(
                system_prompt=system_prompt,
                prompt=prompt,
                author_name=request.author_name,
                image_url=request.image_url,
                context_tokens=context_tokens,
                answer_tokens=settings.answer_max_tokens,
            )
            attached = attach(request.document, room)
            prompt = f"{prompt}\n\n{attached.block}"
        turns = await self._history.recent(request.channel_id, settings.history_max_turns)
        if request.replied_to:
            turns = await self._with_replied_exchange(request, turns)
        messages = build_messages(
            system_prompt=system_prompt,
            turns=turns,
            prompt=prompt,
            author_name=request.author_name,
            image_url=request.image_url,
            context_tokens=context_tokens,
            answer_tokens=settings.answer_max_tokens,
            max_turns=settings.history_max_turns,
        )
        return messages, attached

    async def _with_replied_exchange(self, request: ChatRequest, turns: list[Turn]) -> list[Turn]:
        """`turns` with the exchange the prompt replies to moved (or added) last, so it goes
        with the prompt even when it is older than what memory sends; a message memory does
        not have (private, forgotten) goes alone."""
        assert request.replied_to is not None
        exchange = await self._history.exchange_with(request.channel_id, request.replied_to)
        if not exchange:
            exchange = [Turn("assistant", "", request.replied_to)]
        return [turn for turn in turns if turn not in exchange] + exchange

    async def _stream(
        self,
        request: ChatRequest,
        messages: list[dict[str, Any]],
        reply: StreamedReply,
        stop: StopSwitch | None = None,
    ) -> ChatOutcome:
        """Push the answer into `reply` until the stream ends, breaks or is stopped; until the
        first text arrives, the reply shows how long the member has been waiting."""
        settings = self._settings
        capabilities = self._client.capabilities.get(request.model)
        max_tokens = settings.answer_max_tokens
        if capabilities.reasons:  # hidden reasoning counts against the budget
            max_tokens += settings.reasoning_max_tokens
        stream = self._client.stream_chat(
            request.model, messages, max_tokens=max_tokens, temperature=request.temperature
        )
        escaper = SubtextEscaper()  # only the bot's own notes may look like subtext
        status = REASONING_STATUS if capabilities.reasons else THINKING_STATUS
        waiting: asyncio.Task[None] | None = asyncio.create_task(
            self._show_waiting(reply, status, request.locale)
        )
        complete = True
        stopped = False
        if stop is not None:
            stop.arm()
        try:
            async for delta in stream:
                if waiting is not None:  # text came: no more "Thinking… 20 s"
                    # A cancelled task keeps its error and traceback: let it go, not keep it
                    # for the whole answer (about 2 KiB an answer).
                    await cancel_and_wait(waiting)
                    waiting = None
                await reply.push(escaper.feed(delta))
        except StreamInterruptedError:
            log.warning("Answer in channel %s was cut off midway", request.channel_id)
            complete = False
        except asyncio.CancelledError:
            stopped = self._stopped_here(stop)
            if not stopped:
                raise
        finally:
            if stop is not None:
                stop.disarm()
            await cancel_and_wait(waiting)
            await stream.aclose()
        await reply.push(escaper.flush())
        text = escaper.original(reply.text)  # the answer is kept once while it streams
        usage = stream.usage
        if stopped:  # the API's usage comes at the end of the stream: count what was used
            used = sum(estimate_tokens(str(m.get("content", ""))) for m in messages)
            return ChatOutcome(
                text,
                complete=False,
                tokens=used + estimate_tokens(text),
                tokens_estimated=True,
                stopped=True,
            )
        return ChatOutcome(
            text,
            complete,
            usage.total,
            tokens_estimated=usage.estimated,
            finish_reason=stream.finish_reason,
        )

    @staticmethod
    def _stopped_here(stop: StopSwitch | None) -> bool:
        """True if a cancellation came from the Stop button alone (then it is absorbed); a
        shutdown's cancellation (also one that lands together with a Stop) goes on."""
        task = asyncio.current_task()
        if stop is None or not stop.requested or task is None:
            return False
        return task.uncancel() == 0

    async def _show_waiting(self, reply: StreamedReply, status: str, locale: str) -> None:
        """After WAIT_NOTICE_AFTER_S, show "Thinking… N s" (updated now and then) until text."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        await asyncio.sleep(self._settings.wait_notice_after_s)
        while True:
            seconds = max(1, round(loop.time() - started))
            reply.set_status(subtext(t(status, locale, seconds=seconds)))
            await asyncio.sleep(WAIT_STATUS_INTERVAL_S)


#: The longest a cancelled answer spends ending visibly (see `end_stopped`).
END_STOPPED_TIMEOUT_S = 3.0


async def end_stopped(reply: StreamedReply, note: str) -> None:
    """Show what arrived of a cancelled answer, then `note` (alone if nothing arrived); at most
    END_STOPPED_TIMEOUT_S, so a cancelled answer ends even when Discord makes it wait."""
    try:
        async with asyncio.timeout(END_STOPPED_TIMEOUT_S):
            if reply.text.strip():
                await reply.finish(note=note)
            else:
                await reply.push(note)
                await reply.finish()
    except Exception:
        log.warning("Could not end a stopped answer", exc_info=True)
        reply.cancel()
