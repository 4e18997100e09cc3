"""A real WebSocket bot server for the WebSocket tests (aiohttp on 127.0.0.1, port 0), and a
host for sockets outside a session (events recorded, handler failures collected)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import structlog
from aiohttp import web

from voxpy.core.events import WebSocketEvents
from voxpy.runtime.websocket import SocketHost, WebSocket
from voxpy.runtime.ws_events import build_websocket_event

Behaviour = Callable[["Bot", web.WebSocketResponse], Awaitable[None]]


async def reads(bot: Bot, ws: web.WebSocketResponse) -> None:
    """Read everything into ``bot.received`` until the client closes."""
    async for msg in ws:
        await bot.received.put(msg.data)


async def never_reads(bot: Bot, ws: web.WebSocketResponse) -> None:
    await bot.stop.wait()


@dataclass
class Bot:
    """The server side: the latest socket, what it received, how it behaves."""

    behaviour: Behaviour = reads
    received: asyncio.Queue[Any] = field(default_factory=asyncio.Queue)
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    refuse: int | None = None
    ws: web.WebSocketResponse | None = None
    request: web.Request | None = None
    url: str = ""

    async def handler(self, request: web.Request) -> web.StreamResponse:
        if self.refuse is not None:
            return web.Response(status=self.refuse, text="go away")
        ws = web.WebSocketResponse(protocols=("bot.v1",), max_msg_size=1 << 22)
        await ws.prepare(request)
        self.ws, self.request = ws, request
        self.connected.set()
        await self.behaviour(self, ws)
        return ws

    async def next_json(self, timeout: float = 5.0) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(await asyncio.wait_for(self.received.get(), timeout))
        return data

    async def send(self, message: dict[str, Any] | str) -> None:
        await self.connected.wait()
        assert self.ws is not None
        await self.ws.send_str(message if isinstance(message, str) else json.dumps(message))


@contextlib.asynccontextmanager
async def bot_server(bot: Bot) -> AsyncIterator[Bot]:
    app = web.Application()
    app.router.add_get("/bot", bot.handler)
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=2)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    bot.url = f"ws://{host}:{port}/bot"
    try:
        yield bot
    finally:
        bot.stop.set()
        if bot.ws is not None and not bot.ws.closed:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(bot.ws.close(), 2)
        await runner.cleanup()


@dataclass
class Recorder:
    """Records what a socket fires; a test waits for events by name."""

    events: list[Any] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def host(self) -> SocketHost:
        return SocketHost(
            log=structlog.get_logger("voxpy.test"),
            scope=contextlib.nullcontext,
            on_error=lambda exc, event: self.errors.append(exc),
            track=lambda task, event: None,
            build_event=build_websocket_event,
            observe=self._observe,
            closed=lambda ws: None,
        )

    def _observe(self, event: Any) -> None:
        self.events.append(event)
        self.changed.set()

    def names(self) -> list[str]:
        return [str(e.name) for e in self.events]

    def of(self, name: WebSocketEvents) -> list[Any]:
        return [e for e in self.events if e.name == name]

    async def wait(self, name: WebSocketEvents, count: int = 1, timeout: float = 5.0) -> Any:
        async def until() -> None:
            while len(self.of(name)) < count:
                self.changed.clear()
                await self.changed.wait()

        await asyncio.wait_for(until(), timeout)
        return self.of(name)[count - 1]

    async def wait_for(self, done: Callable[[], bool], timeout: float = 5.0) -> None:
        async def until() -> None:
            while not done():
                self.changed.clear()
                await self.changed.wait()

        await asyncio.wait_for(until(), timeout)

    def connect(self, url: str, **kwargs: Any) -> WebSocket:
        return WebSocket.connect(self.host(), url, **kwargs)
