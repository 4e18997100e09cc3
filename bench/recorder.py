"""Benchmark: cost of Mp3Recorder.feed() (called on PJSIP's media thread) and of the writer.

Run: .venv/bin/python bench/recorder.py
"""

from __future__ import annotations

import math
import tempfile
import time
from array import array
from pathlib import Path

from voxpy.media.recording import Mp3Recorder

FRAME = array("h", (int(8000 * math.sin(2 * math.pi * 440 * i / 8000)) for i in range(160)))


def main() -> None:
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


if __name__ == "__main__":
    main()
