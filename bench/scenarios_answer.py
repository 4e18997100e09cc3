"""Bench scenario: answer every call and keep it up."""

from voxpy import AppEvents, VoxEngine

VoxEngine.add_event_listener(AppEvents.CallAlerting, lambda e: e.call.answer())
