"""Answer, say a greeting and wait for it to finish, gather a digit, say it back, hang up."""

from voxpy import AppEvents, CallEvents, VoxEngine


async def on_connected(e):
    call = e.call
    finished = await call.say("Hello from voxpy. Press a key.")
    call.custom_data({"greeting_error": finished.error if finished else "stopped"})
    digits = await call.gather(max_digits=1, timeout=5)
    await call.say(f"You pressed {digits or 'nothing'}.")
    call.hangup()


def on_alerting(e):
    e.call.handle_tones(True)
    e.call.add_event_listener(CallEvents.Connected, on_connected)
    e.call.answer()


VoxEngine.add_event_listener(AppEvents.CallAlerting, on_alerting)
