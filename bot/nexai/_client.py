"""Client for the nexai API, an OpenAI-compatible gateway. Knows nothing about Discord.

One method per endpoint; each returns frozen dataclasses or raises one of the errors in
`bot.nexai._errors`. Requests go through `Transport` (`_transport.py`), which owns the session,
the headers and the one retry loop.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import AsyncIterable
from typing import Any

import aiohttp

from bot.nexai._errors import (
    BadRequestError,
    MalformedResponseError,
)
from bot.nexai._payloads import (
    ApiCall,
    ChatResult,
    Model,
    Transcript,
    chat_body,
    parse_chat,
    parse_response,
    read_json,
)
from bot.nexai._stream import ChatStream
from bot.nexai._transport import Transport
from bot.nexai.capabilities import CapabilityTable, ModelCapabilities
from bot.nexai.constants import (
    CHAT_PATH,
    DEFAULT_BACKOFF_BASE_S,
    DEFAULT_CONNECT_TIMEOUT_S,
    DEFAULT_FIRST_BYTE_TIMEOUT_S,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TOTAL_TIMEOUT_S,
    IMAGES_PATH,
    MAX_RETRY_WAIT_S,
    MAX_TRANSCRIPTION_BYTES,
    MODELS_PATH,
    RESPONSES_PATH,
    SPEECH_PATH,
    TRANSCRIPTION_TIMEOUT_FACTOR,
    TRANSCRIPTIONS_PATH,
)


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


class NexaiClient:
    """One client per bot, sharing the bot's aiohttp session."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        api_key: str,
        *,
        max_retries: int = DEFAULT_MAX_RETRIES,
        connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S,
        first_byte_timeout_s: float = DEFAULT_FIRST_BYTE_TIMEOUT_S,
        total_timeout_s: float = DEFAULT_TOTAL_TIMEOUT_S,
        backoff_base_s: float = DEFAULT_BACKOFF_BASE_S,
        max_retry_wait_s: float = MAX_RETRY_WAIT_S,
        capabilities: CapabilityTable | None = None,
    ) -> None:
        self.transport = Transport(
            session,
            base_url,
            api_key,
            max_retries=max_retries,
            backoff_base_s=backoff_base_s,
            max_retry_wait_s=max_retry_wait_s,
        )
        self.capabilities = capabilities or CapabilityTable()
        self._connect_timeout_s = connect_timeout_s
        self._first_byte_timeout_s = first_byte_timeout_s
        self._total_timeout_s = total_timeout_s
        self._timeout = aiohttp.ClientTimeout(total=total_timeout_s, connect=connect_timeout_s)
        self._upload_timeout = aiohttp.ClientTimeout(
            total=total_timeout_s * TRANSCRIPTION_TIMEOUT_FACTOR, connect=connect_timeout_s
        )

    async def list_models(self) -> list[Model]:
        data = await self.transport.request(
            ApiCall("GET", MODELS_PATH, "-", self._timeout), read_json
        )
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
        return await self.transport.request(
            ApiCall("POST", path, model, timeout, json=body), read_answer
        )

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
        return ChatStream(self.transport, call, capabilities, self.capabilities.wait_s(model))

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
        data = await self.transport.request(
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

        return await self.transport.request(
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
        return parse_transcript(await self.transport.request(call, read_json))
