"""Streaming chat answers: Server-Sent Events read line by line, reasoning hidden on the way."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any

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
from bot.nexai.capabilities import ModelCapabilities
from bot.nexai.constants import STREAM_READ_INTERVAL_S
from bot.nexai.reasoning import ThinkFilter

if TYPE_CHECKING:
    from bot.nexai._transport import Transport

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
        self._text = ""  # one string: a list of the pieces kept 70 small ones an answer
        self._gen: AsyncGenerator[str, None] | None = None
        self._closed = False
        self._complete = False  # the answer is whole: the stream may end now
        self._done = False  # its last event came: nothing more to read
        self._usage_seen = False

    @property
    def text(self) -> str:
        """All visible text delivered so far."""
        return self._text

    def __aiter__(self) -> ChatStream:
        return self

    async def __anext__(self) -> str:
        if self._gen is None:
            if self._closed:
                raise StopAsyncIteration
            self._gen = self._run()
        return await self._gen.__anext__()

    async def aclose(self) -> None:
        self._closed = True
        if self._gen is not None:
            await self._gen.aclose()

    async def __aenter__(self) -> ChatStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _run(self) -> AsyncGenerator[str, None]:
        """The transport's attempts, within the wait limit until the first visible text; the
        limit's timer is gone before anything is yielded, so it never fires outside here."""
        try:
            async with (
                asyncio.timeout(self._wait_s) as deadline,
                contextlib.aclosing(self._transport.attempts(self._call, self._answer)) as texts,
            ):
                async for visible in texts:
                    deadline.reschedule(None)
                    self._text += visible
                    yield visible
        except TimeoutError as exc:
            raise AnswerDeadlineError(
                f"no answer from {self._call.model} within {self._wait_s:g} s", wait_s=self._wait_s
            ) from exc
        except NexaiError as exc:
            if self.text:
                raise StreamInterruptedError(
                    f"stream interrupted after {len(self.text)} characters: {exc}",
                    partial=self.text,
                ) from exc
            raise

    async def _answer(self, resp: aiohttp.ClientResponse) -> AsyncGenerator[str, None]:
        """One attempt: the visible text of the 2xx event stream, reasoning filtered out; sets
        `usage` and `finish_reason`; checks the stream completed.

        The text of the events one read brings is one piece; once text has come, reads are
        STREAM_READ_INTERVAL_S apart, so a piece holds every token that arrived in between (a
        few per read at a model's pace, instead of one wake-up per token). Nothing of a read
        is kept while waiting for the next but the text it gave."""
        think = ThinkFilter(inline=self._capabilities.reasoning == "inline")
        responses = self._capabilities.endpoint == "responses"
        read = self._responses_event if responses else self._chat_event
        events = SseReader()
        self.usage = Usage()
        self._usage_seen = self._complete = self._done = False
        started = time.monotonic()
        text_came = False
        while True:
            text, failure = self._text_of(events.feed(await resp.content.readany()), read)
            if visible := think.feed(text):
                yield visible
            if failure is not None:
                raise failure
            if self._done or events.ended:
                break
            text_came = text_came or bool(text)
            if text_came:
                await asyncio.sleep(STREAM_READ_INTERVAL_S)
        if not self._complete:
            raise NexaiConnectionError(
                "the event stream ended before the answer was complete", answered=True
            )
        if tail := think.flush(truncated=self.finish_reason == "length"):
            yield tail
        if not self._usage_seen:
            self.usage = self._estimated_usage()
        self._transport.log_call(self._call, resp.status, started, self.usage)

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
        return estimate_usage(self._call.json, self.text)

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
