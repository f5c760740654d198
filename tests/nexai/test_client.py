"""The nexai client against a real loopback server (tests/fakes/nexai.py); no HTTP mocking."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bot.nexai import (
    AuthenticationError,
    BadRequestError,
    ChatStream,
    MalformedResponseError,
    Model,
    NexaiClient,
    NexaiConnectionError,
    NexaiStatusError,
    NexaiTimeoutError,
    PaymentRequiredError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    StreamInterruptedError,
    Usage,
    parse_transcript,
    uses_responses_api,
)
from tests.fakes.nexai import (
    DEFAULT_REASONING,
    DEFAULT_REPLY,
    SPEECH_CHARS_PER_S,
    CutOff,
    Error,
    FakeNexai,
    Hang,
    Malformed,
    Reply,
    SlowFirstByte,
    Stall,
    count_tokens,
    speech_audio,
    tiny_png,
)

CHAT = "/chat/completions"
RESPONSES = "/responses"
TRANSCRIPTIONS = "/audio/transcriptions"
HELLO = [{"role": "user", "content": "say hello"}]
#: Timeouts small enough that a hanging call fails fast, large enough for a loaded CI box.
TINY_TIMEOUTS: dict[str, Any] = {
    "connect_timeout_s": 1.0,
    "first_byte_timeout_s": 0.2,
    "total_timeout_s": 0.3,
}


@pytest.fixture
async def fake() -> AsyncIterator[FakeNexai]:
    async with FakeNexai() as server:
        yield server


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session
        assert acquired(client_session) == 0, "a test leaked a connection"


def acquired(session: aiohttp.ClientSession) -> int:
    """Connections the session's pool has handed out and not got back."""
    connector = session.connector
    assert isinstance(connector, aiohttp.BaseConnector)
    return len(connector._acquired)


def make_client(session: aiohttp.ClientSession, fake: FakeNexai, **options: Any) -> NexaiClient:
    settings: dict[str, Any] = {
        "backoff_base_s": 0.01,
        "max_retry_wait_s": 1.0,
        "total_timeout_s": 5.0,
        **options,
    }
    api_key = settings.pop("api_key", fake.api_key)
    return NexaiClient(session, fake.base_url, api_key, **settings)


@pytest.fixture
def client(session: aiohttp.ClientSession, fake: FakeNexai) -> NexaiClient:
    return make_client(session, fake)


async def collect(stream: ChatStream) -> list[str]:
    try:
        return [delta async for delta in stream]
    finally:
        await stream.aclose()


async def interrupted(stream: ChatStream) -> tuple[str, StreamInterruptedError]:
    """The text that arrived before the stream broke, and how it broke."""
    deltas: list[str] = []
    with pytest.raises(StreamInterruptedError) as caught:
        async for delta in stream:
            deltas.append(delta)
    return "".join(deltas), caught.value


# -- happy paths -----------------------------------------------------------------------------


async def test_list_models_returns_the_servers_models(client: NexaiClient) -> None:
    models = await client.list_models()
    assert Model("gpt-4o", "nexai") in models
    assert {"DeepSeek-R1", "gpt-5.3-codex", "tts-1", "whisper-1"} <= {m.id for m in models}


async def test_chat_returns_text_model_and_usage(client: NexaiClient) -> None:
    result = await client.chat("gpt-4o-mini", HELLO)
    assert result.text == DEFAULT_REPLY
    assert result.model == "gpt-4o-mini"
    assert result.usage == Usage(prompt_tokens=2, completion_tokens=3)


async def test_chat_sends_bearer_key_and_options(client: NexaiClient, fake: FakeNexai) -> None:
    await client.chat("gpt-4o", HELLO, max_tokens=50, temperature=0.2)
    [request] = fake.calls(CHAT)
    assert request.headers["Authorization"] == f"Bearer {fake.api_key}"
    assert request.json == {
        "model": "gpt-4o",
        "messages": HELLO,
        "max_tokens": 50,
        "temperature": 0.2,
    }


