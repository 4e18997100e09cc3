"""The hearing part of a call leg: the :mod:`voxpy.media.hearing` detectors on the caller's
audio, their results fired as call events (issue 13).

One backend audio tap per leg, at 8 kHz, while any detector is on (every detector here works
at 8 kHz, the rate of a G.711 call, so the bridge converts nothing; only speech recognition
wants 16 kHz, and it has its own tap, :mod:`voxpy.runtime.recognition`). Each AudioFrames
batch goes to the detectors that are on, on the event loop: they cost 0.4-3.8 ms of CPU per
second of audio each (README, "Hearing the call"), less than a thread hop per frame would.

Time is the audio's: a detector's timeout (AMD's analysis time, the beep's ``timeout``) counts
the audio it was fed since it started, as the detector does; the backend taps a connected
leg continuously (silence included), so that is the call's time too.

The tap starts when media can flow: 183 early media or the answer. ``detect_progress_tone``
on a leg still dialling hears the early media (a busy tone or SIT comes before any answer);
``call_sip(..., amd=True)`` starts at the answer (a greeting comes after it).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from voxpy.core import signals as sig
from voxpy.core.clock import Clock
from voxpy.core.events import CallEvents
from voxpy.errors import InvalidArgumentError, InvalidStateError
from voxpy.media.hearing import (
    AMDOptions,
    AnsweringMachineDetector,
    BeepDetectionComplete,
    BeepDetector,
    DtmfDetector,
    MicStatus,
    ProgressToneDetector,
    VolumeMeter,
)
from voxpy.runtime import args
from voxpy.runtime.leg import Handler, LegContext

RATE = 8000
"the hearing tap's rate: every detector here works at 8 kHz"
COUNTRIES = ("US", "EU", "UK")


class Tap(Protocol):
    """A tap on the caller's audio (the streams part's LegAudio)."""

    def start_tap(self, on_frames: Callable[[bytes], None]) -> None: ...

    def stop_tap(self) -> None: ...


def amd_options(method: str, value: object) -> AMDOptions:
    """``True``/None (app_amd's defaults), an AMDOptions, or a mapping of its fields."""
    if value is None or value is True:
        return AMDOptions()
    if isinstance(value, Mapping):
        names = {f.name for f in dataclasses.fields(AMDOptions)}
        unknown = sorted(str(k) for k in value if k not in names)
        if unknown:
            raise InvalidArgumentError(
                f"{method}: options has no field {', '.join(unknown)} (known: {sorted(names)})"
            )
        value = AMDOptions(**value)
    if not isinstance(value, AMDOptions):
        raise InvalidArgumentError(
            f"{method}: options must be an AMDOptions, a dict of its fields or True, got {value!r}"
        )
    for f in dataclasses.fields(value):
        got = getattr(value, f.name)
        if f.name == "silence_threshold_dbfs":
            if args.number(method, f"options.{f.name}", got, low=-120.0) > 0:
                raise InvalidArgumentError(f"{method}: options.{f.name} must be <= 0, got {got}")
        elif f.name == "vad_aggressiveness":
            args.integer(method, f"options.{f.name}", got, 0, 3)
        elif f.name == "maximum_number_of_words":
            args.integer(method, f"options.{f.name}", got, 1, 1000)
        else:
            args.integer(method, f"options.{f.name}", got, 20, 600_000)
    return value


class Hearing:
    """Detectors on one leg's audio (see the module doc and :mod:`voxpy.runtime.leg`)."""

    def __init__(
        self, ctx: LegContext, open_tap: Callable[[int], Tap], on_digit: Callable[[str], None]
    ) -> None:
        self._ctx = ctx
        self._open_tap = open_tap
        self._on_digit = on_digit
        "the tones part: an in-band digit is a digit like any other (events, gather)"
        self._tap: Tap | None = None
        self._amd: AnsweringMachineDetector | None = None
        self._beep: BeepDetector | None = None
        self._progress: ProgressToneDetector | None = None
        self._mic: MicStatus | None = None
        self._mic_events = False
        self._volume: VolumeMeter | None = None
        self._dtmf: DtmfDetector | None = None
        self._on_answer: AMDOptions | None = None

    @property
    def clock(self) -> Clock:
        return self._ctx.clock

    def detect_on_answer(self, options: object) -> None:
        """``call_sip(..., amd=...)``: detection starts at the answer (None/False: none)."""
        if options is not None and options is not False:
            self._on_answer = amd_options("call_sip", options)

    # -- the API (checked by the Call's API piece) -------------------------------------------

    def detect_voicemail(self, options: object) -> None:
        opts = amd_options("detect_voicemail", options)
        self._require_live("detect_voicemail")
        self._amd = AnsweringMachineDetector(RATE, opts)
        self._ctx.fire(CallEvents.AudioIdentificationStarted)
        self._update()

    def enable_beep_detection(self, timeout: object) -> None:
        seconds = args.number("enable_beep_detection", "timeout", timeout, positive=True)
        self._require_live("enable_beep_detection")
        self._beep = BeepDetector(RATE, timeout_ms=max(20, round(seconds * 1000)))
        self._update()

    def disable_beep_detection(self) -> None:
        self._beep = None
        self._update()

    def detect_progress_tone(self, enabled: object, countries: object) -> None:
        on = args.flag("detect_progress_tone", "enabled", enabled)
        wanted = self._countries(countries)
        if on:
            self._require_live("detect_progress_tone")
        self._progress = ProgressToneDetector(RATE, countries=wanted) if on else None
        self._update()

    def handle_mic_status(self, enabled: object) -> None:
        on = args.flag("handle_mic_status", "enabled", enabled)
        if on:
            self._require_live("handle_mic_status")
        self._mic = (self._mic or MicStatus(RATE)) if on else None
        self._mic_events = on
        self._update()

    def vad(self) -> bool:
        """Whether the far end speaks now; the first call starts listening (False then)."""
        if self._mic is None:
            self._require_live("vad")
            self._mic = MicStatus(RATE)
            self._update()
        return self._mic.active

    def monitor_volume(self, enabled: object, interval: object) -> None:
        on = args.flag("monitor_volume", "enabled", enabled)
        seconds = args.number("monitor_volume", "interval", interval, low=0.02)
        if seconds > 60:
            raise InvalidArgumentError(f"monitor_volume: interval must be <= 60 s, got {interval}")
        if on:
            self._require_live("monitor_volume")
        self._volume = VolumeMeter(RATE, interval_ms=round(seconds * 1000)) if on else None
        self._update()

    def inband_dtmf(self, enabled: bool) -> None:
        """The tones part's ``handle_tones`` named in-band tones (or stopped handling tones)."""
        if enabled and self._dtmf is None:
            self._dtmf = DtmfDetector(RATE)
        elif not enabled:
            self._dtmf = None
        self._update()

    # -- Part --------------------------------------------------------------------------------

    def routes(self) -> Mapping[type[sig.Signal], Handler]:
        return {}  # AudioFrames are routed by tap id by the streams part

    def audio_started(self) -> None:
        self._update()  # a detector turned on while ringing hears the early media

    def connected(self) -> None:
        if self._on_answer is not None:
            options, self._on_answer = self._on_answer, None
            self.detect_voicemail(options)
        self._update()

    def ended(self) -> None:
        """Detection stops quietly (the backend has dropped the tap with the leg)."""
        self._amd = self._beep = self._progress = self._mic = self._volume = self._dtmf = None
        self._tap = None

    # -- internals ---------------------------------------------------------------------------

    def _require_live(self, what: str) -> None:
        if not self._ctx.live:
            raise InvalidStateError(
                f"cannot {what}() on a call in state {self._ctx.machine.vox_state}"
            )

    @staticmethod
    def _countries(value: object) -> tuple[str, ...]:
        if isinstance(value, str):
            value = (value,)
        if not isinstance(value, tuple | list) or not value:
            raise InvalidArgumentError(
                f"detect_progress_tone: countries must name some of {COUNTRIES}"
            )
        wanted = tuple(str(c).upper() for c in value)
        bad = [c for c in wanted if c not in COUNTRIES]
        if bad:
            raise InvalidArgumentError(
                f"detect_progress_tone: countries {bad} unknown (known: {', '.join(COUNTRIES)})"
            )
        return wanted

    def _on(self) -> bool:
        detectors = (self._amd, self._beep, self._progress, self._mic, self._volume, self._dtmf)
        return any(d is not None for d in detectors)

    def _update(self) -> None:
        """Start the tap when a detector is on and audio can flow; stop it when none is."""
        if self._on() and self._tap is None and self._ctx.live and self._ctx.machine.media_ready:
            self._tap = self._open_tap(RATE)
            self._tap.start_tap(self._on_frames)
        elif not self._on() and self._tap is not None:
            self._tap.stop_tap()
            self._tap = None

    def _on_frames(self, pcm: bytes) -> None:
        if self._dtmf is not None:
            for digit in self._dtmf.feed(pcm):
                self._on_digit(digit.digit)
        if self._amd is not None:
            self._hear_amd(pcm)
        if self._beep is not None:
            self._hear_beep(pcm)
        if self._progress is not None:
            for tone in self._progress.feed(pcm):
                self._fire(CallEvents.ToneDetected, progress_tone=str(tone.progress_tone or ""),
                           country=tone.country, at_ms=tone.at_ms)  # fmt: skip
        if self._mic is not None:
            for change in self._mic.feed(pcm):
                if self._mic_events:
                    self._fire(CallEvents.MicStatusChange, active=change.active, at_ms=change.at_ms)
        if self._volume is not None:
            for v in self._volume.feed(pcm):
                self._fire(
                    CallEvents.Volume, input_volume=v.level, output_volume=0.0, at_ms=v.at_ms
                )
        self._update()

    def _hear_amd(self, pcm: bytes) -> None:
        assert self._amd is not None
        for r in self._amd.feed(pcm):
            self._amd = None
            self._fire(CallEvents.AudioIdentificationResult, audio_type=str(r.audio_type),
                       confidence=r.confidence, cause=r.cause, at_ms=r.at_ms,
                       initial_silence_ms=r.initial_silence_ms, voice_ms=r.voice_ms,
                       words=r.words)  # fmt: skip
            self._fire(CallEvents.AudioIdentificationStopped)

    def _hear_beep(self, pcm: bytes) -> None:
        assert self._beep is not None
        for r in self._beep.feed(pcm):
            self._beep = None
            if isinstance(r, BeepDetectionComplete):
                self._fire(CallEvents.BeepDetectionComplete, frequencies=r.frequencies,
                           duration_ms=r.duration_ms, ended_at_ms=r.ended_at_ms,
                           at_ms=r.at_ms)  # fmt: skip
                if self._progress is not None:
                    self._fire(CallEvents.ToneDetected, voicemail_tone=True, at_ms=r.at_ms)
            else:
                self._fire(CallEvents.BeepDetectionError, reason=r.reason)

    def _fire(self, name: CallEvents, **fields: Any) -> None:
        if self._ctx.live:
            self._ctx.fire(name, **fields)
