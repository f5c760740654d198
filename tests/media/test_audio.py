"""Speech as a voice message: Ogg Opus, mono 48 kHz, with a duration and a waveform that match
the audio (decoded by PyAV, from audio the fake API generates)."""

from __future__ import annotations

import base64
import io

import av
import pytest

from bot.media.audio import (
    MAX_WAVEFORM_SAMPLES,
    TranscodeFailed,
    Transcoder,
    transcode_voice,
    waveform_of,
)
from tests.fakes.nexai import speech_audio


def decode(ogg: bytes) -> tuple[str, int, str, float]:
    with av.open(io.BytesIO(ogg), mode="r") as container:
        stream = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(stream))
        return stream.codec_context.name, stream.rate, stream.layout.name, samples / stream.rate


@pytest.mark.parametrize("fmt", ["mp3", "wav"])
def test_speech_becomes_ogg_opus_mono_48k_of_the_same_length(fmt: str) -> None:
    clip = transcode_voice(speech_audio(2.5, fmt))
    assert clip.ogg.startswith(b"OggS")
    codec, rate, layout, seconds = decode(clip.ogg)
    assert (codec, rate, layout) == ("opus", 48_000, "mono")
    assert seconds == pytest.approx(2.5, abs=0.05)
    assert clip.duration_s == pytest.approx(2.5, abs=0.05)


def test_the_waveform_follows_the_loudness_of_the_speech() -> None:
    """The fake speaks louder and softer twice a second: the waveform rises and falls."""
    levels = base64.b64decode(transcode_voice(speech_audio(10, "wav")).waveform)
    assert len(levels) == MAX_WAVEFORM_SAMPLES
    assert max(levels) == 255 and min(levels) < 255 // 3


def test_a_long_clip_has_at_most_256_waveform_samples() -> None:
    peaks = list(range(10_000))
    levels = base64.b64decode(waveform_of(peaks))
    assert len(levels) == 256
    assert list(levels) == sorted(levels) and levels[-1] == 255 and levels[0] < 3


def test_silence_has_a_flat_waveform() -> None:
    assert base64.b64decode(waveform_of([])) == b"\x00"
    assert base64.b64decode(waveform_of([0] * 50)) == bytes(50)


def test_what_is_not_audio_fails_to_transcode() -> None:
    with pytest.raises(TranscodeFailed):
        transcode_voice(b"ID3 this is not an mp3 at all")


async def test_the_transcoder_runs_off_the_event_loop() -> None:
    transcoder = Transcoder(workers=1)
    try:
        clip = await transcoder.voice_clip(speech_audio(1.0, "mp3"))
    finally:
        transcoder.close()
    assert clip.duration_s == pytest.approx(1.0, abs=0.05)
