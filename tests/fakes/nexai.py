"""A fake nexai API on 127.0.0.1, for tests that talk real HTTP to a loopback server.

By default every endpoint answers like the real API. `enqueue(path, *steps)` scripts the next
requests to one path: errors, error events inside streams, hangs, cut-off streams, garbage,
slow first bytes, pauses that the test ends.

The shapes are OpenAI's, which nexai mirrors (`../shared/nexai-api.md`), from the OpenAI API
reference and openai-python's generated types:
- errors: `{"error": {"message", "type", "param", "code"}}`; 429 is `rate_limit_exceeded`
  (type `requests`/`tokens`) or `insufficient_quota` (out of credits); an unknown model is 404
  `model_not_found` (reference, "Error codes").
- chat (`types/chat/chat_completion_chunk.py`): with `stream_options.include_usage` every chunk
  has `"usage": null` and a last chunk with `choices: []` carries the usage before
  `data: [DONE]` (`drop_usage` plays a gateway that leaves it out); `finish_reason` is `stop`,
  `length` (the token budget ran out) or `content_filter`.
- gpt-5.x and o-series refuse `max_tokens` with 400 `unsupported_parameter` and take
  `max_completion_tokens`; they, codex and grok reasoning models think silently (nothing on
  the wire for `think_s`), and their reasoning tokens count against the budget and in
  `usage.completion_tokens_details.reasoning_tokens` (reference, "Reasoning models").
- gpt-5.x and o-series take no `temperature` but the default 1: any other value is 400
  `unsupported_value` with `param: "temperature"` (reference, "Reasoning models": "Only the
  default (1) value is supported").
- DeepSeek-R1 through OpenAI-compatible gateways starts `content` with its reasoning and a
  closing `</think>` with no opening tag (`reasoning_as_field`: DeepSeek's own API, which
  sends it as `reasoning_content` deltas).
- Responses (`types/responses/response_stream_event.py`): `response.created`,
  `response.in_progress`, a reasoning item (`output_item.added/done`, summary events),
  the message item (`output_item.added`, `content_part.added`, `output_text.delta`...,
  `output_text.done`, `content_part.done`, `output_item.done`), then `response.completed` or
  `response.incomplete` (`incomplete_details.reason`); every event has `sequence_number`;
  no `[DONE]`.
"""

from __future__ import annotations

import array
import asyncio
import base64
import contextlib
import io
import itertools
import json
import math
import re
import struct
import time
import wave
import zlib
from collections import Counter, defaultdict, deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import av
from aiohttp import BodyPartReader, web

API_PREFIX = "/api/v1"
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
DEFAULT_REPLY = "Hello from nexai."
DEFAULT_REASONING = "The user greets me. I should greet them back."
SHUTDOWN_TIMEOUT_S = 1.0
#: Connections waiting to be accepted, as a production server's listen queue allows.
LISTEN_BACKLOG = 1024
REFERENCE_MODELS = (
    "gpt-5.5",
    "gpt-4o",
    "gpt-4o-mini",
    "gpt-5.4-mini",
    "gpt-5.1-codex-mini",
    "gpt-5.3-codex",
    "gpt-5.4",
    "grok-4-fast-reasoning",
    "DeepSeek-R1",
    "gpt-image-2",
    "gpt-image-1.5",
    "tts-1",
    "whisper-1",
)
GARBAGE = b"<html><body>502 Bad Gateway (not JSON)</body></html>"
#: The fake's idea of audio: this many bytes per second (128 kbit/s), unless told otherwise.
FAKE_AUDIO_BPS = 16_000
#: The language names verbose_json reports for the codes the tests send.
LANGUAGE_NAMES = {"en": "english", "vi": "vietnamese", "fr": "french", "de": "german"}
#: The transcription endpoint's `language`: "The language of the input audio. Supplying the
#: input language in ISO-639-1 (e.g. `en`) format will improve accuracy and latency." (OpenAI
#: API reference, Create transcription); anything else is a 400 on `param: language`.
ISO_639_1 = re.compile(r"[a-z]{2}")
#: The upload's name must end in one of these ("file: The audio file object (not file name) to
#: transcribe, in one of these formats: flac, mp3, mp4, mpeg, mpga, m4a, ogg, wav, or webm";
#: the API judges by the extension and answers 400 "Invalid file format" otherwise).
TRANSCRIPTION_FORMATS = ("flac", "m4a", "mp3", "mp4", "mpeg", "mpga", "oga", "ogg", "wav", "webm")


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str  # relative to the base URL, e.g. "/chat/completions"
    headers: dict[str, str]
    json: dict[str, Any] | None
    form: dict[str, str] | None
    files: dict[str, bytes]
    size: int
    filenames: dict[str, str] = field(default_factory=dict)  # multipart file parts
    file_types: dict[str, str] = field(default_factory=dict)  # their Content-Type headers


