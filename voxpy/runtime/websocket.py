"""``WebSocket``: VoxEngine's WebSocket unit over aiohttp: a client (``create_websocket``) or a
socket a client opened to the session (``AppEvents.WebSocket``).

One task connects (client) and reads; a writer task drains a bounded
:class:`~voxpy.core.wsmedia.SendQueue`. Events go to listeners through an
:class:`~voxpy.runtime.dispatch.Emitter` (session scope, failures reported); they are fired by
name (``SocketHost.build_event``), as the event classes name this class. Nothing the network
does raises: no connection, TLS, a refused handshake, a server close, a too big or binary
frame become ERROR and/or CLOSE with a reason. Bounds: an incoming message is at most
:data:`MAX_MESSAGE_BYTES` (aiohttp closes with 1009); the scenario's texts are never dropped
but at most :data:`MAX_TEXT_BACKLOG` wait (then ``send`` raises); a stream's media is dropped
oldest first past the queue's bound; aiohttp's writer stops at the transport's high-water mark.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp
from aiohttp import web
from structlog.typing import FilteringBoundLogger

from voxpy.core.events import AppEvents, CallEvents, WebSocketEvents
from voxpy.core.wsmedia import DIALECTS, Outgoing, SendQueue
from voxpy.errors import InvalidArgumentError, InvalidStateError
from voxpy.runtime import ws_link
from voxpy.runtime.dispatch import Emitter, ErrorHook, Track
from voxpy.runtime.scope import engine_io_context
from voxpy.runtime.ws_link import ABNORMAL, CLOSE_TIMEOUT, Link, Transport

MAX_MESSAGE_BYTES = 1 << 20
"largest text frame either way: a 20 ms media message is under 1 kB, JSON for a bot is small"
MAX_TEXT_BACKLOG = 128
"the scenario's text messages waiting unsent; the send queue keeps room for a stream's control"
GOING_AWAY = 1001


@dataclass(frozen=True, slots=True, kw_only=True)
class SocketHost:
    """What a socket needs from the session that owns it (built once per session)."""

    log: FilteringBoundLogger
    scope: Callable[[], AbstractContextManager[None]]
    on_error: ErrorHook
    track: Track
    build_event: Callable[[WebSocketEvents, Any, dict[str, Any]], Any]
    observe: Callable[[Any], None]
    "every event, before its handlers run"
    closed: Callable[[WebSocket], None]
    "the socket is closed (CLOSE fired): the session forgets it"


class MediaSink(Protocol):
    """The one media stream riding a socket (:mod:`voxpy.runtime.wsstream`)."""

    def opened(self) -> None: ...
    def received(self, text: str) -> None: ...
    def closed(self) -> None: ...
    def clear(self, tag: str | None = None) -> None: ...


class MediaTarget(Protocol):
    """What ``ws.send_media_to`` plays into: a Call. Typed here, so that this module never
    imports the Call (the Call sits above the socket and drives the stream)."""

    def receive_media_from(self, ws: WebSocket) -> None: ...
    def stop_receiving_media_from(self, ws: WebSocket) -> None: ...


class WebSocket:
    """One WebSocket; build it with :meth:`connect` or :meth:`adopt` (the session does)."""

    def __init__(self, host: SocketHost, url: str, dialect: str) -> None:
        if dialect not in DIALECTS:
            known = ", ".join(sorted(DIALECTS))
            raise InvalidArgumentError(f"unknown dialect {dialect!r} (known: {known})")
        self.url = url
        self.dialect = dialect
        "the media stream protocol ``call.send_media_to(ws)`` will speak"
        self.log = host.log.bind(websocket=url)
        self.queue = SendQueue(max_control=2 * MAX_TEXT_BACKLOG)
        self._host = host
        self._events = Emitter(
            host.scope,
            host.on_error,
            host.track,
            accepts=WebSocketEvents,
            refuses=(CallEvents, AppEvents),
        )
        self._state = "CONNECTING"
        self._close_code, self._close_reason = 1000, ""
        self._wake = asyncio.Event()
        self._link: Link | None = None
        self._sink: MediaSink | None = None
        self._task: asyncio.Task[Any] | None = None
        self._adopted: web.WebSocketResponse | None = None
        self._connecting: asyncio.Future[Any] | None = None
        self.done = asyncio.Event()
        "set once CLOSE has fired"

    @classmethod
    def connect(
        cls,
        host: SocketHost,
        url: str,
        *,
        protocols: Sequence[str] | None = None,
        headers: Mapping[str, str] | None = None,
        dialect: str = "voxengine",
    ) -> WebSocket:
        """A client socket to ``url`` (``ws://`` or ``wss://``), connecting in a task."""
        if not isinstance(url, str) or not url.startswith(("ws://", "wss://")):
            raise InvalidArgumentError(f"a WebSocket URL starts with ws:// or wss://, got {url!r}")
        sock = cls(host, url, dialect)
        opening = ws_link.open_client(
            url, list(protocols or ()), dict(headers or {}), MAX_MESSAGE_BYTES
        )
        sock._task = asyncio.get_running_loop().create_task(
            sock._guarded(sock._run_client(opening)), context=engine_io_context()
        )
        return sock

    @classmethod
    def adopt(cls, host: SocketHost, transport: web.WebSocketResponse, url: str) -> WebSocket:
        """A socket a client opened to us, already open; call :meth:`serve` to run it."""
        sock = cls(host, url, "voxengine")
        sock._state = "OPEN"
        sock._adopted = transport
        return sock

    async def serve(self) -> None:
        """Run an adopted socket until it is closed (the HTTP handler awaits this)."""
        self._task = asyncio.current_task()
        if self._adopted is None:
            raise InvalidStateError("serve() is for a socket made by adopt()")
        await self._guarded(self._run(self._adopted))

    # -- VoxEngine API -----------------------------------------------------------------------

    @property
    def ready_state(self) -> str:
        """CONNECTING, OPEN, CLOSING or CLOSED."""
        return self._state

    def add_event_listener(self, event: WebSocketEvents, handler: Callable[..., Any]) -> None:
        self._events.listen(event, handler)

    def remove_event_listener(
        self, event: WebSocketEvents, handler: Callable[..., Any] | None = None
    ) -> None:
        self._events.remove_event_listener(event, handler)

    def send(self, text: str) -> None:
        """Send a text message (queued until OPEN). Raises when the socket is closing or
        closed, for a message over the size bound, or when :data:`MAX_TEXT_BACKLOG`
        messages wait unsent (the server is not reading); nothing is queued then."""
        if not isinstance(text, str):
            raise InvalidArgumentError(f"send() takes text, got {type(text).__name__}")
        # aiohttp refuses a received message of exactly its limit (3.14: "size 1048576
        # exceeds limit 1048576"), so the largest that every voxpy peer takes is one less.
        if len(text.encode("utf-8", "surrogatepass")) >= MAX_MESSAGE_BYTES:
            raise InvalidArgumentError(f"a message is under {MAX_MESSAGE_BYTES} bytes")
        if self._state in ("CLOSING", "CLOSED"):
            raise InvalidStateError(f"cannot send on a WebSocket that is {self._state}")
        if len(self.queue) - self.queue.media_queued >= MAX_TEXT_BACKLOG:
            raise InvalidStateError(
                f"{MAX_TEXT_BACKLOG} messages are waiting to be sent: the server is not reading"
            )
        self.queue.push(Outgoing(text=text))
        self._wake.set()

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Close after what is queued went out (at most :data:`CLOSE_TIMEOUT` s); CLOSE fires
        then. Closing a closing or closed socket does nothing."""
        if code != 1000 and not 3000 <= code <= 4999:
            raise InvalidArgumentError(f"close code must be 1000 or 3000-4999, not {code}")
        if len(str(reason).encode()) > 123:
            raise InvalidArgumentError("a close reason is at most 123 bytes")
        self._begin_close(code, str(reason))

    def send_media_to(self, call: MediaTarget) -> None:
        """Play the audio this socket's stream sends into ``call``: it replaces what played
        there (say, playback, another stream), as every source does."""
        _target("send_media_to", call).receive_media_from(self)

    def stop_media_to(self, call: MediaTarget) -> None:
        _target("stop_media_to", call).stop_receiving_media_from(self)

    def clear_media_buffer(self, tag: str | None = None) -> None:
        """Drop the socket's audio not yet played (the caller hears silence within 100 ms;
        Twilio's ``clear``, pending marks echoed); with ``tag``, only that stream's."""
        if tag is not None and not isinstance(tag, str):
            raise InvalidArgumentError(f"clear_media_buffer: tag must be a str, got {tag!r}")
        if self._sink is not None:
            self._sink.clear(tag)

    # -- the media stream's side -------------------------------------------------------------

    def attach(self, sink: MediaSink) -> None:
        """Let ``sink`` see every text frame and the open/close (one stream per socket)."""
        if self._sink is not None:
            raise InvalidStateError("this WebSocket already carries a media stream")
        if self._state == "CLOSED":
            raise InvalidStateError("the WebSocket is closed")
        self._sink = sink
        if self._state == "OPEN":
            sink.opened()

    def detach(self, sink: MediaSink) -> None:
        if self._sink is sink:
            self._sink = None

    def push(self, messages: Iterable[Outgoing]) -> bool:
        """Queue a stream's messages; True on the socket's first drop (warn then)."""
        if self._state in ("CLOSING", "CLOSED"):
            return False
        first = self.queue.extend(messages)
        self._wake.set()
        return first

    def fire(self, name: WebSocketEvents, **fields: Any) -> None:
        """Fire ``name`` to the listeners (None fields are left out)."""
        event = self._host.build_event(
            name, self, {k: v for k, v in fields.items() if v is not None}
        )
        self._host.observe(event)
        self._events.emit(str(name), event)

    async def shutdown(self, reason: str) -> None:
        """Close with 1001 (the session ends) and wait, at most CLOSE_TIMEOUT, for CLOSE."""
        self._begin_close(GOING_AWAY, reason)
        try:
            await asyncio.wait_for(self.done.wait(), CLOSE_TIMEOUT + 1)
        except TimeoutError:
            if self._task is not None:
                self._task.cancel()
                await asyncio.wait((self._task,))
            if not self.done.is_set():
                self._finish(ABNORMAL, reason, False)

    # -- internals ---------------------------------------------------------------------------

    async def _guarded(self, work: Coroutine[Any, Any, None]) -> None:
        """Run the socket's task; a bug in it is logged and ends the socket, never escapes."""
        try:
            await work
        except asyncio.CancelledError:
            if not self.done.is_set():
                self._finish(ABNORMAL, "closed without a goodbye (timed out)", False)
            raise
        except Exception as exc:  # a bug here must not take the engine down
            self.log.error("websocket_failed", error=repr(exc), exc_info=exc)
            if not self.done.is_set():
                self._finish(ABNORMAL, f"internal error: {exc!r}", False)

    def _begin_close(self, code: int, reason: str) -> None:
        if self._state in ("CLOSING", "CLOSED"):
            return
        if self._state == "CONNECTING" and self._connecting is not None:
            self._connecting.cancel()  # nothing to say goodbye to
        self._state = "CLOSING"
        self._close_code, self._close_reason = code, reason
        if self._link is not None:
            self._link.request_close(code, reason)

    async def _run_client(self, opening: Coroutine[Any, Any, Any]) -> None:
        transport: Transport | None = None
        client: aiohttp.ClientSession | None = None
        if self._state != "CONNECTING":  # closed before the task began
            opening.close()
            self._finish(self._close_code, self._close_reason or "closed while connecting", False)
            return
        self._connecting = asyncio.ensure_future(asyncio.wait_for(opening, ws_link.CONNECT_TIMEOUT))
        try:
            try:
                transport, client = await self._connecting
            except asyncio.CancelledError:
                return self._finish(self._close_code, self._close_reason or "closed", False)
            except Exception as exc:  # noqa: BLE001 - every way of not connecting is an event
                reason = ws_link.why_not(exc, self.url)
                self.log.warning("websocket_connect_failed", reason=reason)
                self.fire(WebSocketEvents.ERROR, error=reason)
                self._finish(ABNORMAL, reason, False)
                return
            self._state = "OPEN" if self._state == "CONNECTING" else self._state
            self.log.info("websocket_open")
            self.fire(WebSocketEvents.OPEN)
            if self._sink is not None:
                self._sink.opened()
            await self._run(transport)
        finally:
            if client is not None:
                await client.close()

    async def _run(self, ws: Transport) -> None:
        self._link = Link(ws, self.queue, self._wake, self._received, self._bad_frame, self.log)
        if self._state == "CLOSING":
            self._link.request_close(self._close_code, self._close_reason)
        ending = await self._link.run()
        if ending.error is not None:
            self._bad_frame(ending.error)
        self._finish(ending.code, ending.reason, ending.clean)

    def _received(self, text: str) -> None:
        self.fire(WebSocketEvents.MESSAGE, text=text)
        if self._sink is not None:
            self._sink.received(text)

    def _bad_frame(self, error: str) -> None:
        self.log.warning("websocket_error", error=error)
        self.fire(WebSocketEvents.ERROR, error=error)

    def _finish(self, code: int, reason: str, clean: bool) -> None:
        self._state = "CLOSED"
        self.queue.clear()
        if self._sink is not None:
            self._sink.closed()
        self.log.info("websocket_closed", code=code, reason=reason, clean=clean)
        self.fire(WebSocketEvents.CLOSE, code=code, reason=reason, was_clean=clean)
        self.done.set()
        self._host.closed(self)


def _target(method: str, call: object) -> MediaTarget:
    if not callable(getattr(call, "receive_media_from", None)):
        raise InvalidArgumentError(f"{method} takes a Call, got {type(call).__name__}")
    return call  # type: ignore[return-value]
