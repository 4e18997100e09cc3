"""Opens a WebSocket to the URL in custom data, greets the bot, forwards what it says."""

from voxpy import AppEvents, VoxEngine, WebSocketEvents


def on_started(e):
    ws = VoxEngine.create_websocket(e.custom_data, dialect="twilio")
    ws.add_event_listener(WebSocketEvents.OPEN, lambda _e: ws.send("hello bot"))


VoxEngine.add_event_listener(AppEvents.Started, on_started)
