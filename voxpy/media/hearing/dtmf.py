"""In-band DTMF (tones carried in the audio, VoxEngine's tone type 2): Goertzel + ITU-T Q.24.

Analysis: 20 ms windows hopped by 10 ms (two per frame), so a 40 ms digit fills two windows
at any alignment. A window holds a digit when all of Q.24's limits hold:

* level: each of the two tones at least ``min_level_dbfs`` (Q.24 lets administrations
  accept from about -25 dBm0 per tone; -33 dBFS is -30 dBm0 on a G.711 line);
* twist: the column (high) tone at most 8 dB below the row tone (normal twist) and at most
  4 dB above it (reverse twist);
* frequency: each tone within ±2.5% of nominal: Q.24 asks acceptance within ±1.5% and
  rejection beyond ±3.5%; the offset is the peak of a 0.25%-step bin grid around nominal;
* purity: the two tones carry at least 80% of the window's energy, and each is 8 dB above
  every other tone of its group. This is what keeps speech from being heard as digits
  ("talk-off"): voiced speech has many harmonics and never puts 80% into two of them.

A digit starts after two consecutive windows (>= 30-40 ms of tone), is reported then, and
ends after three windows without it; only then can the next digit (or the same again) start,
which is Q.24's inter-digit pause (>= 40 ms) with a 10 ms dropout tolerance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from voxpy.media.hearing.frames import FrameClock, Samples, samples, sine_dbfs
from voxpy.media.hearing.spectrum import BinBank, sum_of_squares

ROWS = (697.0, 770.0, 852.0, 941.0)
COLUMNS = (1209.0, 1336.0, 1477.0, 1633.0)
KEYS = ("123A", "456B", "789C", "*0#D")
_OFFSETS = np.arange(-0.04, 0.0401, 0.0025)


@dataclass(frozen=True, slots=True, kw_only=True)
class DtmfDigit:
    """A digit heard in the audio; ``at_ms`` is where its tone started."""

    digit: str
    at_ms: int
    row_dbfs: float
    column_dbfs: float


@dataclass(frozen=True, slots=True, kw_only=True)
class DtmfLimits:
    """Q.24 acceptance limits (see the module docstring for the reasons of each default)."""

    min_level_dbfs: float = -33.0
    normal_twist_db: float = 8.0
    reverse_twist_db: float = 4.0
    frequency_tolerance: float = 0.025
    min_purity: float = 0.8
    group_margin_db: float = 8.0
    on_windows: int = 2
    off_windows: int = 3


class DtmfDetector:
    """``feed(pcm) -> list[DtmfDigit]`` for consecutive frames at ``sample_rate``."""

    __slots__ = (
        "_candidate",
        "_clock",
        "_current",
        "_fine",
        "_hits",
        "_misses",
        "_nominal",
        "_prev",
        "_size",
        "_start_ms",
        "limits",
    )

    def __init__(self, sample_rate: int, limits: DtmfLimits | None = None) -> None:
        self._clock = FrameClock(sample_rate)
        self.limits = limits or DtmfLimits()
        self._size = self._clock.samples_per_frame
        freqs = ROWS + COLUMNS
        self._nominal = BinBank(freqs, sample_rate, self._size)
        grid = [f * (1 + o) for f in freqs for o in _OFFSETS]
        self._fine = BinBank(grid, sample_rate, self._size)
        self._prev: Samples = np.zeros(self._size)
        self._current: str | None = None  # digit held now
        self._candidate = ""  # digit seen in the last window(s), not yet long enough
        self._hits = 0
        self._misses = 0
        self._start_ms = 0

    def feed(self, pcm: bytes) -> list[DtmfDigit]:
        out: list[DtmfDigit] = []
        half = self._size // 2
        for frame in self._clock.split(pcm):
            x = samples(frame)
            end_ms = self._clock.tick()
            both = np.concatenate((self._prev, x))
            self._prev = x
            for k, window in enumerate((both[half : half + self._size], x)):
                at = end_ms - (1 - k) * self._clock.frame_ms // 2
                found = self._step(self._classify(window), at)
                if found is not None:
                    out.append(found)
        return out

    def finish(self) -> list[DtmfDigit]:
        """Nothing is held back (digits are reported on detection); resets the state."""
        self._current, self._hits, self._misses = None, 0, 0
        return []

    def _step(self, seen: tuple[str, float, float] | None, at_ms: int) -> DtmfDigit | None:
        lim = self.limits
        window_ms = self._clock.frame_ms
        if self._current is not None:  # a digit is held: wait for its end
            if seen is not None and seen[0] == self._current:
                self._misses = 0
            else:
                self._misses += 1
                if self._misses >= lim.off_windows:
                    self._current, self._hits = None, 0
            return None
        if seen is None:
            self._hits = 0
            return None
        digit, row_db, col_db = seen
        if self._hits and digit == self._candidate:
            self._hits += 1
        else:
            self._candidate, self._hits = digit, 1
            self._start_ms = at_ms - window_ms
        if self._hits < lim.on_windows:
            return None
        self._current, self._misses = digit, 0
        return DtmfDigit(
            digit=digit,
            at_ms=self._start_ms,
            row_dbfs=round(row_db, 1),
            column_dbfs=round(col_db, 1),
        )

    def _classify(self, window: Samples) -> tuple[str, float, float] | None:  # noqa: PLR0911
        """The digit in ``window`` with its tone levels, or None: one return per Q.24 check."""
        lim = self.limits
        energy = sum_of_squares(window)
        if energy <= 0:
            return None
        amps = self._nominal.amplitudes(window)
        rows, cols = amps[:4], amps[4:]
        r, c = int(np.argmax(rows)), int(np.argmax(cols))
        margin = 10 ** (-lim.group_margin_db / 20)
        if np.sort(rows)[-2] > rows[r] * margin or np.sort(cols)[-2] > cols[c] * margin:
            return None
        fine = self._fine.amplitudes(window).reshape(8, len(_OFFSETS))
        row_peak, col_peak = int(np.argmax(fine[r])), int(np.argmax(fine[4 + c]))
        if max(abs(_OFFSETS[row_peak]), abs(_OFFSETS[col_peak])) > lim.frequency_tolerance:
            return None
        row_amp, col_amp = float(fine[r, row_peak]), float(fine[4 + c, col_peak])
        row_db, col_db = sine_dbfs(row_amp), sine_dbfs(col_amp)
        if min(row_db, col_db) < lim.min_level_dbfs:
            return None
        if row_db - col_db > lim.normal_twist_db or col_db - row_db > lim.reverse_twist_db:
            return None
        tone_energy = (row_amp**2 + col_amp**2) / 2 * len(window)
        if tone_energy < lim.min_purity * energy:
            return None
        return KEYS[r][c], row_db, col_db
