"""A dial-in conference: every caller to this worker joins "room-1". Each call is a session
of its own; the sessions share the conference by its name. A session ends when its caller
hangs up (the conference goes on while another session uses it). Key 1 mutes the caller,
key 2 unmutes it (SIP INFO, so that no in-band tone reaches the others first)."""

from voxpy import AppEvents, CallEvents, VoxEngine


def on_alerting(e):
    call = e.call
    joined = {}

    def connected(ev):
        room = VoxEngine.create_conference(name="room-1")
        joined["endpoint"] = room.add(call, display_name=call.callerid())
        call.handle_tones(True)

    def tone(ev):
        endpoint = joined.get("endpoint")
        if endpoint is not None and ev.tone == "1":
            endpoint.mute()
        elif endpoint is not None and ev.tone == "2":
            endpoint.unmute()

    call.add_event_listener(CallEvents.Connected, connected)
    call.add_event_listener(CallEvents.ToneReceived, tone)
    call.add_event_listener(CallEvents.Disconnected, lambda ev: VoxEngine.terminate())
    call.answer()


VoxEngine.add_event_listener(AppEvents.CallAlerting, on_alerting)
