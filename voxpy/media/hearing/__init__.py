"""Hearing the call (issue 13): detectors that turn 20 ms PCM frames into typed results.

Every detector is sans-I/O: ``feed(pcm) -> list[result]`` for consecutive 16-bit LE mono
frames at one rate (8 or 16 kHz), ``finish()`` at the end of the audio; time is counted in
frames (results carry ``at_ms``, the audio position), there is no clock, thread or socket.
The runtime feeds them from its audio taps and turns results into VoxEngine events.

* :mod:`.vad` - :class:`Vad` (WebRTC VAD + smoothing), :class:`MicStatus`, :class:`VolumeMeter`
* :mod:`.dtmf` - :class:`DtmfDetector`, in-band DTMF within ITU-T Q.24 limits
* :mod:`.progress` - :class:`ProgressToneDetector`: busy, ringback, dial, SIT, fax (US/EU/UK)
* :mod:`.beep` - :class:`BeepDetector`: the voicemail beep
* :mod:`.amd` - :class:`AnsweringMachineDetector`: human / voicemail / unknown (app_amd rules)
* :mod:`.asr` - the ASR provider interface; :mod:`.sphinx` the offline PocketSphinx provider
* :mod:`.synth` - generated audio (tones, DTMF, noise, G.711, espeak-ng) for tests
"""

from voxpy.media.hearing.amd import (
    AMDOptions,
    AnsweringMachineDetector,
    AudioIdentificationResult,
    AudioType,
)
from voxpy.media.hearing.asr import (
    ASRError,
    AsrEvent,
    AsrRecognizer,
    CaptureStarted,
    InterimResult,
    Result,
    SpeechCaptureStopped,
    create_recognizer,
    providers,
)
from voxpy.media.hearing.beep import BeepDetectionComplete, BeepDetectionError, BeepDetector
from voxpy.media.hearing.dtmf import DtmfDetector, DtmfDigit, DtmfLimits
from voxpy.media.hearing.progress import ProgressTone, ProgressToneDetector, ToneDetected
from voxpy.media.hearing.vad import MicStatus, MicStatusChange, Vad, VadFrame, Volume, VolumeMeter

__all__ = [
    "AMDOptions",
    "ASRError",
    "AnsweringMachineDetector",
    "AsrEvent",
    "AsrRecognizer",
    "AudioIdentificationResult",
    "AudioType",
    "BeepDetectionComplete",
    "BeepDetectionError",
    "BeepDetector",
    "CaptureStarted",
    "DtmfDetector",
    "DtmfDigit",
    "DtmfLimits",
    "InterimResult",
    "MicStatus",
    "MicStatusChange",
    "ProgressTone",
    "ProgressToneDetector",
    "Result",
    "SpeechCaptureStopped",
    "ToneDetected",
    "Vad",
    "VadFrame",
    "Volume",
    "VolumeMeter",
    "create_recognizer",
    "providers",
]
