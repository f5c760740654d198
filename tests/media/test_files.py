"""bot.media.files: what counts as audio, file names from text, long text as a file, size checks."""

from __future__ import annotations

import pytest

from bot.interactions.replies import error_message
from bot.media.files import (
    MAX_AUDIO_BYTES,
    MAX_REQUEST_BYTES,
    AudioFile,
    AudioTooLarge,
    BadLanguage,
    EmptyText,
    NotAudio,
    NotOffered,
    OutFile,
    TextTooLong,
    UploadTooLarge,
    check_audio,
    check_speech_text,
    check_upload,
    estimate_audio_seconds,
    fit_message,
    is_audio,
    may_be_audio,
    megabytes,
    normalise_language,
    require_offered,
    slug,
    sniff_audio,
    text_reply,
    upload_content_type,
    upload_format,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello, world!", "hello-world"),
        ("  Xin chào các bạn, đây là Đà Nẵng  ", "xin-chao-cac-ban-day-la-da-nang"),
        (
            "The quick brown fox jumps over the lazy dog again",
            "the-quick-brown-fox-jumps-over-the-lazy",
        ),
        ("a" * 100, "a" * 40),
        ("../../etc/passwd", "etc-passwd"),
        ("你好", "file"),
        ("", "file"),
    ],
)
def test_slug_is_the_start_of_the_text_in_safe_words(text: str, expected: str) -> None:
    assert slug(text) == expected


def test_slug_uses_the_fallback_when_nothing_is_left() -> None:
    assert slug("!!!", fallback="speech") == "speech"


@pytest.mark.parametrize(
    ("filename", "content_type", "expected"),
    [
        ("voice-message.ogg", "audio/ogg", True),
        ("clip.mp4", "video/mp4", True),
        ("a.ogg", "application/ogg", True),
        ("talk.mp3", "audio/mpeg; charset=binary", True),
        ("memo.M4A", None, True),
        ("memo.m4a", "application/octet-stream", True),
        ("notes.pdf", "application/pdf", False),
        ("song.mp3", "text/plain", False),  # a specific, non-audio type wins
        ("readme", None, False),
        ("photo.png", "image/png", False),
    ],
)
def test_audio_is_judged_by_content_type_then_extension(
    filename: str, content_type: str | None, expected: bool
) -> None:
    assert is_audio(filename, content_type) is expected


def test_check_audio_refuses_big_files_and_names_both_sizes() -> None:
    with pytest.raises(AudioTooLarge) as caught:
        check_audio(AudioFile("u", "big.wav", MAX_AUDIO_BYTES + 1, "audio/wav"))
    assert str(caught.value) == (
        "That file is too large (50.1 MB); I can transcribe files up to 50 MB."
    )
    check_audio(AudioFile("u", "ok.wav", MAX_AUDIO_BYTES, "audio/wav"))


def test_check_audio_refuses_other_files_by_name() -> None:
    with pytest.raises(NotAudio, match=r"`notes\.pdf`"):
        check_audio(AudioFile("u", "notes.pdf", 10, "application/pdf"))


def test_media_errors_speak_vietnamese() -> None:
    error = AudioTooLarge(size="60", limit="50")
    assert (
        error_message(error, "vi")
        == "Tệp quá lớn (60 MB); mình chỉ chép lời được tệp tối đa 50 MB."
    )
    assert error_message(error, "en-US").startswith("That file is too large (60 MB)")


@pytest.mark.parametrize(
    ("audio", "seconds"),
    [
        (AudioFile("u", "voice.ogg", 50_000, "audio/ogg", duration_s=12.345), 12.35),
        (AudioFile("u", "talk.mp3", 160_000, "audio/mpeg"), 10.0),
        (AudioFile("u", "talk.wav", 882_000, "audio/wav"), 10.0),
        (AudioFile("u", "tiny.mp3", 10, "audio/mpeg"), 1.0),
        (AudioFile("u", "odd.ogg", 32_000, "audio/ogg", duration_s=0.0), 2.0),
    ],
)
def test_audio_seconds_come_from_discord_else_from_the_size(
    audio: AudioFile, seconds: float
) -> None:
    assert estimate_audio_seconds(audio) == seconds


def test_upload_content_type_prefers_a_specific_type_then_the_extension() -> None:
    assert upload_content_type("a.ogg", "audio/ogg; codecs=opus") == "audio/ogg"
    assert upload_content_type("a.mp3", "application/octet-stream") == "audio/mpeg"
    assert upload_content_type("a.unknown", None) == "application/octet-stream"


@pytest.mark.parametrize(
    ("given", "code"), [(None, None), ("  ", None), ("VI", "vi"), (" en ", "en")]
)
def test_languages_are_lowercase_codes(given: str | None, code: str | None) -> None:
    assert normalise_language(given) == code


@pytest.mark.parametrize("given", ["english", "e", "en-US", "12", "haw"])
def test_anything_else_is_not_a_language_code(given: str) -> None:
    with pytest.raises(BadLanguage):
        normalise_language(given)


def test_speech_text_must_be_1_to_4096_visible_characters() -> None:
    check_speech_text("x" * 4096)
    with pytest.raises(TextTooLong, match="4097 characters long; I can read at most 4096"):
        check_speech_text("x" * 4097)
    with pytest.raises(EmptyText):
        check_speech_text(" \n ")


def test_only_offered_values_pass() -> None:
    require_offered("nova", ["alloy", "nova"])
    with pytest.raises(NotOffered, match="Pick one of: `alloy`, `nova`"):
        require_offered("darth", ["alloy", "nova"])


