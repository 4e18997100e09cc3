"""Generated test audio: tones, cadences, DTMF, noise, G.711 and espeak-ng speech.

For tests, the benchmark and scenario unit tests that feed detectors audio instead of results.
Everything returns internal PCM (16-bit LE mono bytes) and is deterministic: noise takes a
seed, and espeak-ng speech is made in a fresh process (see :func:`speech`).
"""

from __future__ import annotations

import functools
import subprocess
import sys
import tempfile
import wave
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from voxpy.core.audio import Decoder, Encoder, Encoding, Resampler
from voxpy.errors import MediaError
from voxpy.media.hearing.frames import Samples

_FULL = 32767.0
_RAMP_S = 0.005  # 5 ms fades: no clicks at burst edges (a click is broadband, like speech)


def _pcm(x: Samples) -> bytes:
    return np.clip(np.round(x * _FULL), -32768, 32767).astype("<i2").tobytes()


def _float(pcm: bytes) -> Samples:
    return np.frombuffer(pcm, dtype="<i2").astype(np.float64) / _FULL


def silence(ms: int, rate: int) -> bytes:
    return bytes(rate * ms // 1000 * 2)


def tone(freqs: Sequence[float], ms: int, rate: int, *, dbfs: float = -16.0) -> bytes:
    """A burst of ``freqs`` summed, each at ``dbfs`` (sine level), with 5 ms fades."""
    n = rate * ms // 1000
    t = np.arange(n) / rate
    amp = np.sqrt(2.0) * 10 ** (dbfs / 20)
    x = sum((amp * np.sin(2 * np.pi * f * t) for f in freqs), np.zeros(n))
    ramp = max(1, min(int(_RAMP_S * rate), n // 2))
    env = np.minimum(1.0, np.minimum(np.arange(1, n + 1), np.arange(n, 0, -1)) / ramp)
    return _pcm(x * env)


def cadence(
    freqs: Sequence[float], pattern: Sequence[float], seconds: float, rate: int, **kw: float
) -> bytes:
    """``pattern`` (on, off, ... seconds) repeated until ``seconds`` of audio."""
    out = bytearray()
    total = int(seconds * rate) * 2
    while len(out) < total:
        for i, s in enumerate(pattern):
            ms = round(s * 1000)
            out += tone(freqs, ms, rate, **kw) if i % 2 == 0 else silence(ms, rate)
    return bytes(out[:total])


def dtmf(
    digits: str,
    rate: int,
    *,
    on_ms: int = 80,
    off_ms: int = 80,
    dbfs: float = -16.0,
    twist_db: float = 0.0,
) -> bytes:
    """``digits`` as in-band DTMF; ``twist_db`` lowers the column tone."""
    from voxpy.media.hearing.dtmf import COLUMNS, KEYS, ROWS

    out = bytearray()
    for d in digits:
        r = next(i for i, keys in enumerate(KEYS) if d in keys)
        c = KEYS[r].index(d)
        low = _float(tone([ROWS[r]], on_ms, rate, dbfs=dbfs))
        high = _float(tone([COLUMNS[c]], on_ms, rate, dbfs=dbfs - twist_db))
        out += _pcm(low + high) + silence(off_ms, rate)
    return bytes(out)


def add_noise(pcm: bytes, snr_db: float, seed: int, *, ref_dbfs: float | None = None) -> bytes:
    """White noise ``snr_db`` below the signal's RMS (or below ``ref_dbfs``)."""
    x = _float(pcm)
    rng = np.random.default_rng(seed)
    power = max(float(np.mean(x * x)), 1e-12)
    ref = ref_dbfs if ref_dbfs is not None else 10 * float(np.log10(power))
    sigma = 10 ** ((ref - snr_db) / 20)
    return _pcm(x + rng.normal(0.0, sigma, len(x)))


def g711(pcm: bytes, rate: int, encoding: Encoding = Encoding.ULAW) -> bytes:
    """``pcm`` through a G.711 encoder and decoder (at 8 kHz on the wire), as on a phone line."""
    return Decoder(encoding, rate).decode(Encoder(encoding, rate).encode(pcm))


_SPEAK = """
import ctypes, sys
from pathlib import Path
import espeakng_loader
from voxpy.media.espeak import EspeakProvider
text, voice, speed, out = sys.argv[1:]
espeak = EspeakProvider()
espeak.synthesize(".", "en-us", None, None, Path(out))  # initializes the library
ctypes.CDLL(espeakng_loader.get_library_path()).espeak_ng_SetRandSeed(ctypes.c_long(1))
espeak.synthesize(text, "en-us", voice or None, float(speed) if speed else None, Path(out))
"""


@functools.lru_cache(maxsize=64)
def speech(text: str, rate: int, *, voice: str | None = None, speed: float | None = None) -> bytes:
    """``text`` spoken by espeak-ng (offline), at ``rate``, about -20 dBFS RMS.

    Deterministic: espeak-ng seeds its noise from the clock at initialization (two processes
    differ in 99% of the samples of the same text, measured) and its output also depends on
    what was synthesized before; so each text is made in a fresh interpreter, after a fixed
    warm-up, with ``espeak_ng_SetRandSeed(1)``: the same bytes every time.
    """
    with tempfile.TemporaryDirectory(prefix="voxpy-synth-") as tmp:
        out = Path(tmp) / "speech.wav"
        args = [text, voice or "", "" if speed is None else str(speed), str(out)]
        try:
            subprocess.run(
                [sys.executable, "-c", _SPEAK, *args], check=True, capture_output=True, timeout=60
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise MediaError(f"espeak-ng synthesis failed: {exc}") from exc
        with wave.open(str(out)) as w:
            source_rate, pcm = w.getframerate(), w.readframes(w.getnframes())
    x = _float(Resampler(source_rate, rate).convert(pcm))
    rms = np.sqrt(np.mean(x * x)) or 1.0
    return _pcm(x * (10 ** (-20 / 20) / rms))
