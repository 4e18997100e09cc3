"""once/on/remove_event_listener and a failing async handler, all on one call."""

from voxpy import AppEvents, CallEvents, VoxEngine

seen = []


def never(e):
    seen.append("removed handler ran")


async def async_broken(e):
    raise RuntimeError("async handler bug")


def on_alerting(e):
    call = e.call
    call.once(CallEvents.StateChanged, lambda ev: seen.append(("once", ev.new_state)))
    call.on(CallEvents.StateChanged, lambda ev: seen.append(("on", ev.new_state)))
    call.add_event_listener(CallEvents.Connected, never)
    call.remove_event_listener(CallEvents.Connected, never)
    call.add_event_listener(CallEvents.Connected, async_broken)
    call.add_event_listener(CallEvents.Connected, lambda ev: ev.call.hangup())
    call.custom_data({"seen": seen})
    call.answer()


VoxEngine.add_event_listener(AppEvents.CallAlerting, on_alerting)