async def test_a_temperature_is_not_sent_to_a_model_that_takes_none(
    client: NexaiClient, fake: FakeNexai
) -> None:
    """gpt-5.x refuses any temperature but its default with 400 (the fake does too)."""
    await client.chat("gpt-5.4-mini", HELLO, max_tokens=50, temperature=0.2)
    [request] = fake.calls(CHAT)
    assert "temperature" not in (request.json or {})


async def test_chat_passes_vision_parts_through(client: NexaiClient, fake: FakeNexai) -> None:
    content = [
        {"type": "text", "text": "what is this"},
        {"type": "image_url", "image_url": {"url": "https://cdn.example/cat.png"}},
    ]
    result = await client.chat("gpt-4o", [{"role": "user", "content": content}])
    assert result.text == DEFAULT_REPLY
    [request] = fake.calls(CHAT)
    assert request.json is not None
    assert request.json["messages"][0]["content"] == content


async def test_stream_reassembles_chunks_and_captures_usage(
    client: NexaiClient, fake: FakeNexai
) -> None:
    fake.chunk_size = 3
    stream = client.stream_chat("gpt-4o", HELLO)
    deltas = await collect(stream)
    assert "".join(deltas) == DEFAULT_REPLY
    assert stream.delivered == len(DEFAULT_REPLY)
    assert stream.usage == Usage(prompt_tokens=2, completion_tokens=3)


async def test_stream_hands_on_the_first_text_alone_then_what_arrived_between_reads(
    client: NexaiClient, fake: FakeNexai
) -> None:
    """Should wake once per read interval, not once per token, after the first text."""
    fake.chunk_size = 1  # 17 events, 20 ms apart: about 0.35 s
    fake.chunk_delay_s = 0.02
    deltas = await collect(client.stream_chat("gpt-4o", HELLO))
    assert deltas[0] == DEFAULT_REPLY[0]
    assert "".join(deltas) == DEFAULT_REPLY
    assert len(deltas) <= 6  # the first, then one piece per 0.1 s read


async def test_stream_asks_for_sse_with_usage(client: NexaiClient, fake: FakeNexai) -> None:
    await collect(client.stream_chat("gpt-4o", HELLO))
    [request] = fake.calls(CHAT)
    assert request.headers["Accept"] == "text/event-stream"
    assert request.json is not None
    assert request.json["stream"] is True
    assert request.json["stream_options"] == {"include_usage": True}


async def test_stream_handles_crlf_and_events_split_across_reads(
    client: NexaiClient, fake: FakeNexai
) -> None:
    fake.line_ending = "\r\n"
    fake.split_writes = True
    stream = client.stream_chat("gpt-4o", HELLO)
    assert "".join(await collect(stream)) == DEFAULT_REPLY
    assert stream.usage == Usage(prompt_tokens=2, completion_tokens=3)


async def test_stream_sends_nothing_until_iterated(client: NexaiClient, fake: FakeNexai) -> None:
    stream = client.stream_chat("gpt-4o", HELLO)
    assert fake.calls(CHAT) == []
    await collect(stream)
    assert len(fake.calls(CHAT)) == 1


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("gpt-5.3-codex", True),
        ("gpt-5.1-codex-mini", True),
        ("GPT-5-CODEX", True),
        ("gpt-4o", False),
        ("DeepSeek-R1", False),
    ],
)
def test_codex_models_use_the_responses_api(model: str, expected: bool) -> None:
    assert uses_responses_api(model) is expected


async def test_codex_chat_goes_to_responses(client: NexaiClient, fake: FakeNexai) -> None:
    result = await client.chat("gpt-5.3-codex", HELLO, max_tokens=100)
    assert result.text == DEFAULT_REPLY
    reasoning_tokens = count_tokens(DEFAULT_REASONING)  # hidden, but billed as output
    assert result.usage == Usage(prompt_tokens=2, completion_tokens=3 + reasoning_tokens)
    assert fake.calls(CHAT) == []
    [request] = fake.calls(RESPONSES)
    assert request.json is not None
    assert request.json["max_output_tokens"] == 100


