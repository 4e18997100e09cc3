"""Fixtures for real-SIP tests: the engine and the peer each run in their own process."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from pathlib import Path
from typing import TypeVar

import pytest

from tests.sip.engine_process import EngineProcess
from voxpy.backends.process import ProcessBackend
from voxpy.core import commands as cmd
from voxpy.core.headers import Headers
from voxpy.core.signals import Signal

S = TypeVar("S", bound=Signal)


class Peer:
    """The far end: a pjsua2 user agent in its own process, driven with commands."""

    def __init__(self) -> None:
        self.backend = ProcessBackend(host="127.0.0.1", port=0)
        self.signals: list[Signal] = []
        self._changed = asyncio.Event()

    async def start(self) -> Peer:
        await self.backend.start(self._sink)
        return self

    def _sink(self, signal: Signal) -> None:
        self.signals.append(signal)
        self._changed.set()

    @property
    def uri(self) -> str:
        return self.backend.contact_uri

    def dial(self, uri: str, headers: Mapping[str, str] | None = None) -> str:
        call_id = uuid.uuid4().hex
        self.backend.send(cmd.Dial(call_id=call_id, uri=uri, headers=Headers(headers or {})))
        return call_id

    def send(self, command: cmd.Command) -> None:
        self.backend.send(command)

    def of(self, call_id: str) -> list[str]:
        """Signal type names seen for one leg, in order."""
        return [type(s).__name__ for s in self.signals if s.call_id == call_id]

    async def next(self, kind: type[S], call_id: str | None = None, timeout: float = 10) -> S:
        async def poll() -> S:
            while True:
                for s in self.signals:
                    if isinstance(s, kind) and (call_id is None or s.call_id == call_id):
                        return s
                self._changed.clear()
                await self._changed.wait()

        try:
            return await asyncio.wait_for(poll(), timeout)
        except TimeoutError:
            raise AssertionError(
                f"no {kind.__name__} in {timeout}s; peer saw {self.signals}"
            ) from None


@pytest.fixture
async def peer_factory() -> AsyncIterator[Callable[[], Awaitable[Peer]]]:
    peers: list[Peer] = []

    async def make() -> Peer:
        peer = Peer()
        peers.append(peer)
        return await peer.start()

    yield make
    for peer in peers:
        await peer.backend.stop()


@pytest.fixture
async def peer(peer_factory: Callable[[], Awaitable[Peer]]) -> Peer:
    return await peer_factory()


@pytest.fixture
async def engine_factory() -> AsyncIterator[Callable[..., Awaitable[EngineProcess]]]:
    engines: list[EngineProcess] = []

    async def make(
        scenario: Path,
        *args: str,
        command: str = "run",
        env: dict[str, str] | None = None,
        wait_ready: bool = True,
    ) -> EngineProcess:
        engine = EngineProcess(command, scenario, *args, env=env)
        engines.append(engine)
        return await engine.start(wait_ready=wait_ready)

    yield make
    for engine in engines:
        await engine.close()
