"""The test kit's media libraries: instant fakes in memory mode, registrations in both.

Memory mode (:class:`FakeMedia`): speech lasts 0.3 s per word (at least 0.5 s), the beep
(``tone:beep``) its real length, local WAV files their real length; other media (URLs) must
be registered with :meth:`FakeMedia.register` (a duration, or an error such as a 404).

SIP mode (:class:`RegisteredMedia`): the real library, except that registered sources play a
generated tone of the registered length, or fail with the registered error, exactly as in
memory mode - so ``h.media.register(...)`` means the same in both.
"""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

from voxpy.core.ports import MediaLibrary, PreparedMedia
from voxpy.errors import MediaError
from voxpy.media.convert import wav_duration, write_wav
from voxpy.media.tones import BEEP, BEEP_SECONDS

SECONDS_PER_WORD = 0.3
REGISTERED_RATE = 16000


class _Registry:
    def __init__(self) -> None:
        self._known: dict[str, float | str] = {}

    def register(self, source: str, duration: float = 3.0, error: str | None = None) -> None:
        """Make ``source`` playable for ``duration`` seconds, or fail with ``error``."""
        self._known[source] = error if error is not None else float(duration)

    def _lookup(self, source: str) -> float | None:
        """The registered duration of ``source``; raises its registered error."""
        known = self._known.get(source)
        if isinstance(known, str):
            raise MediaError(known)
        return known


class FakeMedia(_Registry):
    """Implements :class:`~voxpy.core.ports.MediaLibrary` without synthesizing anything."""

    def __init__(self) -> None:
        super().__init__()
        self.spoken: list[str] = []

    async def speech(
        self, text: str, language: str, voice: str | None, rate: float | None
    ) -> PreparedMedia:
        self.spoken.append(text)
        seconds = max(0.5, SECONDS_PER_WORD * len(text.split())) / (rate or 1.0)
        return PreparedMedia(path=f"memory:say:{language}:{text}", duration=seconds)

    async def media(self, source: str) -> PreparedMedia:
        known = self._lookup(source)
        if known is not None:
            return PreparedMedia(path=f"memory:media:{source}", duration=known)
        if source == BEEP:
            return PreparedMedia(path=f"memory:{source}", duration=BEEP_SECONDS)
        path = Path(source)
        if path.suffix.lower() == ".wav" and path.is_file():
            return PreparedMedia(path=str(path), duration=wav_duration(path))
        raise MediaError(
            f"memory mode does not know {source!r}: register it with "
            "h.media.register(source, duration) or use a local .wav file"
        )

    async def progress_tone(self, country: str) -> PreparedMedia:
        return PreparedMedia(path=f"memory:tone:{country}", duration=6.0)

    def recording_path(self, name: str) -> str:
        return f"memory:recordings/{name}"


class RegisteredMedia(_Registry):
    """The real library (SIP mode) with :meth:`register` in front of it."""

    def __init__(self, inner: MediaLibrary, work_dir: Path) -> None:
        super().__init__()
        self.inner = inner
        self._dir = work_dir

    async def speech(
        self, text: str, language: str, voice: str | None, rate: float | None
    ) -> PreparedMedia:
        return await self.inner.speech(text, language, voice, rate)

    async def media(self, source: str) -> PreparedMedia:
        known = self._lookup(source)
        if known is None:
            return await self.inner.media(source)
        name = hashlib.sha256(f"{source}|{known}".encode()).hexdigest()[:16]
        path = self._dir / f"registered-{name}.wav"
        if not path.exists():
            await asyncio.to_thread(_quiet_wav, path, known)
        return PreparedMedia(path=str(path), duration=known)

    async def progress_tone(self, country: str) -> PreparedMedia:
        return await self.inner.progress_tone(country)

    def recording_path(self, name: str) -> str:
        return self.inner.recording_path(name)


def _quiet_wav(path: Path, seconds: float) -> None:
    """A low, steady 440 Hz tone of ``seconds`` (audible, so the peer measures it)."""
    import math
    import sys
    from array import array

    count = round(seconds * REGISTERED_RATE)
    step = 2 * math.pi * 440 / REGISTERED_RATE
    samples = array("h", (round(3000 * math.sin(step * i)) for i in range(count)))
    if sys.byteorder == "big":
        samples.byteswap()
    path.parent.mkdir(parents=True, exist_ok=True)
    write_wav(path, samples.tobytes(), REGISTERED_RATE)
