"""What every detector shares: 20 ms frames at a fixed rate, and time counted in frames.

A detector is sans-I/O: it reads no clock. ``now_ms`` is the number of samples fed so far,
so a result says *where in the audio* it happened, and a test or a benchmark replays the same
audio to the same results. Input is voxpy's internal PCM (16-bit LE mono, 8 or 16 kHz); any
chunking is accepted and regrouped into whole frames (a remainder waits for the next feed).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from voxpy.core.audio import FRAME_MS, FrameChunker, check_rate, frame_bytes

Samples = npt.NDArray[np.float64]
"a frame as floats in -1..1 (full scale 32768)"

_FULL_SCALE = 32768.0
_FLOOR_DBFS = -120.0


class FrameClock:
    """Turns a byte stream into frames of ``frame_ms`` and counts the time they cover."""

    __slots__ = ("_chunker", "frame_ms", "frames", "sample_rate", "samples_per_frame")

    def __init__(self, sample_rate: int, frame_ms: int = FRAME_MS) -> None:
        self.sample_rate = check_rate(sample_rate)
        self.frame_ms = frame_ms
        self.samples_per_frame = sample_rate * frame_ms // 1000
        self._chunker = FrameChunker(frame_bytes(sample_rate, frame_ms))
        self.frames = 0

    @property
    def now_ms(self) -> int:
        """Milliseconds of audio consumed (the end of the last whole frame)."""
        return self.frames * self.frame_ms

    def split(self, pcm: bytes) -> list[bytes]:
        """The whole frames ``pcm`` completes; the caller counts each with :meth:`tick`."""
        return self._chunker.feed(pcm)

    def tick(self) -> int:
        """One more frame consumed; returns the new ``now_ms``."""
        self.frames += 1
        return self.now_ms


def samples(frame: bytes) -> Samples:
    """16-bit LE PCM as floats in -1..1."""
    return np.frombuffer(frame, dtype="<i2").astype(np.float64) / _FULL_SCALE


def dbfs(power: float) -> float:
    """Mean-square ``power`` (of -1..1 samples) in dB relative to a full-scale square wave."""
    return 10.0 * float(np.log10(power)) if power > 0 else _FLOOR_DBFS


def sine_dbfs(amplitude: float) -> float:
    """The level of a sine of peak ``amplitude`` in dBFS (a full-scale sine is -3 dBFS)."""
    return dbfs(amplitude * amplitude / 2.0)