@dataclass(frozen=True)
class Reply:
    """Answer this text (streamed or not, as requested), optionally with reasoning first
    (delivered as the model's kind does it), thinking `think_s` first, ending with
    `finish_reason` (e.g. `content_filter`) instead of `stop`."""

    text: str
    reasoning: str | None = None
    finish_reason: str | None = None
    think_s: float | None = None


@dataclass(frozen=True)
class Error:
    """Answer an OpenAI-shaped error (`error_response`), or `body` verbatim.

    `code` and `kind` (the error's `type`) default to what OpenAI sends for the status;
    `headers` are added as they are (e.g. only `x-ratelimit-reset-requests: 1s`)."""

    status: int
    message: str = "fake error"
    retry_after: str | None = None
    body: bytes | None = None
    code: str | None = None
    kind: str | None = None
    headers: tuple[tuple[str, str], ...] = ()


#: A 429 for an account out of credits, as OpenAI sends it: retrying does not help.
OUT_OF_CREDITS = Error(
    429,
    "You exceeded your current quota, please check your plan and billing details.",
    code="insufficient_quota",
    kind="insufficient_quota",
)


@dataclass(frozen=True)
class StreamError:
    """Begin a 200 stream, send `after_chars` characters of the answer, then an error event.

    Chat: `data: {"error": {"message", "type", "code"}}` (what OpenAI-compatible servers send
    when a stream fails after its headers). Responses: the `error` event (`type: "error"`,
    `code`, `message`, `param`, `sequence_number`), or with `failed` a `response.failed`
    event whose `response.error` has `code` and `message` (openai-python
    `types/responses/response_error_event.py`, `response_failed_event.py`)."""

    code: str
    message: str = "fake stream error"
    kind: str | None = None
    after_chars: int = 0
    failed: bool = False


@dataclass(frozen=True)
class Hang:
    """Accept the request and send nothing for `seconds` (or until the fake closes)."""

    seconds: float = 60


@dataclass(frozen=True)
class CutOff:
    """Send the first `after_chars` characters of the answer, then drop the connection."""

    after_chars: int


@dataclass(frozen=True)
class Malformed:
    """Answer 200 with a garbage body, or garbage SSE data when streaming.

    With `after_chars`, a stream first sends that many characters of the answer.
    """

    after_chars: int | None = None


@dataclass(frozen=True)
class Stall:
    """Stream the first `after_chars` characters, then send nothing for `seconds`."""

    after_chars: int
    seconds: float = 60


@dataclass(frozen=True)
class SlowFirstByte:
    """Wait `seconds` before answering normally."""

    seconds: float


@dataclass(frozen=True)
class Pause:
    """Hold the answer until the test sets `resume` (or the fake closes), then go on normally.

    A stream first sends `after_events` SSE events (by default the opening one and the first
    piece of text, so the answer is seen streaming); other answers wait before anything.
    """

    resume: asyncio.Event
    after_events: int = 2


Step = Reply | Error | StreamError | Hang | CutOff | Malformed | SlowFirstByte | Stall | Pause


#: What the fake's speech endpoint answers in, and the content type of each.
SPEECH_FORMATS = {"mp3": "audio/mpeg", "wav": "audio/wav"}
SPEECH_RATE_HZ = 24_000
MIN_SPEECH_S = 0.5
#: Speech at about 150 words a minute.
SPEECH_CHARS_PER_S = 15.0


def speech_pcm(seconds: float) -> bytes:
    """Mono s16 PCM at 24 kHz: a 220 Hz tone whose loudness rises and falls twice a second."""
    second = array.array(
        "h",
        (
            int(
                12_000
                * abs(math.sin(math.pi * 2 * i / SPEECH_RATE_HZ))
                * math.sin(2 * math.pi * 220 * i / SPEECH_RATE_HZ)
            )
            for i in range(SPEECH_RATE_HZ)
        ),
    ).tobytes()
    whole, part = divmod(round(seconds * SPEECH_RATE_HZ), SPEECH_RATE_HZ)
    return second * whole + second[: part * 2]


