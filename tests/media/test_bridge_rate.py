"""The bridge's clock rate (issue 15, media cost): the ``auto`` rule, the settings that carry
it to the pjsua2 endpoint, and prompts, tones and speech prepared at it. What a call sounds
like on each clock is in ``tests/backends/test_bridge_rate_audio.py``."""

from __future__ import annotations

import wave
from pathlib import Path

import pytest

from voxpy.backends.pjsua2.options import PjsuaOptions
from voxpy.config import load_settings
from voxpy.core.bridge_rate import codec_rate, resolve_clock_rate
from voxpy.errors import ConfigError
from voxpy.media.library import FileMediaLibrary
from voxpy.media.tones import BEEP


def rate_of(path: str) -> int:
    with wave.open(path, "rb") as wav:
        return wav.getframerate()


class TestAuto:
    def test_narrowband_codecs_give_8000(self) -> None:
        assert resolve_clock_rate("auto", ["PCMU/8000", "PCMA/8000"]) == 8000
        assert resolve_clock_rate("auto", ["PCMU", "GSM/8000", "iLBC/8000"]) == 8000

    @pytest.mark.parametrize(
        "wideband", ["G722/16000", "G722", "g722/8000", "speex/16000", "speex", "L16/16000", "opus"]
    )
    def test_any_wideband_codec_gives_16000(self, wideband: str) -> None:
        assert resolve_clock_rate("auto", ["PCMU/8000", wideband]) == 16000

    def test_never_above_16000(self) -> None:
        assert resolve_clock_rate("auto", ["L16/44100", "speex/32000"]) == 16000

    def test_the_default_codecs_keep_16000(self) -> None:
        """G.722 is enabled by default, and a caller that offers it first gets it."""
        assert load_settings(env={}).bridge_rate() == 16000

    def test_a_fixed_rate_wins_over_the_codecs(self) -> None:
        assert resolve_clock_rate(8000, ["G722/16000"]) == 8000
        assert resolve_clock_rate(48000, ["PCMU/8000"]) == 48000

    def test_codec_rates(self) -> None:
        assert [codec_rate(c) for c in ("PCMU/8000", "G722/8000", "L16/44100/1", "GSM")] == [
            8000,
            16000,
            44100,
            8000,
        ]

    @pytest.mark.parametrize("bad", [11025, 0, True, "fast", None])
    def test_a_bad_rate_is_refused(self, bad: object) -> None:
        with pytest.raises(ConfigError, match=r"media\.clock_rate: must be auto or one of"):
            resolve_clock_rate(bad, ["PCMU/8000"])  # type: ignore[arg-type]


class TestSettings:
    def test_auto_follows_sip_codecs_into_the_endpoint_options(self) -> None:
        settings = load_settings(env={"VOXPY_SIP__CODECS": "PCMU/8000,PCMA/8000"})
        options = settings.pjsua_options()
        assert (settings.bridge_rate(), options.clock_rate) == (8000, 8000)
        assert options.resample_quality == 8

    def test_env_overrides(self) -> None:
        env = {"VOXPY_MEDIA__CLOCK_RATE": "8000", "VOXPY_MEDIA__RESAMPLE_QUALITY": "4"}
        options = load_settings(env=env).pjsua_options()
        assert (options.clock_rate, options.resample_quality) == (8000, 4)
        assert load_settings(env={"VOXPY_MEDIA__CLOCK_RATE": " AUTO "}).bridge_rate() == 16000

    @pytest.mark.parametrize("bad", ["11025", "fast", "0", "-8000"])
    def test_a_bad_clock_rate_is_a_config_error(self, bad: str) -> None:
        with pytest.raises(ConfigError, match=r"media\.clock_rate: Input should be 'auto', 8000"):
            load_settings(env={"VOXPY_MEDIA__CLOCK_RATE": bad})

    @pytest.mark.parametrize("bad", ["0", "11", "best"])
    def test_a_bad_quality_is_a_config_error(self, bad: str) -> None:
        with pytest.raises(ConfigError, match=r"media\.resample_quality"):
            load_settings(env={"VOXPY_MEDIA__RESAMPLE_QUALITY": bad})

    @pytest.mark.parametrize(
        ("field", "value"), [("clock_rate", 22050), ("clock_rate", True), ("resample_quality", 0)]
    )
    def test_the_backend_options_refuse_bad_values(self, field: str, value: object) -> None:
        with pytest.raises(ConfigError, match=field):
            PjsuaOptions(**{field: value})  # type: ignore[arg-type]

    def test_the_endpoint_config_carries_them(self) -> None:
        from voxpy.backends.pjsua2.endpoint import Stack
        from voxpy.log import get_logger

        stack = Stack(PjsuaOptions(clock_rate=8000, resample_quality=3), get_logger("test"))
        med = stack._config().medConfig
        assert (med.clockRate, med.sndClockRate, med.quality) == (8000, 8000, 3)


class TestPreparedAtTheBridgeRate:
    """Every WAV the library hands the player is at the bridge's rate, cached per rate."""

    @staticmethod
    def library(tmp_path: Path, rate: str) -> FileMediaLibrary:
        settings = load_settings(
            env={},
            overrides={"media.clock_rate": rate, "media.cache_dir": str(tmp_path / "cache")},
        )
        return FileMediaLibrary.from_settings(settings)

    async def test_tones_speech_and_files(self, tmp_path: Path) -> None:
        source = tmp_path / "prompt.wav"
        with wave.open(str(source), "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(44100)
            wav.writeframes(bytes(2 * 44100))
        paths: dict[int, list[str]] = {}
        for rate in (8000, 16000):
            library = self.library(tmp_path, str(rate))
            assert library.rate == rate
            prepared = [
                await library.speech("Hello from voxpy.", "en-US", None, None),
                await library.media(BEEP),
                await library.progress_tone("US"),
                await library.media(str(source)),
            ]
            assert [rate_of(p.path) for p in prepared] == [rate] * 4
            assert abs(prepared[1].duration - 0.5) < 0.01 and abs(prepared[3].duration - 1) < 0.01
            paths[rate] = [p.path for p in prepared]
        # One cache directory, two workers' rates: no file is shared between them.
        assert not set(paths[8000]) & set(paths[16000])

    def test_a_bad_rate_is_refused(self, tmp_path: Path) -> None:
        from voxpy.errors import InvalidArgumentError

        with pytest.raises(InvalidArgumentError, match="bridge rate"):
            FileMediaLibrary(None, tmp_path, tmp_path, rate=11025)  # type: ignore[arg-type]
