"""Answers HTTP requests sent to the session; async handler; a path that raises."""

from voxpy import AppEvents, VoxEngine


async def on_request(e):
    if e.path == "/boom":
        raise RuntimeError("bad request handler")
    if e.path == "/ignore":
        return None
    return {
        "method": e.method,
        "path": e.path,
        "body": e.body,
        "session": VoxEngine.custom_data(),
        "tenant": e.headers.get("X-Tenant"),
    }


VoxEngine.add_event_listener(AppEvents.HttpRequest, on_request)
