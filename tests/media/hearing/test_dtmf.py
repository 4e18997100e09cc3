"""In-band DTMF: the digits, and Q.24's limits; no digits heard in speech."""

from __future__ import annotations

import numpy as np
import pytest

from tests.media.hearing.conftest import PROMPT, Degrade
from voxpy.media.hearing import DtmfDetector, synth
from voxpy.media.hearing.dtmf import COLUMNS, ROWS


def digits(pcm: bytes, rate: int) -> str:
    return "".join(d.digit for d in DtmfDetector(rate).feed(pcm))


def test_147_pound(rate: int, degrade: Degrade) -> None:
    pcm = synth.silence(300, rate) + synth.dtmf("147#", rate) + synth.silence(300, rate)
    found = DtmfDetector(rate).feed(degrade(pcm, rate))
    assert [d.digit for d in found] == ["1", "4", "7", "#"]
    assert [d.at_ms for d in found] == pytest.approx([300, 460, 620, 780], abs=20)


def test_all_sixteen_keys(rate: int) -> None:
    keys = "123A456B789C*0#D"
    assert digits(synth.dtmf(keys, rate, on_ms=50, off_ms=50), rate) == keys


def test_no_digits_in_a_spoken_prompt(rate: int, degrade: Degrade) -> None:
    pcm = degrade(synth.speech(PROMPT, rate) + synth.speech(PROMPT, rate, voice="en-us+f3"), rate)
    assert digits(pcm, rate) == ""


def test_a_digit_spoken_over_gets_through_after_the_prompt(rate: int) -> None:
    pcm = synth.speech(PROMPT, rate) + synth.dtmf("5", rate)
    assert digits(synth.g711(pcm, rate), rate) == "5"


def test_duration_limits(rate: int) -> None:
    assert digits(synth.dtmf("5", rate, on_ms=20), rate) == ""
    # 40 ms tones with 40 ms pauses, starting off the frame grid: each one counts
    pcm = synth.silence(10, rate) + synth.dtmf("5555", rate, on_ms=40, off_ms=40)
    assert digits(pcm, rate) == "5555"


def test_a_held_digit_is_one_digit(rate: int) -> None:
    assert digits(synth.dtmf("9", rate, on_ms=2000), rate) == "9"


@pytest.mark.parametrize(("twist_db", "heard"), [(7, "5"), (10, ""), (-3, "5"), (-6, "")])
def test_twist(rate: int, twist_db: float, heard: str) -> None:
    """Normal twist (column weaker) up to 8 dB, reverse twist up to 4 dB."""
    assert digits(synth.dtmf("5", rate, twist_db=twist_db), rate) == heard


@pytest.mark.parametrize(
    ("offset", "heard"), [(0.015, "5"), (-0.015, "5"), (0.035, ""), (-0.035, "")]
)
def test_frequency_tolerance(rate: int, offset: float, heard: str) -> None:
    f = (ROWS[1] * (1 + offset), COLUMNS[1] * (1 + offset))
    assert digits(synth.tone(f, 100, rate) + synth.silence(100, rate), rate) == heard


def test_level_limit(rate: int) -> None:
    assert digits(synth.dtmf("5", rate, dbfs=-30), rate) == "5"
    assert digits(synth.dtmf("5", rate, dbfs=-40), rate) == ""


def test_noise_alone_is_not_a_digit(rate: int) -> None:
    noise = np.random.default_rng(5).normal(0, 3000, rate * 3).astype("<i2").tobytes()
    assert digits(noise, rate) == ""
