"""Progress tones: the right ToneDetected for each country's busy, ringback, dial, and SIT/fax."""

from __future__ import annotations

import pytest

from tests.media.hearing.conftest import GREETING, Degrade
from voxpy.media.hearing import ProgressTone, ProgressToneDetector, ToneDetected, synth

BUSY, RINGBACK, DIAL = ProgressTone.BUSY, ProgressTone.RINGBACK, ProgressTone.DIAL
CASES = {
    "US busy": ((480, 620), (0.5, 0.5), BUSY, "US"),
    "US reorder": ((480, 620), (0.25, 0.25), BUSY, "US"),
    "US ringback": ((440, 480), (2.0, 4.0), RINGBACK, "US"),
    "US dial": ((350, 440), (8.0,), DIAL, "US"),
    "EU busy": ((425,), (0.5, 0.5), BUSY, "EU"),
    "EU ringback": ((425,), (1.0, 4.0), RINGBACK, "EU"),
    "EU dial": ((425,), (8.0,), DIAL, "EU"),
    "UK busy": ((400,), (0.375, 0.375), BUSY, "UK"),
    "UK ringback": ((400, 450), (0.4, 0.2, 0.4, 2.0), RINGBACK, "UK"),
    "UK dial": ((350, 450), (8.0,), DIAL, "UK"),
    "fax CNG": ((1100,), (0.5, 3.0), ProgressTone.FAX_CNG, ""),
    "fax CED": ((2100,), (3.3, 1.0), ProgressTone.FAX_CED, ""),
}


def detect(pcm: bytes, rate: int) -> list[ToneDetected]:
    detector = ProgressToneDetector(rate)
    return detector.feed(pcm) + detector.finish()


@pytest.mark.parametrize("name", list(CASES))
def test_tone(name: str, rate: int, degrade: Degrade) -> None:
    freqs, pattern, tone, country = CASES[name]
    pcm = synth.silence(300, rate) + synth.cadence(freqs, pattern, 6.0, rate)
    found = detect(degrade(pcm, rate), rate)
    assert [(t.progress_tone, t.country) for t in found] == [(tone, country)]
    assert found[0].frequencies == tuple(float(f) for f in freqs)
    assert not found[0].voicemail_tone
    assert found[0].at_ms <= 3000


def test_sit(rate: int, degrade: Degrade) -> None:
    pcm = (
        synth.silence(300, rate)
        + synth.tone([913.8], 276, rate)
        + synth.tone([1370.6], 276, rate)
        + synth.tone([1776.7], 380, rate)
        + synth.silence(1000, rate)
    )
    found = detect(degrade(pcm, rate), rate)
    assert [t.progress_tone for t in found] == [ProgressTone.SIT]
    assert found[0].frequencies == (913.8, 1370.6, 1776.7)


def test_speech_and_a_beep_are_no_progress_tone(rate: int, degrade: Degrade) -> None:
    pcm = synth.speech(GREETING, rate) + synth.tone([1000], 500, rate) + synth.silence(500, rate)
    assert detect(degrade(pcm, rate), rate) == []


def test_countries_limit_the_cadences(rate: int) -> None:
    pcm = synth.cadence((425,), (0.5, 0.5), 3.0, rate)
    assert ProgressToneDetector(rate, countries=("US",)).feed(pcm) == []
