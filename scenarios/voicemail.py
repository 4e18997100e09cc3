"""Voicemail: greet the caller, beep, record a message (MP3) until they press # or hang up, or
for at most two minutes, thank them once the message is saved, then end the session once the
call is over.

The caller may hang up at any moment, even before an async handler starts: each handler
begins with ``if not call.live``, and so does what follows each ``await`` (a prompt or gather
that the hangup cut short returns instead of raising).
"""

import structlog

from voxpy import AppEvents, CallEvents, VoxEngine

log = structlog.get_logger("scenario.voicemail")
MAX_MESSAGE_SECONDS = 120


async def on_connected(e):
    call = e.call
    if not call.live:  # the caller may be gone before this handler runs
        return
    await call.say("You have reached voxpy. Leave a message after the tone and press pound.")
    if not call.live:
        return
    await call.start_playback("tone:beep")
    if not call.live:
        return
    call.record(name_prefix="voicemail-")
    await call.gather(max_digits=1, timeout=MAX_MESSAGE_SECONDS, finish_on="#")
    if call.live:  # else the recording stops with the call
        call.stop_recording()


async def on_stopped(e):
    log.info("voicemail saved", url=e.url, duration=round(e.duration, 1))
    if e.call.live:  # the caller pressed # or the time ran out: the message is saved
        await e.call.say("Thank you. Goodbye.")
        if e.call.live:
            e.call.hangup()


def on_alerting(e):
    e.call.add_event_listener(CallEvents.Connected, on_connected)
    e.call.add_event_listener(CallEvents.RecordStopped, on_stopped)
    # The session ends with the call; a recording still closing is waited for (RecordStopped
    # still fires), so the goodbye is never cut off.
    e.call.add_event_listener(CallEvents.Disconnected, lambda ev: VoxEngine.terminate())
    e.call.answer()


VoxEngine.add_event_listener(AppEvents.CallAlerting, on_alerting)
