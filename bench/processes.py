"""Child processes for the benchmarks: start a module, wait for its ready line, stop it."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from pathlib import Path

from bot.ops.tasks import cancel_and_wait

#: discord.py's DEBUG lines can be long; a ready line never is, but the reader must not choke.
STDOUT_LINE_LIMIT = 16 * 1024 * 1024
STOP_TIMEOUT_S = 15.0


class Child:
    """``python -m module args`` with stderr in ``log_path``; ``ready_words`` from its line."""

    def __init__(self, process: asyncio.subprocess.Process, log_path: Path) -> None:
        self.process = process
        self.log_path = log_path
        self.ready_words: list[str] = []
        self._drain: asyncio.Task[None] | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    @classmethod
    async def start(
        cls, module: str, args: list[str], *, log_path: Path, ready: str, timeout_s: float = 30.0
    ) -> Child:
        log = log_path.open("wb")
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                module,
                *args,
                stdout=asyncio.subprocess.PIPE,
                stderr=log,
                limit=STDOUT_LINE_LIMIT,
            )
        finally:
            log.close()
        child = cls(process, log_path)
        try:
            await asyncio.wait_for(child._wait_ready(ready), timeout_s)
        except BaseException:
            await child.stop()
            raise
        return child

    async def _wait_ready(self, ready: str) -> None:
        assert self.process.stdout is not None
        while line := await self.process.stdout.readline():
            words = line.decode(errors="replace").split()
            if words and words[0] == ready:
                self.ready_words = words[1:]
                self._drain = asyncio.create_task(self._drain_stdout())
                return
        tail = self.log_path.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"{self.log_path.name}: exited before {ready}:\n{tail}")

    async def _drain_stdout(self) -> None:
        assert self.process.stdout is not None
        while await self.process.stdout.read(65536):
            pass

    async def stop(self) -> int | None:
        """SIGTERM, then SIGKILL if it does not end in time; returns the exit code."""
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), STOP_TIMEOUT_S)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    self.process.kill()
                await self.process.wait()
        await cancel_and_wait(self._drain)
        return self.process.returncode
