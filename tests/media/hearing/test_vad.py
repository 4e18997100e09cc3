"""Vad, MicStatus and VolumeMeter on generated audio."""

from __future__ import annotations

import pytest

from tests.media.hearing.conftest import Degrade
from voxpy.errors import InvalidArgumentError
from voxpy.media.hearing import MicStatus, MicStatusChange, Vad, VolumeMeter, synth


def test_vad_hears_speech_not_silence(rate: int, degrade: Degrade) -> None:
    pcm = degrade(
        synth.silence(1000, rate)
        + synth.speech("Hello, how are you?", rate)
        + synth.silence(1000, rate),
        rate,
    )
    frames = Vad(rate).feed(pcm)
    assert len(frames) == len(pcm) // (rate // 50 * 2)
    assert not any(f.speech for f in frames[:45])  # the first 900 ms are silence
    assert sum(f.speech for f in frames) >= 30


def test_vad_frames_do_not_depend_on_chunking(rate: int) -> None:
    pcm = synth.speech("one two", rate)
    whole = Vad(rate).feed(pcm)
    vad = Vad(rate)
    pieces = [f for i in range(0, len(pcm), 77) for f in vad.feed(pcm[i : i + 77])]
    assert pieces == whole


def test_mic_status_reports_start_and_stop(rate: int) -> None:
    pcm = synth.silence(500, rate) + synth.speech("Hello?", rate) + synth.silence(1000, rate)
    mic = MicStatus(rate)
    changes = mic.feed(pcm) + mic.finish()
    assert [c.active for c in changes] == [True, False]
    assert 400 <= changes[0].at_ms <= 800
    assert changes[1].at_ms > changes[0].at_ms


def test_mic_status_finish_closes_an_active_microphone(rate: int) -> None:
    mic = MicStatus(rate)
    assert mic.feed(synth.speech("Hello there, how are you doing today", rate))[0].active
    assert mic.finish() == [MicStatusChange(active=False, at_ms=mic._vad.now_ms)]


def test_volume_meter_maps_db_to_0_1(rate: int) -> None:
    meter = VolumeMeter(rate, interval_ms=100)
    quiet = meter.feed(synth.silence(200, rate))
    loud = meter.feed(synth.tone([1000], 200, rate, dbfs=-18))
    assert [v.at_ms for v in quiet + loud] == [100, 200, 300, 400]
    assert all(v.level == 0.0 for v in quiet)
    assert all(v.level == pytest.approx(0.7, abs=0.02) for v in loud)  # -18 dBFS of 60 dB


def test_vad_rejects_a_bad_mode() -> None:
    with pytest.raises(InvalidArgumentError):
        Vad(8000, aggressiveness=4)
    with pytest.raises(InvalidArgumentError):
        Vad(44100)
