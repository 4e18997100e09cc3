"""Benchmark: worker CPU per call and audio quality by the bridge's clock rate (issue 15).

Run: .venv/bin/python bench/bridge_rate.py [--workers 2] [--seconds 8] [--rounds 2]

Three set-ups, side by side in the same run, each round in turn (so load from anything else
on the machine falls on all three alike):

  a. 16 kHz bridge, resample quality 8 (pjsua's default: the large filter)
  b. 16 kHz bridge, quality 4 (the small filter)
  c. 8 kHz bridge, 8 kHz prompts (quality 8, unused: nothing is resampled on a G.711 call)

Each set-up starts ``--workers`` engine processes (this file with ``--worker``: one pjsua2
endpoint each, the test kit's harness, its caller a pjsua2 peer process); each takes 4 G.711
(PCMU) calls and loops a prompt into every one: a 1 kHz tone at -10 dBFS, a 16 kHz WAV as a
TTS or URL prompt would be, prepared at the bridge's rate by the media library. The parent
reads the workers' CPU from /proc/<pid>/stat over ``--seconds`` (the callers' processes are
not counted), then each worker taps one call at 8 kHz for 2 s and reports the tone's
frequency, level and THD+N (everything but the fundamental, relative to it). CPU per call is
the workers' whole CPU over the calls, so it carries each process's fixed cost (its 20 ms
poll, the event loop) too: the differences between set-ups are the resampling.

Taken beside four other jobs on a shared 2-core machine (load average 25-75), two runs:
a 0.52 / 0.51, b 0.41 / 0.38 (-20 / -25 %), c 0.37 / 0.33 (-27 / -35 %) % of a core per call;
the tone -10.06 dBFS in a and c, -11.00 in b; THD+N -43 dB in a, -39 in b, -40 to -43 in c.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import structlog
from procstat import cpu_seconds  # bench scripts run from bench/

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.backends.tonefit import analyse, tone_wav  # noqa: E402 - shared with the tests

SCENARIO = ROOT / "bench" / "scenarios_answer.py"
CALLS = 4
TONE_HZ = float(os.environ.get("BENCH_TONE_HZ", "1000"))
TONE_DBFS = -10.0
"The prompt's tone: a 1 kHz sine (BENCH_TONE_HZ changes it) at -10 dBFS RMS."
SETUPS = {
    "a: 16 kHz, quality 8": (16000, 8),
    "b: 16 kHz, quality 4": (16000, 4),
    "c: 8 kHz, 8 kHz prompt": (8000, 8),  # quality unused: G.711 meets the bridge unchanged
}


async def worker(clock: int, quality: int) -> None:
    """One engine process: 4 calls, the prompt looped into each; prints ``ready``, waits for a
    line on stdin, then taps one call and prints its figures as JSON."""
    from voxpy.testing import ScenarioHarness

    with tempfile.TemporaryDirectory() as tmp:
        config = {
            "media.cache_dir": f"{tmp}/cache",
            "media.recordings_dir": f"{tmp}/rec",
            "media.clock_rate": clock,
            "media.resample_quality": quality,
            "sip.codecs": ["PCMU/8000"],
        }
        prompt = str(tone_wav(Path(tmp) / "prompt.wav", TONE_HZ, TONE_DBFS))
        async with ScenarioHarness(SCENARIO, backend="sip", config=config) as h:
            calls = [await h.dial(to=str(100 + i)) for i in range(CALLS)]
            for call in calls:
                await call.wait_answered()
            await h.wait_until(lambda: len(h.recorder.of("Call.Connected")) == CALLS, 10, "legs")
            for leg in (e.call for e in h.recorder.of("Call.Connected")):
                leg.start_playback(prompt, loop=True)
            await asyncio.sleep(1)
            print("ready", flush=True)  # noqa: T201
            await asyncio.to_thread(sys.stdin.readline)
            calls[0].listen(8000)
            await asyncio.sleep(2.5)
            figures = analyse(calls[0].heard_pcm(), 8000)
            print(json.dumps(figures), flush=True)  # noqa: T201
            for call in calls:
                call.hangup()




def run_setup(clock: int, quality: int, workers: int, seconds: float) -> dict[str, float]:
    procs = [
        subprocess.Popen(
            [sys.executable, __file__, "--worker", str(clock), str(quality)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        for _ in range(workers)
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None
            line = proc.stdout.readline().strip()
            if line != "ready":
                raise RuntimeError(f"worker failed to start: {line!r}")
        wall, before = time.monotonic(), [cpu_seconds(p.pid) for p in procs]
        time.sleep(seconds)
        used = sum(cpu_seconds(p.pid) for p in procs) - sum(before)
        elapsed = time.monotonic() - wall
        figures = []
        for proc in procs:
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        for proc in procs:
            assert proc.stdout is not None
            figures.append(json.loads(proc.stdout.readline()))
            proc.wait(timeout=30)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return {
        "cpu_per_call": used / elapsed / (workers * CALLS) * 100,
        **{k: statistics.mean(f[k] for f in figures) for k in ("hz", "dbfs", "thdn_db")},
    }


def main(workers: int, seconds: float, rounds: int) -> None:
    results: dict[str, list[dict[str, float]]] = {name: [] for name in SETUPS}
    for _ in range(rounds):
        for name, (clock, quality) in SETUPS.items():
            results[name].append(run_setup(clock, quality, workers, seconds))
    mean = statistics.mean
    base = mean(r["cpu_per_call"] for r in results[next(iter(SETUPS))])
    lines = [
        f"{workers * CALLS} G.711 calls over {workers} engine processes, a {TONE_HZ:g} Hz "
        f"{TONE_DBFS:g} dBFS prompt looped into each; worker CPU over {seconds:g} s, "
        f"{rounds} rounds",
        f"{'set-up':24s} {'CPU %/call':>10s} {'vs a':>6s} {'Hz':>7s} {'dBFS':>7s} {'THD+N dB':>8s}",
    ]
    for name, runs in results.items():
        cpu = mean(r["cpu_per_call"] for r in runs)
        lines.append(
            f"{name:24s} {cpu:10.2f} {(cpu / base - 1) * 100:+5.0f}% "
            f"{mean(r['hz'] for r in runs):7.1f} {mean(r['dbfs'] for r in runs):7.2f} "
            f"{mean(r['thdn_db'] for r in runs):8.1f}  (rounds: "
            + "/".join(f"{r['cpu_per_call']:.2f}" for r in runs)
            + ")"
        )
    print("\n".join(lines))  # noqa: T201


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--worker", nargs=2, type=int, metavar=("CLOCK", "QUALITY"))
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    if args.worker:
        asyncio.run(worker(*args.worker))
    else:
        main(args.workers, args.seconds, args.rounds)
