"""h.media.register() means the same in both modes (issue 11)."""

from __future__ import annotations

import pytest

from tests.conftest import TEST_SCENARIOS, Harness

LAB = TEST_SCENARIOS / "media_lab.py"
URL = "https://media.invalid/hold-music.mp3"  # never fetched: registered


async def test_registered_url_plays_for_its_duration(voxpy_harness: Harness) -> None:
    h = await voxpy_harness(LAB, custom_data=URL)
    h.media.register(URL, duration=1.5)
    call = await h.dial(to="url")
    started = await h.wait_event("Call.PlaybackStarted", call, timeout=10)
    await call.wait_said("Done.", timeout=10)
    assert started.duration == pytest.approx(1.5, abs=0.05)
    assert call.played == [URL]
    assert h.events(call, texts=True)[:4] == [
        "Call.Connected",
        f"Call.PlaybackReady({URL!r})",
        f"Call.PlaybackStarted({URL!r})",
        f"Call.PlaybackFinished({URL!r})",
    ]


async def test_registered_error_fails_the_playback(voxpy_harness: Harness) -> None:
    h = await voxpy_harness(LAB, custom_data=URL)
    h.media.register(URL, error="cannot fetch URL: 404 Not Found")
    call = await h.dial(to="url")
    finished = await h.wait_event("Call.PlaybackFinished", call, timeout=10)
    assert finished.error == "cannot fetch URL: 404 Not Found"
    await call.wait_said("Failed.", timeout=10)
