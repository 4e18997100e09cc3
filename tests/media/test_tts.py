"""Text-to-speech: espeak-ng offline, the cache, the gTTS fallback. No test touches the network.

The real gTTS network path (Google answering with an MP3) cannot be tested here; its MP3 ->
WAV half is tested by handing gTTS's ``save`` a local MP3.
"""

from __future__ import annotations

import math
import subprocess
import threading
import time
import wave
from array import array
from pathlib import Path

import gtts
import pytest
from structlog.testing import capture_logs

from voxpy.errors import ConfigError, MediaError
from voxpy.media.convert import ffmpeg_exe, wav_duration
from voxpy.media.tts import (
    MAX_TTS_CHARS,
    EspeakProvider,
    FallbackProvider,
    GttsProvider,
    TtsCache,
    TtsUnavailableError,
    make_tts,
)

PROMPT = "Press one for sales"


def rms(path: Path) -> float:
    with wave.open(str(path), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth()) == (1, 2)
        samples = array("h", wav.readframes(wav.getnframes()))
    return math.sqrt(sum(s * s for s in samples) / max(1, len(samples)))


def write_tone(out: Path, seconds: float = 0.2, rate: int = 8000) -> None:
    samples = array(
        "h",
        (
            round(8000 * math.sin(2 * math.pi * 440 * i / rate))
            for i in range(round(seconds * rate))
        ),
    )
    with wave.open(str(out), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(samples.tobytes())


class FakeProvider:
    """Counts calls and writes a short tone, or raises ``error``."""

    def __init__(self, name: str = "fake", error: Exception | None = None) -> None:
        self.name = name
        self.error = error
        self.calls: list[str] = []

    def synthesize(
        self, text: str, language: str, voice: str | None, rate: float | None, out: Path
    ) -> None:
        self.calls.append(text)
        if self.error is not None:
            raise self.error
        write_tone(out)


class TestEspeak:
    """espeak-ng through ctypes, fully offline."""

    def synth(
        self,
        tmp_path: Path,
        text: str = PROMPT,
        language: str = "en",
        rate: float | None = None,
        voice: str | None = None,
    ) -> Path:
        out = tmp_path / f"{abs(hash((text, language, rate, voice)))}.wav"
        EspeakProvider().synthesize(text, language, voice, rate, out)
        return out

    def test_prompt_is_plausible_speech(self, tmp_path: Path) -> None:
        out = self.synth(tmp_path)
        assert 0.8 <= wav_duration(out) <= 4.0
        assert rms(out) > 300

    def test_longer_text_gives_longer_audio(self, tmp_path: Path) -> None:
        short = wav_duration(self.synth(tmp_path))
        long = wav_duration(self.synth(tmp_path, PROMPT + ", press two for support"))
        assert long > short * 1.5

    def test_rate_two_is_shorter_than_normal(self, tmp_path: Path) -> None:
        normal = wav_duration(self.synth(tmp_path, rate=1.0))
        fast = wav_duration(self.synth(tmp_path, rate=2.0))
        assert fast < normal * 0.75

    def test_regional_language_picks_a_voice(self, tmp_path: Path) -> None:
        assert rms(self.synth(tmp_path, "Drücken Sie die Eins", language="de-AT")) > 300

    def test_unknown_language_is_a_media_error_naming_it(self, tmp_path: Path) -> None:
        with pytest.raises(MediaError, match="'xx-yy'"):
            self.synth(tmp_path, language="xx-yy")

    def test_unknown_voice_falls_back_to_the_language(self, tmp_path: Path) -> None:
        with capture_logs() as logs:
            out = self.synth(tmp_path, voice="Polly.Joanna")
        assert rms(out) > 300
        assert any(entry["event"] == "tts_voice_unknown" for entry in logs)

    def test_threads_synthesize_safely(self, tmp_path: Path) -> None:
        texts = [f"{PROMPT} number {n}" for n in range(6)]
        errors: list[BaseException] = []

        def work(text: str) -> None:
            try:
                self.synth(tmp_path, text)
            except BaseException as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(t,)) for t in texts]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert errors == []
        assert all(rms(p) > 300 for p in tmp_path.glob("*.wav"))
        assert len(list(tmp_path.glob("*.wav"))) == len(texts)


