"""The public API's ``GET /sessions/{id}/websocket``: an incoming WebSocket relayed to the
worker that runs the session.

The public API has checked the bearer token and found the owning worker before this runs.
The worker's socket is opened first, so its refusals (404: the session ended, 501: the
scenario has no AppEvents.WebSocket handler) reach the client as HTTP answers before any
upgrade, and a worker that does not answer is a 502. Then the client's socket is accepted and
text, binary and close frames go both ways, unchanged, until either side closes; its close code
and reason are passed on to the other. A worker that goes away without a close frame closes the
client's socket with 1011 and a reason. Both sockets take messages of at most the worker's
:data:`~voxpy.runtime.websocket.MAX_MESSAGE_BYTES` (a larger one is closed with 1009 where it
arrives, and the other side gets the same code).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping, Sequence
from typing import Protocol

import aiohttp
from aiohttp import web
from structlog.typing import FilteringBoundLogger

from voxpy.runtime.websocket import MAX_MESSAGE_BYTES
from voxpy.server.guard import NOT_FORWARDED, error
from voxpy.server.workers import CONTROL_ERRORS

Socket = web.WebSocketResponse | aiohttp.ClientWebSocketResponse

_NOT_FORWARDED = NOT_FORWARDED | {
    "upgrade",
    "sec-websocket-key",
    "sec-websocket-version",
    "sec-websocket-extensions",
    "sec-websocket-protocol",
    "sec-websocket-accept",
}
# Codes a close frame may carry (RFC 6455 7.4): 1005, 1006 and 1015 are only ever reported.
_SENDABLE = frozenset({1000, 1001, 1002, 1003, *range(1007, 1015)})
WORKER_GONE = 1011
CLIENT_GONE = 1001
_MAX_REASON_BYTES = 123
CLOSE_GRACE_S = 5.0
"How long the second side's close handshake may take once the first side has closed."


def sendable(code: int | None, fallback: int) -> int:
    """``code`` if a close frame may carry it, else ``fallback``."""
    if code is not None and (code in _SENDABLE or 3000 <= code <= 4999):
        return code
    return fallback


def _reason(text: str) -> bytes:
    """A close reason cut to what a close frame holds (123 bytes), on a character boundary."""
    cut = text.encode("utf-8", "surrogatepass")[:_MAX_REASON_BYTES]
    return cut.decode("utf-8", "ignore").encode()


async def _pipe(source: Socket, target: Socket, gone: tuple[int, str]) -> None:
    """Relay ``source``'s messages to ``target`` until ``source`` closes; then close ``target``
    with the same code and reason (``gone`` when ``source`` ended without a close frame)."""
    while True:
        msg = await source.receive()
        if msg.type is aiohttp.WSMsgType.TEXT:
            await target.send_str(msg.data)
        elif msg.type is aiohttp.WSMsgType.BINARY:
            await target.send_bytes(msg.data)
        elif msg.type is aiohttp.WSMsgType.CLOSE:
            code = sendable(msg.data, 1000)
            await target.close(code=code, message=_reason(str(msg.extra or "")))
            return
        elif msg.type is aiohttp.WSMsgType.ERROR:  # e.g. a message over the limit: 1009
            code = sendable(getattr(msg.data, "code", None), gone[0])  # a WebSocketError's
            await target.close(code=code, message=_reason(str(msg.data)))
            return
        elif msg.type in (aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED):
            await target.close(code=gone[0], message=_reason(gone[1]))
            return
        # PING and PONG are answered by aiohttp (autoping)


class Upstream(Protocol):
    """Where a WebSocket is relayed: a worker's control API (voxpy.server.workers.Worker), or
    at a front, the API of the worker host that runs the session (voxpy.server.frontapi)."""

    @property
    def index(self) -> int | str: ...

    async def websocket(
        self, path: str, headers: Mapping[str, str], protocols: Sequence[str], max_msg_size: int
    ) -> aiohttp.ClientWebSocketResponse: ...


async def relay(
    request: web.Request, worker: Upstream, session_id: str, log: FilteringBoundLogger
) -> web.StreamResponse:
    """Serve the client's WebSocket by relaying it to ``worker``'s control API."""
    if not web.WebSocketResponse().can_prepare(request).ok:  # before the scenario hears of it
        return error(400, "expected a WebSocket upgrade (GET with Upgrade: websocket)")
    headers = {k: v for k, v in request.headers.items() if k.lower() not in _NOT_FORWARDED}
    offered = request.headers.get("Sec-WebSocket-Protocol", "")
    protocols = [p.strip() for p in offered.split(",") if p.strip()]
    try:
        upstream = await worker.websocket(
            f"/sessions/{session_id}/websocket", headers, protocols, MAX_MESSAGE_BYTES
        )
    except aiohttp.WSServerHandshakeError as exc:  # the worker refused: pass its status on
        refusals = {
            404: "no such session (it may have ended)",
            501: "the scenario has no AppEvents.WebSocket handler",
        }
        return error(exc.status, refusals.get(exc.status, f"the worker refused: {exc.message}"))
    except CONTROL_ERRORS as exc:
        return error(502, f"worker {worker.index} did not answer: {exc!r}")
    try:
        downstream = web.WebSocketResponse(
            max_msg_size=MAX_MESSAGE_BYTES,
            protocols=(upstream.protocol,) if upstream.protocol else (),
        )
        await downstream.prepare(request)
        log.info("websocket_relayed", session_id=session_id, worker=worker.index)
        pipes = [
            asyncio.create_task(_pipe(downstream, upstream, (CLIENT_GONE, "the client went away"))),
            asyncio.create_task(
                _pipe(upstream, downstream, (WORKER_GONE, f"worker {worker.index} went away"))
            ),
        ]
        try:
            await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
            # The side that closed first has closed the other; let that close handshake end.
            await asyncio.wait(pipes, timeout=CLOSE_GRACE_S)
        finally:
            for task in pipes:
                task.cancel()
            results = await asyncio.gather(*pipes, return_exceptions=True)
        for result in results:  # a send to a side that just went away: it is closed below
            if isinstance(result, Exception) and not isinstance(result, ConnectionError):
                log.warning("websocket_relay_error", session_id=session_id, error=repr(result))
        if not downstream.closed:
            await downstream.close(code=WORKER_GONE, message=_reason("the relay failed"))
        log.info(
            "websocket_relay_closed",
            session_id=session_id,
            client_code=downstream.close_code,
            worker_code=upstream.close_code,
        )
        return downstream
    finally:
        with contextlib.suppress(*CONTROL_ERRORS, ConnectionError):
            await upstream.close(code=CLIENT_GONE)
