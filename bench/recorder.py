"""Benchmark: cost of Mp3Recorder.feed() (called on PJSIP's media thread) and of the writer.

Run: .venv/bin/python bench/recorder.py

Then a call in real time (stereo, 50 frames/s per direction) for each fsync period: the
writer's CPU time, and the fsyncs with their total wall time (a flush to the kernel after
every 0.1 s batch is in every run: that is what a killed worker keeps).
"""

from __future__ import annotations

import math
import os
import tempfile
import time
from array import array
from pathlib import Path

from voxpy.media.recording import Mp3Recorder

FRAME = array("h", (int(8000 * math.sin(2 * math.pi * 440 * i / 8000)) for i in range(160)))
REAL_TIME_S = 6.0


def burst() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        rec = Mp3Recorder(Path(tmp) / "call.mp3", stereo=True)
        frame, n = FRAME.tobytes(), 6000  # 60 s of stereo audio, fed as fast as possible
        start = time.perf_counter()
        for i in range(n):
            rec.feed(i & 1, frame)
        fed = time.perf_counter() - start
        duration = rec.close()
        size = (Path(tmp) / "call.mp3").stat().st_size
    print(f"feed(): {fed / n * 1e6:.2f} us per 20 ms frame; "  # noqa: T201
          f"{duration:.1f} s of stereo MP3, {size} bytes")


def real_time(fsync_period: float) -> None:
    syncs: list[float] = []
    real_fsync = os.fsync

    def timed_fsync(fd: int) -> None:
        t = time.perf_counter()
        real_fsync(fd)
        syncs.append(time.perf_counter() - t)

    os.fsync = timed_fsync
    try:
        with tempfile.TemporaryDirectory(dir=".") as tmp:  # a real disk, not a tmpfs
            rec = Mp3Recorder(Path(tmp) / "call.mp3", stereo=True, flush_interval=fsync_period)
            frame, start = FRAME.tobytes(), time.monotonic()
            for i in range(int(REAL_TIME_S * 50)):
                rec.feed(0, frame)
                rec.feed(1, frame)
                time.sleep(max(0.0, start + (i + 1) * 0.02 - time.monotonic()))
            rec.close()
            cpu = rec._cpu  # the writer thread's CPU seconds
    finally:
        os.fsync = real_fsync
    print(f"fsync every {fsync_period} s: writer CPU {cpu / REAL_TIME_S * 1000:.2f} ms/s, "  # noqa: T201
          f"{len(syncs)} fsyncs, {sum(syncs) / REAL_TIME_S * 1000:.2f} ms/s in fsync "
          f"(max {max(syncs) * 1000:.1f} ms)")


def main() -> None:
    burst()
    for period in (1.0, 0.5):
        real_time(period)


if __name__ == "__main__":
    main()
