"""Speech as a Discord voice message: Ogg Opus, mono, 48 kHz, with its duration and waveform.

Discord plays a voice message from one Ogg Opus attachment whose metadata carries
`duration_secs` and a `waveform` (base64 of at most 256 one-byte amplitudes). PyAV (whose
wheels carry FFmpeg) decodes the API's mp3 or wav and encodes Opus; the work runs in a small
thread pool, since FFmpeg releases the GIL, so the event loop never waits on it. PyAV (about
16 MiB of FFmpeg libraries once loaded) is imported by the first transcode, not at start.
"""

from __future__ import annotations

import array
import asyncio
import base64
import io
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import av

OPUS_RATE_HZ = 48_000
#: A speech bitrate: clear voice at about 240 KB a minute.
VOICE_BITRATE = 32_000
#: Discord's waveform holds at most this many amplitude samples.
MAX_WAVEFORM_SAMPLES = 256
#: Transcodes at once; more wait their turn.
TRANSCODE_WORKERS = 2
#: The waveform's peaks are taken over windows this long (20 ms), every n-th sample.
PEAK_WINDOW_SAMPLES = 960
WAVEFORM_STRIDE = 8


@dataclass(frozen=True)
class VoiceClip:
    ogg: bytes
    duration_s: float
    #: base64 of up to 256 amplitudes, 0-255, evenly over the clip.
    waveform: str


class TranscodeFailed(Exception):
    """The audio could not be decoded or encoded; the caller sends the original instead."""


def waveform_of(peaks: list[int], samples: int = MAX_WAVEFORM_SAMPLES) -> str:
    """Peaks (in time order) as Discord's waveform: at most `samples` bytes, the loudest 255."""
    loudest = max(peaks, default=0)
    if loudest == 0:
        return base64.b64encode(bytes(min(samples, max(1, len(peaks))))).decode()
    count = min(samples, len(peaks))
    levels = bytearray()
    for index in range(count):
        start = index * len(peaks) // count
        end = max(start + 1, (index + 1) * len(peaks) // count)
        levels.append(round(255 * max(peaks[start:end]) / loudest))
    return base64.b64encode(bytes(levels)).decode()


def transcode_voice(audio: bytes) -> VoiceClip:
    """`audio` (any format FFmpeg reads) as a voice message clip. Raises TranscodeFailed."""
    import av

    try:
        return _transcode(audio)
    except (av.FFmpegError, IndexError, ValueError) as exc:
        raise TranscodeFailed(str(exc)) from exc


def _transcode(audio: bytes) -> VoiceClip:
    import av

    out = io.BytesIO()
    peaks: list[int] = []
    samples = 0
    resampler = av.AudioResampler(format="s16", layout="mono", rate=OPUS_RATE_HZ)
    with av.open(io.BytesIO(audio), mode="r") as source, av.open(out, "w", format="ogg") as sink:
        stream = sink.add_stream("libopus", rate=OPUS_RATE_HZ, layout="mono")
        stream.bit_rate = VOICE_BITRATE

        def encode(frames: list[av.AudioFrame]) -> None:
            nonlocal samples
            for frame in frames:
                samples += frame.samples
                pcm = array.array("h", bytes(frame.planes[0])[: frame.samples * 2])
                if sys.byteorder == "big":  # s16 is little-endian PCM
                    pcm.byteswap()
                for start in range(0, len(pcm), PEAK_WINDOW_SAMPLES):
                    window = pcm[start : start + PEAK_WINDOW_SAMPLES : WAVEFORM_STRIDE]
                    peaks.append(max(map(abs, window), default=0))
                for packet in stream.encode(frame):
                    sink.mux(packet)

        for frame in source.decode(source.streams.audio[0]):
            encode(resampler.resample(frame))
        encode(resampler.resample(None))
        for packet in stream.encode(None):
            sink.mux(packet)
    if samples == 0:
        raise TranscodeFailed("no audio in the answer")
    return VoiceClip(out.getvalue(), samples / OPUS_RATE_HZ, waveform_of(peaks))


class Transcoder:
    """Runs transcodes in a bounded pool of threads."""

    def __init__(self, workers: int = TRANSCODE_WORKERS) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="transcode")

    async def voice_clip(self, audio: bytes) -> VoiceClip:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, transcode_voice, audio)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
