"""The voicemail beep: one steady tone of 350-2000 Hz, at least 150 ms long, after speech.

Each 20 ms frame, the last 40 ms are Hann-windowed and zero-padded to ~2 Hz bins; a frame is
tonal when the peak's main lobe (±50 Hz) holds >= 80% of the energy, it is above -40 dBFS
and in range, and it is steady when its peak stays within ±2% of where the run began. The
beep is reported when the run ends (the first frame that breaks it), so the report comes
20-40 ms after the beep's end: the 300 ms budget of issue 13 is for the transport.

"After speech" keeps ringback and other single tones that precede an answer from counting:
``min_speech_ms`` of VAD speech (outside tones) must come first. Set it to 0 when the
greeting was already heard elsewhere (answering-machine detection said "voicemail").
Nothing within ``timeout_ms`` of audio: one :class:`BeepDetectionError` with reason
"timeout". Either way the detector is then done, as VoxEngine's one-shot detection is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from voxpy.media.hearing.frames import FrameClock, Samples, dbfs, samples
from voxpy.media.hearing.spectrum import sum_of_squares
from voxpy.media.hearing.vad import Vad

_BAND_HZ = 50.0
_MIN_SHARE = 0.8
_MIN_LEVEL_DBFS = -40.0
_STEADY = 0.02


@dataclass(frozen=True, slots=True, kw_only=True)
class BeepDetectionComplete:
    """A beep at ``frequencies`` (Hz), ``duration_ms`` long, ending at ``ended_at_ms``;
    ``at_ms`` is where in the audio it was reported."""

    frequencies: tuple[float, ...]
    duration_ms: int
    ended_at_ms: int
    at_ms: int


@dataclass(frozen=True, slots=True, kw_only=True)
class BeepDetectionError:
    """VoxEngine's BeepDetectionError: no beep (``reason`` "timeout")."""

    reason: str
    at_ms: int


BeepResult = BeepDetectionComplete | BeepDetectionError


class BeepDetector:
    """``feed(pcm) -> list[BeepResult]``: at most one result, then the detector is done."""

    __slots__ = (
        "_clock",
        "_done",
        "_freqs",
        "_hann",
        "_nfft",
        "_run_freqs",
        "_speech_ms",
        "_vad",
        "_window",
        "max_hz",
        "max_ms",
        "min_hz",
        "min_ms",
        "min_speech_ms",
        "timeout_ms",
    )

    def __init__(
        self,
        sample_rate: int,
        *,
        timeout_ms: int = 30_000,
        min_speech_ms: int = 300,
        min_ms: int = 150,
        max_ms: int = 5_000,
        min_hz: float = 350.0,
        max_hz: float = 2000.0,
    ) -> None:
        self._clock = FrameClock(sample_rate)
        self._vad = Vad(sample_rate)
        self.timeout_ms, self.min_speech_ms = timeout_ms, min_speech_ms
        self.min_ms, self.max_ms, self.min_hz, self.max_hz = min_ms, max_ms, min_hz, max_hz
        size = 2 * self._clock.samples_per_frame
        self._hann = np.hanning(size)
        self._nfft = 4096 if sample_rate == 8000 else 8192
        self._freqs = np.fft.rfftfreq(self._nfft, 1 / sample_rate)
        self._window: Samples = np.zeros(size)
        self._speech_ms = 0
        self._run_freqs: list[float] = []
        self._done = False

    @property
    def done(self) -> bool:
        return self._done

    def feed(self, pcm: bytes) -> list[BeepResult]:
        out: list[BeepResult] = []
        half = self._clock.samples_per_frame
        for frame in self._clock.split(pcm):
            vad = self._vad.feed(frame)
            if self._done:
                continue
            self._window = np.concatenate((self._window[half:], samples(frame)))
            at = self._clock.tick()
            peak = self._peak(self._window)
            result: BeepResult | None = self._step(peak, at)
            if result is None and peak is None and vad and vad[0].raw:
                self._speech_ms += self._clock.frame_ms
            if result is None and at >= self.timeout_ms:
                result = BeepDetectionError(reason="timeout", at_ms=at)
            if result is not None:
                self._done = True
                out.append(result)
        return out

    def finish(self) -> list[BeepResult]:
        """A beep still sounding when the audio ends is reported; else nothing."""
        if self._done:
            return []
        result = self._step(None, self._clock.now_ms)
        self._done = True
        return [result] if result is not None else []

    def _peak(self, window: Samples) -> float | None:
        energy = sum_of_squares(window)
        if dbfs(energy / len(window)) < _MIN_LEVEL_DBFS:
            return None
        power = np.abs(np.fft.rfft(window * self._hann, self._nfft)) ** 2
        k = int(np.argmax(power))
        f = float(self._freqs[k])
        if not self.min_hz <= f <= self.max_hz:
            return None
        band = np.abs(self._freqs - f) <= _BAND_HZ
        if float(power[band].sum()) < _MIN_SHARE * float(power.sum()):
            return None
        if 0 < k < len(power) - 1:  # parabolic interpolation of the peak on a dB scale
            a, b, c = np.log(power[k - 1 : k + 2] + 1e-30)
            denom = a - 2 * b + c
            if denom < 0:
                f += 0.5 * float(a - c) / float(denom) * float(self._freqs[1])
        return f

    def _step(self, peak: float | None, at_ms: int) -> BeepDetectionComplete | None:
        """Extend or close the run of steady tonal frames; the beep when a long one closes.

        A 40 ms window is tonal from ~5 ms after the beep starts until ~35 ms after it ends
        (silence adds no energy), so a run of n frames is a beep of about (n - 1) frames
        that ended one frame before the run's last one.
        """
        frame_ms = self._clock.frame_ms
        freqs = self._run_freqs
        if freqs:
            steady = peak is not None and abs(peak - freqs[0]) <= _STEADY * freqs[0]
            if steady and peak is not None and len(freqs) * frame_ms < self.max_ms:
                freqs.append(peak)
                return None
            self._run_freqs = []
            duration = (len(freqs) - 1) * frame_ms
            if duration >= self.min_ms and self._speech_ms >= self.min_speech_ms:
                last = at_ms if steady else at_ms - frame_ms
                return BeepDetectionComplete(
                    frequencies=(round(float(np.median(freqs)), 1),),
                    duration_ms=duration,
                    ended_at_ms=last - frame_ms,
                    at_ms=at_ms,
                )
        if peak is not None:
            self._run_freqs = [peak]
        return None
