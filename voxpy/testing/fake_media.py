"""The test kit's media library for memory mode: instant, no files, known durations.

Speech lasts 0.3 s per word (at least 0.5 s). Other media must be registered with
:meth:`FakeMedia.register` (a duration, or an error such as a 404), except local WAV files,
whose real length is read.
"""

from __future__ import annotations

from pathlib import Path

from voxpy.core.ports import PreparedMedia
from voxpy.errors import MediaError
from voxpy.media.convert import wav_duration

SECONDS_PER_WORD = 0.3


class FakeMedia:
    """Implements :class:`~voxpy.core.ports.MediaLibrary` without synthesizing anything."""

    def __init__(self) -> None:
        self._known: dict[str, float | str] = {}
        self.spoken: list[str] = []

    def register(self, source: str, duration: float = 3.0, error: str | None = None) -> None:
        """Make ``source`` playable for ``duration`` seconds, or fail with ``error``."""
        self._known[source] = error if error is not None else duration

    async def speech(
        self, text: str, language: str, voice: str | None, rate: float | None
    ) -> PreparedMedia:
        self.spoken.append(text)
        seconds = max(0.5, SECONDS_PER_WORD * len(text.split())) / (rate or 1.0)
        return PreparedMedia(path=f"memory:say:{language}:{text}", duration=seconds)

    async def media(self, source: str) -> PreparedMedia:
        known = self._known.get(source)
        if isinstance(known, str):
            raise MediaError(known)
        if isinstance(known, float | int):
            return PreparedMedia(path=f"memory:media:{source}", duration=float(known))
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
