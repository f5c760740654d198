"""Streaming chat answers: Server-Sent Events read line by line, reasoning hidden on the way."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

import aiohttp

from bot.nexai._errors import (
    AnswerDeadlineError,
    NexaiConnectionError,
    NexaiError,
    StreamInterruptedError,
    make_stream_error,
)
from bot.nexai._payloads import ApiCall, Usage, estimate_usage, parse_usage
from bot.nexai._sse import SSE_DONE, SseReader, load_event
from bot.nexai._transport import Transport, release
from bot.nexai.capabilities import ModelCapabilities
from bot.nexai.constants import STREAM_READ_INTERVAL_S
from bot.nexai.reasoning import ThinkFilter

log = logging.getLogger(__name__)

#: Models whose streams came without usage, logged once each.
_UNMETERED_MODELS: set[str] = set()
#: What the Responses API's `incomplete_details.reason` means as a chat `finish_reason`.
INCOMPLETE_REASONS = {"max_output_tokens": "length", "content_filter": "content_filter"}


class ChatStream:
    """Visible text deltas of one chat answer; iterate with `async for`, then read `usage`
    and `finish_reason` (`stop`, `length`: the token budget ran out, `content_filter`).

    The request is sent on first iteration and retried while nothing has been delivered (see
    `bot.nexai._transport.retry_reason`); no visible text within `wait_s` raises
    `AnswerDeadlineError`.
    Call `aclose()` (or use `async with`) when stopping early, to release the connection.

    A plain object with the state of the read (no async generators): 200 answers in flight
    kept about 2 KiB each of generator frames, context managers and finalizer hooks.
    """

    def __init__(
        self,
        transport: Transport,
        call: ApiCall,
        capabilities: ModelCapabilities,
        wait_s: float,
    ) -> None:
        self.usage = Usage()
        self.finish_reason: str | None = None
        self._transport = transport
        self._call = call
        self._capabilities = capabilities
        self._wait_s = wait_s
        self.delivered = 0  # characters of visible text: the caller keeps the text itself
        self._started = False
        self._closed = False
        # The attempt being read (set again by each one, see `_attempt`):
        self._resp: aiohttp.ClientResponse | None = None
        self._opened_at = 0.0
        self._events = SseReader()
        self._think = ThinkFilter()
        self._failure: NexaiError | None = None  # an error event after the text of its read
        self._text_came = False
        self._finished = False  # the end was read and checked: no more pieces
        self._complete = False  # the answer is whole: the stream may end now
        self._done = False  # its last event came: nothing more to read
        self._usage_seen = False

    def __aiter__(self) -> ChatStream:
        return self

    async def __anext__(self) -> str:
        if self._closed:
            raise StopAsyncIteration
        try:
            if not self._started:
                self._started = True
                piece = await self._first_piece()
            else:
                piece = await self._next_piece()
        except BaseException:
            await self.aclose()
            raise
        if piece is None:
            await self.aclose()
            raise StopAsyncIteration
        self.delivered += len(piece)
        return piece

    async def aclose(self) -> None:
        self._closed = True
        await self._release()

    async def _release(self) -> None:
        """Give the attempt's connection back (closed if its answer was not read whole)."""
        resp, self._resp = self._resp, None
        if resp is not None:
            await release(resp)

    async def __aenter__(self) -> ChatStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _first_piece(self) -> str | None:
        """The first visible text, within the wait limit and the transport's retries."""
        try:
            async with asyncio.timeout(self._wait_s):
                return await self._transport.retrying(self._call, self._attempt)
        except TimeoutError as exc:
            raise AnswerDeadlineError(
                f"no answer from {self._call.model} within {self._wait_s:g} s", wait_s=self._wait_s
            ) from exc

    async def _attempt(self) -> str | None:
        """Send the call and read up to its first visible text (None: an answer without any);
        a failure closes the response, for a retry."""
        capabilities = self._capabilities
        self._opened_at = time.monotonic()
        self._resp = await self._transport.open(self._call)
        self._events = SseReader()
        self._think = ThinkFilter(inline=capabilities.reasoning == "inline")
        self.usage = Usage()
        self._failure = None
        self._text_came = self._finished = self._usage_seen = False
        self._complete = self._done = False
        try:
            return await self._next_piece()
        except BaseException:
            await self._release()
            raise

    async def _next_piece(self) -> str | None:
        """The visible text of the next reads that bring some (reasoning filtered out), or
        None at the end; sets `usage` and `finish_reason`, and checks the stream completed.

        The text of the events one read brings is one piece; once text has come, reads are
        STREAM_READ_INTERVAL_S apart, so a piece holds every token that arrived in between (a
        few per read at a model's pace, instead of one wake-up per token). Nothing of a read
        is kept while waiting for the next but the text it gave."""
        try:
            while True:
                if self._failure is not None:
                    raise self._failure
                if self._finished:
                    return None
                if self._done or self._events.ended:
                    self._finished = True
                    return self._end()
                if self._text_came:
                    await self._pause()
                if visible := await self._read():
                    return visible
        except NexaiError as exc:
            exc.model = exc.model or self._call.model
            if self.delivered:
                raise StreamInterruptedError(
                    f"stream interrupted after {self.delivered} characters: {exc}",
                    delivered=self.delivered,
                ) from exc
            raise

    async def _pause(self) -> None:
        """Wait STREAM_READ_INTERVAL_S without reading the connection: the tokens sent
        meanwhile wait in the socket and the next read takes them at once, instead of a wake-up
        of the loop, the HTTP parser and the read timer for each (15 -> 12 ms of CPU an answer
        in bench/). Over TLS the bytes are still received, but decrypted and parsed at once."""
        assert self._resp is not None
        connection = self._resp.connection  # None once the response was read to its end
        transport = connection.transport if connection is not None else None
        if transport is None:
            await asyncio.sleep(STREAM_READ_INTERVAL_S)
            return
        transport.pause_reading()
        try:
            await asyncio.sleep(STREAM_READ_INTERVAL_S)
        finally:
            transport.resume_reading()

    async def _read(self) -> str:
        """One read of the response: the visible text its events completed."""
        assert self._resp is not None
        try:
            chunk = await self._resp.content.readany()
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise self._transport.failure(self._call, exc, self._opened_at, answered=True) from exc
        responses = self._capabilities.endpoint == "responses"
        read = self._responses_event if responses else self._chat_event
        text, self._failure = self._text_of(self._events.feed(chunk), read)
        self._text_came = self._text_came or bool(text)
        return self._think.feed(text)

    def _end(self) -> str | None:
        """After the last read: the text the reasoning filter held back (None if there is
        none), once the stream proved complete."""
        assert self._resp is not None
        if not self._complete:
            raise NexaiConnectionError(
                "the event stream ended before the answer was complete", answered=True
            )
        tail = self._think.flush(truncated=self.finish_reason == "length")
        if not self._usage_seen:
            self.usage = self._estimated_usage()
        self._transport.log_call(self._call, self._resp.status, self._opened_at, self.usage)
        return tail or None

    def _text_of(
        self, payloads: list[str], read: Callable[[dict[str, Any]], str | None]
    ) -> tuple[str, NexaiError | None]:
        """The text of one read's events, and the error event that cut it short, if one did
        (the text before it still counts)."""
        texts: list[str] = []
        for payload in payloads:
            if payload == SSE_DONE:
                self._complete = self._done = True
                break
            try:
                if text := read(load_event(payload)):
                    texts.append(text)
            except NexaiError as error:
                return "".join(texts), error
        return "".join(texts), None

    def _estimated_usage(self) -> Usage:
        """Usage counted here, for a stream that came without it (some gateways drop
        `stream_options`); said once per model in the log."""
        model = self._call.model
        if model not in _UNMETERED_MODELS:
            _UNMETERED_MODELS.add(model)
            log.warning("%s streams came without token usage: the ledger records estimates", model)
        return estimate_usage(self._call.json, self.delivered)

    def _chat_event(self, event: dict[str, Any]) -> str | None:
        """A /chat/completions chunk: `choices[0].delta.content`; reasoning fields are skipped."""
        if "error" in event:
            raise make_stream_error(event["error"])
        if usage := event.get("usage"):
            self.usage = parse_usage(usage, "prompt_tokens", "completion_tokens")
            self._usage_seen = True
        choices = event.get("choices")
        if not choices or not isinstance(choices[0], dict):
            return None
        if finish := choices[0].get("finish_reason"):
            self.finish_reason = str(finish)
            self._complete = True
        content = (choices[0].get("delta") or {}).get("content")
        return content if isinstance(content, str) else None

    def _responses_event(self, event: dict[str, Any]) -> str | None:
        """A /responses event: text deltas, and usage on completion; the others (reasoning
        items, content parts, `.done` events) carry nothing to show."""
        match event.get("type"):
            case "response.output_text.delta":
                delta = event.get("delta")
                return delta if isinstance(delta, str) else None
            case "response.completed" | "response.incomplete" as kind:
                response = event.get("response") or {}
                if usage := response.get("usage"):
                    self.usage = parse_usage(usage, "input_tokens", "output_tokens")
                    self._usage_seen = True
                self.finish_reason = "stop"
                if kind == "response.incomplete":
                    reason = (response.get("incomplete_details") or {}).get("reason")
                    self.finish_reason = INCOMPLETE_REASONS.get(str(reason), str(reason))
                self._complete = self._done = True
            case "response.failed":
                raise make_stream_error((event.get("response") or {}).get("error"))
            case "error":
                raise make_stream_error(event)
        return None
