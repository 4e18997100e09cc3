"""For the web console's tests: a session started over the API waits (until DELETE); a call
is answered, recorded while a greeting plays, and hung up; the session ends with it."""

from voxpy import AppEvents, CallEvents, VoxEngine


async def on_connected(e):
    e.call.record()
    await e.call.say("Hello from the voxpy console. This call is recorded.")
    e.call.hangup()


def on_alerting(e):
    e.call.add_event_listener(CallEvents.Connected, on_connected)
    e.call.add_event_listener(CallEvents.Disconnected, lambda ev: VoxEngine.terminate())
    e.call.answer()


VoxEngine.add_event_listener(AppEvents.CallAlerting, on_alerting)
