"""A child process whose JSON log lines (stderr) are parsed as they arrive, for tests."""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import Callable
from typing import Any

LogLine = dict[str, Any]


class JsonLogProcess:
    """Runs ``argv``; ``lines`` holds its parsed JSON log lines, ``raw`` every stderr line."""

    name = "process"

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.argv = argv
        self.env = env
        self.lines: list[LogLine] = []
        self.raw: list[str] = []
        self.proc: asyncio.subprocess.Process | None = None
        self._changed = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None

    async def spawn(self, **kwargs: Any) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            *self.argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self.env,
            **kwargs,
        )
        self._reader = asyncio.create_task(self._read())

    def find(self, predicate: Callable[[LogLine], bool]) -> LogLine:
        for line in self.lines:
            if predicate(line):
                return line
        raise AssertionError(f"no such log line; log tail:\n{self.tail()}")

    def find_all(self, event: str) -> list[LogLine]:
        return [line for line in self.lines if line.get("event") == event]

    async def wait_log(self, predicate: Callable[[LogLine], bool], timeout: float = 10) -> LogLine:
        async def poll() -> LogLine:
            while True:
                for line in self.lines:
                    if predicate(line):
                        return line
                if self._reader is not None and self._reader.done():
                    raise AssertionError(f"{self.name} exited; log tail:\n{self.tail()}")
                self._changed.clear()
                await self._changed.wait()

        try:
            return await asyncio.wait_for(poll(), timeout)
        except TimeoutError:
            raise AssertionError(f"log line not seen in {timeout}s; tail:\n{self.tail()}") from None

    def tail(self, n: int = 40) -> str:
        return "\n".join(self.raw[-n:])

    async def signal(self, signum: int = signal.SIGTERM, timeout: float | None = None) -> int:
        """Send ``signum``; with a ``timeout``, wait for the exit and return its status."""
        assert self.proc is not None
        self.proc.send_signal(signum)
        return await self.wait(timeout) if timeout is not None else 0

    async def wait(self, timeout: float = 20) -> int:
        assert self.proc is not None
        try:
            await asyncio.wait_for(self.proc.wait(), timeout)
        except TimeoutError:
            raise AssertionError(f"{self.name} still running; tail:\n{self.tail()}") from None
        if self._reader is not None:
            await asyncio.wait_for(self._reader, 5)
        return self.proc.returncode if self.proc.returncode is not None else -1

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        async for raw in self.proc.stderr:
            text = raw.decode(errors="replace").rstrip("\n")
            self.raw.append(text)
            try:
                line = json.loads(text)
            except json.JSONDecodeError:
                continue  # not ours: e.g. a native library writing to stderr
            if isinstance(line, dict):
                self.lines.append(line)
                self._changed.set()
        self._changed.set()
