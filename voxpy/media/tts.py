"""Text-to-speech to WAV files: espeak-ng offline, gTTS online with an espeak fallback, a cache.

Use :func:`make_tts` and call :meth:`Tts.speak` from a worker thread; it returns the path of a
mono 16-bit PCM WAV. Cache policy with a fallback: every file is cached under the key of the
provider that actually produced it. A gTTS request that fell back to espeak is cached under
espeak's key, never under gTTS's, so robotic audio is not pinned forever once the network
returns; a gTTS file cached earlier is still served while the network is down.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, TypeVar

import structlog
from structlog.typing import FilteringBoundLogger

from voxpy.errors import ConfigError, MediaError
from voxpy.media.convert import to_wav, wav_duration
from voxpy.media.espeak import EspeakProvider

__all__ = [
    "MAX_TTS_CHARS",
    "EspeakProvider",
    "FallbackProvider",
    "GttsProvider",
    "Tts",
    "TtsCache",
    "TtsProvider",
    "TtsUnavailableError",
    "make_tts",
]

log: FilteringBoundLogger = structlog.get_logger("voxpy.media")

T = TypeVar("T")

MAX_TTS_CHARS = 1500
"""VoxEngine's limit on the text of one ``say``."""

_STALE_TMP_SECONDS = 3600.0
# gTTS picks an accent with the Google domain (see gTTS "Localized accents").
_GTTS_TLD = {
    "en-gb": "co.uk",
    "en-au": "com.au",
    "en-in": "co.in",
    "en-ca": "ca",
    "en-ie": "ie",
    "en-za": "co.za",
    "fr-ca": "ca",
    "pt-br": "com.br",
    "es-mx": "com.mx",
    "es-es": "es",
}


class TtsProvider(Protocol):
    """A speech synthesizer; ``name`` is part of the cache key."""

    name: str

    def synthesize(
        self, text: str, language: str, voice: str | None, rate: float | None, out: Path
    ) -> None:
        """Write ``text`` spoken as a mono 16-bit PCM WAV file (any sample rate) to ``out``."""


class TtsUnavailableError(MediaError):
    """The provider cannot be reached (network down, service failing): worth a cool-down."""


class GttsProvider:
    """Google Translate's TTS through gTTS (online): MP3 converted to a 24 kHz WAV.

    ``voice`` is ignored (gTTS has none); the region of ``language`` picks the accent.
    ``rate`` below 0.75 uses gTTS's slow mode, other rates are applied with ffmpeg's atempo.
    Network and service errors raise :class:`TtsUnavailableError`.
    """

    name = "gtts"

    def __init__(self, timeout: float = 10.0) -> None:
        self.timeout = timeout

    @staticmethod
    def _language(language: str) -> tuple[str, str]:
        from gtts.lang import tts_langs

        wanted = language.strip().replace("_", "-").lower()
        by_lower = {code.lower(): code for code in tts_langs()}
        code = by_lower.get(wanted) or by_lower.get(wanted.split("-")[0])
        if code is None:
            raise MediaError(f"gtts has no voice for language {language!r}")
        return code, _GTTS_TLD.get(wanted, "com")

    def synthesize(
        self, text: str, language: str, voice: str | None, rate: float | None, out: Path
    ) -> None:
        """Fetch the speech from Google as MP3 and convert it to WAV at ``out``."""
        from gtts import gTTS, gTTSError

        lang, tld = self._language(language)
        slow = rate is not None and rate < 0.75
        tts = gTTS(text, lang=lang, tld=tld, slow=slow, lang_check=False, timeout=self.timeout)
        with tempfile.TemporaryDirectory(dir=out.parent, prefix=".gtts-") as tmp:
            mp3 = Path(tmp) / "speech.mp3"
            try:
                tts.save(str(mp3))
            except (gTTSError, OSError) as exc:
                raise TtsUnavailableError(f"gtts request failed: {exc}") from exc
            tempo = 1.0 if rate is None or slow else rate
            to_wav(mp3, out, 24000, tempo=tempo)


class FallbackProvider:
    """Uses ``primary``; when it fails, logs ``tts_fallback`` and uses ``fallback`` instead.

    After a :class:`TtsUnavailableError` the primary is skipped for ``cooldown`` seconds so
    that every prompt does not wait for a dead network.
    """

    def __init__(
        self,
        primary: TtsProvider,
        fallback: TtsProvider,
        logger: FilteringBoundLogger | None = None,
        cooldown: float = 30.0,
    ) -> None:
        self.primary = primary
        self.fallback = fallback
        self.name = f"{primary.name}+{fallback.name}"
        self.cooldown = cooldown
        self._log = logger if logger is not None else log
        self._suspended_until = 0.0

    def primary_usable(self) -> bool:
        """False while the primary is in its cool-down after being unreachable."""
        usable = time.monotonic() >= self._suspended_until
        if not usable:
            self._log.debug("tts_primary_suspended", primary=self.primary.name)
        return usable

    def primary_failed(self, exc: BaseException) -> None:
        """Log ``tts_fallback`` for a failure of the primary; start a cool-down if unreachable."""
        self._log.warning(
            "tts_fallback",
            primary=self.primary.name,
            fallback=self.fallback.name,
            error=str(exc) or type(exc).__name__,
        )
        if isinstance(exc, TtsUnavailableError) and self.cooldown > 0:
            self._suspended_until = time.monotonic() + self.cooldown

    def synthesize(
        self, text: str, language: str, voice: str | None, rate: float | None, out: Path
    ) -> None:
        """Synthesize with the primary, else with the fallback."""
        self.attempt(lambda chosen: chosen.synthesize(text, language, voice, rate, out))

    def attempt(self, use: Callable[[TtsProvider], T], *, primary_cached: bool = False) -> T:
        """The fallback rule, in one place: ``use(primary)``, else ``use(fallback)``.

        The primary is skipped while it cools down, unless ``primary_cached`` (its result is
        already on disk, so no network is needed); any failure of it means fall back.
        """
        if primary_cached or self.primary_usable():
            try:
                return use(self.primary)
            except Exception as exc:  # noqa: BLE001 - any failure of the primary means fall back
                self.primary_failed(exc)
        return use(self.fallback)