async def test_codex_messages_become_responses_input(client: NexaiClient, fake: FakeNexai) -> None:
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": [{"type": "text", "text": "hello"}]},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "and this?"},
                {"type": "image_url", "image_url": {"url": "https://x/y.png"}},
            ],
        },
    ]
    await client.chat("gpt-5.1-codex-mini", messages)
    [request] = fake.calls(RESPONSES)
    assert request.json is not None
    assert request.json["instructions"] == "Be brief."
    assert request.json["input"] == [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": [{"type": "output_text", "text": "hello"}]},
        {
            "role": "user",
            "content": [
                {"type": "input_text", "text": "and this?"},
                {"type": "input_image", "image_url": "https://x/y.png"},
            ],
        },
    ]


async def test_codex_stream_reads_responses_events(client: NexaiClient, fake: FakeNexai) -> None:
    stream = client.stream_chat("gpt-5.3-codex", HELLO)
    assert "".join(await collect(stream)) == DEFAULT_REPLY
    reasoning_tokens = count_tokens(DEFAULT_REASONING)
    assert stream.usage == Usage(prompt_tokens=2, completion_tokens=3 + reasoning_tokens)
    [request] = fake.calls(RESPONSES)
    assert request.json is not None
    assert request.json["stream"] is True


async def test_reasoning_content_deltas_are_hidden(client: NexaiClient) -> None:
    stream = client.stream_chat("DeepSeek-R1", HELLO)
    assert "".join(await collect(stream)) == DEFAULT_REPLY


async def test_think_block_is_hidden_from_stream(client: NexaiClient, fake: FakeNexai) -> None:
    fake.chunk_size = 3
    fake.enqueue(CHAT, Reply("<think>secret plan</think>\n\nThe answer."))
    stream = client.stream_chat("grok-4-fast-reasoning", HELLO)
    assert "".join(await collect(stream)) == "The answer."


async def test_think_block_is_hidden_from_chat(client: NexaiClient, fake: FakeNexai) -> None:
    fake.enqueue(CHAT, Reply("<think>secret plan</think>The answer.", reasoning="more"))
    result = await client.chat("DeepSeek-R1", HELLO)
    assert result.text == "The answer."


async def test_generate_images_returns_decoded_pngs(client: NexaiClient, fake: FakeNexai) -> None:
    images = await client.generate_images("gpt-image-2", "a cat", n=2, size="512x512")
    assert images == [tiny_png(), tiny_png()]
    [request] = fake.calls("/images/generations")
    assert request.json == {"model": "gpt-image-2", "prompt": "a cat", "n": 2, "size": "512x512"}


@pytest.mark.parametrize(("fmt", "magic"), [("mp3", b"ID3"), ("wav", b"RIFF")])
async def test_speech_returns_the_audio_bytes(client: NexaiClient, fmt: str, magic: bytes) -> None:
    audio = await client.speech("tts-1", "good morning", voice="alloy", response_format=fmt)
    assert audio.startswith(magic)
    assert audio == speech_audio(len("good morning") / SPEECH_CHARS_PER_S, fmt)


async def test_transcribe_uploads_bytes_as_multipart(client: NexaiClient, fake: FakeNexai) -> None:
    transcript = await client.transcribe(
        "whisper-1", b"OggS1234", filename="voice.ogg", content_type="audio/ogg", language="vi"
    )
    assert transcript.text == "transcript of voice.ogg (8 bytes)"
    [request] = fake.calls(TRANSCRIPTIONS)
    assert request.form == {"model": "whisper-1", "language": "vi"}
    assert request.files == {"file": b"OggS1234"}
    assert request.filenames == {"file": "voice.ogg"}


@pytest.mark.parametrize(
    ("filename", "language", "param"),
    [("voice", None, None), ("voice.txt", None, None), ("voice.ogg", "vie", "language")],
    ids=["no extension", "unknown extension", "not ISO-639-1"],
)
async def test_the_fake_refuses_what_the_real_transcription_endpoint_refuses(
    client: NexaiClient, fake: FakeNexai, filename: str, language: str | None, param: str | None
) -> None:
    """A name without a format the API knows, or a language that is not a two-letter
    ISO-639-1 code: 400 invalid_request_error (OpenAI reference, Create transcription)."""
    with pytest.raises(BadRequestError) as caught:
        await client.transcribe(
            "whisper-1", b"OggS1234", filename=filename, content_type="audio/ogg", language=language
        )
    assert caught.value.status == 400
    assert ("Invalid language" if param else "Invalid file format") in caught.value.message
    [request] = fake.calls(TRANSCRIPTIONS)
    assert request.form is not None and request.form.get("language") == language


