"""Run ``voxpy run``/``voxpy call`` as a real process and read its JSON log as an event history."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tests.logproc import JsonLogProcess


class EngineProcess(JsonLogProcess):
    """A voxpy server in a child process; ``lines`` holds its parsed JSON log lines."""

    name = "engine"

    def __init__(
        self, command: str, scenario: Path, *args: str, env: dict[str, str] | None = None
    ) -> None:
        argv = [
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
        super().__init__(argv, {**os.environ, **(env or {})})

    async def start(self, *, wait_ready: bool = True) -> EngineProcess:
        await self.spawn()
        if wait_ready:
            await self.wait_log(lambda line: line.get("event") == "engine_started", timeout=15)
        return self

    @property
    def contact_uri(self) -> str:
        return str(self.find(lambda line: line.get("event") == "engine_started")["contact"])

    def uri(self, user: str = "100") -> str:
        return self.contact_uri.replace("sip:voxpy@", f"sip:{user}@")

    async def wait_event(self, name: str, call_id: str | None = None, timeout: float = 10) -> dict:
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

    async def close(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        if self._reader is not None:
            self._reader.cancel()
