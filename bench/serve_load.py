"""Benchmark: SIPp against ``voxpy serve`` (answer + say + hang up) and against bare pjsua2.

Run: .venv/bin/python bench/serve_load.py [--workers 2] [--seconds 10] [--rates 2,4,8,...]
Needs kamailio and sipp: scripts/install-system-deps.sh --bench (as root).

Both systems sit behind the same generated Kamailio front (dispatcher algorithm 10, maxload 4):
A is ``voxpy serve bench/scenarios_answer_say.py``; B is the same number of bare pjsua2 scripts
(bench/bare_pjsua2_answer.py) that answer and hang up after A's measured call length. For each
system the bench prints:

* a burst of 4 x workers simultaneous calls (the designed maximum of concurrent calls);
* a CPS ramp: each step offers ``rate`` calls/s for ``--seconds`` with SIPp capped at 4 x
  workers concurrent calls; it stops at the first step with a failed call or whose achieved
  rate falls under 90 % of the offered one (the pool is full: the cap is capacity, not CPU);
* INVITE->200 p50/p99 from SIPp's -trace_rtt, the workers' RSS, their idle CPU (10 s) and their
  CPU under load, and Kamailio's CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from voxpy.config import load_settings
from voxpy.log import configure_logging
from voxpy.media.library import FileMediaLibrary
from voxpy.server.kamailio import Destination, Kamailio, write_config
from voxpy.server.procs import free_port

HERE = Path(__file__).resolve().parent
SCENARIO = HERE / "scenarios_answer_say.py"
PROMPT = "Thank you for calling."
"What the scenario says; the bare baseline plays the same words from voxpy's TTS cache."
BARE = HERE / "bare_pjsua2_answer.py"

from sipp_load import (  # noqa: E402 - bench scripts run from bench/
    Step,
    best,
    group_pids,
    measure,
    out,
)


def bench_voxpy(n: int, rates: list[float], seconds: float) -> tuple[list[Step], Step]:
    port, token = free_port(), secrets.token_hex(8)
    env = {
        **os.environ,
        "VOXPY_SERVER__TOKEN": token,
        "VOXPY_SERVER__WORKER_PORT_BASE": "0",
    }
    log = Path(tempfile.mkstemp(prefix="voxpy-serve-bench-", suffix=".log")[1])
    with log.open("w") as sink:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "voxpy",
                "serve",
                str(SCENARIO),
                "--workers",
                str(n),
                "--sip-host",
                "127.0.0.1",
                "--sip-port",
                str(port),
                "--http-port",
                "0",
                "--log-format",
                "json",
            ],
            stdout=sink,
            stderr=sink,
            env=env,
            start_new_session=True,
        )
    try:
        workers, kamailio = _wait_serve(proc, log, token, n)
        front = [*kamailio, proc.pid]  # the supervisor relays the workers' logs: count it
        return measure("voxpy serve", port, workers, front, n, rates, seconds)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
        log.unlink()


def _wait_serve(
    proc: subprocess.Popen[bytes],
    log: Path,
    token: str,
    n: int,
) -> tuple[list[int], list[int]]:
    deadline = time.monotonic() + 30
    url, kamailio = "", 0
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()[-2000:]
        for line in log.read_text().splitlines():
            data = json.loads(line) if line.startswith("{") else {}
            if data.get("event") == "api_started":
                url = data["url"]
            if data.get("event") == "kamailio_started":
                kamailio = int(data["pid"])
        if url:
            request = urllib.request.Request(
                f"{url}/workers", headers={"Authorization": f"Bearer {token}"}
            )
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(request, timeout=2) as response:
                    workers = json.load(response)["workers"]
                if all(w["ready"] for w in workers) and len(workers) == n:
                    time.sleep(2)  # OPTIONS probes mark them active
                    return [int(w["pid"]) for w in workers], group_pids(kamailio)
        time.sleep(0.2)
    raise RuntimeError("voxpy serve did not become ready:\n" + log.read_text()[-2000:])


async def prompt_wav() -> tuple[str, float]:
    """The prompt as the WAV voxpy's own TTS makes (and caches) for the scenario's say()."""
    library = FileMediaLibrary.from_settings(load_settings(env={}))
    media = await library.speech(PROMPT, "en", None, None)
    return media.path, media.duration


def bench_bare(n: int, rates: list[float], seconds: float) -> tuple[list[Step], Step]:
    async def run() -> tuple[list[Step], Step]:
        wav, hold = await prompt_wav()
        settings = load_settings(
            env={}, overrides={"sip.host": "127.0.0.1", "server.probe_interval": 1}
        )
        run_dir = Path(tempfile.mkdtemp(prefix="voxpy-bare-", dir="/tmp"))
        ports = [free_port() for _ in range(n)]
        procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    str(BARE),
                    "--port",
                    str(p),
                    "--hold",
                    f"{hold:.3f}",
                    "--rtp-port",
                    str(40000 + 100 * i),
                    "--wav",
                    wav,
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for i, p in enumerate(ports)
        ]
        dests = [Destination(f"sip:127.0.0.1:{p}", f"b{i}", p) for i, p in enumerate(ports)]
        sip_port = free_port()
        cfg = write_config(settings, run_dir, sip_port, dests)
        kamailio = Kamailio("kamailio", cfg, run_dir, 64)
        try:
            await kamailio.start()
            await asyncio.sleep(1)
            for dest in dests:
                await kamailio.rpc.set_state("ap", dest.uri)
            assert kamailio.proc is not None
            kam = group_pids(kamailio.proc.pid)
            pids = [p.pid for p in procs]
            return await asyncio.to_thread(
                measure, "bare pjsua2", sip_port, pids, kam, n, rates, seconds
            )
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(10)
            await kamailio.stop()
            shutil.rmtree(run_dir, ignore_errors=True)

    return asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each ramp step")
    parser.add_argument("--rates", default="2,4,6,8,12,16,24,32,48,64")
    args = parser.parse_args()
    for tool in ("kamailio", "sipp"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} not found: run scripts/install-system-deps.sh --bench as root")
    if PROMPT not in SCENARIO.read_text():
        sys.exit(f"{SCENARIO.name} no longer says {PROMPT!r}: update PROMPT here")
    configure_logging("warning", "console")  # the Kamailio runner of the baseline logs too
    rates = [float(r) for r in args.rates.split(",")]
    n = args.workers
    out(f"{os.cpu_count()} CPUs; {n} workers; steps of {args.seconds:g} s")
    vox_steps, vox_burst = bench_voxpy(n, rates, args.seconds)
    bare_steps, bare_burst = bench_bare(n, rates, args.seconds)
    out("\nsummary (best step with 0 failed calls):")
    for name, steps, burst in (
        ("voxpy serve", vox_steps, vox_burst),
        ("bare pjsua2", bare_steps, bare_burst),
    ):
        top = best(steps)
        if top is None:
            out(f"  {name}: no clean step")
            continue
        out(
            f"  {name}: {top.cps:.1f} CPS (offered {top.rate:g}), peak concurrent "
            f"{max(burst.peak_concurrent, top.peak_concurrent)}, INVITE->200 p50 "
            f"{top.pct(0.5):.0f} ms p99 {top.pct(0.99):.0f} ms, call length "
            f"{top.call_length:.2f} s, worker CPU {top.worker_cpu:.1f}%, "
            f"{top.cpu_ms_per_call:.1f} ms of worker CPU per call"
        )
    vox, bare = best(vox_steps), best(bare_steps)
    if vox and bare and bare.cps:
        out(
            f"  ratio voxpy/bare: CPS {vox.cps / bare.cps:.2f}, worker CPU per call "
            f"{vox.cpu_ms_per_call / bare.cpu_ms_per_call:.1f}x, INVITE->200 p50 "
            f"{vox.pct(0.5):.0f} vs {bare.pct(0.5):.0f} ms"
        )


if __name__ == "__main__":
    main()