async def test_transcribe_streams_an_async_iterable_of_unknown_size_chunked(
    client: NexaiClient, fake: FakeNexai
) -> None:
    """The fallback when no size is known, for front ends that accept chunked uploads."""
    fake.require_content_length = False

    async def audio() -> AsyncIterator[bytes]:
        for index in range(4):
            yield bytes([index]) * 1000

    transcript = await client.transcribe(
        "whisper-1", audio(), filename="memo.mp3", content_type="audio/mpeg"
    )
    assert transcript.text == "transcript of memo.mp3 (4000 bytes)"
    [request] = fake.calls(TRANSCRIPTIONS)
    assert request.headers.get("Transfer-Encoding") == "chunked"
    assert request.files["file"] == b"".join(bytes([i]) * 1000 for i in range(4))


async def test_transcribe_over_the_servers_limit_is_413(
    client: NexaiClient, fake: FakeNexai
) -> None:
    fake.max_upload_bytes = 1000

    async def audio() -> AsyncIterator[bytes]:
        yield b"x" * 1500

    with pytest.raises(BadRequestError) as caught:
        await client.transcribe(
            "whisper-1", audio(), filename="a.wav", content_type="audio/wav", size=1500
        )
    assert caught.value.status == 413


async def chunks_of(data: bytes, size: int = 1000) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


AUDIO = bytes(range(256)) * 20  # 5,120 bytes


@pytest.mark.parametrize(
    ("filename", "language"),
    [("memo.mp3", None), ("memo.mp3", "vi"), ('bài hát "số 1" 🎵.mp3', "en")],
)
async def test_a_streamed_upload_of_known_size_declares_its_exact_content_length(
    client: NexaiClient, fake: FakeNexai, filename: str, language: str | None
) -> None:
    """Boundaries, part headers (quoted, non-ASCII names too), fields and file add up to
    the Content-Length: what the server received is exactly what was declared."""
    transcript = await client.transcribe(
        "whisper-1",
        chunks_of(AUDIO),
        filename=filename,
        content_type="audio/mpeg",
        language=language,
        size=len(AUDIO),
    )
    assert transcript.text.endswith(f".mp3 ({len(AUDIO)} bytes)")
    [request] = fake.calls(TRANSCRIPTIONS)
    assert "Transfer-Encoding" not in request.headers
    assert int(request.headers["Content-Length"]) == request.size
    assert request.files == {"file": AUDIO}


async def test_a_streamed_upload_declares_the_length_aiohttp_gives_the_same_bytes(
    client: NexaiClient, fake: FakeNexai
) -> None:
    """Streamed with a size, the body is as long as aiohttp's own multipart of the bytes."""
    for audio in (AUDIO, chunks_of(AUDIO)):
        await client.transcribe(
            "whisper-1",
            audio,
            filename="clip.ogg",
            content_type="audio/ogg",
            language="de",
            size=len(AUDIO),
        )
    whole, streamed = fake.calls(TRANSCRIPTIONS)
    assert streamed.headers["Content-Length"] == whole.headers["Content-Length"]
    assert streamed.size == whole.size


async def test_a_chunked_upload_gets_411_from_a_front_end_that_requires_a_length(
    client: NexaiClient, fake: FakeNexai
) -> None:
    fake.require_content_length = True
    with pytest.raises(NexaiStatusError) as caught:
        await client.transcribe(
            "whisper-1", chunks_of(AUDIO), filename="a.mp3", content_type="audio/mpeg"
        )
    assert caught.value.status == 411
    [request] = fake.calls(TRANSCRIPTIONS)
    assert request.headers.get("Transfer-Encoding") == "chunked"


async def test_whisper_reports_the_billed_seconds_in_its_usage(
    client: NexaiClient, fake: FakeNexai
) -> None:
    fake.transcript_seconds = 12.3
    transcript = await client.transcribe(
        "whisper-1", AUDIO, filename="a.mp3", content_type="audio/mpeg"
    )
    assert (transcript.duration_s, transcript.tokens) == (12.3, None)


