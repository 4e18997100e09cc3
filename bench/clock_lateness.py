"""How late Python code on pjmedia's clock thread runs, and what the overload gate's media
share (the clock thread's run-queue wait) says meanwhile.

A bare endpoint (null sound device, threadCnt=0, as a voxpy worker) with one Python
``AudioMediaPort`` on the bridge: its ``onFrameRequested`` runs on the clock thread every
20 ms and must take the GIL. Each case runs in a fresh process, the cases interleaved, so
they are measured side by side under the same machine load:

- ``idle``: nothing else runs Python (the owner thread sits in libHandleEvents, which
  releases the GIL);
- ``pybusy``: a thread spins in pure Python, as the asyncio or owner thread does when busy,
  at each ``--switch`` interval (``sys.setswitchinterval``; CPython's default is 5 ms).

Add ``--burners N`` to saturate the CPU with N spinning processes. Run:
``python bench/clock_lateness.py [--seconds 5] [--rounds 3] [--switch 0.005 0.001] [--burners 2]``

Measured on 2 cores with other jobs running (load 1-2 before them), 5 s per case: with a
Python thread busy a clock-thread callback's gap p99 was 25.4-37.2 ms at 5 ms switch interval
and 22.7-29.9 ms at 1 ms (idle: 20.4-21.7 ms); the run-queue wait share stayed 0.007-0.015,
so the gate's media share does not see GIL waits, only CPU starvation (0.085-0.58 whenever
gaps went past 40 ms).
"""

from __future__ import annotations

import argparse
import itertools
import os
import subprocess
import sys
import threading
import time

CASE = "--case"


def run_case(mode: str, switch: float, seconds: float) -> None:
    import pjsua2 as pj

    from voxpy.backends.pjsua2.loadsample import LoadSampler

    sys.setswitchinterval(switch)
    ep = pj.Endpoint()
    ep.libCreate()
    cfg = pj.EpConfig()
    cfg.uaConfig.threadCnt = 0
    cfg.uaConfig.mainThreadOnly = True
    cfg.logConfig.level = cfg.logConfig.consoleLevel = 0
    cfg.medConfig.sndAutoCloseTime = -1  # keep the clock thread for the whole run
    ep.libInit(cfg)
    ep.audDevManager().setNullDev()
    ep.libStart()
    stamps: list[int] = []

    class Port(pj.AudioMediaPort):  # type: ignore[misc]
        def onFrameRequested(self, frame: object) -> None:  # clock thread
            stamps.append(time.perf_counter_ns())

    fmt = pj.MediaFormatAudio()
    fmt.init(pj.PJMEDIA_FORMAT_PCM, 16000, 1, 20000, 16)
    port = Port()
    port.createPort("probe", fmt)
    sink = ep.audDevManager().getPlaybackDevMedia()
    port.startTransmit(sink)
    stop = threading.Event()
    if mode == "pybusy":

        def spin() -> None:
            x = 0
            while not stop.is_set():
                x += 1

        threading.Thread(target=spin, daemon=True).start()
    for _ in range(50):  # the clock thread starts with the first connected port
        ep.libHandleEvents(10)
    sampler = LoadSampler()
    start = time.monotonic()
    sampler.start(start)
    stamps.clear()
    while time.monotonic() - start < seconds:
        ep.libHandleEvents(20)
    sample = sampler.sample(time.monotonic())
    stop.set()
    port.stopTransmit(sink)
    gaps = sorted((b - a) / 1e6 for a, b in itertools.pairwise(stamps))
    p99 = gaps[min(len(gaps) - 1, int(0.99 * len(gaps)))]
    media = "?" if sample is None or sample.media is None else f"{sample.media:.3f}"
    cpu = "?" if sample is None else f"{sample.cpu:.2f}"
    print(  # noqa: T201 - a benchmark's report
        f"{mode:7s} {switch * 1000:6.1f} ms  p50 {gaps[len(gaps) // 2]:6.2f}  p99 {p99:6.2f}  "
        f"max {gaps[-1]:7.2f}  >25ms {sum(g > 25 for g in gaps):4d}  cpu {cpu}  media {media}",
        flush=True,
    )
    del port
    ep.libDestroy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--switch", type=float, nargs="+", default=[0.005, 0.001])
    parser.add_argument("--burners", type=int, default=0)
    parser.add_argument(CASE, nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        run_case(args.case[0], float(args.case[1]), args.seconds)
        return
    burn = [sys.executable, "-c", "while True: pass"]
    burners = [subprocess.Popen(burn) for _ in range(args.burners)]
    try:
        print("mode    switch     clock-thread callback gaps (ms)           /proc sample")  # noqa: T201
        for _ in range(args.rounds):
            for mode in ("idle", "pybusy"):
                for switch in args.switch:
                    argv = [sys.executable, __file__, "--seconds", str(args.seconds)]
                    subprocess.run([*argv, CASE, mode, str(switch)], check=True, env=os.environ)
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()


if __name__ == "__main__":
    main()
