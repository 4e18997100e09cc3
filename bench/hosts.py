"""Benchmark: voxpy beyond one machine. A front and two worker hosts, each in its own network
namespace with its own address (built as tests/server/test_hosts_netns.py builds them), calls
placed through the front, then one host killed.

Run (as root): .venv/bin/python bench/hosts.py [--workers 3] [--calls 12] [--rounds 3]

Per round it prints how the calls spread over the hosts, how long after the kill (SIGKILL of
the host's supervisor, agent and workers: no goodbye) Kamailio's dispatcher list held only the
live host's workers, and what happened to calls placed every 100 ms meanwhile (answered by the
live host, or failed, and the latest answer time).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository's tests/

from tests.server.netns import netns_unavailable
from tests.server.sip_dialog import Dialog
from tests.server.test_hosts_netns import running_cluster


async def one_round(workers: int, calls: int) -> tuple[Counter[str], float, int, int, float]:
    """(calls per host, list updated after s, calls answered / failed meanwhile, slowest
    answer meanwhile in s)."""
    async with running_cluster(hosts_count=2, workers=workers) as cluster:
        caller = cluster.caller
        dialogs = [await caller.invite(str(100 + i)) for i in range(calls)]
        spread = Counter(cluster.host_of(d) for d in dialogs if isinstance(d, Dialog))
        dead, alive = sorted(cluster.workers)
        victim = cluster.workers[dead]
        assert victim.proc is not None
        loop = asyncio.get_running_loop()
        os.killpg(victim.proc.pid, signal.SIGKILL)  # no goodbye: its supervisor, agent, API
        for line in victim.find_all("worker_started"):
            os.kill(int(line["pid"]), signal.SIGKILL)
        listed = asyncio.create_task(cluster.joined({alive}, timeout=30))
        ok = failed = n = 0
        slowest = 0.0
        while not listed.done():
            n += 1
            started = loop.time()
            dialog = await caller.invite(str(500 + n), timeout=10)
            slowest = max(slowest, loop.time() - started)
            if isinstance(dialog, Dialog) and cluster.host_of(dialog) == alive:
                ok += 1
                await caller.bye(dialog)
            else:
                failed += 1
            await asyncio.sleep(0.1)  # the bench's own call rate, not a wait for an event
        gone_after = await listed
        for dialog in dialogs:  # the live host's calls: hung up, so its drain does not wait
            if isinstance(dialog, Dialog) and cluster.host_of(dialog) == alive:
                await caller.bye(dialog)
        return spread, gone_after, ok, failed, slowest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=3, help="workers per host")
    parser.add_argument("--calls", type=int, default=12, help="calls up before the kill")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if why := netns_unavailable():
        sys.exit(why)
    gone = []
    for i in range(args.rounds):
        spread, after, ok, failed, slowest = asyncio.run(one_round(args.workers, args.calls))
        gone.append(after)
        print(  # noqa: T201 - the bench's report
            f"round {i + 1}: {args.calls} calls over 2 hosts x {args.workers} workers: "
            f"{dict(spread)}; host killed -> list holds only the live host after {after:.1f} s; "
            f"calls meanwhile: {ok} answered by the live host, {failed} failed, slowest "
            f"{slowest * 1000:.0f} ms",
            flush=True,
        )
    summary = f"median {statistics.median(gone):.1f} s, max {max(gone):.1f} s"
    print(f"dead host out of the list: {summary}")  # noqa: T201


if __name__ == "__main__":
    main()
