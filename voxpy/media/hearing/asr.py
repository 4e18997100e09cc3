"""Speech recognition behind one small interface, with providers found by entry point.

A provider is a class registered under the ``voxpy.asr_providers`` entry-point group (a
package adds one with ``[project.entry-points."voxpy.asr_providers"]``, as voxpy registers
``pocketsphinx``); :func:`create_recognizer` instantiates one per recognition. A recognizer
is sans-I/O like the other detectors: ``start``, then ``feed`` 20 ms frames and read the
events, then ``finish``. It may block for a while on ``start`` (model loading) and per
``feed`` (decoding): the runtime calls it from a worker thread, never on the event loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Protocol, runtime_checkable

from voxpy.errors import ConfigError

GROUP = "voxpy.asr_providers"
DEFAULT_PROVIDER = "pocketsphinx"
"the offline provider: its model ships in its wheel, so it works on an air-gapped machine"


@dataclass(frozen=True, slots=True, kw_only=True)
class CaptureStarted:
    """VoxEngine's ASREvents.CaptureStarted: speech began at ``at_ms``."""

    at_ms: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SpeechCaptureStopped:
    """VoxEngine's ASREvents.SpeechCaptureStopped: the utterance ended at ``at_ms``."""

    at_ms: int


@dataclass(frozen=True, slots=True, kw_only=True)
class InterimResult:
    """VoxEngine's ASREvents.InterimResult: the best guess so far."""

    text: str
    at_ms: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Result:
    """VoxEngine's ASREvents.Result: an utterance's final text and confidence (0..1)."""

    text: str
    confidence: float
    at_ms: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ASRError:
    """VoxEngine's ASREvents.ASRError: the recognizer failed; no more events follow."""

    error: str
    at_ms: int


AsrEvent = CaptureStarted | SpeechCaptureStopped | InterimResult | Result | ASRError


@runtime_checkable
class AsrRecognizer(Protocol):
    """One recognition session of a provider."""

    name: str

    def start(
        self, sample_rate: int, language: str, hints: Sequence[str], single_utterance: bool
    ) -> None:
        """Prepare for audio at ``sample_rate`` (8000 or 16000). ``hints`` are the words or
        phrases expected; ``single_utterance`` ends recognition after the first Result.
        InvalidArgumentError for a language the provider cannot do."""

    def feed(self, pcm: bytes) -> list[AsrEvent]:
        """Consecutive 16-bit LE mono frames in; the events they complete out."""

    def finish(self) -> list[AsrEvent]:
        """The audio ended: the pending utterance's events (a Result if there was speech)."""


def providers() -> dict[str, str]:
    """Installed provider names and the ``module:Class`` each entry point names."""
    return {ep.name: ep.value for ep in entry_points(group=GROUP)}


def create_recognizer(provider: str | None = None) -> AsrRecognizer:
    """A new recognizer of ``provider`` (default: the offline one).

    ConfigError (field ``asr.provider``) for a name no installed package provides.
    """
    name = (provider or DEFAULT_PROVIDER).strip().lower()
    found = [ep for ep in entry_points(group=GROUP) if ep.name == name]
    if not found:
        known = ", ".join(sorted(providers())) or "none installed"
        raise ConfigError(
            f"unknown ASR provider {provider!r} (known: {known})", field="asr.provider"
        )
    recognizer = found[0].load()()
    if not isinstance(recognizer, AsrRecognizer):
        raise ConfigError(
            f"ASR provider {name!r} does not implement AsrRecognizer", field="asr.provider"
        )
    return recognizer
