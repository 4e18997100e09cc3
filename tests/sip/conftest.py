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
from voxpy.core.signals import CommandFailed, Ended, Signal, TransferStatus

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

    async def next(
        self, kind: type[S], call_id: str | None = None, timeout: float = 10, *, since: int = 0
    ) -> S:
        """The first signal of ``kind`` (on ``call_id``) from ``signals[since:]`` on."""

        async def poll() -> S:
            while True:
                for s in self.signals[since:]:
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

    async def still_up(self, call_id: str, timeout: float = 10) -> None:
        """Prove by an answer, not by waiting, that the leg is up at both ends *now*.

        A REFER in the dialog, which the far end refuses with 603 (nobody there handles
        transfers) as long as it still holds the dialog (else 481). The final TransferStatus
        is reported only on a leg that is still live here, and a BYE the far end sent before
        that answer is ahead of it on the way (loopback keeps one socket's datagrams in order):
        so once this returns, an Ended that was coming for this leg is already in ``signals``.
        """
        since = len(self.signals)
        self.send(cmd.Transfer(call_id=call_id, to="sip:nobody@127.0.0.1"))
        while True:  # Ended or CommandFailed (no live leg) instead: fail now, not at the timeout
            outcome = await self.next(Signal, call_id, timeout, since=since)
            since = self.signals.index(outcome, since) + 1
            if isinstance(outcome, TransferStatus | Ended | CommandFailed):
                break
        assert isinstance(outcome, TransferStatus), f"leg not up: {outcome}"
        assert (outcome.code, outcome.final) == (603, True), outcome


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
