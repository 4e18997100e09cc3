"""A voice bot in Python, no socket: what the caller says plays back to them (an echo),
through call.listen() and call.audio_output()."""

from voxpy import AppEvents, CallEvents, VoxEngine


async def echo(e):
    out = e.call.audio_output(sample_rate=16000)
    async for frame in e.call.listen(sample_rate=16000):
        await out.write(frame)


def on_alerting(e):
    e.call.add_event_listener(CallEvents.Connected, echo)
    e.call.answer()


VoxEngine.add_event_listener(AppEvents.CallAlerting, on_alerting)
