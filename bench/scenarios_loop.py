"""Bench scenario for bench/scale.py: answer and loop a prompt until the caller hangs up."""

import os
from typing import Any

from voxpy import AppEvents, CallEvents, VoxEngine

PROMPT = os.environ.get("VOXPY_BENCH_PROMPT", "")
"The WAV the bench gives both systems (the bare baseline loops the same file)."


def on_connected(e: Any) -> None:
    e.call.start_playback(PROMPT, loop=True)


def on_alerting(e: Any) -> None:
    e.call.add_event_listener(CallEvents.Connected, on_connected)
    e.call.answer()


VoxEngine.add_event_listener(AppEvents.CallAlerting, on_alerting)
