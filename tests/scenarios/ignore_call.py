"""Never answer: the engine drops the call after the no-answer timeout."""

from voxpy import AppEvents, VoxEngine

VoxEngine.add_event_listener(AppEvents.CallAlerting, lambda e: None)
