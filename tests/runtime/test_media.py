"""Media through the test kit, on both backends: over SIP the peer really hears (RTP)."""

from __future__ import annotations

import functools
import http.server
import math
import subprocess
import threading
import wave
from array import array
from collections.abc import Iterator
from pathlib import Path

import imageio_ffmpeg
import pytest

from tests.conftest import SCENARIOS, TEST_SCENARIOS, Harness

LAB = TEST_SCENARIOS / "media_lab.py"


def tone_wav(path: Path, seconds: float, freq: float = 440.0, rate: int = 16000) -> Path:
    samples = array(
        "h",
        (int(8000 * math.sin(2 * math.pi * freq * i / rate)) for i in range(int(seconds * rate))),
    )
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
    return path


def decode(mp3: str) -> tuple[int, list[array[int]]]:
    """Channel count and per-channel samples (8 kHz) of an MP3."""
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    probe = subprocess.run(
        [ffmpeg, "-hide_banner", "-i", mp3], capture_output=True, text=True, check=False
    ).stderr
    channels = 2 if "stereo" in probe else 1
    raw = subprocess.run(
        [ffmpeg, "-v", "error", "-i", mp3, "-f", "s16le", "-ar", "8000", "-"],
        capture_output=True,
        check=True,
    ).stdout
    samples = array("h", raw)
    return channels, [samples[c::channels] for c in range(channels)]


def rms(samples: array[int]) -> float:
    return math.sqrt(sum(x * x for x in samples) / max(1, len(samples)))


