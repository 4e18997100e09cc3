"""Benchmark: the always-on RTP-timeout watch (ReportRx) against a full ReportStats.

Run: PYTHONPATH=. .venv/bin/python bench/rx_poll.py  (it borrows the backend tests' Peer)

Two pjsua2 peer processes, one call between them; N commands of each kind are queued at
once on one side and timed until the last answer is back, so the figure is the owner
thread's cost per command plus the peer's pipe (the same for both kinds). The watch sends
one ReportRx per call every rx_poll_interval (5 s at the default 60 s timeout).
"""

from __future__ import annotations

import asyncio
import time

from tests.backends.conftest import Peer, connect
from voxpy.core.commands import ReportRx, ReportStats
from voxpy.core.guards import rx_poll_interval
from voxpy.core.signals import RxReport, StatsReport

N = 2000


async def timed(peer: Peer, make: type[ReportRx] | type[ReportStats], answer: type) -> float:
    start = time.perf_counter()
    for _ in range(N):
        peer.send(make(call_id="c1"))
    for _ in range(N):
        await peer.wait(answer, call_id="c1", timeout=30)
    peer.log.clear()
    return (time.perf_counter() - start) / N


async def main() -> None:
    a, b = Peer(), Peer()
    await asyncio.gather(a.backend.start(a.queue.put_nowait), b.backend.start(b.queue.put_nowait))
    try:
        await connect(a, b, "c1")
        await asyncio.sleep(1)  # let RTP flow, so the counters move
        for _ in range(2):
            rx = await timed(a, ReportRx, RxReport)
            stats = await timed(a, ReportStats, StatsReport)
        per_call = 1 / rx_poll_interval(60)
        print(f"ReportRx {rx * 1e6:.0f} us, ReportStats {stats * 1e6:.0f} us per command "  # noqa: T201
              f"(round trip through the peer's pipe); the watch at the 60 s default: "
              f"{per_call:.1f} per call per second, {4 * per_call * rx * 1e3:.3f} ms/s "
              "for a full worker of 4 calls")
    finally:
        await asyncio.gather(a.backend.stop(), b.backend.stop())


if __name__ == "__main__":
    asyncio.run(main())