async def test_a_token_priced_model_reports_tokens_and_no_duration(
    client: NexaiClient, fake: FakeNexai
) -> None:
    fake.models.append({"id": "gpt-4o-mini-transcribe", "object": "model", "owned_by": "nexai"})
    fake.transcript, fake.transcript_seconds = "one two three", 2.0
    transcript = await client.transcribe(
        "gpt-4o-mini-transcribe", AUDIO, filename="a.mp3", content_type="audio/mpeg"
    )
    # The fake's rule: 10 audio tokens a second in, a token a word out.
    assert (transcript.text, transcript.duration_s, transcript.tokens) == (
        "one two three",
        None,
        23,
    )


@pytest.mark.parametrize(
    ("answer", "seconds", "tokens", "language"),
    [
        ({"text": "hi", "usage": {"type": "duration", "seconds": 9}}, 9.0, None, None),
        (
            {
                "text": "hi",
                "usage": {
                    "type": "tokens",
                    "input_tokens": 14,
                    "input_token_details": {"text_tokens": 0, "audio_tokens": 14},
                    "output_tokens": 45,
                    "total_tokens": 59,
                },
            },
            None,
            59,
            None,
        ),
        (  # verbose_json (whisper only): the exact duration, the language by name
            {
                "task": "transcribe",
                "language": "english",
                "duration": 8.47,
                "text": "hi",
                "segments": [],
                "usage": {"type": "duration", "seconds": 9},
            },
            9.0,
            None,
            "english",
        ),
        ({"text": "hi", "duration": 8.47, "language": "english"}, 8.47, None, "english"),
        ({"text": "hi"}, None, None, None),
        ({"text": "hi", "usage": {"type": "duration", "seconds": "9"}}, None, None, None),
    ],
    ids=["whisper json", "gpt-4o json", "verbose json", "verbose without usage", "bare", "odd"],
)
def test_a_transcription_answer_gives_the_billed_seconds_or_tokens(
    answer: dict[str, Any], seconds: float | None, tokens: int | None, language: str | None
) -> None:
    transcript = parse_transcript(answer)
    assert (transcript.duration_s, transcript.tokens, transcript.language) == (
        seconds,
        tokens,
        language,
    )


async def test_transcribe_refuses_bytes_over_50_mb_without_uploading(
    client: NexaiClient, fake: FakeNexai
) -> None:
    too_big = bytes(50 * 1024 * 1024 + 1)
    with pytest.raises(BadRequestError) as caught:
        await client.transcribe("whisper-1", too_big, filename="a.wav", content_type="audio/wav")
    assert caught.value.status == 413
    assert fake.calls(TRANSCRIPTIONS) == []


async def test_transcribe_from_an_iterable_is_not_retried(
    client: NexaiClient, fake: FakeNexai
) -> None:
    fake.enqueue(TRANSCRIPTIONS, Error(500))

    async def audio() -> AsyncIterator[bytes]:
        yield b"abc"

    with pytest.raises(ServerError):
        await client.transcribe("whisper-1", audio(), filename="a.ogg", content_type="audio/ogg")
    assert len(fake.calls(TRANSCRIPTIONS)) == 1


# -- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (402, PaymentRequiredError),
        (403, PermissionDeniedError),
        (404, BadRequestError),
        (413, BadRequestError),
        (422, BadRequestError),
        (429, RateLimitError),
        (500, ServerError),
        (503, ServerError),
    ],
)
async def test_each_status_raises_its_error_class(
    session: aiohttp.ClientSession,
    fake: FakeNexai,
    status: int,
    error_class: type[NexaiStatusError],
) -> None:
    client = make_client(session, fake, max_retries=0)
    fake.enqueue(CHAT, Error(status, message="nope"))
    with pytest.raises(error_class) as caught:
        await client.chat("gpt-4o", HELLO)
    assert caught.value.status == status
    assert caught.value.message == "nope"