@pytest.fixture(scope="module")
def media_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A local HTTP server with a 2 s MP3 (made with the bundled ffmpeg); base URL."""
    root = tmp_path_factory.mktemp("www")
    wav = tone_wav(root / "tone.wav", 2.0)
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(wav), str(root / "prompt.mp3")],
        check=True,
    )
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def register(h: object, url: str, duration: float = 2.0, error: str | None = None) -> None:
    """Memory mode knows no network: tell its fake media library what the URL is (over SIP
    the real download runs: registering there would stand a generated tone in for it)."""
    if getattr(h, "backend", None) == "memory":
        h.media.register(url, duration=duration, error=error)  # type: ignore[attr-defined]


class TestSay:
    """say(): the caller hears it for as long as it lasts; over-long text is an error."""

    async def test_caller_hears_the_prompt_for_its_length(self, voxpy_harness: Harness) -> None:
        h = await voxpy_harness(LAB)
        call = await h.dial(to="say")
        started = await h.wait_event("Call.PlaybackStarted", call, timeout=10)
        await h.wait_event("Call.PlaybackFinished", call, timeout=20)
        heard = await call.audio_seconds()
        assert started.duration > 1.0
        assert started.duration * 0.8 <= heard <= started.duration * 1.2
        assert call.said == ["One two three four five six seven eight nine ten."]

    async def test_caller_hangs_up_mid_prompt(self, voxpy_harness: Harness) -> None:
        """The prompt stops with the call: no PlaybackFinished, the awaiting handler resumes."""
        h = await voxpy_harness(LAB)
        call = await h.dial(to="say")
        await h.wait_event("Call.PlaybackStarted", call, timeout=10)
        call.hangup()
        await h.wait_event("Call.Disconnected", call)
        await h.advance(3)
        assert h.events(call) == [
            "Call.Connected",
            "Call.PlaybackReady",
            "Call.PlaybackStarted",
            "Call.Disconnected",
        ]
        assert h.recorder.of("Application.HandlerError") == []

    async def test_over_1500_characters_fails_in_playback_finished(
        self, voxpy_harness: Harness
    ) -> None:
        h = await voxpy_harness(LAB)
        call = await h.dial(to="long")
        finished = await h.wait_event("Call.PlaybackFinished", call)
        assert "1500" in (finished.error or "")
        assert h.events(call) == ["Call.Connected", "Call.PlaybackFinished"]
        assert await call.audio_seconds() == 0.0

    async def test_early_media_is_heard_before_the_answer(self, voxpy_harness: Harness) -> None:
        h = await voxpy_harness(LAB)
        call = await h.dial(to="early")
        await call.wait_progress(183)
        finished = await h.wait_event("Call.PlaybackFinished", call, timeout=20)
        assert finished.error is None
        await call.wait_answered()
        # The scenario answers only once the announcement has finished and plays nothing
        # after: every second heard was heard as early media, before the 200 OK.
        assert await call.audio_seconds() > 1.0
        # Over SIP the peer sees the 200 OK before the engine sees the peer's ACK, which is
        # what connects the engine's leg: wait for it rather than read a list still short.
        await h.wait_event("Call.Connected", call)
        events = h.events(call)
        # AudioStarted (our 183 echoed) and PlaybackReady (a cached prompt is ready at once)
        # may come in either order; the playback starts after both, and before the answer.
        assert set(events[:2]) == {"Call.AudioStarted", "Call.PlaybackReady"}
        assert events[2:4] == ["Call.PlaybackStarted", "Call.PlaybackFinished"]
        assert events.index("Call.Connected") > events.index("Call.PlaybackFinished")


class TestPlayback:
    """start_playback(): URLs, errors, and the one-stream rule."""

    async def test_mp3_url(self, voxpy_harness: Harness, media_server: str) -> None:
        url = f"{media_server}/prompt.mp3"
        h = await voxpy_harness(LAB, custom_data=url)
        register(h, url, duration=2.0)
        call = await h.dial(to="url")
        started = await h.wait_event("Call.PlaybackStarted", call, timeout=10)
        await call.wait_said("Done.", timeout=10)
        assert started.duration == pytest.approx(2.0, abs=0.1)
        assert call.played == [url]
        assert await call.audio_seconds() >= 1.6

    async def test_404_url_fails_and_the_call_goes_on(
        self, voxpy_harness: Harness, media_server: str
    ) -> None:
        url = f"{media_server}/missing.mp3"
        h = await voxpy_harness(LAB, custom_data=url)
        register(h, url, error="cannot fetch URL: 404 Not Found")
        call = await h.dial(to="url")
        finished = await h.wait_event("Call.PlaybackFinished", call, timeout=10)
        assert "404" in (finished.error or "")
        await call.wait_said("Failed.", timeout=10)
        assert call.code is None  # still connected

    async def test_new_playback_replaces_the_old_silently(
        self, voxpy_harness: Harness, tmp_path: Path
    ) -> None:
        loop_wav = str(tone_wav(tmp_path / "loop.wav", 1.0))
        h = await voxpy_harness(LAB, custom_data=loop_wav)
        call = await h.dial(to="replace")
        await call.wait_said("Replaced.", timeout=10)
        await h.wait_event("Call.PlaybackFinished", call, timeout=10)
        finished = h.recorder.of("Call.PlaybackFinished")
        assert [(e.text, e.source) for e in finished] == [("Replaced.", None)]
        engine_call = finished[0].call
        assert engine_call.custom_data() == {"first": None}  # await of the replaced one


class TestDtmf:
    """DTMF both ways."""

    async def test_rfc2833_and_sip_info_reach_tone_received(self, voxpy_harness: Harness) -> None:
        h = await voxpy_harness(LAB)
        call = await h.dial(to="tones")
        await call.wait_answered()
        seen: list[tuple[str, str]] = []
        for digits, method in (("1", "rfc2833"), ("2", "rfc2833"), ("#", "info")):
            want = len(seen) + 1
            call.send_dtmf(digits, method=method)
            await h.wait_until(
                lambda want=want: len(h.recorder.of("Call.ToneReceived")) >= want,
                5,
                f"tone {digits}",
            )
            event = h.recorder.of("Call.ToneReceived")[-1]
            seen.append((event.tone, event.tone_type))
        assert seen == [("1", "TELEPHONE_EVENT"), ("2", "TELEPHONE_EVENT"), ("#", "SIP_INFO")]

    async def test_send_digits_with_a_pause(self, voxpy_harness: Harness) -> None:
        """ "12w3": 1 and 2 at once, 3 half a second later (Twilio's w)."""
        h = await voxpy_harness(LAB)
        call = await h.dial(to="digits")
        await h.wait_until(lambda: call.tones.startswith("1"), 5, "digit 1")
        first = h.engine.clock.now()  # "1" and "2" are sent together; "3" after the w
        await h.wait_until(lambda: call.tones == "123", 5, "digit 3 after the pause")
        assert 0.45 <= h.engine.clock.now() - first < 1.5


class TestRecordingAndBridging:
    """Recordings capture each side on its own channel; bridged legs hear each other."""

    async def test_stereo_recording_puts_the_caller_on_the_right(
        self, voxpy_harness: Harness, voxpy_backend: str, tmp_path: Path
    ) -> None:
        h = await voxpy_harness(LAB, config={"media.recordings_dir": str(tmp_path / "rec")})
        call = await h.dial(to="record")
        await h.wait_event("Call.RecordStarted", call, timeout=10)
        call.play(tone_wav(tmp_path / "caller.wav", 1.5, freq=700))
        await h.advance(2.0)
        call.hangup()
        stopped = await h.wait_event("Call.RecordStopped", call, timeout=10)
        assert stopped.url.endswith(".mp3")
        assert 1.6 <= stopped.duration <= 2.6
        if voxpy_backend == "sip":  # memory mode writes no audio
            channels, (left, right) = decode(stopped.url)
            assert channels == 2
            assert rms(right) > 1000 > rms(left) * 4  # the caller, and only the caller, right
            assert 1.6 <= len(right) / 8000 <= 2.8

    async def test_bridged_legs_hear_each_other(
        self, voxpy_harness: Harness, tmp_path: Path
    ) -> None:
        h = await voxpy_harness(SCENARIOS / "forward.py", custom_data="sip:desk@example.com")
        caller = await h.dial()
        agent = await h.expect_call()
        agent.answer()
        await caller.wait_answered()
        await h.advance(0.5)
        agent.play(tone_wav(tmp_path / "agent.wav", 1.0, freq=500))
        caller.play(tone_wav(tmp_path / "caller.wav", 1.0, freq=900))
        await h.advance(1.5)
        assert await caller.audio_seconds() >= 0.8
        assert await agent.audio_seconds() >= 0.8
