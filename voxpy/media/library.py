"""The real media library: TTS, downloads and conversion in worker threads, cached on disk.

Implements :class:`~voxpy.core.ports.MediaLibrary` for the engine; everything blocking runs in
``asyncio.to_thread`` so the event loop (and every other call) never waits for espeak, ffmpeg
or a slow URL.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from voxpy.core.ports import PreparedMedia
from voxpy.errors import InvalidArgumentError
from voxpy.media.convert import MediaCache, wav_duration
from voxpy.media.tones import BEEP, beep_wav, progress_tone_wav
from voxpy.media.tts import Tts, make_tts

BRIDGE_RATE = 16000
"""PJSIP's conference bridge clock: media is converted to it once, when cached."""


class FileMediaLibrary:
    """Media prepared as WAV files under ``cache_dir``; recordings under ``recordings_dir``."""

    def __init__(
        self, tts: Tts, cache_dir: Path, recordings_dir: Path, fetch_timeout: float = 12.0
    ) -> None:
        self.tts = tts
        self.cache_dir = cache_dir
        self.recordings_dir = recordings_dir
        self._media = MediaCache(cache_dir / "media", rate=BRIDGE_RATE, fetch_timeout=fetch_timeout)

    @classmethod
    def from_settings(cls, settings: Any, logger: Any = None) -> FileMediaLibrary:
        media = settings.media
        cache = Path(media.cache_dir).expanduser()
        return cls(
            make_tts(media.tts_provider, cache / "tts", logger),
            cache,
            Path(media.recordings_dir).expanduser(),
            media.fetch_timeout,
        )

    async def speech(
        self, text: str, language: str, voice: str | None, rate: float | None
    ) -> PreparedMedia:
        return await asyncio.to_thread(self._speech, text, language, voice, rate)

    def _speech(
        self, text: str, language: str, voice: str | None, rate: float | None
    ) -> PreparedMedia:
        path = self.tts.speak(text, language, voice, rate)
        return PreparedMedia(path=str(path), duration=wav_duration(path))

    async def media(self, source: str) -> PreparedMedia:
        if source == BEEP:
            return await asyncio.to_thread(self._beep)
        path, duration = await asyncio.to_thread(self._media.prepare, source)
        return PreparedMedia(path=str(path), duration=duration)

    async def progress_tone(self, country: str) -> PreparedMedia:
        return await asyncio.to_thread(self._tone, country)

    def _tone(self, country: str) -> PreparedMedia:
        path = self.cache_dir / "tones" / f"{country.upper()}-{BRIDGE_RATE}.wav"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            progress_tone_wav(country, path, BRIDGE_RATE)
        return PreparedMedia(path=str(path), duration=wav_duration(path))

    def _beep(self) -> PreparedMedia:
        path = self.cache_dir / "tones" / f"beep-{BRIDGE_RATE}.wav"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            beep_wav(path, BRIDGE_RATE)
        return PreparedMedia(path=str(path), duration=wav_duration(path))

    def recording_path(self, name: str) -> str:
        """The absolute path of recording ``name``; a name that would leave recordings_dir
        (``../x``, an absolute path) is refused, whatever the caller checked before."""
        self.recordings_dir.mkdir(parents=True, exist_ok=True)
        home = self.recordings_dir.resolve()
        path = (home / name).resolve()
        if path.parent != home:
            raise InvalidArgumentError(f"recording name {name!r} leaves the recordings directory")
        return str(path)