async def test_error_code_comes_from_the_openai_error_body(
    client: NexaiClient, fake: FakeNexai
) -> None:
    body = b'{"error": {"message": "Not enough credits", "type": "billing", "code": "no_credit"}}'
    fake.enqueue(CHAT, Error(402, body=body))
    with pytest.raises(PaymentRequiredError) as caught:
        await client.chat("gpt-4o", HELLO)
    assert (caught.value.message, caught.value.code) == ("Not enough credits", "no_credit")


async def test_non_json_error_body_becomes_the_message(
    client: NexaiClient, fake: FakeNexai
) -> None:
    fake.enqueue(CHAT, Error(403, body=b"<html>Forbidden by gateway</html>"))
    with pytest.raises(PermissionDeniedError) as caught:
        await client.chat("gpt-4o", HELLO)
    assert "Forbidden by gateway" in str(caught.value)


async def test_wrong_key_is_redacted_from_the_echoed_error(
    session: aiohttp.ClientSession, fake: FakeNexai
) -> None:
    secret = "sk-billing-SECRET-do-not-print"
    client = make_client(session, fake, api_key=secret)
    with pytest.raises(AuthenticationError) as caught:
        await client.list_models()
    assert "SECRET" not in str(caught.value)
    assert "SECRET" not in repr(caught.value)
    assert len(fake.requests) == 1


async def test_key_of_any_shape_is_redacted_from_error_bodies(
    session: aiohttp.ClientSession,
) -> None:
    secret = "plainsecretvalue42"
    async with FakeNexai(api_key=secret) as fake:
        client = make_client(session, fake)
        body = f'{{"error": {{"message": "bad header Authorization: {secret}"}}}}'.encode()
        fake.enqueue(CHAT, Error(400, body=body))
        with pytest.raises(BadRequestError) as caught:
            await client.chat("gpt-4o", HELLO)
    assert secret not in str(caught.value)
    assert secret not in repr(caught.value.args)


async def test_malformed_json_raises_malformed_response_error(
    client: NexaiClient, fake: FakeNexai
) -> None:
    fake.enqueue(CHAT, Malformed())
    with pytest.raises(MalformedResponseError):
        await client.chat("gpt-4o", HELLO)
    assert len(fake.calls(CHAT)) == 1


async def test_malformed_stream_raises_malformed_response_error(
    client: NexaiClient, fake: FakeNexai
) -> None:
    fake.enqueue(CHAT, Malformed())
    with pytest.raises(MalformedResponseError):
        await collect(client.stream_chat("gpt-4o", HELLO))


async def test_speech_answering_html_is_malformed(client: NexaiClient, fake: FakeNexai) -> None:
    fake.enqueue("/audio/speech", Malformed())
    with pytest.raises(MalformedResponseError):
        await client.speech("tts-1", "hi", voice="alloy")


# -- retries -----------------------------------------------------------------------------------


async def test_429_with_retry_after_is_retried_then_succeeds(
    client: NexaiClient, fake: FakeNexai
) -> None:
    fake.enqueue(CHAT, Error(429, retry_after="0"))
    result = await client.chat("gpt-4o", HELLO)
    assert result.text == DEFAULT_REPLY
    assert len(fake.calls(CHAT)) == 2


async def test_retry_after_is_waited_out_before_retrying(
    client: NexaiClient, fake: FakeNexai
) -> None:
    fake.enqueue(CHAT, Error(429, retry_after="0.3"))
    started = time.monotonic()
    await client.chat("gpt-4o", HELLO)
    assert time.monotonic() - started >= 0.3


async def test_500_every_time_raises_server_error_after_max_retries(
    session: aiohttp.ClientSession, fake: FakeNexai
) -> None:
    client = make_client(session, fake, max_retries=3)
    fake.enqueue(CHAT, *[Error(500)] * 10)
    with pytest.raises(ServerError):
        await client.chat("gpt-4o", HELLO)
    assert len(fake.calls(CHAT)) == 4


@pytest.mark.parametrize("status", [400, 401, 402, 403])
async def test_client_errors_are_not_retried(
    client: NexaiClient, fake: FakeNexai, status: int
) -> None:
    fake.enqueue(CHAT, Error(status))
    with pytest.raises(NexaiStatusError):
        await client.chat("gpt-4o", HELLO)
    assert len(fake.calls(CHAT)) == 1


