"""Client for the nexai API, an OpenAI-compatible gateway. Knows nothing about Discord.

Every call returns frozen dataclasses or raises one of the errors in `bot.nexai._errors`
(re-exported here). Calls are retried a bounded number of times on 429, 5xx, timeouts and
broken connections; a stream is never retried once text has reached the caller.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import aiohttp

from bot.nexai._errors import (
    BadRequestError,
    MalformedResponseError,
    NexaiConnectionError,
    NexaiError,
    NexaiStatusError,
    NexaiTimeoutError,
    RateLimitError,
    ServerError,
    make_status_error,
)
from bot.nexai._payloads import (
    ApiCall,
    ChatResult,
    Model,
    Transcript,
    Usage,
    chat_body,
    parse_chat,
    parse_response,
    read_json,
)
from bot.nexai._retry import DEFAULT_MAX_BACKOFF_S, retry_delay
from bot.nexai._stream import ChatStream
from bot.nexai.capabilities import CapabilityTable, ModelCapabilities

log = logging.getLogger(__name__)

MODELS_PATH = "/models"
CHAT_PATH = "/chat/completions"
RESPONSES_PATH = "/responses"
IMAGES_PATH = "/images/generations"
SPEECH_PATH = "/audio/speech"
TRANSCRIPTIONS_PATH = "/audio/transcriptions"

#: The API refuses bigger uploads with 413; bytes are checked before sending.
MAX_TRANSCRIPTION_BYTES = 50 * 1024 * 1024
#: Uploading and transcribing audio may take longer than a chat answer.
TRANSCRIPTION_TIMEOUT_FACTOR = 2.0
USER_AGENT = "nexbot"

T = TypeVar("T")


class SizedStream(aiohttp.payload.AsyncIterablePayload):
    """An async iterable of exactly `size` bytes, as an upload part of known size.

    aiohttp sums the sizes of a multipart body's parts (with their boundaries and headers)
    into its Content-Length; a part of unknown size makes the whole body chunked.
    """

    def __init__(self, chunks: AsyncIterable[bytes], size: int, *, content_type: str) -> None:
        super().__init__(chunks, content_type=content_type)
        self._declared_size = size

    @property
    def size(self) -> int:
        return self._declared_size


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def parse_transcript(data: dict[str, Any]) -> Transcript:
    """A transcription answer: `{"text", "usage"}` where usage is `{"type": "duration",
    "seconds"}` (whisper) or `{"type": "tokens", "input_tokens", "output_tokens",
    "total_tokens", ...}` (gpt-4o-*-transcribe); `verbose_json` adds top-level `duration` and
    `language` (openai-python `types/audio/transcription.py`, `transcription_verbose.py`)."""
    text = data.get("text")
    if not isinstance(text, str):
        raise MalformedResponseError("transcription without text")
    usage = data.get("usage")
    if not isinstance(usage, dict):
        usage = {}
    seconds = _number(usage.get("seconds")) if usage.get("type") == "duration" else None
    if seconds is None:
        seconds = _number(data.get("duration"))
    tokens = _number(usage.get("total_tokens")) if usage.get("type") == "tokens" else None
    language = data.get("language")
    return Transcript(
        text,
        language if isinstance(language, str) else None,
        seconds,
        int(tokens) if tokens is not None else None,
    )


def retry_reason(exc: NexaiError) -> str | None:
    """Why `exc` is worth another try, or None when it is not.

    Only failures that cannot have been billed are retried: a connection that failed before
    any answer, a 429 rate limit (also as an error event inside a stream: the upstream refused
    the work), and a 5xx answered instead of a stream. A timeout may mean the work is being
    done and paid for, and a 2xx answer that stalls or breaks was begun: neither is retried.
    """
    match exc:
        case NexaiConnectionError(answered=False):
            return "connection failed"
        case RateLimitError():
            return f"rate limited ({exc.code or exc.status})"
        case ServerError(in_stream=False):
            return f"HTTP {exc.status}"
    return None


class NexaiClient:
    """One client per bot, sharing the bot's aiohttp session."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        api_key: str,
        *,
        max_retries: int = 2,
        connect_timeout_s: float = 10,
        first_byte_timeout_s: float = 60,
        total_timeout_s: float = 300,
        backoff_base_s: float = 0.5,
        max_retry_wait_s: float = 20,
        capabilities: CapabilityTable | None = None,
    ) -> None:
        self._session = session
        self.capabilities = capabilities or CapabilityTable()
        self._connect_timeout_s = connect_timeout_s
        self._first_byte_timeout_s = first_byte_timeout_s
        self._total_timeout_s = total_timeout_s
        self._base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._max_retries = max(0, max_retries)
        self._backoff_base_s = backoff_base_s
        self._max_retry_wait_s = max_retry_wait_s
        self._rng = random.Random()
        self._timeout = aiohttp.ClientTimeout(total=total_timeout_s, connect=connect_timeout_s)
        self._upload_timeout = aiohttp.ClientTimeout(
            total=total_timeout_s * TRANSCRIPTION_TIMEOUT_FACTOR, connect=connect_timeout_s
        )

    async def list_models(self) -> list[Model]:
        data = await self._call(ApiCall("GET", MODELS_PATH, "-", self._timeout), read_json)
        items = data.get("data")
        if not isinstance(items, list):
            raise MalformedResponseError("model list without data")
        return [
            Model(str(item["id"]), item.get("owned_by"))
            for item in items
            if isinstance(item, dict) and "id" in item
        ]

    async def chat(
        self,
        model: str,
        messages: list[dict[str, Any]],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
    ) -> ChatResult:
        capabilities = self.capabilities.get(model)
        body = chat_body(model, capabilities, messages, max_tokens, temperature, stream=False)
        responses = capabilities.endpoint == "responses"
        inline = capabilities.reasoning == "inline"

        async def read_answer(resp: aiohttp.ClientResponse) -> ChatResult:
            data = await read_json(resp)
            return (
                parse_response(data, model) if responses else parse_chat(data, model, inline=inline)
            )

        path = RESPONSES_PATH if responses else CHAT_PATH
        timeout = self._read_timeout(capabilities)
        return await self._call(ApiCall("POST", path, model, timeout, json=body), read_answer)

    def stream_chat(
        self,
        model: str,
        messages: list[dict[str, Any]],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
    ) -> ChatStream:
        """The answer as a stream of visible text. No text within the model's wait limit
        raises `AnswerDeadlineError`, whatever the retries."""
        capabilities = self.capabilities.get(model)
        body = chat_body(model, capabilities, messages, max_tokens, temperature, stream=True)
        path = RESPONSES_PATH if capabilities.endpoint == "responses" else CHAT_PATH
        call = ApiCall(
            "POST", path, model, self._read_timeout(capabilities), json=body, stream=True
        )
        return ChatStream(self, call, capabilities, self.capabilities.wait_s(model))

    def _read_timeout(self, capabilities: ModelCapabilities) -> aiohttp.ClientTimeout:
        """A chat call's timeouts: a reasoning model may send nothing for as long as its wait
        limit while it thinks, and so may the total."""
        read_s = self._first_byte_timeout_s
        total_s = self._total_timeout_s
        if capabilities.reasons and capabilities.wait_s is not None:
            read_s = max(read_s, capabilities.wait_s)
            total_s = max(total_s, capabilities.wait_s + self._total_timeout_s)
        return aiohttp.ClientTimeout(
            total=total_s, connect=self._connect_timeout_s, sock_read=read_s
        )

    async def generate_images(
        self, model: str, prompt: str, *, n: int = 1, size: str = "1024x1024"
    ) -> list[bytes]:
        body = {"model": model, "prompt": prompt, "n": n, "size": size}
        data = await self._call(
            ApiCall("POST", IMAGES_PATH, model, self._timeout, json=body), read_json
        )
        items = data.get("data")
        if not isinstance(items, list) or not items:
            raise MalformedResponseError("image answer without data")
        try:
            return [base64.b64decode(item["b64_json"], validate=True) for item in items]
        except (KeyError, TypeError, binascii.Error) as exc:
            raise MalformedResponseError("image answer without valid b64_json") from exc

    async def speech(
        self, model: str, text: str, *, voice: str, response_format: str = "mp3"
    ) -> bytes:
        body = {"model": model, "input": text, "voice": voice, "response_format": response_format}

        async def read_audio(resp: aiohttp.ClientResponse) -> bytes:
            audio = await resp.read()
            if not audio or resp.content_type.startswith(("text/", "application/json")):
                raise MalformedResponseError(f"expected audio, got {resp.content_type}")
            return audio

        return await self._call(
            ApiCall("POST", SPEECH_PATH, model, self._timeout, json=body),
            read_audio,
        )

    async def transcribe(
        self,
        model: str,
        audio: bytes | AsyncIterable[bytes],
        *,
        filename: str,
        content_type: str,
        language: str | None = None,
        size: int | None = None,
    ) -> Transcript:
        """Upload audio as multipart and read the transcript (`response_format` json).

        An async iterable is streamed, so it is sent only once. With `size` (the exact number
        of bytes the iterable yields; the caller makes sure of it) the upload declares its
        Content-Length, as the official SDK always does; without, it goes chunked, which
        length-requiring front ends refuse with 411.
        """
        length = len(audio) if isinstance(audio, bytes) else size
        if length is not None and length > MAX_TRANSCRIPTION_BYTES:
            raise BadRequestError("audio is larger than the API's 50 MB limit", status=413)

        def form() -> aiohttp.FormData:
            data = aiohttp.FormData()
            data.add_field("model", model)
            if language:
                data.add_field("language", language)
            file: bytes | AsyncIterable[bytes] | SizedStream = audio
            if not isinstance(audio, bytes) and size is not None:
                file = SizedStream(audio, size, content_type=content_type)
            data.add_field("file", file, filename=filename, content_type=content_type)
            return data

        call = ApiCall(
            "POST",
            TRANSCRIPTIONS_PATH,
            model,
            self._upload_timeout,
            form=form,
            retryable=isinstance(audio, bytes),
        )
        return parse_transcript(await self._call(call, read_json))

    async def _call(
        self, call: ApiCall, read: Callable[[aiohttp.ClientResponse], Awaitable[T]]
    ) -> T:
        attempt = 0
        while True:
            started = time.monotonic()
            try:
                async with self._open(call) as resp:
                    result = await read(resp)
                    usage = result.usage if isinstance(result, ChatResult) else None
                    self._log_call(call, resp.status, started, usage)
                    return result
            except NexaiError as exc:
                why = self._retry_delay(exc, attempt) if call.retryable else None
                if why is None:
                    raise
            await self._sleep_before_retry(call, attempt, why)
            attempt += 1

    @contextlib.asynccontextmanager
    async def _open(self, call: ApiCall) -> AsyncIterator[aiohttp.ClientResponse]:
        """Send the call once; yield a 2xx response. Transport failures become NexaiErrors;
        a connection that breaks while the 2xx answer is read is `answered`."""
        headers = {"Authorization": f"Bearer {self._api_key}", "User-Agent": USER_AGENT}
        if call.stream:
            headers["Accept"] = "text/event-stream"
        started = time.monotonic()
        answered = False
        try:
            async with self._session.request(
                call.method,
                self._base_url + call.path,
                json=call.json,
                data=call.form() if call.form else None,
                headers=headers,
                timeout=call.timeout,
            ) as resp:
                if resp.status >= 400:
                    body = await resp.read()
                    self._log_call(call, resp.status, started)
                    error = make_status_error(
                        resp.status, body, resp.headers, secrets=(self._api_key,)
                    )
                    error.model = call.model
                    raise error
                answered = True
                yield resp
        except TimeoutError as exc:
            self._log_call(call, "timeout", started)
            raise NexaiTimeoutError(f"{call.method} {call.path} timed out") from exc
        except aiohttp.ClientError as exc:
            self._log_call(call, "connection error", started)
            raise NexaiConnectionError(
                f"{call.method} {call.path} failed: {type(exc).__name__}: {exc}",
                answered=answered,
            ) from exc

    def _retry_delay(self, exc: NexaiError, attempt: int) -> tuple[str, float] | None:
        """(why, seconds to wait) before retrying after `exc`, or None to give up."""
        reason = retry_reason(exc)
        if reason is None or attempt >= self._max_retries:
            return None
        hint = exc.retry_after if isinstance(exc, NexaiStatusError) else None
        if hint is not None and hint > self._max_retry_wait_s:
            return None
        cap = min(DEFAULT_MAX_BACKOFF_S, self._max_retry_wait_s)
        return reason, retry_delay(attempt, hint, self._rng, base_s=self._backoff_base_s, max_s=cap)

    async def _sleep_before_retry(
        self, call: ApiCall, attempt: int, why: tuple[str, float]
    ) -> None:
        reason, delay = why
        log.info(
            "retrying %s %s model=%s (retry %s of %s) in %.2fs: %s",
            call.method,
            call.path,
            call.model,
            attempt + 1,
            self._max_retries,
            delay,
            reason,
        )
        await asyncio.sleep(delay)

    def _log_call(
        self, call: ApiCall, status: int | str, started: float, usage: Usage | None = None
    ) -> None:
        log.debug(
            "%s %s model=%s status=%s latency_ms=%.0f prompt_tokens=%s completion_tokens=%s",
            call.method,
            call.path,
            call.model,
            status,
            (time.monotonic() - started) * 1000,
            usage.prompt_tokens if usage else "-",
            usage.completion_tokens if usage else "-",
        )
