"""Show a model's answer in Discord while it streams in.

``StreamedReply`` edits a message as text arrives, at most once per ``edit_interval_s`` for
each message (every message keeps its own pace), and slower when a ``RateLimitMonitor`` says
the route's bucket runs low. Past the limit the answer continues in a new message: a piece
is finalised once the text after it can no longer change where it is cut (see
``bot.render.splitter.Cut.settled``), so the pieces shown at the end are exactly
``split_message(text)`` (plus the note, if any).

An answer may be capped at ``max_parts`` messages (a long answer: the setting
LONG_ANSWER_PARTS). The cap never opens more messages than that, while streaming or after:
when the text outgrows the last allowed message, that message is cut shorter (the splitter's
code-block balancing still applies) and ends with a quiet ``overflow_note``; the text that
arrives after it is kept but not shown, and ``finish()`` attaches the whole answer as
``answer.md`` (``LONG_ANSWER_FILENAME``) to that last message, in one more edit. An ending
note (cut off, stopped...) then goes under the overflow note. ``overflowed`` tells whether
that happened.

Each message has one small task that sleeps until its next edit is due, so ``push()`` only
appends, and the text is laid out again (only the unfinished last piece) once per edit. Edits
while the answer still streams are marked ``STREAM`` for the bot's ``GlobalBudget``: when the
bot is short of requests, first messages and final edits go before them.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Awaitable, Callable
from typing import Protocol

from bot.render.global_budget import STREAM, URGENT, GlobalBudget, globally_limited, priority
from bot.render.rate_monitor import RateLimitMonitor
from bot.render.splitter import (
    DISCORD_MESSAGE_LIMIT,
    MIN_LIMIT,
    Cut,
    Fence,
    next_piece,
    scan_fences,
)

EDIT_INTERVAL_S = 1.0  # per message; Discord allows about 5 edits per 5 s in a channel
STREAM_SPARE = 1  # requests of a rate-limit window that streaming edits leave to others
CURSOR = " ▌"  # shown at the end while the answer is still coming
EMPTY_TEXT = "…"  # shown when the answer ends without any visible text
NOTE_SEPARATOR = "\n\n"
#: The file that carries the whole of an answer longer than its messages may show.
LONG_ANSWER_FILENAME = "answer.md"


#: Makes the buttons under an ended answer from its messages (a view, opaque here).
ButtonsFor = Callable[[list["MessageHandle"]], Awaitable[object]]


class MessageHandle(Protocol):
    """One Discord message the streamer may edit."""

    @property
    def route_key(self) -> str: ...

    async def edit(self, content: str, buttons: object = None) -> None:
        """Show `content`; with `buttons` (a view of the Discord side, opaque here), show
        them under it in the same edit. None leaves the message's buttons as they are."""
        ...

    async def delete(self) -> None: ...

    async def attach(self, filename: str, data: bytes) -> None:
        """Add a file to the message (its content and buttons stay)."""
        ...


class ReplyTarget(Protocol):
    """Where the pieces of an answer go."""

    @property
    def route_key(self) -> str:
        """The rate-limit route the next send uses."""
        ...

    @property
    def max_parts(self) -> int | None:
        """At most this many messages fit here (None: no limit of the target's own)."""
        ...

    async def send_first(self, content: str) -> MessageHandle: ...

    async def send_next(self, content: str, previous: MessageHandle) -> MessageHandle: ...


class _Signal:
    """`asyncio.Event` for one waiter: asyncio's keeps a deque for many (0.6 KiB, and a
    crowd's answers held two per message)."""

    __slots__ = ("_set", "_waiter")

    def __init__(self) -> None:
        self._set = False
        self._waiter: asyncio.Future[None] | None = None

    def set(self) -> None:
        self._set = True
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def clear(self) -> None:
        self._set = False

    async def wait(self) -> None:
        if self._set:
            return
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None


