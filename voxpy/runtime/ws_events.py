"""WebSocket event objects, by name: the socket fires events by name and is handed this
module's :func:`build_websocket_event` by the session, as a Call's parts are handed the call
catalog (the classes name the ``WebSocket``, so the socket module does not import them).

Field names are VoxEngine's payload names in snake_case (``wasClean`` is ``was_clean``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from voxpy.core.events import AppEvents, WebSocketEvents
from voxpy.runtime.events import AppEvent, Event

if TYPE_CHECKING:
    from voxpy.runtime.websocket import WebSocket


@dataclass(frozen=True, slots=True, kw_only=True)
class WebSocketEvent(Event):
    """Base of WebSocket events: ``websocket`` is the socket that fired."""

    websocket: WebSocket


@dataclass(frozen=True, slots=True, kw_only=True)
class WebSocketOpen(WebSocketEvent):
    """The connection is open: ``send`` goes out now (what was sent before waited for this)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class WebSocketClose(WebSocketEvent):
    """The socket is closed, for whatever reason; no event fires after this one.

    ``code``: the close code (1000 normal, 1001 going away - the session ended, 1006 no close
    frame: refused, reset or timed out, 1009 a message over the size bound).
    """

    code: int
    reason: str = ""
    was_clean: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class WebSocketMessage(WebSocketEvent):
    """A text frame from the server (media messages of a stream included)."""

    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class WebSocketError(WebSocketEvent):
    """Something went wrong with the socket; ``error`` says what. CLOSE follows when the
    socket cannot go on (a refused connection); a bad frame leaves it open."""

    error: str


@dataclass(frozen=True, slots=True, kw_only=True)
class MediaStarted(WebSocketEvent):
    """The socket's audio started playing into the call (the first after a second of none)."""

    tag: str | None = None
    encoding: str | None = None
    custom_parameters: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class MediaEnded(WebSocketEvent):
    """A second without the socket's audio after some played; ``media_info["duration"]`` is
    how long it played, in seconds."""

    tag: str | None = None
    media_info: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class IncomingWebSocket(AppEvent):
    """``AppEvents.WebSocket``: a client connected to ``/sessions/{id}/websocket``; the socket
    is open. Add its listeners in the handler: nothing is read from it before that returns."""

    websocket: WebSocket
    path: str = ""
    headers: dict[str, str] = field(default_factory=dict)


WEBSOCKET_EVENTS: Mapping[WebSocketEvents, type[WebSocketEvent]] = {
    WebSocketEvents.OPEN: WebSocketOpen,
    WebSocketEvents.CLOSE: WebSocketClose,
    WebSocketEvents.MESSAGE: WebSocketMessage,
    WebSocketEvents.ERROR: WebSocketError,
    WebSocketEvents.MEDIA_STARTED: MediaStarted,
    WebSocketEvents.MEDIA_ENDED: MediaEnded,
}
if set(WEBSOCKET_EVENTS) != set(WebSocketEvents):  # pragma: no cover - a name without a class
    raise ImportError(
        f"WebSocket events without a class: {set(WebSocketEvents) - set(WEBSOCKET_EVENTS)}"
    )


def build_websocket_event(
    name: WebSocketEvents, websocket: Any, fields: dict[str, Any]
) -> WebSocketEvent:
    """The event object for ``name`` on ``websocket``; a field the class lacks raises TypeError."""
    return WEBSOCKET_EVENTS[name](name=name, websocket=websocket, **fields)


def incoming(
    session_id: str, websocket: Any, path: str, headers: dict[str, str]
) -> IncomingWebSocket:
    """The ``AppEvents.WebSocket`` event for an accepted socket."""
    return IncomingWebSocket(
        name=AppEvents.WebSocket,
        session_id=session_id,
        websocket=websocket,
        path=path,
        headers=headers,
    )


__all__ = [
    "IncomingWebSocket",
    "MediaEnded",
    "MediaStarted",
    "WebSocketClose",
    "WebSocketError",
    "WebSocketEvent",
    "WebSocketMessage",
    "WebSocketOpen",
    "build_websocket_event",
]
