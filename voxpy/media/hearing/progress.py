"""Call-progress tones by frequency set and cadence: busy, ringback, dial, SIT, fax CNG/CED.

Each 20 ms frame, the last 60 ms are fitted with the sines of every known tone set
(:class:`~voxpy.media.hearing.spectrum.ToneFit`, ±1% frequency shifts for real-world
generators); a set that explains >= 75% of the energy labels the frame. 60 ms is the
shortest window that tells 425 Hz from 400 and 400+450 Hz (25 Hz apart: 1.5 bins); the price
is that bursts read ~40 ms shorter and pauses ~40 ms longer, inside the tolerances below.
Runs of labels are then matched against each tone's cadence (ITU-T E.180 values):

============  =====================  ==========================================
tone          frequencies (Hz)       cadence (s), reported after
============  =====================  ==========================================
US busy       480+620                0.5 on 0.5 off (reorder 0.25/0.25): 2nd burst
US ringback   440+480                2 on 4 off: 1.5 s into the first burst
US dial       350+440                continuous: 1 s
EU busy       425                    0.5 on 0.5 off: 2nd burst
EU ringback   425                    1 on 4 off: 1 s into the first pause
EU dial       425                    continuous: 1.5 s
UK busy       400                    0.375 on 0.375 off: 2nd burst
UK ringback   400+450                0.4 on 0.2 off 0.4 on 2 off: 2nd burst
UK dial       350+450                continuous: 1 s
SIT           913.8, 1370.6, 1776.7  three ~0.3 s segments in a row: the third
fax CNG       1100                   0.5 on 3 off: 1.5 s into the pause
fax CED       2100                   continuous (2.6-4 s): 1 s
============  =====================  ==========================================

Label runs of at most 60 ms (the window sliding over an edge) are dropped, and a tone run
split by one is joined again. Each tone is reported once per detector.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from voxpy.media.hearing.frames import FrameClock, Samples, dbfs, samples
from voxpy.media.hearing.spectrum import ToneFit, sum_of_squares

_INF = 10**9
_WINDOW_FRAMES = 3
_MIN_SHARE = 0.75
_MIN_COMPONENT_SHARE = 0.15  # each member of a dual tone must be there on its own too
_MIN_LEVEL_DBFS = -45.0
_SHIFTS = (0.99, 1.0, 1.01)
_GLITCH_MS = 80  # runs of up to 3 frames: a 60 ms window over an edge, or two tones


class ProgressTone(StrEnum):
    BUSY = "busy"
    RINGBACK = "ringback"
    DIAL = "dial"
    SIT = "sit"
    FAX_CNG = "fax_cng"
    FAX_CED = "fax_ced"


@dataclass(frozen=True, slots=True, kw_only=True)
class ToneDetected:
    """VoxEngine's ToneDetected: a progress tone (``progress_tone``) or a voicemail beep
    (``voicemail_tone``, from the beep detector); ``country`` is US, EU, UK or "" (any)."""

    progress_tone: ProgressTone | None
    voicemail_tone: bool
    country: str
    frequencies: tuple[float, ...]
    at_ms: int


Step = tuple[str | None, int, int]  # label (None: no tone), shortest and longest ms


@dataclass(frozen=True, slots=True, kw_only=True)
class _Spec:
    tone: ProgressTone
    country: str
    steps: tuple[Step, ...]  # the last one may still be running: only its minimum counts


def _on_off(label: str, on: tuple[int, int], off: tuple[int, int]) -> tuple[Step, ...]:
    return ((label, *on), (None, *off), (label, on[0], _INF))


_SPECS = (
    _Spec(tone=ProgressTone.BUSY, country="US", steps=_on_off("480+620", (350, 650), (350, 650))),
    _Spec(tone=ProgressTone.BUSY, country="US", steps=_on_off("480+620", (150, 349), (150, 349))),
    _Spec(tone=ProgressTone.RINGBACK, country="US", steps=(("440+480", 1500, _INF),)),
    _Spec(tone=ProgressTone.DIAL, country="US", steps=(("350+440", 1000, _INF),)),
    _Spec(tone=ProgressTone.BUSY, country="EU", steps=_on_off("425", (350, 650), (350, 650))),
    _Spec(tone=ProgressTone.RINGBACK, country="EU", steps=(("425", 800, 1300), (None, 1000, _INF))),
    _Spec(tone=ProgressTone.DIAL, country="EU", steps=(("425", 1500, _INF),)),
    _Spec(tone=ProgressTone.BUSY, country="UK", steps=_on_off("400", (250, 500), (250, 500))),
    _Spec(
        tone=ProgressTone.RINGBACK, country="UK", steps=_on_off("400+450", (300, 500), (100, 300))
    ),
    _Spec(tone=ProgressTone.DIAL, country="UK", steps=(("350+450", 1000, _INF),)),
    _Spec(
        tone=ProgressTone.SIT,
        country="",
        steps=(("913.8", 200, 450), ("1370.6", 200, 450), ("1776.7", 200, _INF)),
    ),
    _Spec(tone=ProgressTone.FAX_CNG, country="", steps=(("1100", 400, 700), (None, 1500, _INF))),
    _Spec(tone=ProgressTone.FAX_CED, country="", steps=(("2100", 1000, _INF),)),
)
_LABELS = sorted({label for spec in _SPECS for label, _, _ in spec.steps if label is not None})


@dataclass(slots=True)
class _Run:
    label: str | None
    ms: int


def _freqs(label: str) -> tuple[float, ...]:
    return tuple(float(f) for f in label.split("+"))


class ProgressToneDetector:
    """``feed(pcm) -> list[ToneDetected]``; ``countries`` limits the cadences matched."""

    __slots__ = ("_clock", "_fits", "_reported", "_runs", "_singles", "_specs", "_window")

    def __init__(
        self, sample_rate: int, *, countries: tuple[str, ...] = ("US", "EU", "UK")
    ) -> None:
        self._clock = FrameClock(sample_rate)
        size = self._clock.samples_per_frame * _WINDOW_FRAMES
        self._specs = [s for s in _SPECS if not s.country or s.country in countries]
        self._fits = {
            label: [ToneFit([f * k for f in _freqs(label)], sample_rate, size) for k in _SHIFTS]
            for label in _LABELS
        }
        singles = {f for label in _LABELS for f in _freqs(label)}
        self._singles = {f: [ToneFit([f * k], sample_rate, size) for k in _SHIFTS] for f in singles}
        self._window: Samples = np.zeros(size)
        self._runs: list[_Run] = []  # oldest first
        self._reported: set[tuple[ProgressTone, str]] = set()

    def feed(self, pcm: bytes) -> list[ToneDetected]:
        out: list[ToneDetected] = []
        step = self._clock.samples_per_frame
        for frame in self._clock.split(pcm):
            self._window = np.concatenate((self._window[step:], samples(frame)))
            at = self._clock.tick()
            self._extend(self._label(self._window))
            out += self._match(at)
        return out

    def finish(self) -> list[ToneDetected]:
        return []

    def _label(self, window: Samples) -> str | None:
        energy = sum_of_squares(window)
        if dbfs(energy / len(window)) < _MIN_LEVEL_DBFS:
            return None
        best: tuple[float, int, str] | None = None
        for label, fits in self._fits.items():
            share = max(fit.share(window, energy) for fit in fits)
            if share < _MIN_SHARE:
                continue
            members = _freqs(label)
            if (
                len(members) > 1
                and min(max(f.share(window, energy) for f in self._singles[m]) for m in members)
                < _MIN_COMPONENT_SHARE
            ):
                continue
            key = (round(share, 1), -len(members), label)  # near-ties: the simpler set
            if best is None or key > best:
                best = key
        return best[2] if best else None

    def _extend(self, label: str | None) -> None:
        ms = self._clock.frame_ms
        runs = self._runs
        if runs and runs[-1].label == label:
            runs[-1].ms += ms
            return
        if runs and runs[-1].ms < _GLITCH_MS:
            glitch = runs.pop()
            if runs and runs[-1].label == label:
                runs[-1].ms += glitch.ms + ms
                return
        runs.append(_Run(label, ms))
        del runs[:-8]

    def _match(self, at_ms: int) -> list[ToneDetected]:
        out = []
        for spec in self._specs:
            key = (spec.tone, spec.country)
            if key in self._reported or len(self._runs) < len(spec.steps):
                continue
            tail = self._runs[-len(spec.steps) :]
            ok = all(
                run.label == label and lo <= run.ms <= hi
                for run, (label, lo, hi) in zip(tail[:-1], spec.steps[:-1], strict=True)
            )
            last_label, last_lo, _ = spec.steps[-1]
            if ok and tail[-1].label == last_label and tail[-1].ms >= last_lo:
                self._reported.add(key)
                freqs = tuple(f for label, _, _ in spec.steps if label for f in _freqs(label))
                out.append(
                    ToneDetected(
                        progress_tone=spec.tone,
                        voicemail_tone=False,
                        country=spec.country,
                        frequencies=tuple(dict.fromkeys(freqs)),
                        at_ms=at_ms,
                    )
                )
        return out
