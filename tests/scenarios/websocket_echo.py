"""Takes WebSockets opened to the session and echoes their messages."""

from voxpy import AppEvents, VoxEngine, WebSocketEvents


def on_socket(e):
    ws = e.websocket
    ws.add_event_listener(WebSocketEvents.MESSAGE, lambda m: ws.send("echo:" + m.text))


VoxEngine.add_event_listener(AppEvents.WebSocket, on_socket)
