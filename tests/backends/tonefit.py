"""A steady tone measured after a trip through a call: frequency, level, THD+N (numpy FFT).
Shared by tests/backends/test_bridge_rate_audio.py and bench/bridge_rate.py."""

from __future__ import annotations

import math
import sys
import wave
from array import array
from pathlib import Path

import numpy as np


def tone_pcm(hz: float, dbfs: float, rate: int, seconds: float = 2.0) -> bytes:
    """A sine of ``dbfs`` RMS as 16-bit little-endian mono PCM (whole periods at 1 kHz and its
    divisors over 2 s, so a looped file has no seam)."""
    amp = 32767 * 10 ** (dbfs / 20) * math.sqrt(2)
    step = 2 * math.pi * hz / rate
    samples = array("h", (round(amp * math.sin(step * i)) for i in range(round(rate * seconds))))
    if sys.byteorder == "big":
        samples.byteswap()
    return samples.tobytes()


def tone_wav(path: Path, hz: float, dbfs: float, rate: int = 16000, seconds: float = 2.0) -> Path:
    """:func:`tone_pcm` as a mono 16-bit WAV, as a prepared prompt would be."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(tone_pcm(hz, dbfs, rate, seconds))
    return path


def steady(x: np.ndarray, rate: int) -> np.ndarray:
    """The longest run of 20 ms frames within 0.5 dB of the median frame level: the player's
    loop seam dips one or two frames (pjmedia's looping, on every clock alike) and a glitch
    would swamp the distortion being measured."""
    size = rate // 50
    frames = x[: len(x) // size * size].reshape(-1, size)
    rms = np.sqrt((frames**2).mean(axis=1))
    good = np.abs(rms / max(float(np.median(rms)), 1.0) - 1) < 0.06
    best, start = (0, 0), None
    for i, ok in enumerate([*good.tolist(), False]):
        if ok and start is None:
            start = i
        elif not ok and start is not None:
            best, start = max(best, (i - start, start)), None
    length, first = best
    return frames[first : first + length].reshape(-1)


def analyse(pcm: bytes, rate: int) -> dict[str, float]:
    """Frequency (spectral peak), RMS level (dBFS) and THD+N (dB) of a steady tone."""
    x = steady(np.frombuffer(pcm, dtype="<i2").astype(np.float64), rate)
    if len(x) < rate // 2:
        return {"hz": 0.0, "dbfs": -120.0, "thdn_db": 0.0}
    level = 20 * math.log10(math.sqrt(float(np.mean(x * x))) / 32768)
    spectrum = np.abs(np.fft.rfft(x * np.blackman(len(x)))) ** 2
    bins = np.fft.rfftfreq(len(x), 1 / rate)
    peak = float(bins[int(np.argmax(spectrum))])
    fundamental = np.abs(bins - peak) <= 25
    rest = (bins >= 50) & ~fundamental
    noise = max(float(spectrum[rest].sum()), 1e-12)
    return {
        "hz": peak,
        "dbfs": level,
        "thdn_db": 10 * math.log10(noise / float(spectrum[fundamental].sum())),
    }
