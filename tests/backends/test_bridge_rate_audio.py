"""What a G.711 call sounds like with the conference bridge at 8 and at 16 kHz (issue 15).

Real pjsua2 over loopback: the engine loops a prompt (a -10 dBFS sine in a 16 kHz WAV, as a
converted URL or TTS prompt would be) into a PCMU call; the test kit's peer taps what it hears
at 8 kHz. The tone must keep its frequency and level and gain no distortion on either clock.
The bridge's clock is a pjsua2 setting only: the memory backend carries no playback audio and
has no bridge (its feeds and taps travel at 16 kHz whatever this says), so these run on sip.
"""

from __future__ import annotations

import re
import subprocess
import wave
from array import array
from pathlib import Path
from typing import Any

import imageio_ffmpeg
import pytest

from tests.backends.test_pjsua2_media import decode_mp3
from tests.backends.tonefit import analyse, tone_wav
from tests.conftest import TEST_SCENARIOS, Harness
from voxpy.testing import ScenarioHarness
from voxpy.testing.peer import PeerCall

pytestmark = pytest.mark.voxpy_backend("sip")

ANSWER = TEST_SCENARIOS / "answer_and_wait.py"
HEARD_FRAMES = 100
"Two seconds of tap frames: the loop seam (one or two low frames) leaves a long steady run."


async def playing(
    voxpy_harness: Harness, tmp_path: Path, clock: int, hz: float, quality: int = 8
) -> tuple[ScenarioHarness, PeerCall, Any]:
    """A PCMU call into a worker whose bridge runs at ``clock``; the engine loops a tone of
    ``hz`` into it and the caller taps it. Returns once 2 s of it were heard."""
    config = {
        "media.cache_dir": str(tmp_path / "cache"),
        "media.recordings_dir": str(tmp_path / "rec"),
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
    return h, call, leg


async def tone_through_a_call(
    voxpy_harness: Harness, tmp_path: Path, clock: int, hz: float, quality: int = 8
) -> dict[str, float]:
    _, call, _ = await playing(voxpy_harness, tmp_path, clock, hz, quality)
    return analyse(call.heard_pcm(), 8000)


@pytest.mark.parametrize(
    ("clock", "hz"),
    [(8000, 300.0), (8000, 1000.0), (8000, 3000.0), (16000, 300.0), (16000, 1000.0),
     (16000, 3000.0), (48000, 1000.0)],
)  # fmt: skip
async def test_a_tone_keeps_its_pitch_level_and_purity(
    voxpy_harness: Harness, tmp_path: Path, clock: int, hz: float
) -> None:
    """Measured: -10.0 to -10.06 dBFS and THD+N -40.8 (300 Hz), -43.3 (1 kHz), -43.5 dB
    (3 kHz), the same on both clocks to 0.01 dB: G.711's own noise is all there is. 48 kHz
    works too (it only costs)."""
    tone = await tone_through_a_call(voxpy_harness, tmp_path, clock, hz)
    assert abs(tone["hz"] - hz) < 5, tone
    assert abs(tone["dbfs"] + 10.0) < 0.5, tone
    assert tone["thdn_db"] < -35, tone


async def test_the_small_filter_dulls_a_16k_bridge(voxpy_harness: Harness, tmp_path: Path) -> None:
    """Why resample_quality stays 8 by default: quality 4 took 2.5 dB off 3 kHz (measured
    -12.6 dBFS) where quality 8 and the 8 kHz bridge were flat."""
    tone = await tone_through_a_call(voxpy_harness, tmp_path, 16000, 3000.0, quality=4)
    assert -14.0 < tone["dbfs"] < -11.5, tone


async def test_an_hd_recording_on_an_8k_bridge(voxpy_harness: Harness, tmp_path: Path) -> None:
    """hd_audio asks 16 kHz of the bridge's recorder port: the bridge resamples to it (the
    file is 16 kHz MP3; its content is telephone band, all a G.711 call has anyway)."""
    h, _call, leg = await playing(voxpy_harness, tmp_path, 8000, 1000.0)
    leg.record(hd_audio=True, stereo=True)
    started = await h.wait_event("Call.RecordStarted", timeout=5)
    heard = len(_call.heard_pcm())
    await h.wait_until(lambda: len(_call.heard_pcm()) >= heard + 50 * 320, 10, "1 s more")
    leg.stop_recording()
    stopped = await h.wait_event("Call.RecordStopped", timeout=10)
    assert stopped.url == started.url
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    probe = subprocess.run([ffmpeg, "-hide_banner", "-i", stopped.url], capture_output=True,
                           text=True, check=False).stderr  # fmt: skip
    assert re.search(r"Audio: mp3.*16000 Hz", probe), probe
    _, sent, _ = decode_mp3(stopped.url)  # left: what the engine sent
    tone = analyse(array("h", sent).tobytes(), 8000)
    assert abs(tone["hz"] - 1000) < 5 and tone["dbfs"] > -16, tone


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
