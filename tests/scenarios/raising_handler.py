"""The first Connected handler raises; the second must still run and hang up."""

from voxpy import AppEvents, CallEvents, VoxEngine


def broken(e):
    raise ZeroDivisionError("scenario bug")


def on_alerting(e):
    e.call.add_event_listener(CallEvents.Connected, broken)
    e.call.add_event_listener(CallEvents.Connected, lambda ev: ev.call.hangup())
    e.call.answer()


VoxEngine.add_event_listener(AppEvents.CallAlerting, on_alerting)
