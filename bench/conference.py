"""Benchmark: a 10-party conference across the workers of ``voxpy serve`` (issue 14).

Run: .venv/bin/python bench/conference.py [--workers 6] [--rounds 3]
Needs kamailio (scripts/install-system-deps.sh). Callers are pjsua2 peer processes; the same
harness as tests/server (tests.server.serve_process), so run it from the repository's root.

1. Mouth-to-ear delay by hops: each caller in turn plays a 300 ms tone of its own frequency
   into silence; every other caller's tap frames are timed on arrival in this process, and
   the first 20 ms frame carrying that frequency counts. Pairs are grouped by the number of
   links between their workers' pieces (0: the same worker), so the peers' own costs cancel
   out in the difference: per hop = (median at k hops - median at 0) / k.
2. Slots: legs the conference holds (participants plus two per link) per participant.
3. CPU: the workers' CPU (/proc) while the 10 callers talk, in the conference, against the
   same 10 calls answered by a scenario that sends them nothing (same run, same callers).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import time
import wave
from pathlib import Path
from tempfile import TemporaryDirectory

import numpy as np
import structlog

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.server.serve_process import ServeProcess  # noqa: E402 - the tests' harness
from tests.sip.conftest import Peer  # noqa: E402
from voxpy.core import commands as cmd  # noqa: E402
from voxpy.core.signals import Answered, AudioFrames, Signal  # noqa: E402
from voxpy.media.hearing import synth  # noqa: E402

RATE = 8000
TONES = [400.0, 470.0, 580.0, 800.0, 940.0, 1240.0, 1740.0, 2310.0, 2940.0, 3190.0]
ROOM = ROOT / "tests" / "scenarios" / "conference_room.py"
ANSWER = ROOT / "tests" / "scenarios" / "answer_and_wait.py"


class TimedPeer(Peer):
    """A peer that notes when each signal reached this process."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived: list[float] = []

    def _sink(self, signal: Signal) -> None:
        self.arrived.append(time.monotonic())
        super()._sink(signal)


def wav(folder: Path, name: str, pcm: bytes) -> str:
    path = folder / f"{name}.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(pcm)
    return str(path)


def band_level(frame: bytes, hz: float) -> float:
    x = np.frombuffer(frame, dtype="<i2").astype(np.float64)
    n = np.arange(len(x))
    return float(abs(np.dot(x, np.exp(-2j * np.pi * hz * n / RATE))) * 2 / len(x))


