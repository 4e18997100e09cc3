"""Listener API: pyee's on/once, removal, async failures, and the public export list."""

from __future__ import annotations

import asyncio

import voxpy
from tests.conftest import TEST_SCENARIOS, EngineFactory


async def test_on_once_remove_and_async_failure(memory_engine: EngineFactory) -> None:
    """once fires once, on every time, a removed handler never; an async failure is reported."""
    engine, net, rec = await memory_engine(TEST_SCENARIOS / "listeners.py")
    leg = net.dial()
    disconnected = await rec.wait("Call.Disconnected", leg.call_id)
    error = await rec.wait("Application.HandlerError")
    seen = disconnected.call.custom_data()["seen"]
    assert seen == [("once", "CONNECTED"), ("on", "CONNECTED"), ("on", "TERMINATED")]
    assert (error.event, str(error.error)) == ("Call.Connected", "async handler bug")
    assert error.call is disconnected.call
    await asyncio.sleep(0)
    assert leg.history == ["200", "BYE"]


def test_public_names_resolve() -> None:
    """Every name in voxpy.__all__ exists; events are the VoxEngine strings."""
    missing = [name for name in voxpy.__all__ if not hasattr(voxpy, name)]
    assert missing == []
    assert voxpy.CallEvents.Connected == "Call.Connected"
    assert voxpy.AppEvents.CallAlerting == "Application.CallAlerting"
    assert issubclass(voxpy.CapacityError, voxpy.BackendError)
    assert all(
        issubclass(getattr(voxpy, n), voxpy.VoxpyError)
        for n in ("ScenarioError", "InvalidStateError", "BackendError", "MediaError")
    )
