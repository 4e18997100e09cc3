"""Refuse every call with 486 Busy Here, telling the caller why in a custom header."""

from voxpy import AppEvents, VoxEngine


def on_alerting(e):
    e.call.reject(486, headers={"X-Reason": "all-agents-busy"})


VoxEngine.add_event_listener(AppEvents.CallAlerting, on_alerting)
