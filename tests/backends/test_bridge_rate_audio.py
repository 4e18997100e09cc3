"""What a G.711 call sounds like with the conference bridge at 8 and at 16 kHz (issue 15).

Real pjsua2 over loopback: the engine loops a prompt (a -10 dBFS sine in a 16 kHz WAV, as a
converted URL or TTS prompt would be) into a PCMU call; the test kit's peer taps what it hears
at 8 kHz. The tone must keep its frequency and level and gain no distortion on either clock.
The bridge's clock is a pjsua2 setting only: the memory backend carries no playback audio and
has no bridge (its feeds and taps travel at 16 kHz whatever this says), so these run on sip.
"""

from __future__ import annotations

import wave
from pathlib import Path

import pytest

from tests.backends.tonefit import analyse, tone_wav
from tests.conftest import TEST_SCENARIOS, Harness

pytestmark = pytest.mark.voxpy_backend("sip")

ANSWER = TEST_SCENARIOS / "answer_and_wait.py"
HEARD_FRAMES = 100
"Two seconds of tap frames: the loop seam (one or two low frames) leaves a long steady run."


async def tone_through_a_call(
    voxpy_harness: Harness, tmp_path: Path, clock: int, hz: float, quality: int = 8
) -> dict[str, float]:
    config = {
        "media.cache_dir": str(tmp_path / "cache"),
        "media.clock_rate": clock,
        "media.resample_quality": quality,
        "sip.codecs": ["PCMU/8000"],
    }
    h = await voxpy_harness(ANSWER, config=config)
    assert h.engine.backend.inner.options.clock_rate == clock  # type: ignore[attr-defined]
    call = await h.dial()
    await call.wait_answered()
    leg = (await h.wait_event("Call.Connected", call)).call
    leg.start_playback(str(tone_wav(tmp_path / "tone.wav", hz, -10.0)), loop=True)
    await h.wait_event("Call.PlaybackStarted", call)
    (prepared,) = (tmp_path / "cache" / "media" / "wav").glob("*.wav")
    with wave.open(str(prepared), "rb") as wav:
        assert wav.getframerate() == clock  # the player feeds the bridge at its own rate
    call.listen(8000)
    await h.wait_until(
        lambda: len(call.heard_pcm()) >= HEARD_FRAMES * 320, 10, "2 s of the tone", call
    )
    return analyse(call.heard_pcm(), 8000)


@pytest.mark.parametrize("clock", [8000, 16000])
@pytest.mark.parametrize("hz", [300.0, 1000.0, 3000.0])
async def test_a_tone_keeps_its_pitch_level_and_purity(
    voxpy_harness: Harness, tmp_path: Path, clock: int, hz: float
) -> None:
    """Measured: -10.0 to -10.06 dBFS and THD+N -40.8 (300 Hz), -43.3 (1 kHz), -43.5 dB
    (3 kHz), the same on both clocks to 0.01 dB: G.711's own noise is all there is."""
    tone = await tone_through_a_call(voxpy_harness, tmp_path, clock, hz)
    assert abs(tone["hz"] - hz) < 5, tone
    assert abs(tone["dbfs"] + 10.0) < 0.5, tone
    assert tone["thdn_db"] < -35, tone


async def test_the_small_filter_dulls_a_16k_bridge(voxpy_harness: Harness, tmp_path: Path) -> None:
    """Why resample_quality stays 8 by default: quality 4 took 2.5 dB off 3 kHz (measured
    -12.6 dBFS) where quality 8 and the 8 kHz bridge were flat."""
    tone = await tone_through_a_call(voxpy_harness, tmp_path, 16000, 3000.0, quality=4)
    assert -14.0 < tone["dbfs"] < -11.5, tone


async def test_a_prompt_is_said_on_an_8k_bridge(voxpy_harness: Harness, tmp_path: Path) -> None:
    config = {"media.cache_dir": str(tmp_path / "cache"), "sip.codecs": ["PCMU/8000"]}
    h = await voxpy_harness(ANSWER, config=config)  # auto: PCMU only -> 8 kHz
    assert h.engine.backend.inner.options.clock_rate == 8000  # type: ignore[attr-defined]
    call = await h.dial()
    await call.wait_answered()
    leg = (await h.wait_event("Call.Connected", call)).call
    call.listen(8000)
    leg.say("Your ticket number is four two seven.")
    finished = await h.wait_event("Call.PlaybackFinished", call, timeout=15)
    assert finished.error is None
    assert await call.audio_seconds() > 1.0  # speech, not silence, reached the caller
