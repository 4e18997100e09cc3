"""One media feature per dialled number, for the runtime media tests."""

from voxpy import AppEvents, CallEvents, VoxEngine

KNOWN = "One two three four five six seven eight nine ten."


async def say_known(e):
    await e.call.say(KNOWN)


def play_url(e):
    e.call.add_event_listener(CallEvents.PlaybackFinished, after_url)
    e.call.start_playback(VoxEngine.custom_data())


def after_url(e):
    if e.source is not None:  # the URL's playback ended; the call goes on either way
        e.call.say("Failed." if e.error else "Done.")


def record_stereo(e):
    e.call.record(stereo=True)


def send_digits(e):
    e.call.send_digits("12w3")


async def replace(e):
    first = e.call.start_playback(VoxEngine.custom_data(), loop=True)
    VoxEngine.set_timeout(lambda: e.call.say("Replaced."), 0.5)
    e.call.custom_data({"first": await first})


def too_long(e):
    e.call.say("word " * 400)


CONNECTED = {
    "say": say_known,
    "url": play_url,
    "record": record_stereo,
    "digits": send_digits,
    "replace": replace,
    "long": too_long,
}


def on_alerting(e):
    call = e.call
    call.handle_tones(True)
    if e.destination == "early":  # announcement before answering, then answer
        call.start_early_media()
        call.say(KNOWN)
        call.add_event_listener(CallEvents.PlaybackFinished, lambda ev: ev.call.answer())
        return
    if e.destination in CONNECTED:
        call.add_event_listener(CallEvents.Connected, CONNECTED[e.destination])
    call.answer()


VoxEngine.add_event_listener(AppEvents.CallAlerting, on_alerting)
