"""Transcoding speech into a Discord voice message: time, CPU and memory per clip length.

    python -m bench.transcode                 # 1, 2 and 4.5 minutes of speech (~10 s)

Each length runs in a fresh child process: the fake API's mp3 of that length is made first,
then the peak RSS mark is reset (/proc/self/clear_refs) and `transcode_voice` runs, so the
RSS column is what the transcode itself added. A 4,096-character answer is about 4.5 minutes
of speech. Targets: well under a second of CPU per minute of audio, at most +30 MB RSS.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from bot.media.audio import transcode_voice
from tests.fakes.nexai import speech_audio

LENGTHS_MIN = (1.0, 2.0, 4.5)


def _kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def measure(minutes: float) -> dict[str, float]:
    mp3 = speech_audio(minutes * 60, "mp3")
    rss_before = _kib("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
    wall, cpu = time.perf_counter(), time.process_time()
    clip = transcode_voice(mp3)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "minutes": minutes,
        "mp3_kib": len(mp3) / 1024,
        "ogg_kib": len(clip.ogg) / 1024,
        "wall_s": wall,
        "cpu_s": cpu,
        "cpu_s_per_min": cpu / minutes,
        "rss_added_mib": (_kib("VmHWM") - rss_before) / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--one", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(measure(args.one)))
        return
    rows = [
        json.loads(
            subprocess.run(
                [sys.executable, "-m", "bench.transcode", "--one", str(minutes)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )
        for minutes in LENGTHS_MIN
    ]
    print("| speech | mp3 in | voice message out | wall | CPU | CPU per minute | RSS added |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['minutes']:g} min | {row['mp3_kib']:.0f} KiB | {row['ogg_kib']:.0f} KiB"
            f" | {row['wall_s']:.2f} s | {row['cpu_s']:.2f} s | {row['cpu_s_per_min']:.2f} s"
            f" | {row['rss_added_mib']:.1f} MiB |"
        )


if __name__ == "__main__":
    main()
