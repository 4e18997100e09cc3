"""Records the call and ends the session as soon as the call is disconnected; the recording's
RecordStopped arrives after that (over SIP the recorder finishes after the call)."""

from voxpy import AppEvents, CallEvents, VoxEngine


def on_alerting(e):
    e.call.add_event_listener(CallEvents.Connected, lambda ev: ev.call.record())
    e.call.add_event_listener(CallEvents.Disconnected, lambda ev: VoxEngine.terminate())
    e.call.answer()


VoxEngine.add_event_listener(AppEvents.CallAlerting, on_alerting)
