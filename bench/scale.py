"""Benchmark: N workers holding 4 x N concurrent calls with RTP both ways, voxpy beside bare
pjsua2 behind the same Kamailio front, in one run.

Run: .venv/bin/python bench/scale.py [--n 10,25,50,100,125] [--hold 40] [--cps 25]
Needs kamailio and sipp: scripts/install-system-deps.sh --bench (as root).

The workload (issue 15): SIPp callers send a looped G.711 prompt (``rtp_stream``) for
``--hold`` seconds and hang up; the callee answers and loops a prompt into the call. A is
``voxpy serve bench/scenarios_loop.py --workers N``; B is N bare pjsua2 scripts
(bench/bare_pjsua2_answer.py) doing the same, with the same bridge clock rate. A few calls of
each step are probes (bench/rtp_probe.py): their RTP goes to sockets that timestamp every
packet in the kernel and echo it, which gives the gaps between the packets the callee sends.

Per N and system: ready (start to every worker answering), idle CPU of the pool (% of one
core, 10 s) and of the supervisor, PSS per worker (MB, idle), CPU per call (pool CPU over the
steady window divided by the calls, so each worker's own cost is in it), the machine's busy
share, RTP inter-packet p99/max and share of gaps over 40 ms, failed calls, INVITE->200
p50/p99, and the time SIGTERM took to stop everything (and workers killed, which must be 0).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from rtp_probe import Gaps, RtpProbe  # bench scripts run from bench/
from scale_rigs import (
    BULK,
    PROBE,
    Rig,
    clocks_realtime,
    machine_busy,
    prompt_wavs,
    pss_mb,
    run_sipp,
)
from sipp_load import cpu_delta, cpu_times, out

CALLS_PER_WORKER = 4
IDLE_S = 10.0


@dataclass
class Row:
    system: str
    n: int
    ready_s: float = float("nan")
    idle_pool: float = float("nan")
    idle_front: float = float("nan")
    pss: float = float("nan")
    load_pool: float = float("nan")
    per_call: float = float("nan")
    machine: float = float("nan")
    calls: int = 0
    failed: int = 0
    rtt_p50: float = float("nan")
    rtt_p99: float = float("nan")
    gaps: Gaps | None = None
    stop_s: float = float("nan")
    killed: int = 0
    refused: dict[str, int] = field(default_factory=dict)
    "INVITEs refused as overloaded (503), by reason; Kamailio retries them on other workers."
    clocks: tuple[int, int] = (0, 0)
    "(workers whose clock thread ran SCHED_RR, workers with a clock thread) in the window."


def measure(rig: Rig, n: int, hold: float, cps: float, probes: int) -> Row:
    row = Row(rig.name, n, ready_s=rig.ready_s)
    time.sleep(2)  # Kamailio's OPTIONS probes mark the destinations active
    pool, front = rig.worker_pids(), rig.front_pids()
    row.pss = statistics.mean(pss_mb(p) for p in pool)
    cpu0, f0 = cpu_times(pool), cpu_times(front)
    time.sleep(IDLE_S)
    row.idle_pool = cpu_delta(cpu0, pool) / IDLE_S * 100
    row.idle_front = cpu_delta(f0, front) / IDLE_S * 100
    calls = CALLS_PER_WORKER * n
    probes = min(probes, calls)
    ramp = calls / cps
    probe = RtpProbe("127.0.0.1", probes)
    probe.start()
    try:
        bulk_run = run_sipp(rig.sip_port, BULK, calls - probes, ramp, hold, [], rig.ulaw)
        probe_run = run_sipp(rig.sip_port, PROBE, probes, ramp, hold, probe.ports)
        # The steady window: every call is up (the ramp is over), none has ended yet.
        time.sleep(ramp + 1.0)
        window = max(hold - ramp - 3.0, 5.0)
        probe.record(True)
        row.clocks = clocks_realtime(pool)
        c0, m0 = cpu_times(pool), machine_busy()
        time.sleep(window)
        row.load_pool = cpu_delta(c0, pool) / window * 100
        row.machine = machine_busy(m0)
        probe.record(False)
        bulk, sampled = bulk_run.finish(), probe_run.finish()
    finally:
        probe.close()
    row.per_call = row.load_pool / calls  # with each worker's own share: what a call costs
    row.calls = bulk.ok + sampled.ok
    row.failed = calls - row.calls  # SIPp's failures and the calls it never got to place
    rtts = Gaps(bulk.rtts + sampled.rtts)
    row.rtt_p50, row.rtt_p99 = rtts.pct(0.5), rtts.pct(0.99)
    row.gaps = probe.gaps()
    return row


def report(row: Row) -> None:
    g = row.gaps or Gaps()
    out(
        f"  {row.system:5s} N={row.n:3d}: ready {row.ready_s:5.1f} s | idle pool "
        f"{row.idle_pool:5.1f}% front {row.idle_front:4.1f}% | PSS {row.pss:5.1f} MB | "
        f"{row.calls}/{CALLS_PER_WORKER * row.n} calls, failed {row.failed} "
        f"(overload 503: {sum(row.refused.values())} {row.refused or ''}) | pool "
        f"{row.load_pool:5.1f}%, per call {row.per_call:.2f}%, machine {row.machine:4.0f}% | "
        f"RTP p99 {g.pct(0.99):4.1f} max {g.max:5.1f} ms >40ms {g.late_share:.2f}% "
        f"({g.packets} pkts) | INVITE->200 p50 {row.rtt_p50:.0f} p99 {row.rtt_p99:.0f} ms | "
        f"stop {row.stop_s:.1f} s killed {row.killed} | clocks SCHED_RR "
        f"{row.clocks[0]}/{row.clocks[1]}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", default="10,25,50,100,125", help="workers per step")
    parser.add_argument("--hold", type=float, default=40.0, help="call length, s")
    parser.add_argument("--cps", type=float, default=25.0, help="new calls per second")
    parser.add_argument("--probes", type=int, default=40, help="calls whose RTP is timed")
    parser.add_argument("--clock-rate", type=int, default=8000, help="bridge rate, both systems")
    parser.add_argument("--clock-priority", type=int, default=10,
                        help="SCHED_RR of the clock threads, both systems (0: normal)")  # fmt: skip
    parser.add_argument("--systems", default="voxpy,bare")
    args = parser.parse_args()
    for tool in ("kamailio", "sipp"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} not found: run scripts/install-system-deps.sh --bench as root")
    wav, ulaw = prompt_wavs(args.clock_rate)
    out(
        f"{os.cpu_count()} CPUs; {CALLS_PER_WORKER} calls per worker of {args.hold:g} s at "
        f"{args.cps:g} calls/s; bridge {args.clock_rate} Hz; clock threads "
        f"{'SCHED_RR ' + str(args.clock_priority) if args.clock_priority else 'SCHED_OTHER'}; "
        f"{args.probes} probe calls"
    )
    rows = []
    for n in (int(x) for x in args.n.split(",")):
        for system in args.systems.split(","):
            rig = Rig.start(system, n, wav, ulaw, args.clock_rate, args.clock_priority)
            try:
                row = measure(rig, n, args.hold, args.cps, args.probes)
            finally:
                t0 = time.monotonic()
                killed = rig.stop()
                with contextlib.suppress(UnboundLocalError):
                    row.stop_s, row.killed = time.monotonic() - t0, killed
                    row.refused = rig.refused
            report(row)
            rows.append(row)
    out(
        "\n| N / calls | ready s | idle pool % | CPU per call % | machine busy % | PSS MB "
        "| RTP p99 / max ms, >40 ms | failed | INVITE->200 p50/p99 ms | stop s (killed) |"
    )
    out("|---|---|---|---|---|---|---|---|---|---|")
    for n in sorted({r.n for r in rows}):
        pair = [r for r in rows if r.n == n]

        def col(fmt: str, get: Callable[[Row], object], pair: list[Row] = pair) -> str:
            return " / ".join(fmt.format(get(r)) for r in pair)

        out(
            f"| {n} / {CALLS_PER_WORKER * n} | {col('{:.1f}', lambda r: r.ready_s)} | "
            f"{col('{:.1f}', lambda r: r.idle_pool)} | {col('{:.2f}', lambda r: r.per_call)} | "
            f"{col('{:.0f}', lambda r: r.machine)} | "
            f"{col('{:.1f}', lambda r: r.pss)} | "
            f"{col('{}', lambda r: _rtp(r.gaps or Gaps()))} | {col('{}', lambda r: r.failed)} | "
            f"{col('{}', lambda r: f'{r.rtt_p50:.0f}/{r.rtt_p99:.0f}')} | "
            f"{col('{:.1f}', lambda r: r.stop_s)} ({col('{}', lambda r: r.killed)}) |"
        )
    out("(each cell: " + " / ".join(dict.fromkeys(r.system for r in rows)) + ")")


def _rtp(g: Gaps) -> str:
    return f"{g.pct(0.99):.0f}/{g.max:.0f}, {g.late_share:.2f}%"


if __name__ == "__main__":
    main()
