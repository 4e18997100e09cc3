"""espeak-ng driven through ctypes: offline speech synthesis for :mod:`voxpy.media.tts`.

The ``espeakng-loader`` wheel ships ``libespeak-ng.so`` and its data but no command-line tool,
so the C API (``speak_lib.h``) is called directly in synchronous mode, collecting the 16-bit
samples handed to the synth callback. The library is process-global state: it is initialized
once, on first use, and every synthesis holds one lock.
"""

from __future__ import annotations

import ctypes
import threading
from pathlib import Path
from typing import Any

import structlog
from structlog.typing import FilteringBoundLogger

from voxpy.errors import MediaError
from voxpy.media.convert import write_wav

log: FilteringBoundLogger = structlog.get_logger("voxpy.media")

# espeak-ng C API (speak_lib.h) constants.
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_PARAM_RATE = 1
_INITIALIZE_DONT_EXIT = 0x8000
_EE_OK = 0
_RATE_NORMAL, _RATE_MIN, _RATE_MAX = 175, 80, 450


class _EspeakVoice(ctypes.Structure):
    _fields_ = (  # the ctypes layout of espeak_VOICE
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_char_p),
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    )


_SynthCallback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)


class _EspeakEngine:
    """The process-wide espeak-ng library; use only while holding ``_ESPEAK_LOCK``."""

    def __init__(self) -> None:
        import espeakng_loader

        try:
            lib = ctypes.CDLL(espeakng_loader.get_library_path())
            data = str(espeakng_loader.get_data_path()).encode()
        except (OSError, RuntimeError) as exc:
            raise MediaError(f"cannot load espeak-ng: {exc}") from exc
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetVoiceByProperties.argtypes = [ctypes.POINTER(_EspeakVoice)]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [
            ctypes.c_char_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        self.sample_rate = int(
            lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data, _INITIALIZE_DONT_EXIT)
        )
        if self.sample_rate <= 0:
            raise MediaError("cannot initialize espeak-ng (data files missing?)")
        self.lib = lib
        self.chunks: list[bytes] = []
        self._callback = _SynthCallback(self._on_samples)  # referenced: must outlive the lib use
        lib.espeak_SetSynthCallback(self._callback)

    def _on_samples(self, wav: Any, count: int, events: Any) -> int:
        if wav and count > 0:
            self.chunks.append(ctypes.string_at(wav, count * 2))
        return 0  # continue

    def select_voice(self, language: str, voice: str | None) -> None:
        if voice:
            if self.lib.espeak_SetVoiceByName(voice.encode()) == _EE_OK:
                return
            log.warning("tts_voice_unknown", provider="espeak", voice=voice, language=language)
        wanted = _EspeakVoice(languages=language.strip().replace("_", "-").lower().encode())
        if not language.strip() or self.lib.espeak_SetVoiceByProperties(wanted) != _EE_OK:
            raise MediaError(f"espeak has no voice for language {language!r}")

    def synthesize(self, text: str, wpm: int) -> bytes:
        self.lib.espeak_SetParameter(_PARAM_RATE, wpm, 0)
        data = text.encode("utf-8")
        self.chunks = []
        status = self.lib.espeak_Synth(
            data, len(data) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None
        )
        self.lib.espeak_Synchronize()
        pcm, self.chunks = b"".join(self.chunks), []
        if status != _EE_OK:
            raise MediaError(f"espeak synthesis failed (status {status})")
        return pcm


_ESPEAK_LOCK = threading.Lock()
_espeak_engine: _EspeakEngine | None = None


class EspeakProvider:
    """espeak-ng through ctypes (offline, ~1000x real time): a 22.05 kHz WAV.

    ``voice`` is an espeak voice name (``en-us``, ``en+f3``); an unknown one is logged and
    ``language`` (``en``, ``en-US``, ``de-AT``...) picks the voice. ``rate`` multiplies the
    normal 175 words per minute (clamped to 80-450). espeak-ng is global state: one
    initialization per process and one synthesis at a time.
    """

    name = "espeak"

    def synthesize(
        self, text: str, language: str, voice: str | None, rate: float | None, out: Path
    ) -> None:
        """Speak ``text`` into a WAV file at ``out``; MediaError for an unknown language."""
        global _espeak_engine  # noqa: PLW0603 - the library itself is process-global
        wpm = min(max(round(_RATE_NORMAL * (rate or 1.0)), _RATE_MIN), _RATE_MAX)
        with _ESPEAK_LOCK:
            if _espeak_engine is None:
                _espeak_engine = _EspeakEngine()
            engine = _espeak_engine
            engine.select_voice(language, voice)
            pcm = engine.synthesize(text, wpm)
        if not pcm:
            raise MediaError("espeak produced no audio")
        write_wav(out, pcm, engine.sample_rate)
