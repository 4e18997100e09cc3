"""Answer and keep the call up until the caller hangs up (async handler)."""

from voxpy import AppEvents, VoxEngine


async def on_alerting(e):
    e.call.answer()


VoxEngine.add_event_listener(AppEvents.CallAlerting, on_alerting)
