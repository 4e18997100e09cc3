"""Ringback (progress) tones: one cadence cycle as a WAV file, for the player to loop.

Cadences follow ITU-T E.180 as used by each country's network: North America 440+480 Hz
2 s on / 4 s off; the UK (and Ireland) 400+450 Hz 0.4 on, 0.2 off, 0.4 on, 2 off; Russia
425 Hz 0.8 on / 3.2 off; elsewhere in Europe the CEPT tone, 425 Hz 1 s on / 4 s off (a
simplification: a few members, France for one, use a cadence of their own).
"""

from __future__ import annotations

import math
import sys
from array import array
from dataclasses import dataclass
from pathlib import Path

from voxpy.errors import MediaError
from voxpy.media.convert import write_wav

__all__ = [
    "BEEP",
    "BEEP_SECONDS",
    "SUPPORTED_COUNTRIES",
    "ToneSpec",
    "beep_wav",
    "progress_tone_wav",
    "tone_spec",
]

_LEVEL_DBFS = -10.0
_RAMP_SECONDS = 0.005  # fade each burst in and out: no clicks at the edges


@dataclass(frozen=True)
class ToneSpec:
    """Frequencies (Hz) summed during the bursts; ``cadence`` alternates on, off seconds."""

    frequencies: tuple[float, ...]
    cadence: tuple[float, ...]

    @property
    def cycle_seconds(self) -> float:
        """Length of one full cycle."""
        return sum(self.cadence)


_SPECS = {
    "US": ToneSpec((440.0, 480.0), (2.0, 4.0)),
    "GB": ToneSpec((400.0, 450.0), (0.4, 0.2, 0.4, 2.0)),
    "EU": ToneSpec((425.0,), (1.0, 4.0)),
    "RU": ToneSpec((425.0,), (0.8, 3.2)),
}
_ALIASES = {"CA": "US", "UK": "GB", "IE": "GB"}
_EU_MEMBERS = (
    "AT",
    "BE",
    "BG",
    "HR",
    "CY",
    "CZ",
    "DK",
    "EE",
    "FI",
    "FR",
    "DE",
    "GR",
    "IT",
    "LV",
    "LT",
    "LU",
    "MT",
    "NL",
    "PL",
    "PT",
    "RO",
    "SK",
    "SI",
    "ES",
    "SE",
    "CH",
    "NO",
    "IS",
)
_ALIASES.update(dict.fromkeys(_EU_MEMBERS, "EU"))

SUPPORTED_COUNTRIES: tuple[str, ...] = tuple(sorted({*_SPECS, *_ALIASES}))
"""Every country code :func:`progress_tone_wav` accepts (plus ``EU``)."""


def tone_spec(country: str) -> ToneSpec:
    """The ringback tone of ``country`` (ISO 3166 alpha-2, any case, or ``EU``)."""
    code = country.strip().upper()
    code = _ALIASES.get(code, code)
    spec = _SPECS.get(code)
    if spec is None:
        raise MediaError(
            f"no progress tone for country {country!r}; supported: {', '.join(SUPPORTED_COUNTRIES)}"
        )
    return spec


def _burst(frequencies: tuple[float, ...], seconds: float, rate: int) -> array[int]:
    amplitude = 32767 * 10 ** (_LEVEL_DBFS / 20) / len(frequencies)  # peak of the sum
    count = round(seconds * rate)
    ramp = max(1, min(round(_RAMP_SECONDS * rate), count // 2))
    steps = [2 * math.pi * f / rate for f in frequencies]
    samples = array("h", bytes(2 * count))
    for i in range(count):
        gain = min(1.0, (i + 1) / ramp, (count - i) / ramp)
        samples[i] = round(gain * amplitude * sum(math.sin(step * i) for step in steps))
    return samples


def progress_tone_wav(country: str, dst: Path, rate: int = 16000) -> Path:
    """Write one cadence cycle of ``country``'s ringback tone to ``dst`` (mono 16-bit WAV).

    The file starts with the first burst and ends after the last pause, so a looping
    player reproduces the cadence. About -10 dBFS peak. Unknown countries raise MediaError.
    """
    spec = tone_spec(country)
    samples = array("h")
    for index, seconds in enumerate(spec.cadence):
        if index % 2 == 0:
            samples += _burst(spec.frequencies, seconds, rate)
        else:
            samples += array("h", bytes(2 * round(seconds * rate)))
    if sys.byteorder == "big":
        samples.byteswap()  # WAV is little-endian
    write_wav(dst, samples.tobytes(), rate)
    return dst


BEEP = "tone:beep"
"""The source to ``start_playback`` for a short beep (before a recording, say)."""
BEEP_SECONDS = 0.5
BEEP_HZ = 1000.0


def beep_wav(dst: Path, rate: int = 16000) -> Path:
    """Write the beep (``BEEP_SECONDS`` of ``BEEP_HZ``, about -10 dBFS) to ``dst``."""
    samples = _burst((BEEP_HZ,), BEEP_SECONDS, rate)
    if sys.byteorder == "big":
        samples.byteswap()
    write_wav(dst, samples.tobytes(), rate)
    return dst
