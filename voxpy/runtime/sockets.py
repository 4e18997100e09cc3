"""The WebSockets of one session: opened by the scenario or accepted from the HTTP API, kept
until they close, and closed (1001) when the session ends, before Terminated."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

from structlog.typing import FilteringBoundLogger

from voxpy.runtime.dispatch import ErrorHook, Scope, Track
from voxpy.runtime.websocket import SocketHost, WebSocket
from voxpy.runtime.ws_events import build_websocket_event


class Sockets:
    """Opens, adopts and finally closes a session's sockets."""

    def __init__(
        self,
        *,
        log: FilteringBoundLogger,
        scope: Scope,
        on_error: ErrorHook,
        track: Track,
        observe: Callable[[Any], None],
    ) -> None:
        self._host = SocketHost(
            log=log,
            scope=scope,
            on_error=on_error,
            track=track,
            build_event=build_websocket_event,
            observe=observe,
            closed=self.forget,
        )
        self._open: set[WebSocket] = set()

    def forget(self, ws: WebSocket) -> None:
        """``SocketHost.closed``: the socket fired CLOSE."""
        self._open.discard(ws)

    def connect(
        self,
        url: str,
        *,
        protocols: list[str] | None,
        headers: Mapping[str, str] | None,
        dialect: str,
    ) -> WebSocket:
        ws = WebSocket.connect(
            self._host, url, protocols=protocols, headers=headers, dialect=dialect
        )
        self._open.add(ws)
        return ws

    def adopt(self, transport: Any, path: str) -> WebSocket:
        ws = WebSocket.adopt(self._host, transport, path)
        self._open.add(ws)
        return ws

    async def close_all(self) -> None:
        if self._open:
            await asyncio.gather(*(ws.shutdown("session ended") for ws in list(self._open)))
