"""Signals for a call of a terminating session still reach the scenario (issue 11)."""

from __future__ import annotations

from tests.conftest import TEST_SCENARIOS, Harness


async def test_record_stopped_after_terminate_from_disconnected(
    voxpy_harness: Harness,
) -> None:
    h = await voxpy_harness(TEST_SCENARIOS / "record_then_terminate.py")
    call = await h.dial()
    started = await h.wait_event("Call.RecordStarted", call, timeout=10)
    await h.advance(1)
    call.hangup()
    stopped = await h.wait_event("Call.RecordStopped", call, timeout=10)
    assert stopped.url == started.url
    await h.wait_until(lambda: "Application.Terminated" in h.session_events(), 10, "session end")
    names = [str(e.name) for _, e in h.recorder.log if str(e.name) != "Call.StateChanged"]
    assert names.index("Call.RecordStopped") < names.index("Application.Terminated")
