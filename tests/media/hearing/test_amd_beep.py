"""Answering-machine and beep detection: the issue's three answers, and the beep's timing."""

from __future__ import annotations

import pytest

from tests.media.hearing.conftest import GREETING, Degrade
from voxpy.media.hearing import (
    AMDOptions,
    AnsweringMachineDetector,
    AudioIdentificationResult,
    AudioType,
    BeepDetectionComplete,
    BeepDetectionError,
    BeepDetector,
    synth,
)


def amd(pcm: bytes, rate: int, options: AMDOptions | None = None) -> AudioIdentificationResult:
    detector = AnsweringMachineDetector(rate, options)
    (result,) = detector.feed(pcm) + detector.finish()
    assert detector.done
    return result


def test_hello_is_human(rate: int, degrade: Degrade) -> None:
    pcm = synth.silence(500, rate) + synth.speech("Hello?", rate) + synth.silence(3000, rate)
    result = amd(degrade(pcm, rate), rate)
    assert result.audio_type is AudioType.HUMAN
    assert result.cause == "human"
    assert result.confidence > 0.5
    assert result.words == 1
    assert 400 <= result.initial_silence_ms <= 700


def test_long_greeting_is_voicemail_and_the_beep_is_heard(rate: int, degrade: Degrade) -> None:
    greeting = synth.speech(GREETING, rate)
    assert len(greeting) / 2 / rate >= 5.0
    pcm = degrade(
        synth.silence(300, rate)
        + greeting
        + synth.silence(300, rate)
        + synth.tone([1000], 400, rate, dbfs=-12)
        + synth.silence(1000, rate),
        rate,
    )
    beep_end_ms = (len(greeting) // 2 * 1000 // rate) + 300 + 300 + 400

    result = amd(pcm, rate)
    assert result.audio_type is AudioType.VOICEMAIL
    assert result.at_ms <= 3000  # decided inside the greeting

    beeps = BeepDetector(rate).feed(pcm)
    assert len(beeps) == 1
    beep = beeps[0]
    assert isinstance(beep, BeepDetectionComplete)
    assert beep.frequencies == (pytest.approx(1000, abs=5),)
    assert beep_end_ms <= beep.at_ms <= beep_end_ms + 300
    assert beep.ended_at_ms == pytest.approx(beep_end_ms, abs=40)
    assert beep.duration_ms == pytest.approx(400, abs=40)


def test_silence_is_unknown_at_the_timeout(rate: int, degrade: Degrade) -> None:
    result = amd(degrade(synth.silence(6000, rate), rate), rate)
    assert result.audio_type is AudioType.UNKNOWN
    assert result.cause == "initial_silence"
    assert result.at_ms == 2500
    assert result.confidence == 0.0


def test_options_move_the_decisions(rate: int) -> None:
    options = AMDOptions(initial_silence_ms=4000, total_analysis_time_ms=3000)
    result = amd(synth.silence(6000, rate), rate, options)
    assert (result.cause, result.at_ms) == ("too_long", 3000)


def test_audio_ending_early_is_unknown(rate: int) -> None:
    result = amd(synth.silence(1000, rate), rate)
    assert (result.audio_type, result.cause) == (AudioType.UNKNOWN, "stopped")


def test_beep_timeout(rate: int) -> None:
    detector = BeepDetector(rate, timeout_ms=2000)
    found = detector.feed(synth.speech("Hello, leave a message.", rate) + synth.silence(2000, rate))
    assert found == [BeepDetectionError(reason="timeout", at_ms=2000)]
    assert detector.feed(synth.tone([1000], 400, rate)) == []  # done


def test_a_tone_before_any_speech_is_no_beep(rate: int) -> None:
    pcm = synth.cadence((425,), (1.0, 4.0), 5.0, rate)  # EU ringback: one steady tone
    assert BeepDetector(rate, timeout_ms=4000).feed(pcm) == [
        BeepDetectionError(reason="timeout", at_ms=4000)
    ]
    assert isinstance(BeepDetector(rate, min_speech_ms=0).feed(pcm)[0], BeepDetectionComplete)


def test_short_chirps_and_speech_are_no_beep(rate: int) -> None:
    pcm = synth.speech(GREETING, rate) + synth.tone([1000], 100, rate) + synth.silence(500, rate)
    detector = BeepDetector(rate)
    assert detector.feed(pcm) == []
    assert detector.finish() == []


def test_a_beep_at_the_end_of_the_audio_is_reported_by_finish(rate: int) -> None:
    detector = BeepDetector(rate)
    found = detector.feed(synth.speech("Leave a message.", rate) + synth.tone([800], 300, rate))
    assert found == []
    (beep,) = detector.finish()
    assert isinstance(beep, BeepDetectionComplete)
    assert beep.frequencies == (pytest.approx(800, abs=5),)
