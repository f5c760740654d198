"""/transcribe and the "Transcribe" message menu end to end, through both fakes."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import pytest

from bot.media.files import MAX_AUDIO_BYTES
from tests.e2e.conftest import BotEnv, bot_env
from tests.e2e.media_support import pings_nobody, usage_rows, voice_attachment
from tests.fakes.discord import IS_VOICE_MESSAGE, FakeAttachment, FakeInteraction
from tests.fakes.nexai import Error

pytestmark = pytest.mark.asyncio(loop_scope="module")

TRANSCRIPTIONS = "/audio/transcriptions"
MP3 = b"ID3\x04\x00" + bytes(2_995)  # 3,000 bytes
OGG = b"OggS\x00\x02" + bytes(994)
M4A = b"\x00\x00\x00\x20ftypM4A " + bytes(988)
WEBM = b"\x1a\x45\xdf\xa3" + bytes(996)


async def answered_with_error(inter: FakeInteraction) -> FakeInteraction:
    """Wait for an immediate reply, or for the follow-up that replaced "thinking…"."""
    return await inter.wait_done(lambda i: bool(i.followups) or (i.done and not i.deferred))


def cdn_gets(env: BotEnv, attachment: FakeAttachment) -> int:
    path = urlparse(attachment.url).path
    return env.discord.requests.count(("GET", path))


async def test_the_transcript_arrives_as_text_and_the_file_was_streamed_with_its_length(
    env: BotEnv,
) -> None:
    """Streamed from Discord to the API, declaring its length up front as the SDK does: a
    front end that refuses chunked uploads (411, on in the fake) takes it."""
    env.api.require_content_length = True
    member = env.discord.add_member(name="minute-taker")
    audio = FakeAttachment("meeting.mp3", MP3, content_type="audio/mpeg")
    inter = await env.discord.invoke("transcribe", {"audio": audio}, user_id=member)
    await inter.wait_done()
    assert inter.response_type == 5
    assert inter.original is not None and not inter.original.ephemeral
    assert inter.original.content == "transcript of meeting.mp3 (3000 bytes)"
    assert pings_nobody(inter.original)
    upload = env.api.calls(TRANSCRIPTIONS)[-1]
    assert upload.files["file"] == MP3 and upload.filenames["file"] == "meeting.mp3"
    assert upload.form == {"model": "whisper-1"}
    assert "Transfer-Encoding" not in upload.headers
    assert int(upload.headers["Content-Length"]) == upload.size  # every byte declared arrived
    assert cdn_gets(env, audio) == 1
    rows = await usage_rows(env, member)
    assert [(r.feature, r.units, r.outcome, r.model) for r in rows] == [
        ("transcribe", 0.19, "ok", "whisper-1")  # the seconds whisper reported
    ]


async def test_the_charge_settles_to_the_seconds_whisper_reports_in_its_usage(
    env: BotEnv,
) -> None:
    """whisper's json answer carries `usage: {"type": "duration", "seconds"}` (and no
    top-level duration); the reservation (Discord's 30 s here) settles to those seconds."""
    member = env.discord.add_member(name="podcaster")
    env.api.transcript_seconds = 42.5
    audio = FakeAttachment("episode.mp3", MP3, content_type="audio/mpeg", duration_secs=30.0)
    await (await env.discord.invoke("transcribe", {"audio": audio}, user_id=member)).wait_done()
    assert [(r.units, r.outcome) for r in await usage_rows(env, member)] == [(42.5, "ok")]


async def test_a_token_priced_model_keeps_the_estimate_and_records_its_tokens(
    tmp_path: Path,
) -> None:
    """gpt-4o-*-transcribe report token usage and no duration: the ledger keeps Discord's
    duration as the units and records the tokens."""
    async with bot_env(tmp_path / "bot.db", transcribe_model="gpt-4o-mini-transcribe") as env:
        env.api.models.append({"id": "gpt-4o-mini-transcribe", "object": "model"})
        env.api.transcript, env.api.transcript_seconds = "hello there", 7.5
        member = env.discord.add_member(name="modern")
        audio = FakeAttachment("memo.ogg", MP3, content_type="audio/ogg", duration_secs=7.25)
        inter = await env.discord.invoke("transcribe", {"audio": audio}, user_id=member)
        await inter.wait_done()
        assert inter.original is not None and inter.original.content == "hello there"
        assert env.api.calls(TRANSCRIPTIONS)[-1].form == {"model": "gpt-4o-mini-transcribe"}
        # The fake's usage: 75 audio tokens in (10 a second), 2 words out.
        assert await ledger_rows(env, member) == [(7.25, 77, "ok")]


async def ledger_rows(env: BotEnv, user_id: int) -> list[tuple[float, int, str]]:
    rows = await env.bot.store.fetch_all(
        "SELECT units, tokens, outcome FROM usage WHERE user_id = ? ORDER BY id", (user_id,)
    )
    return [(units, tokens, outcome) for units, tokens, outcome in rows]


@pytest.mark.parametrize(
    ("served", "locale", "message"),
    [
        (
            MP3[:2_000],
            "en-US",
            "Discord didn't send that file at the size it reported (3000 bytes), so I stopped "
            "before transcribing it and you weren't charged. Please try again, or upload the "
            "file again.",
        ),
        (
            MP3 + bytes(1_000),
            "vi",
            "Discord không gửi tệp đó đúng kích thước đã báo (3000 byte) nên mình đã dừng "
            "trước khi chép lời và bạn không bị tính phí. Vui lòng thử lại hoặc tải tệp lên lại.",
        ),
    ],
    ids=["fewer bytes", "more bytes"],
)
async def test_a_file_discord_serves_at_another_size_than_it_reported_is_not_transcribed(
    env: BotEnv, served: bytes, locale: str, message: str
) -> None:
    """The upload declares Discord's size for the file; bytes that do not add up to it stop
    the transcription with a clear message, and the charge is refunded."""
    member = env.discord.add_member(name="shifty")
    sent = await env.discord.send_message(
        "", user_id=member, attachments=[FakeAttachment("talk.mp3", MP3)]
    )
    env.discord.cdn[urlparse(sent["attachments"][0]["url"]).path] = (served, "audio/mpeg")
    before = len(env.api.calls(TRANSCRIPTIONS))
    inter = await answered_with_error(
        await env.discord.invoke_message_command(
            "Transcribe", int(sent["id"]), user_id=member, locale=locale
        )
    )
    [error] = inter.followups
    assert error.ephemeral and error.content == message
    assert len(env.api.calls(TRANSCRIPTIONS)) == before
    assert [(r.feature, r.outcome) for r in await usage_rows(env, member)] == [
        ("transcribe", "refunded")
    ]


async def test_the_language_goes_to_the_api_as_a_lowercase_code(env: BotEnv) -> None:
    audio = FakeAttachment("chao.mp3", MP3, content_type="audio/mpeg")
    inter = await env.discord.invoke("transcribe", {"audio": audio, "language": "VI"})
    await inter.wait_done()
    assert env.api.calls(TRANSCRIPTIONS)[-1].form == {"model": "whisper-1", "language": "vi"}


async def test_a_language_that_is_not_a_code_is_refused_before_any_upload(env: BotEnv) -> None:
    audio = FakeAttachment("chao.mp3", MP3, content_type="audio/mpeg")
    inter = await env.discord.invoke("transcribe", {"audio": audio, "language": "Vietnamese"})
    await inter.wait_done()
    assert inter.original is not None and inter.original.ephemeral
    assert "`Vietnamese` isn't a language code" in inter.original.content
    assert cdn_gets(env, audio) == 0


async def test_a_long_transcript_comes_with_a_txt_file(env: BotEnv) -> None:
    env.api.transcript = "All work and no play. " * 150  # 3,300 characters
    audio = FakeAttachment("lecture.m4a", MP3, content_type="audio/mp4")
    inter = await env.discord.invoke("transcribe", {"audio": audio})
    await inter.wait_done()
    message = inter.original
    assert message is not None and len(message.content) <= 2000
    assert message.content.startswith("All work and no play.")
    assert message.content.endswith(
        "📄 The transcript is 3300 characters long; the whole text is in the file."
    )
    [text_file] = message.attachments
    assert text_file.filename == "lecture-transcript.txt"
    assert text_file.data == env.api.transcript.encode()


async def test_a_file_over_50_mb_is_refused_before_any_download_or_upload(env: BotEnv) -> None:
    before = len(env.api.calls(TRANSCRIPTIONS))
    audio = FakeAttachment("huge.wav", b"RIFF" + bytes(MAX_AUDIO_BYTES), content_type="audio/wav")
    inter = await env.discord.invoke("transcribe", {"audio": audio})
    await inter.wait_done()
    assert inter.response_type == 4
    assert inter.original is not None and inter.original.ephemeral
    assert inter.original.content == (
        "That file is too large (50.1 MB); I can transcribe files up to 50 MB."
    )
    assert cdn_gets(env, audio) == 0
    assert len(env.api.calls(TRANSCRIPTIONS)) == before


@pytest.mark.parametrize(
    ("filename", "data", "content_type"),
    [
        ("notes.pdf", b"%PDF-1.7 not audio", "application/pdf"),
        ("photo.png", b"\x89PNG\r\n\x1a\n", "image/png"),
        ("readme.txt", b"just text", None),
        ("song.mp3", b"but really text", "text/plain"),
    ],
)
async def test_a_file_that_is_not_audio_or_video_is_refused(
    env: BotEnv, filename: str, data: bytes, content_type: str | None
) -> None:
    audio = FakeAttachment(filename, data, content_type=content_type)
    inter = await env.discord.invoke("transcribe", {"audio": audio})
    await inter.wait_done()
    assert inter.original is not None and inter.original.ephemeral
    assert inter.original.content.startswith(f"`{filename}` isn't an audio or video file.")
    assert cdn_gets(env, audio) == 0


async def test_an_audio_extension_is_enough_when_the_content_type_is_generic(
    env: BotEnv,
) -> None:
    audio = FakeAttachment("memo.m4a", MP3, content_type="application/octet-stream")
    inter = await env.discord.invoke("transcribe", {"audio": audio})
    await inter.wait_done()
    assert inter.original is not None
    assert inter.original.content == "transcript of memo.m4a (3000 bytes)"


async def test_a_file_bigger_than_discord_said_is_stopped_while_downloading(
    env: BotEnv,
) -> None:
    """Discord's size is a claim: the download itself enforces the 50 MB cap."""
    member = env.discord.add_member(name="sneaky")
    sent = await env.discord.send_message(
        "", user_id=member, attachments=[FakeAttachment("small.mp3", MP3)]
    )
    path = urlparse(sent["attachments"][0]["url"]).path
    env.discord.cdn[path] = (b"ID3" + bytes(MAX_AUDIO_BYTES), "audio/mpeg")
    before = len(env.api.calls(TRANSCRIPTIONS))
    inter = await answered_with_error(
        await env.discord.invoke_message_command("Transcribe", int(sent["id"]), user_id=member)
    )
    [error] = inter.followups
    assert error.ephemeral and error.content.startswith("That file is too large (50.1 MB)")
    assert len(env.api.calls(TRANSCRIPTIONS)) == before
    assert [r.outcome for r in await usage_rows(env, member)] == ["refunded"]


async def test_an_api_error_gets_an_ephemeral_message_and_a_refund(env: BotEnv) -> None:
    member = env.discord.add_member(name="unlucky")
    env.api.enqueue(TRANSCRIPTIONS, Error(402))
    audio = FakeAttachment("meeting.mp3", MP3, content_type="audio/mpeg")
    inter = await answered_with_error(
        await env.discord.invoke("transcribe", {"audio": audio}, user_id=member, locale="vi")
    )
    [error] = inter.followups
    assert error.ephemeral and "hết tín dụng" in error.content
    assert inter.original is not None and inter.original.deleted
    assert [(r.feature, r.outcome) for r in await usage_rows(env, member)] == [
        ("transcribe", "refunded")
    ]


# -- the "Transcribe" message menu ---------------------------------------------------------


async def test_the_menu_transcribes_a_voice_message(env: BotEnv) -> None:
    speaker = env.discord.add_member(name="speaker")
    listener = env.discord.add_member(name="listener")
    env.api.transcript_seconds = 3.5
    sent = await env.discord.send_message(
        "", user_id=speaker, attachments=[voice_attachment(seconds=3.25)], flags=IS_VOICE_MESSAGE
    )
    inter = await env.discord.invoke_message_command(
        "Transcribe", int(sent["id"]), user_id=listener
    )
    await inter.wait_done()
    message = inter.original
    assert message is not None and not message.ephemeral
    link = f"https://discord.com/channels/{env.discord.guild_id}/{sent['channel_id']}/{sent['id']}"
    assert message.content == (
        f"📝 Transcript of {link}\ntranscript of voice-message.ogg (2000 bytes)"
    )
    assert pings_nobody(message)
    # The one who asked pays, for the seconds whisper reports.
    assert [(r.feature, r.units, r.outcome) for r in await usage_rows(env, listener)] == [
        ("transcribe", 3.5, "ok")
    ]
    assert await usage_rows(env, speaker) == []


async def test_the_menu_finds_an_audio_file_among_other_attachments(env: BotEnv) -> None:
    sent = await env.discord.send_message(
        "the recording",
        attachments=[
            FakeAttachment("cover.png", b"\x89PNG\r\n\x1a\n"),
            FakeAttachment("take-2.flac", b"fLaC" + bytes(100)),
        ],
    )
    inter = await env.discord.invoke_message_command("Transcribe", int(sent["id"]))
    await inter.wait_done()
    assert inter.original is not None
    assert inter.original.content.endswith("transcript of take-2.flac (104 bytes)")


@pytest.mark.parametrize(
    "attachments",
    [[], [FakeAttachment("cat.png", b"\x89PNG\r\n\x1a\n")]],
    ids=["text only", "image only"],
)
async def test_the_menu_on_a_message_without_audio_says_so_privately(
    env: BotEnv, attachments: list[FakeAttachment]
) -> None:
    before = len(env.api.calls(TRANSCRIPTIONS))
    sent = await env.discord.send_message("no sound here", attachments=attachments)
    inter = await env.discord.invoke_message_command("Transcribe", int(sent["id"]))
    await inter.wait_done()
    assert inter.response_type == 4
    assert inter.original is not None and inter.original.ephemeral
    assert inter.original.content == "That message has no audio attachment to transcribe."
    assert len(env.api.calls(TRANSCRIPTIONS)) == before


async def test_the_menu_reports_an_api_error(env: BotEnv) -> None:
    env.api.enqueue(TRANSCRIPTIONS, Error(429))
    sent = await env.discord.send_message(
        "", attachments=[voice_attachment()], flags=IS_VOICE_MESSAGE
    )
    inter = await answered_with_error(
        await env.discord.invoke_message_command("Transcribe", int(sent["id"]))
    )
    [error] = inter.followups
    assert error.ephemeral
    assert error.content == "nexai is busy right now. Please try again in a minute."


async def test_the_menu_reports_a_file_discord_no_longer_serves(env: BotEnv) -> None:
    sent = await env.discord.send_message("", attachments=[FakeAttachment("gone.mp3", MP3)])
    del env.discord.cdn[urlparse(sent["attachments"][0]["url"]).path]
    inter = await answered_with_error(
        await env.discord.invoke_message_command("Transcribe", int(sent["id"]))
    )
    [error] = inter.followups
    assert error.content == "I couldn't download that file from Discord. Please try again."


# -- files recognised by their bytes ---------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "content_type", "data", "uploaded"),
    [
        ("voice.ogg", "application/octet-stream", OGG, ("voice.ogg", "audio/ogg")),
        ("memo.m4a", "video/mp4", M4A, ("memo.m4a", "audio/mp4")),
        ("recording", "application/octet-stream", OGG, ("recording.ogg", "audio/ogg")),
        ("screen-capture", None, WEBM, ("screen-capture.webm", "video/webm")),
    ],
    ids=["ogg as octet-stream", "m4a as video", "no extension", "no extension nor type"],
)
async def test_the_menu_recognises_a_mislabelled_file_by_its_bytes(
    env: BotEnv, filename: str, content_type: str | None, data: bytes, uploaded: tuple[str, str]
) -> None:
    """The API goes by the upload's name (the fake refuses a name without a known extension,
    as it does): what the bytes are decides the name and type sent."""
    sent = await env.discord.send_message(
        "", attachments=[FakeAttachment(filename, data, content_type=content_type)]
    )
    inter = await env.discord.invoke_message_command("Transcribe", int(sent["id"]))
    await inter.wait_done()
    name, kind = uploaded
    assert inter.original is not None
    assert inter.original.content.endswith(f"transcript of {name} ({len(data)} bytes)")
    upload = env.api.calls(TRANSCRIPTIONS)[-1]
    assert (upload.filenames["file"], upload.file_types["file"]) == (name, kind)
    assert upload.files["file"] == data  # the bytes looked at are sent too, once


async def test_a_file_whose_labels_say_nothing_and_bytes_are_not_audio_is_refused(
    env: BotEnv,
) -> None:
    member = env.discord.add_member(name="hopeful")
    before = len(env.api.calls(TRANSCRIPTIONS))
    audio = FakeAttachment("notes", b"just some text", content_type="application/octet-stream")
    inter = await answered_with_error(
        await env.discord.invoke("transcribe", {"audio": audio}, user_id=member)
    )
    [error] = inter.followups
    assert error.ephemeral and error.content.startswith("`notes` isn't an audio or video file.")
    assert len(env.api.calls(TRANSCRIPTIONS)) == before
    assert [(r.feature, r.outcome) for r in await usage_rows(env, member)] == [
        ("transcribe", "refunded")
    ]