async def start_callers(server: ServeProcess, peers: list[TimedPeer]) -> list[tuple[Peer, str]]:
    legs = []
    for i in range(len(TONES)):
        peer = peers[i // 4]
        leg = peer.dial(server.uri(str(200 + i)))
        await peer.next(Answered, leg)
        peer.send(cmd.StartTap(call_id=leg, tap_id=f"t{leg}"))
        legs.append((peer, leg))
    return legs


def worker_of(server: ServeProcess, i: int) -> str:
    user = str(200 + i)
    line = server.find(lambda x: x.get("event") == "call_incoming" and x.get("destination") == user)
    return f"w{line['worker']}"


def hops(pieces: dict[str, str | None], a: str, b: str) -> int:
    def path(w: str) -> list[str]:
        out = [w]
        while pieces.get(out[-1]) is not None:
            out.append(str(pieces[out[-1]]))
        return out

    pa, pb = path(a), path(b)
    common = next(w for w in pa if w in pb)
    return pa.index(common) + pb.index(common)


async def delays(
    server: ServeProcess, legs: list[tuple[TimedPeer, str]], folder: Path, rounds: int
) -> dict[int, list[float]]:
    _, conferences = await server.api("GET", "/conferences")
    pieces = conferences["room-1"]
    workers = [worker_of(server, i) for i in range(len(legs))]
    by_hops: dict[int, list[float]] = {}
    for _ in range(rounds):
        for i, (peer, leg) in enumerate(legs):
            burst = wav(folder, f"b{i}", synth.tone([TONES[i]], 300, RATE, dbfs=-20))
            marks = [len(p.signals) for p, _ in legs]
            sent = time.monotonic()
            peer.send(cmd.Play(call_id=leg, playback_id=f"b{i}-{sent}", path=burst, duration=0.3))
            await asyncio.sleep(1.0)  # the burst crosses every hop well within this
            for j, (other, other_leg) in enumerate(legs):
                if j == i:
                    continue
                for k in range(marks[j], len(other.signals)):
                    s = other.signals[k]
                    if isinstance(s, AudioFrames) and s.call_id == other_leg:
                        frames = [s.pcm[n : n + 320] for n in range(0, len(s.pcm), 320)]
                        loud = [m for m, f in enumerate(frames) if band_level(f, TONES[i]) > 300]
                        if loud:  # a batch arrives with its last frame: date the loud one
                            at = other.arrived[k] - (len(frames) - 1 - loud[0]) * 0.02
                            n = hops(pieces, workers[i], workers[j])
                            by_hops.setdefault(n, []).append((at - sent) * 1000)
                            break
    return by_hops


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime + stime, in clock ticks
    return total / 100


async def cpu(server: ServeProcess, seconds: float) -> float:
    pids = [int(w["pid"]) for w in await server.workers_info()]
    used, wall = cpu_seconds(pids), time.monotonic()
    await asyncio.sleep(seconds)
    return (cpu_seconds(pids) - used) / (time.monotonic() - wall) * 100


async def run(scenario: Path, workers: int, folder: Path, rounds: int) -> tuple[float, dict]:
    server = ServeProcess(scenario, workers=workers)
    peers = [TimedPeer() for _ in range(3)]
    try:
        await server.start()
        for p in peers:
            await p.start()
        legs = await start_callers(server, peers)
        for i, (peer, leg) in enumerate(legs):
            tone = wav(folder, f"t{i}", synth.tone([TONES[i]], 1000, RATE, dbfs=-30))
            peer.send(cmd.Play(call_id=leg, playback_id=f"t{i}", path=tone, loop=True,
                               duration=1.0))  # fmt: skip
        await asyncio.sleep(2.0)  # links up, jitter buffers settled
        used = await cpu(server, 5.0)
        result: dict = {}
        if scenario == ROOM:
            _, conferences = await server.api("GET", "/conferences")
            result["pieces"] = conferences["room-1"]
            for peer, leg in legs:
                peer.send(cmd.StopPlayback(call_id=leg, playback_id=f"t{legs.index((peer, leg))}"))
            await asyncio.sleep(1.0)
            result["delays"] = await delays(server, legs, folder, rounds)
        return used, result
    finally:
        for p in peers:
            await p.backend.stop()
        await server.close()


def report(line: str = "") -> None:
    print(line, flush=True)  # noqa: T201 - a benchmark prints its figures


async def main(workers: int, rounds: int) -> None:
    with TemporaryDirectory() as tmp:
        folder = Path(tmp)
        base, _ = await run(ANSWER, workers, folder, rounds)
        used, result = await run(ROOM, workers, folder, rounds)
    pieces, by_hops = result["pieces"], result["delays"]
    n = len(TONES)
    legs = n + 2 * (len(pieces) - 1)
    report(f"{n} callers, {workers} workers; the conference's pieces: {pieces}")
    report(f"slots: {legs} legs for {n} participants = {legs / n:.2f} per participant\n")
    report("| links between the two callers | pairs | mouth-to-ear ms, median (p90) |")
    report("| --- | --- | --- |")
    zero = statistics.median(by_hops.get(0, [0.0]))
    for k in sorted(by_hops):
        got = sorted(by_hops[k])
        p90 = got[min(len(got) - 1, int(0.9 * len(got)))]
        report(f"| {k} | {len(got)} | {statistics.median(got):.0f} ({p90:.0f}) |")
    per_hop = [(statistics.median(v) - zero) / k for k, v in by_hops.items() if k > 0]
    if per_hop:
        report(f"\nper link: {statistics.median(per_hop):.0f} ms (the 0-link pair's path "
               "cancels out: peers, RTP, both ends' jitter buffers)")  # fmt: skip
    report(f"\nworkers' CPU, {n} callers talking: plain answered calls {base:.1f}% of a core, "
           f"in the conference {used:.1f}% ({(used - base) / n:.2f}% per participant)")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    asyncio.run(main(args.workers, args.rounds))
