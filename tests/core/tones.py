"""Test tones and a frequency check in pure Python (numpy is not a dependency)."""

from __future__ import annotations

import itertools
import math
import struct


def sine(freq: float, rate: int, ms: int, amplitude: float = 8000.0) -> bytes:
    """``ms`` of a ``freq`` Hz sine as 16-bit little-endian PCM at ``rate``."""
    n = rate * ms // 1000
    return struct.pack(
        f"<{n}h", *(round(amplitude * math.sin(2 * math.pi * freq * i / rate)) for i in range(n))
    )


def samples(pcm: bytes) -> tuple[int, ...]:
    return struct.unpack(f"<{len(pcm) // 2}h", pcm)


def power_at(xs: tuple[int, ...], freq: float, rate: int) -> float:
    """Goertzel: the signal's power at ``freq`` (one DFT bin, no numpy)."""
    coeff = 2 * math.cos(2 * math.pi * freq / rate)
    s1 = s2 = 0.0
    for x in xs:
        s1, s2 = x + coeff * s1 - s2, s1
    return s1 * s1 + s2 * s2 - coeff * s1 * s2


def zero_crossings_per_second(xs: tuple[int, ...], rate: int) -> float:
    crossings = sum(1 for a, b in itertools.pairwise(xs) if (a < 0) != (b < 0))
    return crossings * rate / len(xs)


def dominant(pcm: bytes, rate: int, candidates: tuple[float, ...]) -> float:
    """The candidate frequency with the most power in ``pcm``."""
    xs = samples(pcm)
    return max(candidates, key=lambda f: power_at(xs, f, rate))


CANDIDATES = (220.0, 330.0, 400.0, 440.0, 480.0, 560.0, 880.0, 1000.0, 2000.0, 3000.0)


def assert_tone(pcm: bytes, rate: int, freq: float = 440.0) -> None:
    """``pcm`` at ``rate`` is a clean ``freq`` Hz tone: peak bin and zero-crossing rate agree."""
    assert dominant(pcm, rate, CANDIDATES) == freq
    assert abs(zero_crossings_per_second(samples(pcm), rate) - 2 * freq) < 0.02 * 2 * freq
