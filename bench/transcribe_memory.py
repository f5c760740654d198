"""Memory of the bot process while it transcribes a large file (45 MiB by default).

    python -m bench.transcribe_memory

The real bot runs alone in its own process (``bench.bot_process``) against the fake Discord
here, which serves the attachment from its CDN, and the fake nexai in its own process, which
receives the upload. /transcribe is invoked ``--runs`` times one after another, then
``--concurrent`` at once, each with a ``--mb`` MiB audio attachment. The bot's RSS is sampled
every 50 ms: its growth over the RSS before the first run shows whether the file passes
through in chunks (growth far below the file size) or is held whole (growth of at least the
file size per file in flight). VmHWM (the kernel's own peak) is reported too.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.harness import Env, Options, environment
from bench.procstat import RssSampler, peak_rss_mib, rss_mib
from bench.report import table
from tests.fakes.discord import FakeAttachment

MIB = 1024 * 1024
SETTLE_S = 1.0
RUN_TIMEOUT_S = 120.0
#: The bot may hold a few download chunks (256 KiB) and upload buffers at once; growth past
#: this share of the file size per file in flight would mean the file is being held whole.
GROWTH_TARGET_SHARE = 0.25


@dataclass
class Run:
    label: str
    files: int
    seconds: float
    before_mib: float
    peak_mib: float
    after_mib: float
    answered: int

    def row(self, file_mib: float, baseline_mib: float) -> list[object]:
        growth = self.peak_mib - baseline_mib
        return [
            self.label,
            self.files,
            f"{file_mib * self.files:.0f}",
            f"{self.seconds:.1f}",
            f"{self.before_mib:.0f}",
            f"{self.peak_mib:.0f}",
            f"{growth:+.0f}",
            f"{growth / (file_mib * self.files) * 100:.0f}%",
            f"{self.after_mib:.0f}",
            f"{self.answered}/{self.files}",
        ]


def audio_bytes(size: int) -> bytes:
    """An "MP3" of ``size`` bytes: an ID3 header (so it sniffs as audio/mpeg), then zeros."""
    return (b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(size))[:size]


async def transcribe(env: Env, label: str, files: int, data: bytes) -> Run:
    fake = env.fake
    channels = env.take_channels(files)
    answers = fake.watch(channels)
    before = rss_mib(env.bot.pid)
    began = time.perf_counter()
    async with RssSampler(env.bot.pid) as rss:
        for channel in channels:
            attachment = FakeAttachment(f"talk-{channel}.mp3", data, "audio/mpeg")
            await fake.invoke(
                "transcribe", {"audio": attachment}, user_id=env.members[0], channel_id=channel
            )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(fake.all_finished.wait(), RUN_TIMEOUT_S)
    seconds = time.perf_counter() - began
    await asyncio.sleep(SETTLE_S)
    expected = f"({len(data)} bytes)"
    answered = sum(1 for a in answers if a.final is not None and expected in a.final_text)
    for answer in answers:
        if expected not in answer.final_text:
            print(f"# {label}: the bot answered {answer.final_text[:200]!r}", file=sys.stderr)
    return Run(label, files, seconds, before, rss.peak_mib, rss_mib(env.bot.pid), answered)


async def main_async(args: argparse.Namespace) -> None:
    size = int(args.mb * MIB)
    data = audio_bytes(size)
    runs: list[Run] = []
    options = Options(members=1, channels=args.runs + args.concurrent)
    with tempfile.TemporaryDirectory(prefix="nexbot-transcribe-") as tmp:
        workdir = Path(args.keep_logs or tmp)
        async with environment("nexbot", options, workdir) as env:
            await asyncio.sleep(SETTLE_S)
            baseline = rss_mib(env.bot.pid)
            for i in range(args.runs):
                runs.append(await transcribe(env, f"one at a time #{i + 1}", 1, data))
            if args.concurrent:
                runs.append(await transcribe(env, "at once", args.concurrent, data))
            hwm = peak_rss_mib(env.bot.pid)
    headers = [
        "run",
        "files",
        "MiB in",
        "seconds",
        "RSS before MiB",
        "peak RSS MiB",
        "growth MiB",
        "growth / MiB in",
        "RSS after MiB",
        "transcribed",
    ]
    print(f"/transcribe of {args.mb:g} MiB files; bot RSS at rest {baseline:.0f} MiB\n")
    print(table(headers, [run.row(args.mb, baseline) for run in runs]))
    print(f"\nVmHWM (the bot process's peak RSS, start-up included): {hwm:.0f} MiB")
    worst = max((r.peak_mib - baseline) / (args.mb * r.files) for r in runs)
    ok = worst < GROWTH_TARGET_SHARE and all(r.answered == r.files for r in runs)
    print(
        f"- growth per MiB transcribed at most {worst * 100:.0f}% (streamed if well under"
        f" {GROWTH_TARGET_SHARE * 100:.0f}%), every file transcribed: {'met' if ok else 'MISSED'}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.transcribe_memory", description=__doc__)
    parser.add_argument("--mb", type=float, default=45.0, help="the file size, in MiB")
    parser.add_argument("--runs", type=int, default=3, help="files one after another")
    parser.add_argument("--concurrent", type=int, default=2, help="then this many at once")
    parser.add_argument("--keep-logs", help="keep the bot's log and database in this folder")
    args = parser.parse_args(argv)
    if args.keep_logs:
        Path(args.keep_logs).mkdir(parents=True, exist_ok=True)
    asyncio.run(main_async(args))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