def test_short_text_is_one_message() -> None:
    reply = text_reply("hi", filename="t.txt", long_note="NOTE", header="> ")
    assert reply.content == "> hi" and reply.files == ()


def test_exactly_2000_characters_still_fit_one_message() -> None:
    reply = text_reply("y" * 1998, filename="t.txt", long_note="NOTE", header="> ")
    assert len(reply.content) == 2000 and reply.files == ()


def test_long_text_becomes_a_preview_a_note_and_a_txt_file() -> None:
    text = "word " * 1000
    reply = text_reply(text, filename="talk-transcript.txt", long_note="NOTE", header="H\n")
    assert len(reply.content) <= 2000
    assert reply.content.startswith("H\nword word") and reply.content.endswith("…\n\nNOTE")
    assert reply.files == (OutFile("talk-transcript.txt", text.encode()),)


def test_empty_text_says_so() -> None:
    reply = text_reply("  ", filename="t.txt", long_note="NOTE", empty="(nothing)")
    assert reply.content == "(nothing)" and reply.files == ()


def test_fit_message_cuts_the_text_not_the_label() -> None:
    assert fit_message("L: ", "short") == "L: short"
    long = fit_message("L: ", "z" * 3000)
    assert len(long) == 2000 and long.startswith("L: zz") and long.endswith("z…")


def test_uploads_over_the_file_limit_or_the_request_limit_are_refused() -> None:
    check_upload([OutFile("a", b"x" * 100)], limit_bytes=100)
    with pytest.raises(UploadTooLarge):
        check_upload([OutFile("a", b"x" * 101)], limit_bytes=100)
    quarter = OutFile("q.png", bytes(MAX_REQUEST_BYTES // 4 + 1))
    with pytest.raises(UploadTooLarge):
        check_upload([quarter] * 4, limit_bytes=MAX_REQUEST_BYTES)


@pytest.mark.parametrize(
    ("size", "round_up", "text"),
    [(10 * 2**20, False, "10"), (50 * 2**20 + 1, True, "50.1"), (2**20 // 2, True, "0.5")],
)
def test_megabytes_for_people(size: int, round_up: bool, text: str) -> None:
    assert megabytes(size, round_up=round_up) == text


# -- audio recognised by its bytes ---------------------------------------------------------

OGG = b"OggS\x00\x02" + bytes(10)
M4A = b"\x00\x00\x00\x20ftypM4A \x00\x00\x02\x00"


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (OGG, ("ogg", "audio/ogg")),
        (b"RIFF\x24\x08\x00\x00WAVEfmt ", ("wav", "audio/wav")),
        (b"ID3\x04\x00\x00\x00\x00\x00\x00", ("mp3", "audio/mpeg")),
        (b"\xff\xfb\x90\x64\x00\x00", ("mp3", "audio/mpeg")),  # a frame, no ID3 tag
        (b"fLaC\x00\x00\x00\x22", ("flac", "audio/flac")),
        (M4A, ("m4a", "audio/mp4")),
        (b"\x00\x00\x00\x18ftypmp42\x00\x00", ("mp4", "video/mp4")),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81", ("webm", "video/webm")),
        (b"RIFF\x24\x08\x00\x00WEBPVP8 ", None),  # RIFF, but an image
        (b"\xff\xf1\x50\x80", None),  # AAC in ADTS: frame sync, but layer 0
        (b"\x89PNG\r\n\x1a\n", None),
        (b"just text", None),
        (b"", None),
    ],
)
def test_audio_and_video_are_recognised_by_their_first_bytes(
    head: bytes, expected: tuple[str, str] | None
) -> None:
    assert sniff_audio(head) == expected


@pytest.mark.parametrize(
    ("filename", "content_type", "maybe"),
    [
        ("voice.ogg", "application/octet-stream", True),
        ("recording", None, True),
        ("memo.m4a", "video/mp4", True),
        ("cat.png", "image/png", False),
        ("song.mp3", "text/plain", False),  # a specific label that is not audio is believed
    ],
)
def test_only_labels_that_say_nothing_leave_it_to_the_bytes(
    filename: str, content_type: str | None, maybe: bool
) -> None:
    assert may_be_audio(filename, content_type) is maybe


@pytest.mark.parametrize(
    ("filename", "content_type", "head", "upload"),
    [
        ("recording", "application/octet-stream", OGG, ("recording.ogg", "audio/ogg")),
        ("voice.ogg", "application/octet-stream", OGG, ("voice.ogg", "audio/ogg")),
        ("memo.m4a", "video/mp4", M4A, ("memo.m4a", "audio/mp4")),
        ("memo.bin", None, M4A, ("memo.bin.m4a", "audio/mp4")),
        ("talk.aac", "audio/aac", b"\xff\xf1\x50\x80", ("talk.aac", "audio/aac")),
    ],
)
def test_the_upload_is_named_for_what_the_bytes_are(
    filename: str, content_type: str | None, head: bytes, upload: tuple[str, str]
) -> None:
    audio = AudioFile(url="https://cdn/x", filename=filename, size=100, content_type=content_type)
    assert upload_format(audio, head) == upload


def test_a_file_that_neither_labels_nor_bytes_call_audio_is_refused() -> None:
    audio = AudioFile(url="https://cdn/x", filename="notes", size=9, content_type=None)
    with pytest.raises(NotAudio):
        upload_format(audio, b"just text")
