"""Benchmark: starting ``voxpy serve`` with N workers, forked by the zygote vs exec'd.

Run: .venv/bin/python bench/workers_start.py [--workers 10,50,100] [--idle 10]
        [--baseline /path/to/an/older/checkout]
Needs kamailio. For each N, both spawn modes (and the baseline checkout, e.g. the code before
the zygote, with its own .venv) run one after the other in the same run (the machine's load
drifts: compare figures of one run only). Per run it prints:

* ready: seconds from launching ``voxpy serve`` to its ``serve_ready`` line (every worker
  answered, Kamailio up), and from the first ``worker_started`` to the last ``worker_ready``;
* PSS per worker: the sum of ``Pss`` in /proc/PID/smaps_rollup over the workers (plus the
  zygote, whose pages they share, when forked) divided by N, and without the zygote; PSS,
  not RSS: shared pages are split between the processes sharing them;
* idle CPU of the supervisor and of the zygote (percent of one core) over ``--idle`` s;
* stop: seconds from SIGTERM to exit, and how many ``worker_kill`` lines it logged.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from procstat import cpu_seconds, pss_mb  # bench scripts run from bench/

HERE = Path(__file__).resolve().parent
SCENARIO = HERE.parent / "tests" / "scenarios" / "answer_and_wait.py"






class Serve:
    """One ``voxpy serve`` run whose JSON log is read by a thread."""

    def __init__(self, n: int, spawn: str, checkout: Path) -> None:
        self.n, self.lines, self.ready = n, [], threading.Event()
        self.lines_lock = threading.Lock()
        self.run_dir = tempfile.mkdtemp(prefix="voxpy-bench-start-")
        env = {
            **os.environ,
            "VOXPY_SERVER__WORKER_PORT_BASE": "0",
            "VOXPY_SERVER__KAMAILIO_CHILDREN": "2",
            "VOXPY_SERVER__TOKEN": "bench",
            "VOXPY_SERVER__RUN_DIR": self.run_dir,
            "VOXPY_RTP__PORT": str(random.randrange(20000, 40000, 2000)),
            "VOXPY_RTP__PORT_RANGE": str(n * 10),
            "VOXPY_LOG__LEVEL": "info",
        }
        if spawn != "baseline":
            env["VOXPY_SERVER__SPAWN"] = spawn
        python = checkout / ".venv" / "bin" / "python"
        argv = [str(python), "-m", "voxpy", "serve", str(SCENARIO), "--workers", str(n),
                "--sip-host", "127.0.0.1", "--sip-port", "0", "--http-port", "0",
                "--log-format", "json"]  # fmt: skip
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, start_new_session=True, cwd=checkout,
        )  # fmt: skip
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:
            try:
                line = json.loads(raw)
            except ValueError:
                continue
            line["_t"] = time.monotonic()
            with self.lines_lock:
                self.lines.append(line)
            if line.get("event") == "serve_ready":
                self.ready.set()

    def events(self, name: str) -> list[dict[str, Any]]:
        with self.lines_lock:
            return [x for x in self.lines if x.get("event") == name]

    def stop(self) -> tuple[float, int]:
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(120)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.reader.join(5)
        return time.monotonic() - started, len(self.events("worker_kill"))


def one(n: int, spawn: str, idle: float, baseline: Path | None) -> dict[str, Any]:
    checkout = HERE.parent
    if spawn == "baseline":  # another checkout (e.g. main before the zygote): its own venv
        assert baseline is not None
        checkout = baseline
    serve = Serve(n, spawn, checkout)
    deadline = time.monotonic() + 600
    while not serve.ready.wait(1.0):
        if serve.proc.poll() is not None or time.monotonic() > deadline:
            serve.stop()
            failed = serve.events("serve_failed")
            why = failed[-1].get("error") if failed else f"exit {serve.proc.returncode}"
            return {"n": n, "spawn": spawn, "error": f"not ready: {why}"}
    ready_s = serve.events("serve_ready")[0]["_t"] - serve.started
    started = [x["_t"] for x in serve.events("worker_started")]
    ready = [x["_t"] for x in serve.events("worker_ready")]
    workers = [int(x["pid"]) for x in serve.events("worker_started")]
    zygote = [int(x["pid"]) for x in serve.events("zygote_started")]
    time.sleep(2.0)  # let start-up's last allocations settle
    pss_workers = sum(pss_mb(p) * 1024 for p in workers)
    pss = pss_workers + sum(pss_mb(p) * 1024 for p in zygote)
    own = [serve.proc.pid, *zygote]
    before = [cpu_seconds(p) for p in own]
    time.sleep(idle)
    after = [cpu_seconds(p) for p in own]
    cpu = [100.0 * (a - b) / idle for a, b in zip(after, before, strict=True)]
    stop_s, kills = serve.stop()
    return {
        "n": n,
        "spawn": spawn,
        "ready_s": round(ready_s, 2),
        "workers_ready_s": round(max(ready) - min(started), 2),
        "pss_per_worker_mb": round(pss / n / 1024, 1),
        "pss_workers_only_mb": round(pss_workers / n / 1024, 1),
        "supervisor_idle_cpu_pct": round(cpu[0], 2),
        "zygote_idle_cpu_pct": round(cpu[1], 2) if len(cpu) > 1 else None,
        "stop_s": round(stop_s, 2),
        "worker_kills": kills,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", default="10,50,100")
    parser.add_argument("--idle", type=float, default=10.0)
    parser.add_argument("--spawn", default="fork,exec", help="fork, exec and/or baseline")
    parser.add_argument(
        "--baseline", type=Path, help="a checkout with its .venv to run as spawn=baseline"
    )
    args = parser.parse_args()
    modes = args.spawn.split(",")
    if args.baseline is not None and "baseline" not in modes:
        modes.append("baseline")
    for n in (int(x) for x in args.workers.split(",")):
        for spawn in modes:
            sys.stdout.write(json.dumps(one(n, spawn, args.idle, args.baseline)) + "\n")
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
