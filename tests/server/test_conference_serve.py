"""A conference across the workers of ``voxpy serve`` (issue 14): 10 callers, whose calls
Kamailio spreads over the workers, each send a tone of their own into "room-1"; each must hear
the other nine and not its own (a spectrum of what reached it), whichever worker it is on."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import numpy as np
import pytest

from tests.conftest import TEST_SCENARIOS
from tests.server.conftest import ServeFactory
from tests.server.serve_process import ServeProcess
from tests.sip.conftest import Peer
from voxpy.core import commands as cmd
from voxpy.core.signals import Answered, AudioFrames
from voxpy.media.hearing import synth

pytestmark = pytest.mark.realtime

PeerFactory = Callable[[], Awaitable[Peer]]
ROOM = TEST_SCENARIOS / "conference_room.py"
RATE = 8000
TONES = [400.0, 470.0, 580.0, 800.0, 940.0, 1240.0, 1740.0, 2310.0, 2940.0, 3190.0]
"""Apart by 70 Hz or more, and no third-order product of two or three of them (2a - b,
a + b - c: what mixing and G.711 distort into) within 30 Hz of a fourth. Evenly spaced tones
failed: 2520 - 1380 Hz landed on the 1140 Hz caller, who then "heard itself" at 12 dB."""


HEARD_DB = 35.0
OWN_DB = 25.0
"""Measured: every other caller's tone 47-51 dB over the spectrum's median; at a caller's own
frequency 2-16 dB, the same as 35 Hz either side of it (the mix's floor: nine tones through
G.711 at every hop, highest at the low end). A voice coming back would be near the others."""


def levels(pcm: bytes, freqs: list[float]) -> list[float]:
    """dB of each frequency's band (+-20 Hz) above the spectrum's median (the floor)."""
    x = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x)))) ** 2
    hz = np.fft.rfftfreq(len(x), 1 / RATE)
    floor = float(np.median(spectrum)) + 1e-9
    return [
        10 * np.log10(float(spectrum[(hz > f - 20) & (hz < f + 20)].max()) / floor) for f in freqs
    ]


class Caller:
    """One participant: a leg of a pjsua2 peer process, a tone out, a tap in."""

    def __init__(self, peer: Peer, leg: str, tone: float) -> None:
        self.peer, self.leg, self.tone = peer, leg, tone

    def start_audio(self) -> None:
        self.peer.send(cmd.StartFeed(call_id=self.leg, feed_id=f"f{self.leg}"))
        pcm = synth.tone([self.tone], 60_000, RATE, dbfs=-30)
        self.peer.send(cmd.FeedAudio(call_id=self.leg, feed_id=f"f{self.leg}", pcm=pcm))
        self.peer.send(cmd.StartTap(call_id=self.leg, tap_id=f"t{self.leg}"))

    def heard(self, since: int) -> bytes:
        return b"".join(
            s.pcm
            for s in self.peer.signals[since:]
            if isinstance(s, AudioFrames) and s.call_id == self.leg
        )


async def join(server: ServeProcess, peers: list[Peer], n: int) -> list[Caller]:
    callers = []
    for i in range(n):
        peer = peers[i // 4]
        leg = peer.dial(server.uri(str(200 + i)))
        await peer.next(Answered, leg)
        callers.append(Caller(peer, leg, TONES[i]))
    return callers


async def linked(server: ServeProcess, timeout: float = 20) -> dict[str, str | None]:
    """Wait until every piece of room-1 but the root has its link up; the pieces."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        _, conferences = await server.api("GET", "/conferences")
        pieces = conferences.get("room-1", {})
        ups = len(server.find_all("conference_link_up")) - len(
            server.find_all("conference_link_down")
        )
        if pieces and ups >= len(pieces) - 1:
            return dict(pieces)
        assert loop.time() < deadline, f"pieces {pieces}, links up {ups}\n{server.tail()}"
        await asyncio.sleep(0.05)


async def heard(callers: list[Caller], seconds: float, timeout: float = 15) -> list[bytes]:
    """What each caller hears from now on, once each has ``seconds`` of it (event-driven:
    the peers' tap frames are counted, no time is slept)."""
    marks = [len(c.peer.signals) for c in callers]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        got = [c.heard(m) for c, m in zip(callers, marks, strict=True)]
        if all(len(pcm) >= seconds * RATE * 2 for pcm in got):
            return got
        assert loop.time() < deadline, [len(p) for p in got]
        await asyncio.gather(*(c.peer.next(AudioFrames, c.leg, since=len(c.peer.signals))
                               for c in callers[:1]))  # fmt: skip


def check(callers: list[Caller], heard_pcm: list[bytes]) -> None:
    problems = []
    for c, pcm in zip(callers, heard_pcm, strict=True):
        got = dict(zip(TONES, levels(pcm, TONES), strict=True))
        others = [t.tone for t in callers if t is not c]
        missing = [f for f in others if got[f] < HEARD_DB]
        if missing or got[c.tone] > OWN_DB:
            problems.append(f"{c.tone:.0f} Hz: own {got[c.tone]:.0f} dB, missing {missing}")
    assert not problems, problems


async def test_ten_callers_over_the_workers_hear_each_other_and_never_themselves(
    serve_factory: ServeFactory, peer_factory: PeerFactory
) -> None:
    server = await serve_factory(ROOM, workers=6)
    peers = [await peer_factory() for _ in range(3)]
    callers = await join(server, peers, 10)
    for c in callers:
        c.start_audio()
    pieces = await linked(server)
    assert len(pieces) >= 3, pieces  # the calls did land on several workers
    await heard(callers, 1.0)  # the hops' jitter buffers settle
    check(callers, await heard(callers, 2.0))
