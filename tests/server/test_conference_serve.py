"""A conference across the workers of ``voxpy serve`` (issue 14): 10 callers, whose calls
Kamailio spreads over the workers, each send a tone of their own into "room-1"; each must hear
the other nine and not its own (a spectrum of what reached it), whichever worker it is on."""

from __future__ import annotations

import asyncio
import os
import signal
import wave
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

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

    def start_audio(self, folder: Path) -> None:
        """The tone, looped from a WAV file (a feed buffers 2 s: it would run dry)."""
        wav = folder / f"{self.tone:.0f}.wav"
        with wave.open(str(wav), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(RATE)
            out.writeframes(synth.tone([self.tone], 1000, RATE, dbfs=-30))
        self.peer.send(cmd.Play(call_id=self.leg, playback_id=f"p{self.leg}", path=str(wav),
                                loop=True, duration=1.0))  # fmt: skip
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


async def linked(server: ServeProcess, callers: int, timeout: float = 20) -> dict[str, str | None]:
    """Wait until every worker that took a caller has its piece of room-1 in the directory
    and every piece but the root has its link up; the pieces (worker -> parent)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        _, conferences = await server.api("GET", "/conferences")
        pieces = conferences.get("room-1", {})
        workers = {f"w{worker_of(server, i)}" for i in range(callers)}
        ups = len(server.find_all("conference_link_up")) - len(
            server.find_all("conference_link_down")
        )
        if workers <= set(pieces) and ups >= len(pieces) - 1:
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


@dataclass
class Room:
    server: ServeProcess
    callers: list[Caller]
    pieces: dict[str, str | None]
    "worker -> parent worker, once every link is up"


@pytest.fixture
async def room(serve_factory: ServeFactory, peer_factory: PeerFactory, tmp_path: Path) -> Room:
    """10 callers in room-1 through a 6-worker ``voxpy serve``, each sending its tone, every
    link up and the hops' jitter buffers settled."""
    server = await serve_factory(ROOM, workers=6)
    peers = [await peer_factory() for _ in range(3)]
    callers = await join(server, peers, 10)
    for c in callers:
        c.start_audio(tmp_path)
    pieces = await linked(server, len(callers))
    await heard(callers, 1.0)
    return Room(server, callers, pieces)


def problems(callers: list[Caller], heard_pcm: list[bytes]) -> list[str]:
    found = []
    for c, pcm in zip(callers, heard_pcm, strict=True):
        got = dict(zip(TONES, levels(pcm, TONES), strict=True))
        missing = [t.tone for t in callers if t is not c and got[t.tone] < HEARD_DB]
        if missing or got[c.tone] > OWN_DB:
            found.append(f"{c.tone:.0f} Hz: own {got[c.tone]:.0f} dB, missing {missing}")
    return found


async def hear_each_other_again(callers: list[Caller], within: float) -> float:
    """Seconds until each of ``callers`` hears all the others (1.5 s of audio at a time)."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    while True:
        found = problems(callers, await heard(callers, 1.5))
        if not found:
            return loop.time() - start
        assert loop.time() - start < within, found


def worker_of(server: ServeProcess, caller_index: int) -> int:
    """The worker index the caller's call landed on (its ``call_incoming`` line)."""
    user = str(200 + caller_index)
    line = server.find(lambda x: x.get("event") == "call_incoming" and x.get("destination") == user)
    return int(line["worker"])


async def test_ten_callers_over_the_workers_hear_each_other_and_never_themselves(
    room: Room,
) -> None:
    assert len(room.pieces) >= 3, room.pieces  # the calls did land on several workers
    assert not problems(room.callers, await heard(room.callers, 2.0))


async def test_the_root_worker_dying_leaves_the_others_talking(room: Room) -> None:
    server, callers = room.server, room.callers
    root = next(w for w, parent in room.pieces.items() if parent is None)
    index = int(root[1:])
    pid = next(w["pid"] for w in await server.workers_info() if w["worker"] == index)
    os.kill(pid, signal.SIGKILL)
    survivors = [c for i, c in enumerate(callers) if worker_of(server, i) != index]
    assert 0 < len(survivors) < len(callers)
    assert await hear_each_other_again(survivors, within=10) < 10
    _, after = await server.api("GET", "/conferences")
    assert root not in after["room-1"], after


async def test_callers_leaving_a_middle_piece_leave_the_others_talking(room: Room) -> None:
    parents = {p for p in room.pieces.values() if p is not None}
    roots = {w for w, p in room.pieces.items() if p is None}
    middle = next(iter(parents - roots), None) or next(iter(parents))
    index = int(middle[1:])
    leaving = [c for i, c in enumerate(room.callers) if worker_of(room.server, i) == index]
    for c in leaving:
        c.peer.send(cmd.Bye(call_id=c.leg))
    survivors = [c for c in room.callers if c not in leaving]
    await hear_each_other_again(survivors, within=10)


async def test_a_muted_caller_is_heard_on_no_worker(room: Room) -> None:
    muted, others = room.callers[0], room.callers[1:]
    muted.peer.send(cmd.SendDigits(call_id=muted.leg, digits="1", method="info"))
    await room.server.wait_log(lambda x: x.get("name") == "Call.ToneReceived")
    await heard(room.callers, 0.5)  # the mix changes on the next bridge tick; a hop drains
    for c, pcm in zip(others, await heard(others, 1.5), strict=True):
        assert levels(pcm, [muted.tone])[0] < OWN_DB, f"{c.tone:.0f} Hz caller still hears it"
    assert not problems(others, await heard(others, 1.5))  # the others still hear each other
