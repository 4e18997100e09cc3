"""Bench scenario for bench/serve_load.py: answer, say a short prompt, hang up."""

from typing import Any

from voxpy import AppEvents, CallEvents, VoxEngine

PROMPT = "Thank you for calling."


async def on_connected(e: Any) -> None:
    await e.call.say(PROMPT)
    e.call.hangup()


def on_alerting(e: Any) -> None:
    e.call.add_event_listener(CallEvents.Connected, on_connected)
    e.call.answer()


VoxEngine.add_event_listener(AppEvents.CallAlerting, on_alerting)