async def test_retry_after_beyond_max_wait_raises_rate_limit_at_once(
    client: NexaiClient, fake: FakeNexai
) -> None:
    fake.enqueue(CHAT, Error(429, retry_after="120"))
    started = time.monotonic()
    with pytest.raises(RateLimitError) as caught:
        await client.chat("gpt-4o", HELLO)
    assert caught.value.retry_after == 120
    assert time.monotonic() - started < 1
    assert len(fake.calls(CHAT)) == 1


async def test_429_every_time_raises_rate_limit_with_its_hint(
    client: NexaiClient, fake: FakeNexai
) -> None:
    fake.enqueue(CHAT, *[Error(429, retry_after="0.01")] * 3)
    with pytest.raises(RateLimitError) as caught:
        await client.chat("gpt-4o", HELLO)
    assert caught.value.retry_after == pytest.approx(0.01)
    assert len(fake.calls(CHAT)) == 3


async def test_hanging_server_raises_timeout_without_a_retry_that_could_bill_twice(
    session: aiohttp.ClientSession, fake: FakeNexai
) -> None:
    client = make_client(session, fake, max_retries=2, **TINY_TIMEOUTS)
    fake.enqueue(CHAT, Hang(), Hang())
    with pytest.raises(NexaiTimeoutError):
        await client.chat("gpt-4o", HELLO)
    assert len(fake.calls(CHAT)) == 1


async def test_stream_without_a_first_byte_times_out(
    session: aiohttp.ClientSession, fake: FakeNexai
) -> None:
    client = make_client(session, fake, max_retries=0, **TINY_TIMEOUTS)
    fake.enqueue(CHAT, Hang())
    with pytest.raises(NexaiTimeoutError):
        await collect(client.stream_chat("gpt-4o", HELLO))


async def test_slow_first_byte_times_out_once_and_is_not_retried(
    session: aiohttp.ClientSession, fake: FakeNexai
) -> None:
    client = make_client(session, fake, **TINY_TIMEOUTS)
    fake.enqueue(CHAT, SlowFirstByte(1.0))
    with pytest.raises(NexaiTimeoutError):
        await collect(client.stream_chat("gpt-4o", HELLO))
    assert len(fake.calls(CHAT)) == 1


async def test_stream_error_before_any_text_is_retried(
    client: NexaiClient, fake: FakeNexai
) -> None:
    fake.enqueue(CHAT, Error(502))
    stream = client.stream_chat("gpt-4o", HELLO)
    assert "".join(await collect(stream)) == DEFAULT_REPLY
    assert len(fake.calls(CHAT)) == 2


async def test_cut_off_stream_raises_interrupted_with_partial_text_and_no_retry(
    client: NexaiClient, fake: FakeNexai
) -> None:
    fake.chunk_size = 4
    fake.enqueue(CHAT, CutOff(after_chars=10))
    stream = client.stream_chat("gpt-4o", HELLO)
    text, error = await interrupted(stream)
    assert text == DEFAULT_REPLY[:10]
    assert error.delivered == stream.delivered == 10
    assert len(fake.calls(CHAT)) == 1


async def test_stream_stalling_after_text_raises_interrupted(
    session: aiohttp.ClientSession, fake: FakeNexai
) -> None:
    client = make_client(session, fake, **{**TINY_TIMEOUTS, "total_timeout_s": 5.0})
    fake.enqueue(CHAT, Stall(after_chars=5))
    text, error = await interrupted(client.stream_chat("gpt-4o", HELLO))
    assert (text, error.delivered) == (DEFAULT_REPLY[:5], 5)
    assert len(fake.calls(CHAT)) == 1


async def test_garbage_chunk_after_text_raises_interrupted(
    client: NexaiClient, fake: FakeNexai
) -> None:
    fake.enqueue(RESPONSES, Malformed(after_chars=8))
    text, error = await interrupted(client.stream_chat("gpt-5.3-codex", HELLO))
    assert (text, error.delivered) == (DEFAULT_REPLY[:8], 8)


