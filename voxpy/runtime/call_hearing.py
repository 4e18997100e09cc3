"""The hearing half of a :class:`~voxpy.runtime.call.Call` (issue 13): answering-machine and
beep detection, progress tones, the far end's microphone and volume, and ``gather`` (DTMF and,
when asked, speech).

A base class of the Call with its own state (the hearing and tones parts, and what ``gather``
needs for speech), as :mod:`~voxpy.runtime.call_audio` is, so that the facade keeps under its
size bound; the work is the hearing part's (:mod:`voxpy.runtime.hearing`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, overload

from voxpy.core.events import ASREvents
from voxpy.errors import InvalidArgumentError, InvalidStateError
from voxpy.media.hearing import AMDOptions
from voxpy.runtime import args
from voxpy.runtime.args import options
from voxpy.runtime.audio_io import AudioListener
from voxpy.runtime.hearing import COUNTRIES, Hearing
from voxpy.runtime.recognition import ASR, RATE
from voxpy.runtime.tones import Tones

INPUTS = ("dtmf", "speech")


@dataclass(frozen=True, slots=True, kw_only=True)
class Gathered:
    """What ``gather(input=...)`` got (Twilio's Digits / SpeechResult /
    Confidence): ``input`` is "dtmf", "speech" or "" (nothing before the timeout or the end);
    ``str(g)`` is the digits or the text. ``confidence`` is the recognizer's (speech only)."""

    input: str
    digits: str = ""
    speech: str = ""
    confidence: float = 0.0

    def __str__(self) -> str:
        return self.digits or self.speech


NOTHING = Gathered(input="")
"nothing within the timeout, or the call ended"


