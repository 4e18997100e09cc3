"""A dial-in conference: every caller to this worker joins "room-1". Each call is a session
of its own; the sessions share the conference by its name. A session ends when its caller
hangs up (the conference goes on while another session uses it)."""

from voxpy import AppEvents, CallEvents, VoxEngine


def on_alerting(e):
    call = e.call

    def connected(ev):
        room = VoxEngine.create_conference(name="room-1")
        room.add(call, display_name=call.callerid())

    call.add_event_listener(CallEvents.Connected, connected)
    call.add_event_listener(CallEvents.Disconnected, lambda ev: VoxEngine.terminate())
    call.answer()


VoxEngine.add_event_listener(AppEvents.CallAlerting, on_alerting)