class TestTtsCache:
    """One synthesis per distinct prompt; never a half-written file under a final name."""

    def test_hit_returns_same_path_without_synthesis(self, tmp_path: Path) -> None:
        cache, fake = TtsCache(tmp_path), FakeProvider()
        first = cache.speak(fake, PROMPT)
        second = cache.speak(fake, PROMPT)
        assert first == second
        assert fake.calls == [PROMPT]

    def test_key_covers_every_field(self, tmp_path: Path) -> None:
        cache = TtsCache(tmp_path)
        base = cache.path_for("espeak", None, "en", PROMPT, None)
        assert base == cache.path_for("espeak", None, "EN", PROMPT, 1.0)
        others = {
            cache.path_for("gtts", None, "en", PROMPT, None),
            cache.path_for("espeak", "en+f3", "en", PROMPT, None),
            cache.path_for("espeak", None, "de", PROMPT, None),
            cache.path_for("espeak", None, "en", PROMPT + ".", None),
            cache.path_for("espeak", None, "en", PROMPT, 1.5),
        }
        assert base not in others
        assert len(others) == 5
        assert base.parent == tmp_path
        assert base.suffix == ".wav"

    def test_text_over_the_limit_is_refused(self, tmp_path: Path) -> None:
        cache, fake = TtsCache(tmp_path), FakeProvider()
        cache.speak(fake, "a" * MAX_TTS_CHARS)
        with pytest.raises(MediaError, match="1501 characters, the limit is 1500"):
            cache.speak(fake, "a" * (MAX_TTS_CHARS + 1))
        assert len(fake.calls) == 1

    @pytest.mark.parametrize(("text", "rate"), [("   ", None), (PROMPT, 0.0), (PROMPT, 9.0)])
    def test_bad_arguments_are_media_errors(
        self, tmp_path: Path, text: str, rate: float | None
    ) -> None:
        with pytest.raises(MediaError):
            TtsCache(tmp_path).speak(FakeProvider(), text, rate=rate)

    def test_failed_synthesis_leaves_no_file(self, tmp_path: Path) -> None:
        cache = TtsCache(tmp_path)
        with pytest.raises(MediaError, match="fake TTS failed: boom"):
            cache.speak(FakeProvider(error=RuntimeError("boom")), PROMPT)
        assert list(tmp_path.iterdir()) == []

    def test_garbage_output_is_not_cached(self, tmp_path: Path) -> None:
        class Garbage(FakeProvider):
            def synthesize(
                self, text: str, language: str, voice: str | None, rate: float | None, out: Path
            ) -> None:
                out.write_bytes(b"not a wav")

        with pytest.raises(MediaError, match="cannot read WAV"):
            TtsCache(tmp_path).speak(Garbage(), PROMPT)
        assert list(tmp_path.iterdir()) == []

    def test_espeak_through_the_cache(self, tmp_path: Path) -> None:
        tts = make_tts("espeak", tmp_path)
        path = tts.speak(PROMPT)
        assert path == tts.cache.path_for("espeak", None, "en", PROMPT, None)
        mtime = path.stat().st_mtime_ns
        assert tts.speak(PROMPT) == path
        assert path.stat().st_mtime_ns == mtime


