"""The port between the runtime and a SIP/media backend.

A backend turns :mod:`~voxpy.core.commands` into SIP and SIP into :mod:`~voxpy.core.signals`.
Two implement it: ``voxpy.backends.pjsua2`` (real SIP, one owner thread) and
``voxpy.backends.memory`` (an in-process fake for tests).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from voxpy.core.commands import Command
from voxpy.core.signals import Signal


class SignalSink(Protocol):
    """Receives a backend's signals. May be called from any thread.

    Signals of one leg arrive in the order they happened, except that a recording finishes
    off the SIP thread: RecordingStopped/RecordingFailed may come after the leg's Ended.
    """

    def __call__(self, signal: Signal, /) -> None: ...


class Backend(Protocol):
    """A SIP user agent that the runtime drives with commands."""

    @property
    def max_calls(self) -> int:
        """How many legs this backend can hold at once (4 for the pjsua2 wheel)."""
        ...

    @property
    def contact_uri(self) -> str:
        """The SIP URI other user agents reach this backend at, e.g. ``sip:127.0.0.1:5060``."""
        ...

    async def start(self, sink: SignalSink) -> None:
        """Start listening; from now on signals go to ``sink``. Raises BackendError on failure."""

    def send(self, command: Command) -> None:
        """Queue ``command``; never blocks. Failures come back as signals, not exceptions."""

    def stop_accepting(self) -> None:
        """Refuse new inbound calls from now on (they get 503); live legs are untouched."""

    async def stop(self) -> None:
        """Hang up every live leg, wait briefly for their Ended signals, release everything."""


@dataclass(frozen=True, slots=True)
class PreparedMedia:
    """A file a backend can play (mono PCM16 WAV for pjsua2) and its length in seconds."""

    path: str
    duration: float


class MediaLibrary(Protocol):
    """Turns what a scenario asks to play into playable files; raises MediaError on failure.

    The real library synthesizes, downloads and converts in worker threads; the test kit's fake
    answers at once with known durations.
    """

    async def speech(
        self, text: str, language: str, voice: str | None, rate: float | None
    ) -> PreparedMedia: ...

    async def media(self, source: str) -> PreparedMedia:
        """A local path or an http(s) URL (WAV, MP3, OGG, FLAC)."""
        ...

    async def progress_tone(self, country: str) -> PreparedMedia:
        """One cadence cycle of the country's ringback tone, to be looped."""
        ...

    def recording_path(self, name: str) -> str:
        """Where a recording called ``name`` is written."""
        ...
