"""Forward each call to an agent (the custom-data SIP URI); if the agent is busy, fails or
does not answer within 20 seconds, the caller leaves a voice message instead.

    voxpy run scenarios/agent_or_voicemail.py --custom-data sip:agent@10.0.0.7

While the agent's phone rings the caller hears it ring (or the agent's own early media);
``on_failed`` keeps the caller for the scenario instead of hanging up on them.
"""

from voxpy import AppEvents, CallEvents, VoxEngine

AGENT_TIMEOUT = 20


def on_alerting(e):
    caller = e.call
    agent = VoxEngine.call_sip(VoxEngine.custom_data(), callerid=e.callerid, timeout=AGENT_TIMEOUT)
    VoxEngine.easy_process(caller, agent, on_failed=lambda failed: take_message(caller))


def take_message(caller):
    caller.once(CallEvents.Connected, record_message)
    caller.answer()


async def record_message(e):
    call = e.call
    if not call.live:  # the caller may hang up at any step, even before this handler runs
        return
    await call.say("Nobody can take your call. Please leave a message after the tone.")
    if not call.live:
        return
    await call.start_playback("tone:beep")
    if call.live:
        call.record(name_prefix="voicemail-")  # the recording ends when the caller hangs up


VoxEngine.add_event_listener(AppEvents.CallAlerting, on_alerting)
