"""The aiohttp side of a WebSocket: opening a client (and saying in one sentence why it did
not open), and :class:`Link`, the read and write loops of an open socket until it ends.

aiohttp's ``close()`` called while another task is in ``receive()`` sends code 1000 whatever
it is asked, so the reading task is the one that closes, once the writer has flushed what was
queued before the close (or gave up after :data:`CLOSE_TIMEOUT`: a server that does not read
must not hold a close up).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web
from structlog.typing import FilteringBoundLogger

from voxpy.core.wsmedia import SendQueue

CONNECT_TIMEOUT = 10.0
"seconds for TCP, TLS and the handshake together"
CLOSE_TIMEOUT = 2.0
"seconds for what is queued to go out and the server to answer a close"
ABNORMAL = 1006
"no close frame: refused, reset, timed out"

Transport = aiohttp.ClientWebSocketResponse | web.WebSocketResponse


async def open_client(
    url: str, protocols: list[str], headers: dict[str, str], max_msg_size: int
) -> tuple[aiohttp.ClientWebSocketResponse, aiohttp.ClientSession]:
    """An open client socket to ``url`` and the aiohttp session it lives in (close that when
    done). Raises what aiohttp raises; the session is closed then (also when cancelled)."""
    client = aiohttp.ClientSession()
    try:
        ws = await client.ws_connect(
            url,
            protocols=protocols,
            headers=headers,
            max_msg_size=max_msg_size,
            autoping=True,
        )
    except BaseException:
        await client.close()
        raise
    return ws, client


def why_not(exc: BaseException, url: str) -> str:
    """A clear sentence for a connection that failed."""
    if isinstance(exc, aiohttp.WSServerHandshakeError):
        return f"the server refused the WebSocket handshake: {exc.status} {exc.message}"
    if isinstance(exc, aiohttp.ClientConnectorCertificateError | aiohttp.ClientSSLError):
        return f"TLS error connecting to {url}: {exc}"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"cannot connect to {url}: {exc.strerror or exc}"
    if isinstance(exc, TimeoutError):
        return f"no connection to {url} within {CONNECT_TIMEOUT:g} s"
    return f"cannot connect to {url}: {type(exc).__name__}: {exc}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Ending:
    """How an open socket ended: CLOSE's fields, and the error to report first, if any."""

    code: int
    reason: str
    clean: bool
    error: str | None = None


class Link:
    """Reads (``on_text``; ``on_bad_frame`` for a binary one) and writes (``queue``, woken by
    ``wake``) one open socket until either side closes or it breaks."""

    def __init__(
        self,
        ws: Transport,
        queue: SendQueue,
        wake: asyncio.Event,
        on_text: Callable[[str], None],
        on_bad_frame: Callable[[str], None],
        log: FilteringBoundLogger,
    ) -> None:
        self.ws, self.queue, self.wake, self.log = ws, queue, wake, log
        self._on_text, self._on_bad_frame = on_text, on_bad_frame
        self._flushed = asyncio.Event()
        self._close: tuple[int, str] | None = None

    def request_close(self, code: int, reason: str) -> None:
        """Close with ``code`` once what is queued went out (at most CLOSE_TIMEOUT)."""
        if self._close is None:
            self._close = (code, reason)
            self.wake.set()
            asyncio.get_running_loop().call_later(CLOSE_TIMEOUT, self._flushed.set)

    async def run(self) -> Ending:
        loop = asyncio.get_running_loop()
        writer = loop.create_task(self._write())
        flushed = loop.create_task(self._flushed.wait())
        receiving: asyncio.Task[Any] | None = None
        error, said = None, ""
        try:
            while True:
                receiving = loop.create_task(self.ws.receive())
                await asyncio.wait((receiving, flushed), return_when=asyncio.FIRST_COMPLETED)
                if not receiving.done():
                    break  # we close
                msg = receiving.result()
                if msg.type is aiohttp.WSMsgType.TEXT:
                    self._on_text(msg.data)
                elif msg.type is aiohttp.WSMsgType.BINARY:
                    self._on_bad_frame(f"binary frame of {len(msg.data)} bytes ignored: text only")
                elif msg.type is aiohttp.WSMsgType.ERROR:
                    error = f"{type(msg.data).__name__}: {msg.data}"
                    break
                else:  # CLOSE (the server's reason in extra), CLOSING, CLOSED
                    said = str(msg.extra or "") if msg.type is aiohttp.WSMsgType.CLOSE else ""
                    break
        finally:
            for task in (receiving, writer, flushed):
                if task is not None:
                    task.cancel()
        if self._close is not None and error is None and not said:
            code, reason = self._close
            return Ending(code=code, reason=reason, clean=await self._say_goodbye(code, reason))
        if not self.ws.closed:
            await self._say_goodbye(ABNORMAL, "")
        code = self.ws.close_code if self.ws.close_code is not None else ABNORMAL
        reason = error or said or "closed by the server"
        return Ending(
            code=code, reason=reason, clean=error is None and code != ABNORMAL, error=error
        )

    async def _say_goodbye(self, code: int, reason: str) -> bool:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.ws.close(code=code, message=reason.encode()), CLOSE_TIMEOUT)
            return True
        return False

    async def _write(self) -> None:
        try:
            while True:
                text = self.queue.pop()
                if text is None:
                    if self._close is not None:
                        break
                    self.wake.clear()
                    await self.wake.wait()
                    continue
                await self.ws.send_str(text)
        except Exception as exc:  # noqa: BLE001 - the reader sees the end and reports it
            self.log.info("websocket_write_stopped", error=repr(exc))
        self._flushed.set()
