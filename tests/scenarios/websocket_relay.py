"""Takes WebSockets opened to the session (through the public API too): echoes their texts,
closes with 4001 when told "close", and answers HttpRequest with what it saw."""

from voxpy import AppEvents, VoxEngine, WebSocketEvents

seen = {"sockets": 0, "headers": [], "messages": [], "closes": []}


def on_socket(e):
    ws = e.websocket
    seen["sockets"] += 1
    seen["headers"].append(e.headers.get("X-Bot"))

    def on_message(m):
        seen["messages"].append(m.text)
        if m.text == "close":
            ws.close(4001, "asked to close")
        else:
            ws.send("echo:" + m.text)

    ws.add_event_listener(WebSocketEvents.MESSAGE, on_message)
    ws.add_event_listener(
        WebSocketEvents.CLOSE, lambda c: seen["closes"].append([c.code, c.reason])
    )


def on_request(e):
    return seen


VoxEngine.add_event_listener(AppEvents.WebSocket, on_socket)
VoxEngine.add_event_listener(AppEvents.HttpRequest, on_request)
