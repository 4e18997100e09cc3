"""An IVR menu: 1 connects you to sales, 2 takes a voice message, anything else repeats the
menu (twice at most), then the call ends.

Sales is the SIP URI given as custom data (``voxpy run scenarios/ivr.py --custom-data
sip:sales@10.0.0.5``); while it rings the caller hears a ringback tone.
"""

from voxpy import AppEvents, CallEvents, VoxEngine

MENU = "Welcome to voxpy. Press 1 for sales. Press 2 to leave a message."
REPEATS = 2


async def menu(e):
    call = e.call
    for attempt in range(1 + REPEATS):
        await call.say(MENU)
        choice = await call.gather(max_digits=1, timeout=5)
        if choice == "1":
            await sales(call)
            return
        if choice == "2":
            await voicemail(call)
            return
        if not call.live:
            return
        if attempt < REPEATS:
            await call.say("Sorry, that is not an option.")
    await call.say("Goodbye.")
    call.hangup()


async def sales(call):
    destination = VoxEngine.custom_data()
    if not destination:
        await call.say("Sales is not available. Goodbye.")
        call.hangup()
        return
    await call.say("Connecting you to sales.")
    call.play_progress_tone("US")
    agent = VoxEngine.call_sip(destination, callerid=call.callerid())
    VoxEngine.easy_process(call, agent)


async def voicemail(call):
    await call.say("Please leave a message after the tone, then press pound.")
    call.record(name_prefix="ivr-")
    await call.gather(max_digits=1, timeout=60, finish_on="#")
    call.stop_recording()
    await call.say("Thank you. Goodbye.")
    call.hangup()


def on_alerting(e):
    e.call.add_event_listener(CallEvents.Connected, menu)
    e.call.answer()


VoxEngine.add_event_listener(AppEvents.CallAlerting, on_alerting)
