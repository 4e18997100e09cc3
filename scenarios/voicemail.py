"""Voicemail: greet the caller, record a message (MP3) until they press # or hang up, or for
at most two minutes, then end the session."""

import structlog

from voxpy import AppEvents, CallEvents, VoxEngine

log = structlog.get_logger("scenario.voicemail")
MAX_MESSAGE_SECONDS = 120


async def on_connected(e):
    call = e.call
    await call.say("You have reached voxpy. Leave a message after the tone and press pound.")
    call.record(name_prefix="voicemail-")
    await call.gather(max_digits=1, timeout=MAX_MESSAGE_SECONDS, finish_on="#")
    if call.live:
        call.stop_recording()
        await call.say("Thank you. Goodbye.")
        call.hangup()


def on_stopped(e):
    log.info("voicemail saved", url=e.url, duration=round(e.duration, 1))
    VoxEngine.terminate()


def on_alerting(e):
    e.call.add_event_listener(CallEvents.Connected, on_connected)
    e.call.add_event_listener(CallEvents.RecordStopped, on_stopped)
    e.call.answer()


VoxEngine.add_event_listener(AppEvents.CallAlerting, on_alerting)