class TestFallback:
    """A failing primary falls back to espeak, logs ``tts_fallback``, caches under espeak."""

    def test_failing_primary_uses_espeak_and_logs(self, tmp_path: Path) -> None:
        primary = FakeProvider("cloud", error=MediaError("service says no"))
        fallback = FallbackProvider(primary, EspeakProvider())
        out = tmp_path / "out.wav"
        with capture_logs() as logs:
            fallback.synthesize(PROMPT, "en", None, None, out)
        assert rms(out) > 300
        warning = next(entry for entry in logs if entry["event"] == "tts_fallback")
        assert warning["log_level"] == "warning"
        assert (warning["primary"], warning["fallback"]) == ("cloud", "espeak")
        assert warning["error"] == "service says no"

    def test_fallback_output_is_cached_under_espeak_key(self, tmp_path: Path) -> None:
        cache = TtsCache(tmp_path)
        primary = FakeProvider("cloud", error=MediaError("down"))
        path = cache.speak(FallbackProvider(primary, EspeakProvider()), PROMPT)
        assert path == cache.path_for("espeak", None, "en", PROMPT, None)
        assert not cache.path_for("cloud", None, "en", PROMPT, None).exists()

    def test_cached_primary_audio_is_served_while_primary_is_down(self, tmp_path: Path) -> None:
        cache = TtsCache(tmp_path)
        good = FakeProvider("cloud")
        path = cache.speak(good, PROMPT)
        broken = FakeProvider("cloud", error=TtsUnavailableError("offline"))
        provider = FallbackProvider(broken, EspeakProvider())
        provider.primary_failed(TtsUnavailableError("offline"))  # even while suspended
        assert cache.speak(provider, PROMPT) == path
        assert broken.calls == []

    def test_unreachable_primary_is_suspended_for_the_cooldown(self, tmp_path: Path) -> None:
        primary = FakeProvider("cloud", error=TtsUnavailableError("offline"))
        provider = FallbackProvider(primary, EspeakProvider(), cooldown=60)
        cache = TtsCache(tmp_path)
        cache.speak(provider, "one")
        cache.speak(provider, "two")
        assert primary.calls == ["one"]

    def test_other_primary_errors_do_not_suspend(self, tmp_path: Path) -> None:
        primary = FakeProvider("cloud", error=MediaError("no such language"))
        provider = FallbackProvider(primary, EspeakProvider(), cooldown=60)
        cache = TtsCache(tmp_path)
        cache.speak(provider, "one")
        cache.speak(provider, "two")
        assert primary.calls == ["one", "two"]


class TestGtts:
    """gTTS with its network call replaced: fallback when it fails, MP3 -> WAV when it works."""

    def test_gtts_failure_falls_back_to_espeak(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def offline(self: gtts.gTTS, savefile: str) -> None:
            raise gtts.gTTSError("Failed to connect")

        monkeypatch.setattr(gtts.gTTS, "save", offline)
        tts = make_tts("gtts", tmp_path)
        started = time.perf_counter()
        with capture_logs() as logs:
            path = tts.speak(PROMPT, "en-US")
        assert time.perf_counter() - started < 5
        assert path == tts.cache.path_for("espeak", None, "en-US", PROMPT, None)
        assert rms(path) > 300
        assert [e["primary"] for e in logs if e["event"] == "tts_fallback"] == ["gtts"]

    def test_gtts_mp3_is_converted_with_tempo(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        tone = tmp_path / "tone.wav"
        write_tone(tone, seconds=2.0)
        mp3 = tmp_path / "tone.mp3"
        subprocess.run(
            [ffmpeg_exe(), "-loglevel", "error", "-i", str(tone), str(mp3)], check=True, timeout=60
        )
        monkeypatch.setattr(
            gtts.gTTS, "save", lambda self, savefile: Path(savefile).write_bytes(mp3.read_bytes())
        )
        out = tmp_path / "speech.wav"
        GttsProvider().synthesize(PROMPT, "en-GB", None, None, out)
        assert wav_duration(out) == pytest.approx(2.0, abs=0.15)
        GttsProvider().synthesize(PROMPT, "en-GB", None, 2.0, out)
        assert wav_duration(out) == pytest.approx(1.0, abs=0.15)

    def test_language_mapping(self) -> None:
        assert GttsProvider._language("en-GB") == ("en", "co.uk")
        assert GttsProvider._language("zh_cn") == ("zh-CN", "com")
        with pytest.raises(MediaError, match="'xx'"):
            GttsProvider._language("xx")


class TestMakeTts:
    """Provider names from the configuration."""

    def test_known_and_unknown_names(self, tmp_path: Path) -> None:
        assert isinstance(make_tts("espeak", tmp_path).provider, EspeakProvider)
        chosen = make_tts(" GTTS ", tmp_path).provider
        assert isinstance(chosen, FallbackProvider)
        assert (chosen.primary.name, chosen.fallback.name) == ("gtts", "espeak")
        with pytest.raises(ConfigError, match=r"media\.tts_provider: unknown TTS provider 'polly'"):
            make_tts("polly", tmp_path)
