"""Run ``voxpy run``/``voxpy call`` as a real process and read its JSON log as an event history."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

LogLine = dict[str, Any]


class EngineProcess:
    """A voxpy server in a child process; ``lines`` holds its parsed JSON log lines."""

    def __init__(self, command: str, scenario: Path, *args: str, env: dict[str, str] | None = None):
        self.argv = [
            sys.executable,
            "-m",
            "voxpy",
            command,
            str(scenario),
            "--sip-host",
            "127.0.0.1",
            "--sip-port",
            "0",
            "--log-format",
            "json",
            *args,
        ]
        self.env = {**os.environ, **(env or {})}
        self.lines: list[LogLine] = []
        self.raw: list[str] = []
        self.proc: asyncio.subprocess.Process | None = None
        self._changed = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None

    async def start(self, *, wait_ready: bool = True) -> EngineProcess:
        self.proc = await asyncio.create_subprocess_exec(
            *self.argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self.env,
        )
        self._reader = asyncio.create_task(self._read())
        if wait_ready:
            await self.wait_log(lambda line: line.get("event") == "engine_started", timeout=15)
        return self

    @property
    def contact_uri(self) -> str:
        return str(self.find(lambda line: line.get("event") == "engine_started")["contact"])

    def uri(self, user: str = "100") -> str:
        return self.contact_uri.replace("sip:voxpy@", f"sip:{user}@")

    def find(self, predicate: Callable[[LogLine], bool]) -> LogLine:
        for line in self.lines:
            if predicate(line):
                return line
        raise AssertionError(f"no such log line; log tail:\n{self.tail()}")

    async def wait_log(self, predicate: Callable[[LogLine], bool], timeout: float = 10) -> LogLine:
        async def poll() -> LogLine:
            while True:
                for line in self.lines:
                    if predicate(line):
                        return line
                if self._reader is not None and self._reader.done():
                    raise AssertionError(f"engine exited; log tail:\n{self.tail()}")
                self._changed.clear()
                await self._changed.wait()

        try:
            return await asyncio.wait_for(poll(), timeout)
        except TimeoutError:
            raise AssertionError(f"log line not seen in {timeout}s; tail:\n{self.tail()}") from None

    async def wait_event(
        self, name: str, call_id: str | None = None, timeout: float = 10
    ) -> LogLine:
        return await self.wait_log(
            lambda line: (
                line.get("event") == "event"
                and line.get("name") == name
                and (call_id is None or line.get("call_id") == call_id)
            ),
            timeout,
        )

    def events(self, call_id: str, *, with_state: bool = False) -> list[str]:
        names = [
            str(line["name"])
            for line in self.lines
            if line.get("event") == "event"
            and line.get("call_id") == call_id
            and str(line.get("name", "")).startswith("Call.")
        ]
        return names if with_state else [n for n in names if n != "Call.StateChanged"]

    def session_events(self) -> list[str]:
        return [
            str(line["name"])
            for line in self.lines
            if line.get("event") == "event" and str(line.get("name", "")).startswith("Application.")
        ]

    def call_ids(self) -> list[str]:
        """Engine-side call ids in the order the legs appeared (inbound or dialled)."""
        seen: list[str] = []
        for line in self.lines:
            call_id = line.get("call_id")
            if (
                call_id
                and call_id not in seen
                and line.get("event") in ("call_incoming", "command")
            ):
                seen.append(call_id)
        return seen

    def tail(self, n: int = 40) -> str:
        return "\n".join(self.raw[-n:])

    async def signal(self, signum: int = signal.SIGTERM, timeout: float = 10) -> int:
        assert self.proc is not None
        self.proc.send_signal(signum)
        return await self.wait(timeout)

    async def wait(self, timeout: float = 10) -> int:
        assert self.proc is not None
        await asyncio.wait_for(self.proc.wait(), timeout)
        if self._reader is not None:
            await asyncio.wait_for(self._reader, 5)
        return self.proc.returncode if self.proc.returncode is not None else -1

    async def close(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        if self._reader is not None:
            self._reader.cancel()

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
