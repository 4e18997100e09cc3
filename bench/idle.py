"""What an idle worker costs: `voxpy run` (no calls) beside bare pjsua2
(bench/bare_pjsua2_answer.py) in the same run, and how long each takes from SIGTERM to exit.

For each count N in ``--counts`` it starts N voxpy workers (``voxpy run SCENARIO --control-socket``,
as `voxpy serve` starts them) and N bare processes, waits until all listen, lets them settle, then
samples every thread of every process over ``--seconds`` from /proc (CPU ticks and context switches,
the switches of an idle thread being its wake-ups). Then it sends SIGTERM to all of them at once and
times each until it has exited (waitpid). Figures are per process: mean and max.

Run: python bench/idle.py [--counts 1,20] [--seconds 20] [--scenario scenarios/hello_hangup.py]

CPU shares on a shared machine are noisy; that is why both kinds are sampled side by side.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HZ = os.sysconf("SC_CLK_TCK")
READY_TIMEOUT_S = 600.0
"100 workers starting at once on 2 cores took up to 160 s (issue 15)."


@dataclass(frozen=True, slots=True, kw_only=True)
class ThreadSample:
    name: str
    ticks: int
    switches: int


@dataclass(slots=True, kw_only=True)
class Proc:
    kind: str
    popen: subprocess.Popen[bytes]
    log: Path
    marker: bytes


def _threads(pid: int) -> dict[int, ThreadSample]:
    out: dict[int, ThreadSample] = {}
    tids: list[str] = []  # the process may be gone
    with contextlib.suppress(OSError):
        tids = os.listdir(f"/proc/{pid}/task")
    for tid in tids:
        base = f"/proc/{pid}/task/{tid}"
        try:
            name = Path(f"{base}/comm").read_text().strip()
            fields = Path(f"{base}/stat").read_text().rsplit(")", 1)[1].split()
            status = Path(f"{base}/status").read_text().splitlines()
        except OSError:
            continue  # the thread ended meanwhile
        switches = sum(int(line.split()[1]) for line in status if "ctxt_switches" in line)
        out[int(tid)] = ThreadSample(
            name=name, ticks=int(fields[11]) + int(fields[12]), switches=switches
        )
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class Setup:
    scenario: str
    baseline: Path | None
    "Another checkout of voxpy (e.g. main) run as a third kind, ``voxpy@base``: before/after."
    without_bare: bool = False

    @property
    def kinds(self) -> tuple[str, ...]:
        bare = () if self.without_bare else ("bare",)
        return ("voxpy", *bare) + (("voxpy@base",) if self.baseline is not None else ())


def _start(kind: str, index: int, tmp: Path, setup: Setup) -> Proc:
    log = tmp / f"{kind}{index}.log"
    cwd = ROOT
    if kind.startswith("voxpy"):
        # `python -m` puts the working directory first on sys.path: that tree's voxpy runs.
        base = kind == "voxpy@base"
        cwd = setup.baseline if base and setup.baseline is not None else ROOT
        rtp = str(20000 + 8 * index + (10000 if base else 0))
        control = str(tmp / f"{kind}{index}.sock")
        argv = [sys.executable, "-m", "voxpy", "run", setup.scenario, "--sip-host", "127.0.0.1",
                "--sip-port", "0", "--rtp-port", rtp, "--rtp-port-range", "8",
                "--log-format", "json", "--control-socket", control]  # fmt: skip
        marker = b"control_started"
    else:
        argv = [sys.executable, str(ROOT / "bench" / "bare_pjsua2_answer.py"), "--port", "0"]
        marker = b"ready"
    with log.open("wb") as sink:
        popen = subprocess.Popen(argv, stdout=sink, stderr=subprocess.STDOUT, cwd=cwd)
    return Proc(kind=kind, popen=popen, log=log, marker=marker)


def _wait_ready(procs: list[Proc]) -> float:
    start = time.monotonic()
    pending = list(procs)
    while pending:
        if time.monotonic() - start > READY_TIMEOUT_S:
            raise SystemExit(
                f"{len(pending)} not ready in {READY_TIMEOUT_S} s, e.g. {pending[0].log}"
            )
        for proc in list(pending):
            if proc.popen.poll() is not None:
                raise SystemExit(f"{proc.kind} exited {proc.popen.returncode}: {proc.log}")
            if proc.marker in proc.log.read_bytes():
                pending.remove(proc)
        time.sleep(0.05)
    return time.monotonic() - start


def _sample(procs: list[Proc], seconds: float) -> dict[int, dict[str, tuple[float, float]]]:
    """Per pid: thread label -> (CPU % of a core, wake-ups/s)."""
    before = {p.popen.pid: _threads(p.popen.pid) for p in procs}
    t0 = time.monotonic()
    time.sleep(seconds)
    after = {p.popen.pid: _threads(p.popen.pid) for p in procs}
    elapsed = time.monotonic() - t0
    result: dict[int, dict[str, tuple[float, float]]] = {}
    for pid, threads in after.items():
        rows: dict[str, tuple[float, float]] = {}
        for n, (tid, now) in enumerate(sorted(threads.items())):
            then = before[pid].get(tid)
            if then is None:
                continue
            cpu = (now.ticks - then.ticks) / HZ / elapsed * 100
            rows[f"{n}:{now.name}"] = (cpu, (now.switches - then.switches) / elapsed)
        result[pid] = rows
    return result


@dataclass(frozen=True, slots=True, kw_only=True)
class Stop:
    seconds: float
    "From SIGTERM (sent to all at once) until the process had exited."
    cpu_s: float
    "CPU the process used in that time (all threads, from wait4's rusage)."


def _process_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / HZ


def _stop_all(procs: list[Proc]) -> dict[int, Stop]:
    """SIGTERM to every process at once; how long each took to exit and the CPU it spent."""
    cpu_before = {p.popen.pid: _process_cpu_s(p.popen.pid) for p in procs}
    start = time.monotonic()
    for proc in procs:
        proc.popen.send_signal(signal.SIGTERM)
    stops: dict[int, Stop] = {}
    deadline = start + 30
    while len(stops) < len(procs) and time.monotonic() < deadline:
        for proc in procs:
            pid = proc.popen.pid
            if pid in stops:
                continue
            done, status, usage = os.wait4(pid, os.WNOHANG)
            if done:
                proc.popen.returncode = os.waitstatus_to_exitcode(status)
                cpu = usage.ru_utime + usage.ru_stime - cpu_before[pid]
                stops[pid] = Stop(seconds=time.monotonic() - start, cpu_s=cpu)
        time.sleep(0.005)
    for proc in procs:
        if proc.popen.pid not in stops:
            last = proc.log.read_bytes().splitlines()[-1:] or [b""]
            _out(f"{proc.kind} pid {proc.popen.pid} still running, killed; its last line: "
                 f"{last[0].decode(errors='replace')[:300]}")  # fmt: skip
            proc.popen.kill()
            proc.popen.wait()
    return stops


def _out(line: str) -> None:
    print(line, flush=True)  # noqa: T201 - a benchmark prints its figures


def _summary(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{statistics.mean(values):.2f} / {max(values):.2f}"  # mean / max


@contextlib.contextmanager
def _procs(count: int, tmp: Path, setup: Setup) -> Iterator[list[Proc]]:
    procs: list[Proc] = []
    try:
        for i in range(count):
            procs.extend(_start(kind, i, tmp, setup) for kind in setup.kinds)
        yield procs
    finally:
        for proc in procs:
            if proc.popen.poll() is None:
                proc.popen.kill()
                proc.popen.wait()


def run(count: int, seconds: float, settle: float, setup: Setup) -> None:
    with (
        tempfile.TemporaryDirectory(prefix="voxpy-idle-") as tmpdir,
        _procs(count, Path(tmpdir), setup) as procs,
    ):
        ready = _wait_ready(procs)
        time.sleep(settle)  # start-up work (imports, first timers) is not idle cost
        samples = _sample(procs, seconds)
        stops = _stop_all(procs)
        codes = {p.popen.pid: p.popen.returncode for p in procs}
        _out(f"\n## {count} of each of {', '.join(setup.kinds)} at once (ready in {ready:.1f} s, "
              f"sampled {seconds:.0f} s)")  # fmt: skip
        _out("| kind | CPU % of a core per process | wake-ups/s per process "
             "| SIGTERM to exit, s | CPU s spent in shutdown | exit codes |")  # fmt: skip
        _out("|---|---|---|---|---|---|")
        for kind in setup.kinds:
            pids = [p.popen.pid for p in procs if p.kind == kind]
            cpu = [sum(c for c, _ in samples[pid].values()) for pid in pids]
            wakes = [sum(w for _, w in samples[pid].values()) for pid in pids]
            took = [stops[pid].seconds for pid in pids if pid in stops]
            spent = [stops[pid].cpu_s for pid in pids if pid in stops]
            killed = len(pids) - len(took)
            exits = sorted({codes[pid] for pid in pids})
            killed_note = f" ({killed} killed)" if killed else ""
            _out(f"| {kind} | {_summary(cpu)} | {_summary(wakes)} | {_summary(took)}{killed_note}"
                 f" | {_summary(spent)} | {exits} |")  # fmt: skip
        if count == 1:
            _out("\nPer thread (CPU % / wake-ups/s):")
            for proc in procs:
                rows = ", ".join(
                    f"{label} {cpu:.2f}/{wakes:.0f}"
                    for label, (cpu, wakes) in samples[proc.popen.pid].items()
                )
                _out(f"- {proc.kind}: {rows}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--counts", default="1,20", help="comma-separated process counts")
    parser.add_argument("--seconds", type=float, default=20.0, help="sampling window")
    parser.add_argument("--settle", type=float, default=3.0, help="wait after ready")
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "hello_hangup.py"))
    parser.add_argument("--no-bare", action="store_true", help="voxpy workers only")
    parser.add_argument("--baseline", type=Path, help="another voxpy checkout, run beside")
    args = parser.parse_args()
    baseline = args.baseline.resolve() if args.baseline else None
    setup = Setup(
        scenario=str(Path(args.scenario).resolve()), baseline=baseline, without_bare=args.no_bare
    )
    for count in (int(c) for c in args.counts.split(",")):
        run(count, args.seconds, args.settle, setup)


if __name__ == "__main__":
    main()
