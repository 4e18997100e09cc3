"""Answers; a WebSocket opened to the session (the control API) gets the caller's audio, in
the VoxEngine dialect, and plays what it sends into the call."""

from voxpy import AppEvents, VoxEngine

calls = []


def on_alerting(e):
    calls.append(e.call)
    e.call.answer()


def on_socket(e):
    call = calls[-1]
    call.send_media_to(e.websocket, encoding="PCM16", tag="caller")
    e.websocket.send_media_to(call)


VoxEngine.add_event_listener(AppEvents.CallAlerting, on_alerting)
VoxEngine.add_event_listener(AppEvents.WebSocket, on_socket)
