"""Shared fixtures: an engine on the in-memory backend with an event recorder."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from voxpy.backends.memory import MemoryBackend
from voxpy.runtime.engine import Engine
from voxpy.runtime.scenario import Scenario
from voxpy.runtime.session import Session, Timeouts

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
TEST_SCENARIOS = Path(__file__).resolve().parent / "scenarios"


class Recorder:
    """Keeps every event the engine dispatched, in order."""

    def __init__(self) -> None:
        self.log: list[tuple[Session, Any]] = []
        self._changed = asyncio.Event()

    def __call__(self, session: Session, event: Any) -> None:
        self.log.append((session, event))
        self._changed.set()

    def events(self, call_id: str, *, with_state: bool = False) -> list[str]:
        names = [
            str(e.name)
            for _, e in self.log
            if getattr(e, "call", None) is not None
            and e.call.id() == call_id
            and str(e.name).startswith("Call.")
        ]
        return names if with_state else [n for n in names if n != "Call.StateChanged"]

    def session_events(self) -> list[str]:
        return [str(e.name) for _, e in self.log if str(e.name).startswith("Application.")]

    def find(self, name: str, call_id: str | None = None) -> Any:
        for _, e in self.log:
            call = getattr(e, "call", None)
            if str(e.name) == name and (call_id is None or (call and call.id() == call_id)):
                return e
        raise AssertionError(f"{name} not dispatched; saw {[str(e.name) for _, e in self.log]}")

    async def wait(self, name: str, call_id: str | None = None, timeout: float = 2.0) -> Any:
        async def poll() -> Any:
            while True:
                try:
                    return self.find(name, call_id)
                except AssertionError:
                    self._changed.clear()
                    await self._changed.wait()

        return await asyncio.wait_for(poll(), timeout)


EngineFactory = Callable[..., Awaitable[tuple[Engine, MemoryBackend, Recorder]]]


@pytest.fixture
async def memory_engine() -> AsyncIterator[EngineFactory]:
    """Start an engine running a scenario on the memory backend; shut down after the test."""
    engines: list[Engine] = []

    async def make(
        scenario: str | Path,
        *,
        timeouts: Timeouts | None = None,
        custom_data: str | None = None,
        max_calls: int = 4,
    ) -> tuple[Engine, MemoryBackend, Recorder]:
        backend = MemoryBackend(max_calls=max_calls)
        engine = Engine(
            backend, Scenario.load(scenario), timeouts=timeouts, custom_data=custom_data
        )
        recorder = Recorder()
        engine.observers.append(recorder)
        await engine.start()
        engines.append(engine)
        return engine, backend, recorder

    yield make
    for engine in engines:
        await engine.shutdown()
