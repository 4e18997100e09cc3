"""Answer calls and keep them up; answer HTTP requests sent to the session (multi-host tests)."""

from voxpy import AppEvents, VoxEngine


async def on_alerting(e):
    e.call.answer()


async def on_request(e):
    return {"method": e.method, "path": e.path, "body": e.body, "data": VoxEngine.custom_data()}


VoxEngine.add_event_listener(AppEvents.CallAlerting, on_alerting)
VoxEngine.add_event_listener(AppEvents.HttpRequest, on_request)