def speech_audio(seconds: float, fmt: str) -> bytes:
    """`seconds` of the fake's speech as a wav (stdlib) or an mp3 (PyAV's FFmpeg, LAME)."""
    pcm = speech_pcm(seconds)
    out = io.BytesIO()
    if fmt == "wav":
        with wave.open(out, "wb") as file:
            file.setnchannels(1)
            file.setsampwidth(2)
            file.setframerate(SPEECH_RATE_HZ)
            file.writeframes(pcm)
        return out.getvalue()
    with av.open(out, "w", format="mp3") as sink:
        stream = sink.add_stream("libmp3lame", rate=SPEECH_RATE_HZ, layout="mono")
        frame = av.AudioFrame(format="s16", layout="mono", samples=len(pcm) // 2)
        frame.planes[0].update(pcm)
        frame.sample_rate = SPEECH_RATE_HZ
        frame.pts = 0
        for packet in stream.encode(frame):
            sink.mux(packet)
        for packet in stream.encode(None):
            sink.mux(packet)
    return out.getvalue()


def count_tokens(text: str) -> int:
    """The fake's token count: words."""
    return len(text.split())


def reasoning_style(model: str) -> str:
    """How the real service's model thinks: `silent`, `inline` or `none` (module docstring)."""
    lowered = model.lower()
    if "r1" in lowered:
        return "inline"
    if refuses_max_tokens(model) or "codex" in lowered or "grok" in lowered:
        return "silent"
    return "none"


def refuses_max_tokens(model: str) -> bool:
    """gpt-5.x and the o-series take only `max_completion_tokens`."""
    return model.lower().startswith(("gpt-5", "o1", "o3", "o4"))


def first_words(text: str, count: int) -> str:
    """`text` up to the end of its `count`-th word (the fake counts tokens as words)."""
    if count <= 0:
        return ""
    for number, word in enumerate(re.finditer(r"\S+", text), start=1):
        if number == count:
            return text[: word.end()]
    return text


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return ""


def tiny_png() -> bytes:
    """A valid 1x1 transparent PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x00\x00\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


#: (type, code) OpenAI sends with each status when nothing more specific applies
#: (OpenAI API reference, "Error codes"; openai-python `_exceptions.py`).
ERROR_DEFAULTS: dict[int, tuple[str, str | None]] = {
    401: ("invalid_request_error", "invalid_api_key"),
    404: ("invalid_request_error", "model_not_found"),
    429: ("requests", "rate_limit_exceeded"),
}


def error_response(
    status: int,
    message: str,
    *,
    code: str | None = None,
    kind: str | None = None,
    param: str | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    """`{"error": {"message", "type", "param", "code"}}`, OpenAI's error body."""
    default_kind, default_code = ERROR_DEFAULTS.get(
        status, ("server_error" if status >= 500 else "invalid_request_error", None)
    )
    error = {
        "message": message,
        "type": kind or default_kind,
        "param": param,
        "code": code or default_code,
    }
    return web.json_response({"error": error}, status=status, headers=headers)


@dataclass
class _Answer:
    """What the current request should answer, after the scripted step is applied."""

    text: str
    reasoning: str | None
    cut_after: int | None = None  # stop the answer after this many characters, then...
    stall_s: float = 0.0  # ...wait this long, then drop the connection
    garbage: bool = False  # ...or send a garbage event instead
    resume: asyncio.Event | None = None  # a stream waits for it after `pause_after` events
    pause_after: int = 0
    error: StreamError | None = None  # ...or an error event
    finish_reason: str | None = None
    think_s: float | None = None


@dataclass
class _Plan:
    """What a model sends: `content` (inline reasoning included), `reasoning_content` deltas
    (`field`), hidden reasoning tokens, and how it ends."""

    content: str
    finish: str
    think_s: float
    summary: str = ""  # a Responses reasoning summary
    field: str = ""
    hidden_tokens: int = 0


Handler = Callable[[web.Request, RecordedRequest, _Answer], Awaitable[web.StreamResponse]]


class FakeNexai:
    """The fake API. Attributes may be changed by a test at any time."""

    def __init__(self, *, api_key: str = "sk-billing-test", reply: str = DEFAULT_REPLY) -> None:
        self.api_key = api_key
        self.reply = reply
        self.chunk_size = 8  # characters per SSE chunk
        self.chunk_delay_s = 0.0
        self.speech_chars_per_s = SPEECH_CHARS_PER_S
        self.speech_garbage = False  # answer speech that is not audio (a broken gateway)
        self.think_s = 0.0  # how long silent reasoning models think before their first event
        self.drop_usage = False  # like gateways that drop `stream_options`: no usage chunk
        self.reasoning_as_field = False  # inline reasoners send `reasoning_content` instead
        self.line_ending = "\n"  # "\r\n" to test CRLF streams
        self.split_writes = False  # write each SSE event in two pieces, to split TCP reads
        self.max_upload_bytes = MAX_UPLOAD_BYTES
        self.models: list[dict[str, Any]] = [
            {"id": name, "object": "model", "owned_by": "nexai"} for name in REFERENCE_MODELS
        ]
        self.requests: list[RecordedRequest] = []
        self.in_flight: Counter[str] = Counter()  # requests being handled now, per path
        self.max_in_flight: Counter[str] = Counter()  # the most at once (clear it to measure)
        self.transcript: str | None = None  # transcriptions answer this instead of "transcript of"
        #: The length of any uploaded audio, in seconds (None: its size at FAKE_AUDIO_BPS).
        self.transcript_seconds: float | None = None
        #: Answer 411 to a chunked upload, as length-requiring front ends do (the SDK always
        #: sends a Content-Length, so this is what production looks like).
        self.require_content_length = True
        self.base_url = ""
        self._steps: defaultdict[str, deque[Step]] = defaultdict(deque)
        self._runner: web.AppRunner | None = None
        self._closing = asyncio.Event()

    async def start(self) -> None:
        app = web.Application(client_max_size=self.max_upload_bytes * 2)
        routes: list[tuple[str, str, Handler]] = [
            ("GET", "/models", self._models),
            ("POST", "/chat/completions", self._chat),
            ("POST", "/responses", self._responses),
            ("POST", "/images/generations", self._images),
            ("POST", "/audio/speech", self._speech),
            ("POST", "/audio/transcriptions", self._transcriptions),
        ]
        for method, path, handler in routes:
            app.router.add_route(method, API_PREFIX + path, self._wrap(path, handler))
        self._runner = web.AppRunner(
            app, handle_signals=False, shutdown_timeout=SHUTDOWN_TIMEOUT_S, access_log=None
        )
        await self._runner.setup()
        # A real gateway takes 200 streams' connections at once (Linux's default accept queue
        # is 4096); aiohttp's 128 would delay those past it by a 1 s SYN retransmit.
        site = web.TCPSite(self._runner, "127.0.0.1", 0, backlog=LISTEN_BACKLOG)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}{API_PREFIX}"

    async def close(self) -> None:
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeNexai:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def enqueue(self, path: str, *steps: Step) -> None:
        self._steps[path].extend(steps)

    def pending(self, path: str) -> int:
        """How many scripted steps for `path` no request has used yet."""
        return len(self._steps[path])

    def reset(self) -> None:
        """Forget scripted steps and restore the default answer and pacing (between tests)."""
        self._steps.clear()
        self.reply = DEFAULT_REPLY
        self.chunk_delay_s = 0.0
        self.speech_chars_per_s = SPEECH_CHARS_PER_S
        self.think_s = 0.0
        self.drop_usage = False
        self.reasoning_as_field = False
        self.transcript = None
        self.transcript_seconds = None
        self.require_content_length = True

    def calls(self, path: str) -> list[RecordedRequest]:
        return [request for request in self.requests if request.path == path]

    # -- plumbing ---------------------------------------------------------------------------

    def _wrap(self, path: str, handler: Handler) -> Callable[[web.Request], Awaitable[Any]]:
        async def handle(request: web.Request) -> web.StreamResponse:
            recorded = await self._record(request, path)
            auth = request.headers.get("Authorization", "")
            if auth != f"Bearer {self.api_key}":
                # Like some gateways, echo what was sent: the client must redact it.
                return error_response(
                    401, f"Incorrect API key provided: {auth}", code="invalid_api_key"
                )
            model = (recorded.json or recorded.form or {}).get("model")
            if isinstance(model, str) and model not in {m["id"] for m in self.models}:
                return error_response(
                    404,
                    f"The model `{model}` does not exist or you do not have access to it.",
                    code="model_not_found",
                )
            answer = _Answer(self.reply, None)
            step = self._steps[path].popleft() if self._steps[path] else None
            match step:
                case Error(status, message, retry_after, body, code, kind, extra):
                    headers = dict(extra)
                    if retry_after is not None:
                        headers["Retry-After"] = retry_after
                    if body is not None:
                        return web.Response(status=status, body=body, headers=headers)
                    return error_response(status, message, code=code, kind=kind, headers=headers)
                case StreamError(after_chars=after_chars):
                    answer.cut_after, answer.error = after_chars, step
                case Hang(seconds):
                    await self._sleep(seconds)
                    return error_response(504, "hung up")
                case Malformed(after_chars):
                    streaming = bool(recorded.json and recorded.json.get("stream"))
                    if after_chars is None or not streaming:
                        return await self._malformed(request, recorded)
                    answer.cut_after, answer.garbage = after_chars, True
                case Stall(after_chars, seconds):
                    answer.cut_after, answer.stall_s = after_chars, seconds
                case SlowFirstByte(seconds):
                    await self._sleep(seconds)
                case Pause(resume, after_events):
                    if recorded.json and recorded.json.get("stream"):
                        answer.resume, answer.pause_after = resume, after_events
                    else:
                        await self._wait_for(resume)
                case Reply(text, reasoning, finish_reason, think_s):
                    answer = _Answer(text, reasoning, finish_reason=finish_reason, think_s=think_s)
                case CutOff(after_chars):
                    answer.cut_after = after_chars
            return await handler(request, recorded, answer)

        async def counted(request: web.Request) -> web.StreamResponse:
            self.in_flight[path] += 1
            self.max_in_flight[path] = max(self.max_in_flight[path], self.in_flight[path])
            try:
                return await handle(request)
            finally:
                self.in_flight[path] -= 1

        return counted

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), timeout=seconds)

    async def _wait_for(self, event: asyncio.Event) -> None:
        """Until `event` is set or the fake closes."""
        waits = [asyncio.ensure_future(e.wait()) for e in (event, self._closing)]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()

    async def _record(self, request: web.Request, path: str) -> RecordedRequest:
        body_json: dict[str, Any] | None = None
        form: dict[str, str] | None = None
        files: dict[str, bytes] = {}
        filenames: dict[str, str] = {}
        file_types: dict[str, str] = {}
        if request.content_type.startswith("multipart/"):
            form = {}
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                if not isinstance(part, BodyPartReader) or part.name is None:
                    continue
                if part.filename is None:
                    form[part.name] = await part.text()
                    continue
                chunks: list[bytes] = []
                while chunk := await part.read_chunk():
                    chunks.append(chunk)
                files[part.name] = b"".join(chunks)
                filenames[part.name] = part.filename
                file_types[part.name] = part.headers.get("Content-Type", "")
        else:
            raw = await request.read()
            if raw:
                try:
                    loaded = json.loads(raw)
                except ValueError:
                    loaded = None
                body_json = loaded if isinstance(loaded, dict) else None
        recorded = RecordedRequest(
            method=request.method,
            path=path,
            headers=dict(request.headers),
            json=body_json,
            form=form,
            files=files,
            size=request.content.total_bytes,
            filenames=filenames,
            file_types=file_types,
        )
        self.requests.append(recorded)
        return recorded

    async def _malformed(
        self, request: web.Request, recorded: RecordedRequest
    ) -> web.StreamResponse:
        if recorded.json and recorded.json.get("stream"):
            resp = await self._start_sse(request)
            await self._send(resp, "data: {this is not json" + self.line_ending * 2)
            return resp
        return web.Response(body=GARBAGE, content_type="text/html")

    async def _start_sse(self, request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        return resp

    async def _send(self, resp: web.StreamResponse, event: str) -> None:
        data = event.encode()
        if self.split_writes and len(data) > 1:
            half = len(data) // 2
            await resp.write(data[:half])
            await asyncio.sleep(0.001)
            data = data[half:]
        await resp.write(data)

    async def _stream(
        self,
        request: web.Request,
        answer: _Answer,
        events: Callable[[str], AsyncIterator[str]],
        text: str,
    ) -> web.StreamResponse:
        """Send the SSE events of `text`; with a cut-off, drop the connection once it went out."""
        resp = await self._start_sse(request)
        with contextlib.suppress(ConnectionResetError):  # the client may hang up at any time
            await self._send_events(request, resp, answer, events, text)
        return resp

    async def _send_events(
        self,
        request: web.Request,
        resp: web.StreamResponse,
        answer: _Answer,
        events: Callable[[str], AsyncIterator[str]],
        text: str,
    ) -> None:
        sent = 0
        async for event in events(text):
            if answer.resume is not None and sent == answer.pause_after:
                await self._wait_for(answer.resume)
            await self._send(resp, event)
            sent += 1
            if self.chunk_delay_s:
                await asyncio.sleep(self.chunk_delay_s)
        if answer.garbage:
            await self._send(resp, "data: {this is not json" + self.line_ending * 2)
        elif answer.cut_after is not None and answer.error is None:
            await self._sleep(answer.stall_s)
            self._drop(request)
            return
        await resp.write_eof()

    @staticmethod
    def _drop(request: web.Request) -> None:
        if request.transport is not None:
            request.transport.close()

    def _chunks(self, text: str) -> list[str]:
        size = max(1, self.chunk_size)
        return [text[i : i + size] for i in range(0, len(text), size)]

    def _sse(self, payload: dict[str, Any] | str, event: str | None = None) -> str:
        end = self.line_ending
        data = payload if isinstance(payload, str) else json.dumps(payload)
        prefix = f"event: {event}{end}" if event else ""
        return f"{prefix}data: {data}{end}{end}"

    # -- endpoints --------------------------------------------------------------------------

    async def _models(
        self, request: web.Request, recorded: RecordedRequest, answer: _Answer
    ) -> web.StreamResponse:
        return web.json_response({"object": "list", "data": self.models})

    def _plan(self, model: str, answer: _Answer, budget: Any) -> _Plan:
        """What the model sends for `answer`, as its kind of model does, within `budget`."""
        style = reasoning_style(model)
        reasoning = answer.reasoning
        if reasoning is None and style != "none":
            reasoning = DEFAULT_REASONING
        plan = _Plan(
            content=answer.text,
            finish=answer.finish_reason or "stop",
            think_s=self.think_s if answer.think_s is None else answer.think_s,
            summary=answer.reasoning or "",
        )
        if style == "silent":
            plan.hidden_tokens = count_tokens(reasoning or "")
        elif reasoning is not None and (style == "none" or self.reasoning_as_field):
            plan.field = reasoning
        elif reasoning is not None:
            plan.content = f"{reasoning}\n</think>\n\n{answer.text}"
        if isinstance(budget, int) and not isinstance(budget, bool):
            if plan.hidden_tokens >= budget:
                plan.hidden_tokens, plan.content, plan.finish = budget, "", "length"
            elif count_tokens(plan.content) > budget - plan.hidden_tokens:
                plan.content = first_words(plan.content, budget - plan.hidden_tokens)
                plan.finish = "length"
        return plan

    async def _chat(
        self, request: web.Request, recorded: RecordedRequest, answer: _Answer
    ) -> web.StreamResponse:
        body = recorded.json or {}
        model, messages = body.get("model"), body.get("messages")
        if not isinstance(model, str) or not isinstance(messages, list):
            return error_response(400, "model and messages are required")
        if "max_tokens" in body and refuses_max_tokens(model):
            return error_response(
                400,
                "Unsupported parameter: 'max_tokens' is not supported with this model. "
                "Use 'max_completion_tokens' instead.",
                code="unsupported_parameter",
                param="max_tokens",
            )
        if body.get("temperature", 1) != 1 and refuses_max_tokens(model):
            return error_response(
                400,
                f"Unsupported value: 'temperature' does not support {body['temperature']} with"
                " this model. Only the default (1) value is supported.",
                code="unsupported_value",
                param="temperature",
            )
        plan = self._plan(model, answer, body.get("max_completion_tokens", body.get("max_tokens")))
        prompt_tokens = sum(count_tokens(_text_of(m.get("content"))) for m in messages)
        completion_tokens = (
            plan.hidden_tokens + count_tokens(plan.content) + count_tokens(plan.field)
        )
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "completion_tokens_details": {"reasoning_tokens": plan.hidden_tokens},
        }
        base = {"id": "chatcmpl-fake", "created": int(time.time()), "model": model}
        if not body.get("stream"):
            message: dict[str, Any] = {"role": "assistant", "content": plan.content}
            if plan.field:
                message["reasoning_content"] = plan.field
            if answer.cut_after is not None:
                return await self._cut_json(request, {**base, "choices": []}, answer.cut_after)
            await self._sleep(plan.think_s)
            choice = {"index": 0, "message": message, "finish_reason": plan.finish}
            payload = {**base, "object": "chat.completion", "choices": [choice], "usage": usage}
            return web.json_response(payload)
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        base = {**base, "object": "chat.completion.chunk"}
        if include_usage:
            base["usage"] = None

        def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
            choice = {"index": 0, "delta": delta, "finish_reason": finish}
            return self._sse({**base, "choices": [choice]})

        async def events(text: str) -> AsyncIterator[str]:
            await self._sleep(plan.think_s)
            yield chunk({"role": "assistant", "content": ""})
            for piece in self._chunks(plan.field):
                yield chunk({"reasoning_content": piece})
            for piece in self._chunks(text):
                yield chunk({"content": piece})
            if answer.error is not None:
                error = answer.error
                kind = error.kind or "server_error"
                detail = {"message": error.message, "type": kind, "param": None, "code": error.code}
                yield self._sse({"error": detail})
            if answer.cut_after is not None:
                return
            yield chunk({}, plan.finish)
            if include_usage and not self.drop_usage:
                yield self._sse({**base, "choices": [], "usage": usage})
            yield self._sse("[DONE]")

        if answer.cut_after is None:
            return await self._stream(request, answer, events, plan.content)
        return await self._stream(request, answer, events, plan.content[: answer.cut_after])

    async def _cut_json(
        self, request: web.Request, payload: dict[str, Any], after_bytes: int
    ) -> web.StreamResponse:
        data = json.dumps(payload).encode()
        resp = web.StreamResponse(headers={"Content-Type": "application/json"})
        resp.content_length = len(data) + 100
        await resp.prepare(request)
        await resp.write(data[:after_bytes])
        self._drop(request)
        return resp

    async def _responses(
        self, request: web.Request, recorded: RecordedRequest, answer: _Answer
    ) -> web.StreamResponse:
        body = recorded.json or {}
        model, items = body.get("model"), body.get("input")
        if not isinstance(model, str) or not isinstance(items, str | list):
            return error_response(400, "model and input are required")
        plan = self._plan(model, answer, body.get("max_output_tokens"))
        prompt = items if isinstance(items, str) else ""
        if isinstance(items, list):
            prompt = " ".join(_text_of(item.get("content")) for item in items)
        prompt_tokens = count_tokens(prompt) + count_tokens(body.get("instructions") or "")
        output_tokens = plan.hidden_tokens + count_tokens(plan.content)
        usage = {
            "input_tokens": prompt_tokens,
            "output_tokens": output_tokens,
            "total_tokens": prompt_tokens + output_tokens,
            "output_tokens_details": {"reasoning_tokens": plan.hidden_tokens},
        }
        response: dict[str, Any] = {
            "id": "resp_fake",
            "object": "response",
            "created_at": int(time.time()),
            "model": model,
            "status": "in_progress",
            "output": [],
            "usage": None,
        }
        reasoning_item: dict[str, Any] | None = None
        if reasoning_style(model) != "none":
            summary = [{"type": "summary_text", "text": plan.summary}] if plan.summary else []
            reasoning_item = {"id": "rs_fake", "type": "reasoning", "summary": summary}
        index = 1 if reasoning_item else 0
        part = {"type": "output_text", "text": plan.content, "annotations": []}
        message = {
            "type": "message",
            "id": "msg_fake",
            "status": "completed" if plan.finish == "stop" else "incomplete",
            "role": "assistant",
            "content": [part],
        }
        done = {
            **response,
            "status": "completed",
            "output": [item for item in (reasoning_item, message) if item],
            "usage": usage,
        }
        if plan.finish != "stop":
            reason = "max_output_tokens" if plan.finish == "length" else plan.finish
            done = {**done, "status": "incomplete", "incomplete_details": {"reason": reason}}
        if not body.get("stream"):
            if answer.cut_after is not None:
                return await self._cut_json(request, done, answer.cut_after)
            await self._sleep(plan.think_s)
            return web.json_response(done)

        async def events(text: str) -> AsyncIterator[str]:
            sequence = itertools.count()

            def event(kind: str, **fields: Any) -> str:
                payload = {"type": kind, **fields, "sequence_number": next(sequence)}
                return self._sse(payload, kind)

            yield event("response.created", response=response)
            yield event("response.in_progress", response=response)
            await self._sleep(plan.think_s)
            if reasoning_item is not None:
                added = {**reasoning_item, "summary": []}
                yield event("response.output_item.added", output_index=0, item=added)
                at = {"item_id": "rs_fake", "output_index": 0, "summary_index": 0}
                if plan.summary:
                    empty = {"type": "summary_text", "text": ""}
                    yield event("response.reasoning_summary_part.added", **at, part=empty)
                    for piece in self._chunks(plan.summary):
                        yield event("response.reasoning_summary_text.delta", **at, delta=piece)
                    yield event("response.reasoning_summary_text.done", **at, text=plan.summary)
                    full = {"type": "summary_text", "text": plan.summary}
                    yield event("response.reasoning_summary_part.done", **at, part=full)
                yield event("response.output_item.done", output_index=0, item=reasoning_item)
            opened = {**message, "status": "in_progress", "content": []}
            yield event("response.output_item.added", output_index=index, item=opened)
            at = {"item_id": "msg_fake", "output_index": index, "content_index": 0}
            yield event("response.content_part.added", **at, part={**part, "text": ""})
            for piece in self._chunks(text):
                yield event("response.output_text.delta", **at, delta=piece, logprobs=[])
            if answer.error is not None:
                error = {"code": answer.error.code, "message": answer.error.message}
                if answer.error.failed:
                    failed = {**response, "status": "failed", "error": error}
                    yield event("response.failed", response=failed)
                else:
                    yield event("error", **error, param=None)
            if answer.cut_after is not None:
                return
            yield event("response.output_text.done", **at, text=text, logprobs=[])
            yield event("response.content_part.done", **at, part=part)
            yield event("response.output_item.done", output_index=index, item=message)
            yield event(f"response.{done['status']}", response=done)

        if answer.cut_after is None:
            return await self._stream(request, answer, events, plan.content)
        return await self._stream(request, answer, events, plan.content[: answer.cut_after])

    async def _images(
        self, request: web.Request, recorded: RecordedRequest, answer: _Answer
    ) -> web.StreamResponse:
        body = recorded.json or {}
        if not isinstance(body.get("prompt"), str) or not body["prompt"]:
            return error_response(400, "prompt is required")
        count = body.get("n", 1)
        if not isinstance(count, int) or not 1 <= count <= 10:
            return error_response(400, "n must be between 1 and 10")
        image = base64.b64encode(tiny_png()).decode()
        data = [{"b64_json": image} for _ in range(count)]
        return web.json_response({"created": int(time.time()), "data": data})

    async def _speech(
        self, request: web.Request, recorded: RecordedRequest, answer: _Answer
    ) -> web.StreamResponse:
        """Text to speech: the body is the audio itself (OpenAI reference, "Create speech":
        `response_format` mp3 by default, or wav; 24 kHz mono like OpenAI's voices). The fake
        speaks a tone whose loudness rises and falls like words, `speech_chars_per_s`
        characters a second, as a real mp3 or wav that any decoder accepts."""
        body = recorded.json or {}
        text, voice = body.get("input"), body.get("voice")
        if not isinstance(text, str) or not isinstance(voice, str):
            return error_response(400, "input and voice are required")
        fmt = body.get("response_format", "mp3")
        if fmt not in SPEECH_FORMATS:
            return error_response(400, f"unsupported response_format {fmt!r}")
        seconds = max(MIN_SPEECH_S, len(text) / self.speech_chars_per_s)
        if self.speech_garbage:  # a gateway that mangled the body: no decoder accepts it
            return web.Response(body=b"ID3" + text.encode(), content_type=SPEECH_FORMATS[fmt])
        audio = await asyncio.to_thread(speech_audio, seconds, fmt)
        return web.Response(body=audio, content_type=SPEECH_FORMATS[fmt])

    async def _transcriptions(
        self, request: web.Request, recorded: RecordedRequest, answer: _Answer
    ) -> web.StreamResponse:
        """Speech to text, answered in the shapes the real API uses.

        Sources: openai-python `src/openai/types/audio/transcription.py` (`Transcription`:
        `text`, `usage` either `UsageDuration {type: "duration", seconds}` or `UsageTokens
        {type: "tokens", input_tokens, output_tokens, total_tokens, input_token_details:
        {audio_tokens, text_tokens}}`), `transcription_verbose.py` (`TranscriptionVerbose`:
        `duration`, `language`, `text`, `segments`, `usage`), and the OpenAI API reference
        (Create transcription: `response_format` json (default), text, srt, verbose_json or
        vtt; "For gpt-4o-transcribe and gpt-4o-mini-transcribe, the only supported format is
        json"; its verbose_json example reports `"language": "english"`, a name, not a code).

        - whisper-* models: `json` is `{"text", "usage": {"type": "duration", "seconds"}}`;
          `verbose_json` adds top-level `task`, `duration`, `language` and `segments`. There
          is no top-level `duration` in `json`. The audio lasts `transcript_seconds`, else
          its size at FAKE_AUDIO_BPS.
        - *-transcribe models (gpt-4o-transcribe, gpt-4o-mini-transcribe): `json` carries
          token usage and no duration (the fake's rule: 10 audio tokens a second and the
          prompt's words in, a token a word out); other formats are refused (400).
        - The upload's name must end in a format the API knows (it judges by the name), and
          `language`, when sent, must be an ISO-639-1 code: otherwise 400 (`language`: param
          `language`, code `invalid_language_format`). Every field sent is in `form`.
        - A chunked upload (no Content-Length) gets 411 Length Required while
          `require_content_length` is on. A real front end answers before reading the body;
          the fake reads (and records) it first, which the client cannot tell apart.
        """
        if self.require_content_length and "chunked" in recorded.headers.get(
            "Transfer-Encoding", ""
        ):
            return error_response(411, "Length Required: send the upload with a Content-Length")
        form = recorded.form or {}
        if "file" not in recorded.files or "model" not in form:
            return error_response(400, "file and model are required")
        size = len(recorded.files["file"])
        if size > self.max_upload_bytes:
            return error_response(413, "Maximum content size limit exceeded (50 MB)")
        _, dot, extension = recorded.filenames["file"].rpartition(".")
        if not dot or extension.lower() not in TRANSCRIPTION_FORMATS:
            formats = ", ".join(f"'{f}'" for f in TRANSCRIPTION_FORMATS)
            return error_response(400, f"Invalid file format. Supported formats: [{formats}]")
        language = form.get("language")
        if language is not None and not ISO_639_1.fullmatch(language):
            return error_response(
                400,
                f"Invalid language '{language}'. Language parameter must be specified in "
                "ISO-639-1 format.",
                param="language",
                code="invalid_language_format",
            )
        model, response_format = form["model"], form.get("response_format", "json")
        priced_by_tokens = "transcribe" in model
        if response_format not in ("json", "verbose_json", "text") or (
            priced_by_tokens and response_format != "json"
        ):
            return error_response(
                400,
                f"response_format '{response_format}' is not compatible with model '{model}'",
                code="unsupported_value",
            )
        text = self.transcript
        if text is None:
            text = f"transcript of {recorded.filenames['file']} ({size} bytes)"
        if response_format == "text":
            return web.Response(text=text)
        seconds = self.transcript_seconds
        if seconds is None:
            seconds = round(size / FAKE_AUDIO_BPS, 2)
        result: dict[str, Any] = {"text": text}
        if priced_by_tokens:
            audio_tokens, text_tokens = (
                math.ceil(seconds * 10),
                count_tokens(form.get("prompt", "")),
            )
            result["usage"] = {
                "type": "tokens",
                "input_tokens": audio_tokens + text_tokens,
                "input_token_details": {"text_tokens": text_tokens, "audio_tokens": audio_tokens},
                "output_tokens": count_tokens(text),
                "total_tokens": audio_tokens + text_tokens + count_tokens(text),
            }
            return web.json_response(result)
        if response_format == "verbose_json":
            language = LANGUAGE_NAMES.get(form.get("language", "en"), "english")
            result = {"task": "transcribe", "language": language, "duration": seconds, **result}
            result["segments"] = []
        result["usage"] = {"type": "duration", "seconds": seconds}
        return web.json_response(result)
