"""Answer every call and hang up as soon as it is connected."""

from voxpy import AppEvents, CallEvents, VoxEngine


def on_alerting(e):
    e.call.add_event_listener(CallEvents.Connected, lambda ev: ev.call.hangup())
    e.call.answer()


VoxEngine.add_event_listener(AppEvents.CallAlerting, on_alerting)
