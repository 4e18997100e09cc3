"""The real media library: TTS, downloads and conversion in worker threads, cached on disk.

Implements :class:`~voxpy.core.ports.MediaLibrary` for the engine; everything blocking runs in
``asyncio.to_thread`` so the event loop (and every other call) never waits for espeak, ffmpeg
or a slow URL.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from voxpy.core.bridge_rate import CLOCK_RATES, WIDEBAND
from voxpy.core.ports import PreparedMedia
from voxpy.errors import InvalidArgumentError
from voxpy.media.convert import MediaCache, wav_duration, wav_shape
from voxpy.media.tones import BEEP, beep_wav, progress_tone_wav
from voxpy.media.tts import Tts, make_tts


class FileMediaLibrary:
    """Media prepared as WAV files under ``cache_dir`` at ``rate`` (the bridge's clock: the
    player then feeds the bridge without a resampler); recordings under ``recordings_dir``.

    Every cached file's key or name carries the rate, so workers at 8 and 16 kHz may share a
    cache directory and never hand each other a file at the wrong rate.
    """

    def __init__(
        self,
        tts: Tts,
        cache_dir: Path,
        recordings_dir: Path,
        fetch_timeout: float = 12.0,
        *,
        rate: int = WIDEBAND,
    ) -> None:
        if rate not in CLOCK_RATES:
            raise InvalidArgumentError(f"bridge rate must be one of {CLOCK_RATES}, got {rate!r}")
        self.tts = tts
        self.cache_dir = cache_dir
        self.recordings_dir = recordings_dir
        self.rate = rate
        self._media = MediaCache(cache_dir / "media", rate=rate, fetch_timeout=fetch_timeout)

    @classmethod
    def from_settings(cls, settings: Any, logger: Any = None) -> FileMediaLibrary:
        media = settings.media
        cache = Path(media.cache_dir).expanduser()
        return cls(
            make_tts(media.tts_provider, cache / "tts", logger),
            cache,
            Path(media.recordings_dir).expanduser(),
            media.fetch_timeout,
            rate=settings.bridge_rate(),
        )

    async def speech(
        self, text: str, language: str, voice: str | None, rate: float | None
    ) -> PreparedMedia:
        return await asyncio.to_thread(self._speech, text, language, voice, rate)

    def _speech(
        self, text: str, language: str, voice: str | None, rate: float | None
    ) -> PreparedMedia:
        spoken = self.tts.speak(text, language, voice, rate)
        spoken_rate, duration = wav_shape(spoken)
        if spoken_rate == self.rate:
            return PreparedMedia(path=str(spoken), duration=duration)
        # The synthesizer's own rate (espeak 22050, gTTS 24000) is resampled once here, by
        # ffmpeg (cached, keyed by the rate), not by the bridge every 20 ms of every call.
        path, duration = self._media.prepare(str(spoken))
        return PreparedMedia(path=str(path), duration=duration)

    async def media(self, source: str) -> PreparedMedia:
        if source == BEEP:
            return await asyncio.to_thread(self._beep)
        path, duration = await asyncio.to_thread(self._media.prepare, source)
        return PreparedMedia(path=str(path), duration=duration)

    async def progress_tone(self, country: str) -> PreparedMedia:
        return await asyncio.to_thread(self._tone, country)

    def _tone(self, country: str) -> PreparedMedia:
        path = self.cache_dir / "tones" / f"{country.upper()}-{self.rate}.wav"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            progress_tone_wav(country, path, self.rate)
        return PreparedMedia(path=str(path), duration=wav_duration(path))

    def _beep(self) -> PreparedMedia:
        path = self.cache_dir / "tones" / f"beep-{self.rate}.wav"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            beep_wav(path, self.rate)
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
