"""Answer calls and keep them up; answer HTTP requests and echo WebSocket messages sent to
the session (multi-host tests)."""

from voxpy import AppEvents, VoxEngine, WebSocketEvents


async def on_alerting(e):
    e.call.answer()


async def on_request(e):
    return {"method": e.method, "path": e.path, "body": e.body, "data": VoxEngine.custom_data()}


def on_socket(e):
    ws = e.websocket
    ws.add_event_listener(WebSocketEvents.MESSAGE, lambda m: ws.send("echo:" + m.text))


VoxEngine.add_event_listener(AppEvents.CallAlerting, on_alerting)
VoxEngine.add_event_listener(AppEvents.WebSocket, on_socket)
VoxEngine.add_event_listener(AppEvents.HttpRequest, on_request)
