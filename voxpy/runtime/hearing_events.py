"""Events of hearing the call (issue 13): answering-machine and beep detection, progress tones,
the far end's microphone and volume - call events - and the ASR unit's events.

Call events are fired by name by the hearing part and built through the catalog; ASR events
by the unit (:mod:`voxpy.runtime.recognition`), which the session hands
:func:`build_asr_event`. Field names are VoxEngine's payload names in snake_case; ``at_ms`` is
where in the call's audio (since the detector started) the detector decided.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from voxpy.core.events import ASREvents
from voxpy.runtime.events import CallEvent, Event

if TYPE_CHECKING:
    from voxpy.runtime.recognition import ASR


@dataclass(frozen=True, slots=True, kw_only=True)
class AudioIdentificationStarted(CallEvent):
    """Answering-machine detection began on this call."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AudioIdentificationResult(CallEvent):
    """Who answered: ``audio_type`` "human", "voicemail" or "unknown" (no decision within the
    analysis time, or dead air), ``confidence`` 0..1; ``cause`` the rule that decided
    (app_amd's: long_greeting, max_words, max_word_length, human, initial_silence, too_long),
    the initial silence, the voice heard and the words counted, in ms."""

    audio_type: str
    confidence: float
    cause: str = ""
    at_ms: int = 0
    initial_silence_ms: int = 0
    voice_ms: int = 0
    words: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class AudioIdentificationStopped(CallEvent):
    """Detection ended (after its result, or stopped by the call's end)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AudioIdentificationError(CallEvent):
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class BeepDetectionComplete(CallEvent):
    """The voicemail beep ended: ``frequencies`` in Hz, ``duration_ms`` long, its end at
    ``ended_at_ms`` of the audio (``at_ms`` is where it was reported)."""

    frequencies: tuple[float, ...]
    duration_ms: int = 0
    ended_at_ms: int = 0
    at_ms: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class BeepDetectionError(CallEvent):
    """No beep: ``reason`` "timeout" (``enable_beep_detection(timeout=...)`` passed)."""

    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ToneDetected(CallEvent):
    """A call-progress tone - ``progress_tone`` "busy", "ringback", "dial", "sit", "fax_cng"
    or "fax_ced", ``country`` US, EU, UK or "" - or a voicemail beep (``voicemail_tone``)."""

    progress_tone: str = ""
    voicemail_tone: bool = False
    country: str = ""
    at_ms: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class MicStatusChange(CallEvent):
    """The far end started (``active``) or stopped speaking (WebRTC VAD, smoothed)."""

    active: bool
    at_ms: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Volume(CallEvent):
    """Twilio's volume: ``input_volume`` (what the far end sends) 0..1 on a 60 dB scale.
    ``output_volume`` is not measured yet: always 0.0."""

    input_volume: float
    output_volume: float = 0.0
    at_ms: int = 0


# -- the ASR unit's events -------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ASREvent(Event):
    """Base of ASR events: ``asr`` is the unit that fired; ``at_ms`` the audio position."""

    asr: ASR
    at_ms: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class CaptureStarted(ASREvent):
    """Speech began."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SpeechCaptureStopped(ASREvent):
    """The utterance ended (its Result follows)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class InterimResult(ASREvent):
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Result(ASREvent):
    text: str
    confidence: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class ASRError(ASREvent):
    """The recognizer failed (or its provider is missing); no more events follow."""

    error: str


ASR_EVENTS: Mapping[ASREvents, type[ASREvent]] = {
    ASREvents.CaptureStarted: CaptureStarted,
    ASREvents.SpeechCaptureStopped: SpeechCaptureStopped,
    ASREvents.InterimResult: InterimResult,
    ASREvents.Result: Result,
    ASREvents.ASRError: ASRError,
}
if set(ASR_EVENTS) != set(ASREvents):  # pragma: no cover - a new name without a class
    raise ImportError(f"ASR events without a class: {set(ASREvents) - set(ASR_EVENTS)}")


def build_asr_event(name: ASREvents, asr: Any, fields: dict[str, Any]) -> ASREvent:
    return ASR_EVENTS[name](name=name, asr=asr, **fields)
