"""The backend tests' far ends: pjsua2 peer processes whose signals are kept and awaited."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import pytest

from voxpy.backends.process import ProcessBackend
from voxpy.core.commands import Answer, Command, Dial, HandleTransfers, ReportStats
from voxpy.core.signals import Answered, AudioReport, IncomingCall, Signal, StatsReport
from voxpy.core.testing_commands import ReportAudio

S = TypeVar("S", bound=Signal)


class Peer:
    """A ProcessBackend whose signals are kept: ``log`` holds every one taken so far."""

    def __init__(self, **kwargs: Any) -> None:
        self.backend = ProcessBackend(**kwargs)
        self.queue: asyncio.Queue[Signal] = asyncio.Queue()
        self.log: list[Signal] = []

    def send(self, command: Command) -> None:
        self.backend.send(command)

    def uri(self, user: str = "bob") -> str:
        return f"sip:{user}@{self.backend.contact_uri.split('@', 1)[1]}"

    async def wait(self, kind: type[S], timeout: float = 5.0, **fields: Any) -> S:
        """The first signal of ``kind`` whose attributes equal ``fields``; others are logged."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                signal = await asyncio.wait_for(self.queue.get(), max(remaining, 0.001))
            except TimeoutError:
                raise AssertionError(
                    f"no {kind.__name__} {fields} within {timeout} s; got {self.log}"
                ) from None
            self.log.append(signal)
            if isinstance(signal, kind) and all(getattr(signal, k) == v for k, v in fields.items()):
                return signal

    def drain(self) -> list[Signal]:
        while not self.queue.empty():
            self.log.append(self.queue.get_nowait())
        return self.log

    def taken(self, kind: type[S], **fields: Any) -> list[S]:
        """Every signal of ``kind`` matching ``fields`` received so far."""
        return [
            s
            for s in self.drain()
            if isinstance(s, kind) and all(getattr(s, k) == v for k, v in fields.items())
        ]

    async def heard(self, call_id: str) -> float:
        """Seconds of non-silent audio this leg received (needs ``measure_audio=True``)."""
        self.send(ReportAudio(call_id=call_id))
        report = await self.wait(AudioReport, call_id=call_id)
        assert report.seconds is not None
        return report.seconds

    async def stats(self, call_id: str) -> StatsReport:
        self.send(ReportStats(call_id=call_id))
        return await self.wait(StatsReport, call_id=call_id)

    async def handle_transfers(self, call_id: str) -> None:
        """HandleTransfers, applied once this returns (the peer reads stdin in order)."""
        self.send(HandleTransfers(call_id=call_id, enabled=True))
        await self.stats(call_id)


PeerFactory = Callable[..., Awaitable[Peer]]


@pytest.fixture
async def make_peer() -> AsyncIterator[PeerFactory]:
    started: list[Peer] = []

    async def make(**kwargs: Any) -> Peer:
        peer = Peer(**kwargs)
        started.append(peer)
        await peer.backend.start(peer.queue.put_nowait)
        return peer

    yield make
    await asyncio.gather(*(p.backend.stop() for p in started), return_exceptions=True)
    for peer in started:
        # A player, port, REFER subscription or Call outliving libDestroy would abort the
        # peer (SIGABRT): exit code 0 proves the teardown order.
        assert peer.backend.returncode == 0, peer.backend.stderr_tail


async def connect(a: Peer, b: Peer, call_id: str) -> str:
    """A dials B, B answers; returns B's call_id."""
    a.send(Dial(call_id=call_id, uri=b.uri()))
    inc = await b.wait(IncomingCall)
    b.send(Answer(call_id=inc.call_id))
    await a.wait(Answered, call_id=call_id)
    await b.wait(Answered, call_id=inc.call_id)
    return inc.call_id