async def test_plain_answer_cut_off_after_a_2xx_began_is_not_retried(
    client: NexaiClient, fake: FakeNexai
) -> None:
    fake.enqueue(CHAT, CutOff(after_chars=10))
    with pytest.raises(NexaiConnectionError) as caught:
        await client.chat("gpt-4o", HELLO)
    assert caught.value.answered
    assert len(fake.calls(CHAT)) == 1


async def test_connection_refused_is_retried(session: aiohttp.ClientSession) -> None:
    client = NexaiClient(session, "http://127.0.0.1:9/api/v1", "sk-x", backoff_base_s=0.01)
    with pytest.raises(NexaiConnectionError) as caught:
        await client.chat("gpt-4o", HELLO)
    assert not caught.value.answered


# -- connections and logs ----------------------------------------------------------------------


async def test_retries_leave_no_connection_acquired(
    session: aiohttp.ClientSession, fake: FakeNexai
) -> None:
    client = make_client(session, fake, max_retries=4, **TINY_TIMEOUTS)
    fake.enqueue(CHAT, Error(500), Error(429, retry_after="0"), Error(503), Error(502))
    await client.chat("gpt-4o", HELLO)
    assert len(fake.calls(CHAT)) == 5
    assert acquired(session) == 0
    fake.enqueue(CHAT, CutOff(3))
    with pytest.raises(NexaiConnectionError):
        await client.chat("gpt-4o", HELLO)
    fake.enqueue(CHAT, Hang())
    with pytest.raises(NexaiTimeoutError):
        await client.chat("gpt-4o", HELLO)
    assert acquired(session) == 0


async def test_aclose_releases_the_connection_of_an_abandoned_stream(
    client: NexaiClient, fake: FakeNexai, session: aiohttp.ClientSession
) -> None:
    fake.reply = "word " * 200
    fake.chunk_delay_s = 0.01
    stream = client.stream_chat("gpt-4o", HELLO)
    first = await anext(aiter(stream))
    assert first
    assert acquired(session) == 1
    await stream.aclose()
    assert acquired(session) == 0


async def test_debug_log_has_call_details_but_no_key_or_content(
    client: NexaiClient, fake: FakeNexai, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot.nexai")
    await client.chat("gpt-4o", [{"role": "user", "content": "my private question"}])
    [line] = [r.getMessage() for r in caplog.records if r.name.startswith("bot.nexai.")]
    assert "POST /chat/completions" in line
    assert "model=gpt-4o" in line
    assert "status=200" in line
    assert "prompt_tokens=3 completion_tokens=3" in line
    assert fake.api_key not in caplog.text
    assert "private" not in caplog.text
    assert DEFAULT_REPLY not in caplog.text


async def test_a_timed_out_image_generation_is_not_retried_so_it_is_not_billed_twice(
    session: aiohttp.ClientSession, fake: FakeNexai
) -> None:
    client = make_client(session, fake, max_retries=2, **TINY_TIMEOUTS)
    fake.enqueue("/images/generations", Hang(), Hang(), Hang())
    with pytest.raises(NexaiTimeoutError):
        await client.generate_images("gpt-image-2", "a cat")
    assert len(fake.calls("/images/generations")) == 1


async def test_a_failed_image_generation_is_still_retried(
    session: aiohttp.ClientSession, fake: FakeNexai
) -> None:
    client = make_client(session, fake, max_retries=2)
    fake.enqueue("/images/generations", Error(500))
    assert len(await client.generate_images("gpt-image-2", "a cat")) == 1
    assert len(fake.calls("/images/generations")) == 2


async def test_stream_reads_the_usage_chunk_that_comes_after_the_finish_reason(
    client: NexaiClient, fake: FakeNexai
) -> None:
    """The usage comes in its own last chunk (`choices: []`) after the one that carries the
    `finish_reason`; a read that ends with the finish must not end the stream's reading."""
    fake.chunk_delay_s = 0.15  # every event in a read of its own
    stream = client.stream_chat("gpt-4o", HELLO)
    assert "".join(await collect(stream)) == DEFAULT_REPLY
    assert stream.finish_reason == "stop"
    assert stream.usage == Usage(prompt_tokens=2, completion_tokens=3)