class TtsCache:
    """Synthesized WAV files in ``directory``, keyed by provider, voice, language, text, rate."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._remove_stale_temporaries()

    def _remove_stale_temporaries(self) -> None:
        cutoff = time.time() - _STALE_TMP_SECONDS
        for tmp in self.directory.glob(".*.tmp"):
            try:
                if tmp.stat().st_mtime < cutoff:
                    tmp.unlink()
            except OSError:
                continue  # another process removed or renamed it

    @staticmethod
    def _normal(language: str, rate: float | None) -> tuple[str, float | None]:
        lang = language.strip().replace("_", "-").lower()
        return lang, None if rate is None or rate == 1.0 else round(rate, 3)

    def path_for(
        self, provider_name: str, voice: str | None, language: str, text: str, rate: float | None
    ) -> Path:
        """Where the WAV for these parameters is (or would be) cached."""
        lang, speed = self._normal(language, rate)
        canonical = json.dumps(
            {
                "provider": provider_name,
                "voice": voice,
                "language": lang,
                "text": text,
                "rate": speed,
            },
            sort_keys=True,
            ensure_ascii=False,
            separators=(",", ":"),
        )
        return self.directory / f"{hashlib.sha256(canonical.encode()).hexdigest()}.wav"

    def speak(
        self,
        provider: TtsProvider,
        text: str,
        language: str = "en",
        voice: str | None = None,
        rate: float | None = None,
    ) -> Path:
        """Return the cached WAV for ``text``, synthesizing it first on a miss.

        Raises MediaError for empty text, text over :data:`MAX_TTS_CHARS` characters, a rate
        outside (0, 4], or a failed synthesis.
        """
        text = text.strip()
        if not text:
            raise MediaError("nothing to say: the text is empty")
        if len(text) > MAX_TTS_CHARS:
            raise MediaError(
                f"text too long for TTS: {len(text)} characters, the limit is {MAX_TTS_CHARS}"
            )
        if rate is not None and not 0 < rate <= 4:
            raise MediaError(f"TTS rate must be in (0, 4], got {rate}")
        if isinstance(provider, FallbackProvider):
            # Each file is cached under the provider that made it (see the module docstring),
            # so the rule runs here, around the cache, rather than inside synthesize().
            primary_path = self.path_for(provider.primary.name, voice, language, text, rate)
            return provider.attempt(
                lambda chosen: self.speak(chosen, text, language, voice, rate),
                primary_cached=primary_path.exists(),
            )
        return self._synthesize_once(provider, text, language, voice, rate)

    def _synthesize_once(
        self,
        provider: TtsProvider,
        text: str,
        language: str,
        voice: str | None,
        rate: float | None,
    ) -> Path:
        path = self.path_for(provider.name, voice, language, text, rate)
        if path.exists():
            log.debug("tts_cache_hit", provider=provider.name, file=path.name)
            return path
        self.directory.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=self.directory)
        os.close(fd)
        tmp = Path(tmp_name)
        started = time.perf_counter()
        try:
            provider.synthesize(text, language, voice, rate, tmp)
            duration = wav_duration(tmp)
            os.replace(tmp, path)
        except MediaError:
            raise
        except Exception as exc:
            raise MediaError(f"{provider.name} TTS failed: {exc}") from exc
        finally:
            tmp.unlink(missing_ok=True)
        log.info(
            "tts_synthesized",
            provider=provider.name,
            chars=len(text),
            audio_seconds=round(duration, 2),
            seconds=round(time.perf_counter() - started, 3),
        )
        return path


class Tts:
    """A provider with its cache: what the runtime holds to turn ``say`` text into a WAV."""

    def __init__(self, provider: TtsProvider, cache: TtsCache) -> None:
        self.provider = provider
        self.cache = cache

    def speak(
        self,
        text: str,
        language: str = "en",
        voice: str | None = None,
        rate: float | None = None,
    ) -> Path:
        """Blocking: the path of a mono 16-bit WAV of ``text``; MediaError on failure."""
        return self.cache.speak(self.provider, text, language, voice, rate)


def make_tts(
    provider: str,
    cache_dir: Path,
    logger: FilteringBoundLogger | None = None,
    *,
    gtts_timeout: float = 10.0,
) -> Tts:
    """Build the configured TTS: ``espeak`` (offline) or ``gtts`` (falls back to espeak).

    Unknown provider names raise :class:`~voxpy.errors.ConfigError` (field ``media.tts_provider``).
    """
    name = provider.strip().lower()
    chosen: TtsProvider
    if name == "espeak":
        chosen = EspeakProvider()
    elif name == "gtts":
        chosen = FallbackProvider(GttsProvider(timeout=gtts_timeout), EspeakProvider(), logger)
    else:
        raise ConfigError(
            f"unknown TTS provider {provider!r}, expected espeak or gtts",
            field="media.tts_provider",
        )
    return Tts(chosen, TtsCache(cache_dir))
