"""Call the number in custom data; a person hears a greeting, a voicemail gets the message
after its beep."""

from voxpy import AppEvents, CallEvents, VoxEngine

MESSAGE = "Hi, this is Acme. Your order has shipped. Goodbye."


async def on_result(e):
    if e.audio_type == "voicemail":
        e.call.enable_beep_detection(timeout=30)  # the message goes after the beep
    elif e.audio_type == "human":
        await e.call.say("Hi! Your order has shipped.")
        e.call.hangup()
    else:  # unknown: no decision in time
        e.call.hangup()


async def on_beep(e):
    await e.call.say(MESSAGE)
    e.call.hangup()


def on_started(e):
    call = VoxEngine.call_sip(VoxEngine.custom_data(), amd=True)
    call.add_event_listener(CallEvents.AudioIdentificationResult, on_result)
    call.add_event_listener(CallEvents.BeepDetectionComplete, on_beep)
    call.add_event_listener(CallEvents.BeepDetectionError, lambda e: e.call.hangup())
    call.add_event_listener(CallEvents.Disconnected, lambda e: VoxEngine.terminate())


VoxEngine.add_event_listener(AppEvents.Started, on_started)
