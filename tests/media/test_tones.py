"""Ringback tones: cadence and frequencies checked on the samples (pure-Python Goertzel)."""

from __future__ import annotations

import math
import wave
from array import array
from pathlib import Path

import pytest

from voxpy.errors import MediaError
from voxpy.media.tones import SUPPORTED_COUNTRIES, progress_tone_wav, tone_spec

RATE = 16000


def read(path: Path) -> tuple[array[int], int]:
    with wave.open(str(path), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth()) == (1, 2)
        return array("h", wav.readframes(wav.getnframes())), wav.getframerate()


def window(samples: array[int], rate: int, start: float, end: float) -> list[int]:
    return list(samples[round(start * rate) : round(end * rate)])


def power(samples: list[int], rate: int, freq: float) -> float:
    """Goertzel: the energy of ``samples`` at ``freq``, normalized by the window length."""
    coeff = 2 * math.cos(2 * math.pi * freq / rate)
    prev = prev2 = 0.0
    for sample in samples:
        prev, prev2 = sample + coeff * prev - prev2, prev
    return (prev2 * prev2 + prev * prev - coeff * prev * prev2) / len(samples) ** 2


def peak(samples: list[int]) -> int:
    return max((abs(s) for s in samples), default=0)


def assert_tone(samples: list[int], rate: int, present: list[float]) -> None:
    """Each ``present`` frequency clearly dominates probes 60+ Hz away from all of them."""
    strong = min(power(samples, rate, f) for f in present)
    for probe in (300.0, 350.0, 520.0, 620.0, 1000.0):
        if all(abs(probe - f) >= 60 for f in present):
            assert power(samples, rate, probe) < strong / 100, probe


class TestUs:
    """North America: 440+480 Hz, 2 s on, 4 s off."""

    def test_cadence_and_frequencies(self, tmp_path: Path) -> None:
        path = progress_tone_wav("us", tmp_path / "us.wav")
        samples, rate = read(path)
        assert (rate, len(samples)) == (RATE, 6 * RATE)
        assert peak(window(samples, rate, 0.01, 1.99)) > 3000
        assert peak(window(samples, rate, 2.0, 6.0)) == 0
        assert_tone(window(samples, rate, 0.5, 0.7), rate, [440.0, 480.0])

    def test_level_is_about_minus_ten_dbfs(self, tmp_path: Path) -> None:
        samples, _ = read(progress_tone_wav("US", tmp_path / "us.wav"))
        dbfs = 20 * math.log10(peak(list(samples)) / 32767)
        assert -11 < dbfs < -9.5


class TestEurope:
    """CEPT: 425 Hz, 1 s on, 4 s off; EU members map to it case-insensitively."""

    @pytest.mark.parametrize("country", ["EU", "de", "Fr", " it ", "es", "NL"])
    def test_cadence_and_frequency(self, tmp_path: Path, country: str) -> None:
        samples, rate = read(progress_tone_wav(country, tmp_path / "eu.wav", rate=8000))
        assert (rate, len(samples)) == (8000, 5 * 8000)
        assert peak(window(samples, rate, 0.01, 0.99)) > 5000
        assert peak(window(samples, rate, 1.0, 5.0)) == 0
        assert_tone(window(samples, rate, 0.3, 0.5), rate, [425.0])


class TestOthers:
    """The UK double ring, Russia, and unknown countries."""

    def test_gb_double_ring(self, tmp_path: Path) -> None:
        samples, rate = read(progress_tone_wav("uk", tmp_path / "gb.wav"))
        assert len(samples) == 3 * rate
        for start, end in ((0.01, 0.39), (0.61, 0.99)):
            assert peak(window(samples, rate, start, end)) > 3000
        for start, end in ((0.4, 0.6), (1.0, 3.0)):
            assert peak(window(samples, rate, start, end)) == 0
        assert_tone(window(samples, rate, 0.1, 0.3), rate, [400.0, 450.0])

    def test_russia(self) -> None:
        spec = tone_spec("ru")
        assert (spec.frequencies, spec.cadence, spec.cycle_seconds) == ((425.0,), (0.8, 3.2), 4.0)

    def test_unknown_country_lists_supported(self, tmp_path: Path) -> None:
        with pytest.raises(MediaError, match=r"'ZZ'; supported: .*US") as info:
            progress_tone_wav("ZZ", tmp_path / "zz.wav")
        assert all(code in str(info.value) for code in ("EU", "GB", "DE"))
        assert not (tmp_path / "zz.wav").exists()
        assert "EU" in SUPPORTED_COUNTRIES