class _Message:
    """One piece of the answer, and the task that keeps its Discord message up to date."""

    def __init__(self, previous: _Message | None) -> None:
        self.previous = previous
        self.handle: MessageHandle | None = None
        self.created = _Signal()  # awaited by the next message's task alone
        self.wanted: str | None = None  # what the message should show next
        self.shown: str | None = None
        self.final = False  # ``wanted`` will not change any more
        self.last_request_at = -math.inf  # loop time of the last send or edit
        self.wake = _Signal()  # awaited by this message's task alone
        self.task: asyncio.Task[None] | None = None


class StreamedReply:
    """An answer shown while it streams: ``push()`` each delta, then ``finish()``.

    A failed send or edit stops the whole reply, and the next ``push()`` or ``finish()``
    raises that error. Always end with ``finish()`` or ``cancel()``.
    """

    def __init__(
        self,
        target: ReplyTarget,
        *,
        limit: int = DISCORD_MESSAGE_LIMIT,
        edit_interval_s: float = EDIT_INTERVAL_S,
        pacer: RateLimitMonitor | None = None,
        budget: GlobalBudget | None = None,
        cursor: str = CURSOR,
        empty_text: str = EMPTY_TEXT,
        max_parts: int | None = None,
        overflow_note: str = "",
    ) -> None:
        if limit - len(cursor) < MIN_LIMIT:
            raise ValueError(f"limit minus the cursor must be at least {MIN_LIMIT}")
        if max_parts is not None and max_parts < 1:
            raise ValueError("max_parts must be at least 1")
        self._target = target
        self._max_parts = max_parts
        self._overflow_note = overflow_note
        self._overflowed = False
        self._limit = limit
        self._interval_s = edit_interval_s
        self._pacer = pacer
        self._budget = budget
        self._ended: asyncio.Future[None] | None = None  # done at finish(): edits hurry
        self._cursor = cursor
        self._empty_text = empty_text[: limit - MIN_LIMIT] or EMPTY_TEXT
        self._text = ""  # one string: a list of the pieces kept 70 small ones an answer
        self._tail_start = 0  # where the unfinished piece starts in the text
        self._fence: Fence | None = None  # the code block open where the tail starts
        self._messages: list[_Message] = []
        self._note: str | None = None
        self._status: str | None = None  # shown until the first text: "Thinking… 20 s"
        self._finishing = False
        self._buttons: ButtonsFor | None = None  # owed to the last message's final edit
        self.buttons_shown = False
        self._error: BaseException | None = None

    @property
    def text(self) -> str:
        """Everything pushed so far."""
        return self._text

    @property
    def overflowed(self) -> bool:
        """The text outgrew ``max_parts`` messages: the last one ends with the overflow note."""
        return self._overflowed

    async def push(self, delta: str) -> None:
        """Add a delta; the message shows it at its next edit."""
        self._raise_if_failed()
        if self._finishing:
            raise RuntimeError("push() after finish()")
        if not delta:
            return
        self._text += delta
        if not self._messages:
            self._open_message()
        self._messages[-1].wake.set()

    def set_status(self, status: str) -> None:
        """Show a quiet line (e.g. "Thinking… 20 s") until the answer's first text arrives;
        it is shown at the message's next edit, and not at all once text has arrived."""
        if self.text or self._finishing or self._error is not None:
            return
        self._status = status[: self._limit]
        if not self._messages:
            self._open_message()
        self._messages[-1].wake.set()

    async def discard(self) -> None:
        """Stop, and delete what was sent (an answer that failed before any text, whose only
        message is a status line). Discord errors are not raised: the caller is failing."""
        self.cancel()
        for message in self._messages:
            if message.handle is not None:
                with contextlib.suppress(Exception):
                    await message.handle.delete()

    async def finish(
        self, note: str | None = None, buttons: ButtonsFor | None = None
    ) -> list[MessageHandle]:
        """Show the complete text (with ``note`` at the end) and return every message sent.

        ``buttons`` makes the buttons of the last message's final edit (one request, not
        two), given every message of the answer, all sent by then; ``buttons_shown`` says
        whether they came (not when that message shows nothing)."""
        self._raise_if_failed()
        if self._finishing:
            raise RuntimeError("finish() called twice")
        self._finishing = True
        self._buttons = buttons
        if self._ended is not None:
            self._ended.set_result(None)
        if note:
            self._note = note[: self._limit - MIN_LIMIT - len(NOTE_SEPARATOR)]
        if not self._messages:
            self._open_message()
        self._messages[-1].wake.set()
        try:
            while running := [m.task for m in self._messages if m.task and not m.task.done()]:
                await asyncio.wait(running)
        except asyncio.CancelledError:
            self.cancel()
            raise
        self._raise_if_failed()
        handles = [m.handle for m in self._messages if m.handle is not None]
        if self._overflowed and handles:
            await handles[-1].attach(LONG_ANSWER_FILENAME, self.text.encode())
        return handles

    def cancel(self) -> None:
        """Stop updating the messages, leaving them as they are."""
        for message in self._messages:
            if message.task is not None:
                message.task.cancel()

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise self._error

    def _open_message(self) -> None:
        message = _Message(self._messages[-1] if self._messages else None)
        message.task = asyncio.create_task(self._pump(message))
        message.task.add_done_callback(self._on_pump_done)
        message.wake.set()
        self._messages.append(message)

    def _on_pump_done(self, task: asyncio.Task[None]) -> None:
        if task.cancelled() or (error := task.exception()) is None:
            return
        if self._error is None:
            self._error = error
            self.cancel()

    async def _pump(self, message: _Message) -> None:
        """Keep one message showing its ``wanted`` content, one request at a time."""
        if message.previous is not None:
            await message.previous.created.wait()
        while True:
            await message.wake.wait()
            await self._pace(message)
            async with self._turn(message):
                message.wake.clear()
                if not message.final and message is self._messages[-1]:
                    self._layout()
                content = message.wanted
                if content is not None and (
                    content != message.shown or self._owes_buttons(message)
                ):
                    await self._deliver(message, content)
            if message.final and message.shown == message.wanted:
                if not self._owes_buttons(message):
                    return
                message.wake.set()  # it was sent whole: the buttons come with an edit

    def _turn(self, message: _Message) -> contextlib.AbstractAsyncContextManager[None]:
        """Wait for the global budget before an edit of a streaming message is laid out, so
        it shows what came meanwhile (not what was there when it queued)."""
        handle = message.handle
        if self._budget is None or handle is None or message.final or self._finishing:
            return contextlib.nullcontext()  # first sends and the end go as URGENT requests
        if not globally_limited(handle.route_key.partition(" ")[2]):
            return contextlib.nullcontext()  # an interaction's webhook: outside the limit
        if self._ended is None:
            self._ended = asyncio.get_running_loop().create_future()
        return self._budget.turn(STREAM, hurry=self._ended)

    def _owes_buttons(self, message: _Message) -> bool:
        """The buttons are still to come with this message (the last, ended, not empty)."""
        return (
            self._buttons is not None
            and message.final
            and message.wanted is not None
            and message is self._messages[-1]
        )

    async def _pace(self, message: _Message) -> None:
        """Sleep until the message may be sent or edited; the monitor may change its mind."""
        loop = asyncio.get_running_loop()
        wait_s = self._wait_s(message, loop.time())
        while wait_s > 0:
            await asyncio.sleep(wait_s)
            wait_s = self._wait_s(message, loop.time())

    def _wait_s(self, message: _Message, now: float) -> float:
        wait_s = message.last_request_at + self._interval_s - now
        if self._pacer is not None:
            route = message.handle.route_key if message.handle else self._target.route_key
            # A streaming edit leaves a window's last request to the answer's end or next
            # part: taking it, discord.py would hold the edit (and its response) until the
            # reset, and a crowd's 200 edits held so cost 3 MiB (bench/).
            editing = message.handle is not None and not self._finishing
            spare = STREAM_SPARE if editing else 0
            wait_s = max(wait_s, self._pacer.delay_for(route, spare=spare))
        return wait_s

    async def _deliver(self, message: _Message, content: str) -> None:
        loop = asyncio.get_running_loop()
        began = message.last_request_at = loop.time()
        if message.handle is not None:
            # An edit while more text comes can wait for a new message or an answer's end
            # (under Discord's global limit): it then shows more at once.
            buttons = None
            if (make := self._buttons) is not None and self._owes_buttons(message):
                self._buttons = None
                buttons = await make([m.handle for m in self._messages if m.handle is not None])
            with priority(URGENT if message.final else STREAM):
                await message.handle.edit(content, buttons)
            self.buttons_shown = self.buttons_shown or buttons is not None
        elif message.previous is None:
            message.handle = await self._target.send_first(content)
        else:
            assert message.previous.handle is not None  # the pump waited for it
            message.handle = await self._target.send_next(content, message.previous.handle)
        if loop.time() - began > self._interval_s:  # it waited its turn (a crowd, a 429): the
            message.last_request_at = loop.time()  # next request still comes an interval later
        message.created.set()
        message.shown = content

    def _layout(self) -> None:
        """Cut settled pieces off the tail and set what the open message should show."""
        while True:
            message = self._messages[-1]
            cut = next_piece(self._text, self._tail_start, self._fence, self._limit)
            if cut is None:  # no visible text yet (a settled cut always leaves some)
                if not self._finishing and self._status is not None:
                    message.wanted = self._status
                elif self._finishing and message.previous is None:
                    empty = self._empty_text + self._note_suffix()
                    self._settle(message, empty[: self._limit])
                elif self._finishing:
                    self._settle(message, None)
                return
            at_cap = self._max_parts is not None and len(self._messages) >= self._max_parts
            fits = len(cut.content) + len(self._note_suffix()) <= self._limit
            if at_cap and not (cut.last and (fits or not self._finishing)):
                self._overflow(message)
                return
            if not cut.last and (cut.settled or self._finishing):
                self._settle(message, cut.content)
                self._advance(cut)
            elif not self._finishing:
                message.wanted = self._with_cursor()
                return
            elif fits:
                self._settle(message, cut.content + self._note_suffix())
                return
            else:  # the note does not fit: cut earlier, the note goes with the next piece
                limit = self._limit - len(self._note_suffix())
                cut = next_piece(self._text, self._tail_start, self._fence, limit)
                assert cut is not None
                self._settle(message, cut.content)
                self._advance(cut)

    def _overflow(self, message: _Message) -> None:
        """The last allowed message: as much as fits before the overflow note (and the ending
        note, once known); final when the answer ends (the file is attached then)."""
        self._overflowed = True
        suffix = NOTE_SEPARATOR + self._overflow_note if self._overflow_note else ""
        if self._finishing and self._note:
            suffix += "\n" + self._note if suffix else NOTE_SEPARATOR + self._note
        suffix = suffix[: self._limit - MIN_LIMIT]
        cut = next_piece(self._text, self._tail_start, self._fence, self._limit - len(suffix))
        assert cut is not None  # the caller found visible text
        content = cut.content + suffix
        if self._finishing:
            self._settle(message, content)
        else:
            message.wanted = content

    def _with_cursor(self) -> str:
        cut = next_piece(self._text, self._tail_start, self._fence, self._limit - len(self._cursor))
        assert cut is not None  # the caller found visible text
        content = cut.opener + cut.body + self._cursor + cut.closer
        # A cursor after a closing fence line would stop it from closing: leave it out then.
        return content if scan_fences(content) is None else cut.content

    def _note_suffix(self) -> str:
        return NOTE_SEPARATOR + self._note if self._note else ""

    def _settle(self, message: _Message, content: str | None) -> None:
        message.wanted = content
        message.final = True
        message.wake.set()

    def _advance(self, cut: Cut) -> None:
        self._tail_start = cut.end
        self._fence = cut.fence
        self._open_message()
