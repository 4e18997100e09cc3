"""Call-flow features, one per dialled number, for tests/runtime/test_call_flow.py."""

from voxpy import AppEvents, CallEvents, VoxEngine

AGENT = "sip:agent@example.com"
PROMPT = "Please listen carefully, as our menu options have changed. " * 2


def forward(call, **kwargs):
    agent = VoxEngine.call_sip(AGENT, callerid=call.callerid())
    call.custom_data(VoxEngine.easy_process(call, agent, **kwargs))  # the test awaits it


def take_message(failed):
    caller = failed.call.custom_data()  # the outbound leg carries its caller
    caller.once(CallEvents.Connected, lambda e: e.call.say("Please leave a message."))
    caller.answer()


def forward_or_message(call):
    agent = VoxEngine.call_sip(AGENT)
    agent.custom_data(call)
    call.custom_data(VoxEngine.easy_process(call, agent, on_failed=take_message))


def hold_music_then_forward(e):
    e.call.play_progress_tone("US")
    forward(e.call)


async def menu(e, barge_in):
    call = e.call
    prompt = call.say(PROMPT)
    digits = await call.gather(max_digits=2, timeout=3, barge_in=barge_in)
    played = "cut" if await prompt is None else "played"
    await call.say(f"got {digits or 'nothing'} {played}")
    call.hangup()


def on_alerting(e):
    call, what = e.call, e.destination
    if what == "forward":
        forward(call)
    elif what == "voicemail":
        forward_or_message(call)
    elif what == "music":
        call.once(CallEvents.Connected, hold_music_then_forward)
        call.answer()
    elif what == "redirect":
        call.reject(302, contact=e.headers["X-Target"])
    elif what in ("barge", "nobarge"):
        call.once(CallEvents.Connected, lambda ev: menu(ev, barge_in=what == "barge"))
        call.answer()


def on_started(e):
    if e.custom_data:  # an outbound session: dial with a no-answer timeout of that many s
        VoxEngine.call_sip(AGENT, timeout=float(e.custom_data))


VoxEngine.add_event_listener(AppEvents.Started, on_started)
VoxEngine.add_event_listener(AppEvents.CallAlerting, on_alerting)
