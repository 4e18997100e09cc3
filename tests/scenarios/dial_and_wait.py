"""Dial the custom-data URI and keep the leg up."""

from voxpy import AppEvents, VoxEngine

VoxEngine.add_event_listener(
    AppEvents.Started, lambda e: VoxEngine.call_sip(VoxEngine.custom_data())
)