class CallHearing:
    """Detectors on the caller's audio, and input gathering (over the parts it is given)."""

    def __init__(
        self,
        hearing: Hearing,
        tones: Tones,
        stop_playback: Callable[[], None],
        make_asr: Callable[..., ASR] | None,
        listen: Callable[[int], AudioListener],
    ) -> None:
        self._hearing, self._dtmf = hearing, tones
        self._stop_playback, self._make_asr, self._listen_at = stop_playback, make_asr, listen

    def detect_voicemail(self, options: AMDOptions | dict[str, Any] | None = None) -> None:
        """Answering-machine detection from now on: AudioIdentificationStarted, then
        AudioIdentificationResult (``audio_type`` human / voicemail / unknown, ``confidence``)
        and AudioIdentificationStopped. ``options``: app_amd's thresholds (AMDOptions, or a
        dict of its fields)."""
        self._hearing.detect_voicemail(options)

    def detect_voicemail_on_answer(self, amd: object) -> None:
        """Engine side: ``VoxEngine.call_sip(..., amd=True | AMDOptions)``."""
        self._hearing.detect_on_answer(amd)

    @options
    def enable_beep_detection(self, *, timeout: float = 30.0) -> None:
        """BeepDetectionComplete (``frequencies``) when the voicemail beep ends, or
        BeepDetectionError (``reason`` "timeout") after ``timeout`` seconds of audio."""
        self._hearing.enable_beep_detection(timeout)

    def disable_beep_detection(self) -> None:
        self._hearing.disable_beep_detection()

    @options
    def detect_progress_tone(
        self, enabled: bool = True, *, countries: Sequence[str] = COUNTRIES
    ) -> None:
        """ToneDetected (``progress_tone``: busy, ringback, dial, sit, fax_cng, fax_ced) for
        the cadences of ``countries`` (US, EU, UK); with beep detection on, also
        ``voicemail_tone`` when the beep ends."""
        self._hearing.detect_progress_tone(
            enabled, tuple(countries) if isinstance(countries, list) else countries
        )

    def vad(self) -> bool:
        """Whether the far end is speaking now (WebRTC VAD, 300 ms hangover); the first call
        starts listening and returns False."""
        return self._hearing.vad()

    @options
    def handle_mic_status(self, enabled: bool = True) -> None:
        """MicStatusChange (``active``) each time the far end starts or stops speaking."""
        self._hearing.handle_mic_status(enabled)

    @options
    def monitor_volume(self, enabled: bool = True, *, interval: float = 0.05) -> None:
        """Volume (``input_volume`` 0..1) every ``interval`` seconds (rounded up to 20 ms)."""
        self._hearing.monitor_volume(enabled, interval)

    @overload
    async def gather(
        self,
        *,
        max_digits: int = 1,
        timeout: float = 5.0,
        finish_on: str = "#",
        barge_in: bool = False,
    ) -> str: ...

    @overload
    async def gather(
        self,
        *,
        max_digits: int = 1,
        timeout: float = 5.0,
        finish_on: str = "#",
        barge_in: bool = False,
        input: str | Sequence[str],
        hints: Sequence[str] = (),
        language: str = "en-US",
    ) -> Gathered: ...

    @options
    async def gather(
        self,
        *,
        max_digits: int = 1,
        timeout: float = 5.0,
        finish_on: str = "#",
        barge_in: bool = False,
        input: str | Sequence[str] | None = None,
        hints: Sequence[str] = (),
        language: str = "en-US",
    ) -> str | Gathered:
        """Collect DTMF digits and return them as a string.

        Returns once ``max_digits`` were pressed; at a ``finish_on`` key (the digits before
        it, the key itself excluded); when ``timeout`` seconds pass without a key (the digits
        so far, ``""`` if none); or when the call ends (the digits so far). Digits pressed
        since the last gather (e.g. during a prompt) are taken first. ``barge_in=True``: the
        first key stops what plays into the call (Twilio's Gather), so start the prompt
        without awaiting it: ``call.say(MENU); digits = await call.gather(barge_in=True)``.

        With ``input`` given (Twilio's ``input="dtmf speech"``: "dtmf", "speech" or both) it
        returns a :class:`Gathered` instead: the digits, or the text of the first utterance
        (recognized offline, ``hints`` the phrases expected), whichever comes first; ``input``
        "" when nothing came within ``timeout`` seconds (speech that started is waited for).
        """
        kinds = ("dtmf",) if input is None else self._inputs(input)
        stop = self._stop_playback if args.flag("gather", "barge_in", barge_in) else None
        if kinds == ("dtmf",):
            digits = await self._dtmf.gather(max_digits, timeout, finish_on, stop)
            if input is None:
                return digits
            return Gathered(input="dtmf" if digits else "", digits=digits)
        args.number("gather", "timeout", timeout, positive=True)
        return await self._gather_speech(
            kinds, max_digits, timeout, finish_on, stop, hints, language
        )

    @staticmethod
    def _inputs(value: object) -> tuple[str, ...]:
        items = (value,) if isinstance(value, str) else value
        if not isinstance(items, Sequence) or not items or any(i not in INPUTS for i in items):
            raise InvalidArgumentError(f"gather: input must name dtmf and/or speech, got {value!r}")
        return tuple(i for i in INPUTS if i in items)

    async def _gather_speech(
        self,
        kinds: tuple[str, ...],
        max_digits: int,
        timeout: float,
        finish_on: str,
        stop: Callable[[], None] | None,
        hints: Sequence[str],
        language: str,
    ) -> Gathered:
        if self._make_asr is None:
            raise InvalidStateError("gather(input=speech) needs a session (it creates an ASR)")
        asr = self._make_asr(phrase_hints=list(hints), language=language, single_utterance=True)
        done: asyncio.Future[Gathered] = asyncio.get_running_loop().create_future()
        speaking = False

        def finish(value: Gathered) -> None:
            if not done.done():
                done.set_result(value)

        def on_capture(_e: Any) -> None:
            nonlocal speaking
            speaking = True
            if stop is not None:
                stop()

        def on_digits(task: asyncio.Task[str]) -> None:
            digits = "" if task.cancelled() or task.exception() else task.result()
            if digits or not speaking:
                finish(Gathered(input="dtmf" if digits else "", digits=digits))

        asr.add_event_listener(ASREvents.CaptureStarted, on_capture)

        def on_result(e: Any) -> None:
            heard = Gathered(input="speech", speech=e.text, confidence=e.confidence)
            finish(heard if e.text else NOTHING)

        asr.add_event_listener(ASREvents.Result, on_result)
        asr.add_event_listener(ASREvents.ASRError, lambda _e: finish(NOTHING))
        asr.listen_to(self._listen_at(RATE))
        keys: asyncio.Task[str] | None = None
        timer = None
        if "dtmf" in kinds:
            keys = asyncio.get_running_loop().create_task(
                self._dtmf.gather(max_digits, timeout, finish_on, stop)
            )
            keys.add_done_callback(on_digits)
        else:
            timer = self._hearing.clock.call_later(
                timeout, lambda: None if speaking else finish(NOTHING)
            )
        asr.on_done(lambda: finish(NOTHING))
        try:
            return await done
        finally:
            asr.stop()
            if keys is not None:
                keys.cancel()
            if timer is not None:
                timer.cancel()
