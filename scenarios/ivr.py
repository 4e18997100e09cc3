"""An IVR menu: 1 connects you to sales, 2 takes a voice message, anything else repeats the
menu (twice at most), then the call ends.

Sales is the SIP URI given as custom data (``voxpy run scenarios/ivr.py --custom-data
sip:sales@10.0.0.5``); while it rings the caller hears a ringback tone.

The caller may hang up at any step: a prompt or gather that the hangup cut short returns (it
does not raise), so each ``await`` is followed by ``if not call.live: return``.
"""

from voxpy import AppEvents, CallEvents, VoxEngine

MENU = "Welcome to voxpy. Press 1 for sales. Press 2 to leave a message."
REPEATS = 2


async def menu(e):
    call = e.call
    for attempt in range(1 + REPEATS):
        if not call.live:  # also on entry: the caller may be gone before this handler runs
            return
        await call.say(MENU)
        if not call.live:
            return
        choice = await call.gather(max_digits=1, timeout=5)
        if not call.live:
            return
        if choice == "1":
            await sales(call)
            return
        if choice == "2":
            await voicemail(call)
            return
        if attempt < REPEATS:
            await call.say("Sorry, that is not an option.")
    await call.say("Goodbye.")
    if call.live:
        call.hangup()


async def sales(call):
    destination = VoxEngine.custom_data()
    if not destination:
        await call.say("Sales is not available. Goodbye.")
        if call.live:
            call.hangup()
        return
    await call.say("Connecting you to sales.")
    if not call.live:
        return
    call.play_progress_tone("US")
    agent = VoxEngine.call_sip(destination, callerid=call.callerid())
    VoxEngine.easy_process(call, agent)


async def voicemail(call):
    await call.say("Please leave a message after the tone, then press pound.")
    if not call.live:
        return
    await call.start_playback("tone:beep")
    if not call.live:
        return
    call.add_event_listener(CallEvents.RecordStopped, thank_and_hang_up)
    call.record(name_prefix="ivr-")
    await call.gather(max_digits=1, timeout=60, finish_on="#")
    if call.live:  # else the recording stops with the call
        call.stop_recording()


async def thank_and_hang_up(e):
    if e.call.live:  # the message is saved (RecordStopped), the caller still listens
        await e.call.say("Thank you. Goodbye.")
        if e.call.live:
            e.call.hangup()


def on_alerting(e):
    e.call.add_event_listener(CallEvents.Connected, menu)
    e.call.answer()


VoxEngine.add_event_listener(AppEvents.CallAlerting, on_alerting)
