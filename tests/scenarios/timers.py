"""Timers: one fires and ends the session, one is cleared and never fires."""

from voxpy import AppEvents, VoxEngine


def on_started(e):
    cleared = VoxEngine.set_timeout(lambda: VoxEngine.call_sip("sip:never@127.0.0.1"), 0.01)
    VoxEngine.clear_timeout(cleared)
    VoxEngine.set_timeout(lambda: 1 / 0, 0.01)  # a failing timer is reported, nothing breaks
    VoxEngine.set_timeout(VoxEngine.terminate, 0.03)


VoxEngine.add_event_listener(AppEvents.Started, on_started)
