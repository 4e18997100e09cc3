"""The WebSocket unit against a real local aiohttp server: events, sends, closes, failures
(never an exception into the engine) and bounds."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from tests.runtime.wsbot import Bot, Recorder, bot_server, never_reads
from voxpy import WebSocketEvents as WS
from voxpy.errors import InvalidArgumentError, InvalidStateError
from voxpy.runtime import ws_link
from voxpy.runtime.websocket import MAX_MESSAGE_BYTES, MAX_TEXT_BACKLOG


@pytest.fixture
async def bot() -> AsyncIterator[Bot]:
    async with bot_server(Bot()) as b:
        yield b


async def test_open_send_receive_close(bot: Bot) -> None:
    rec = Recorder()
    ws = rec.connect(bot.url, protocols=["bot.v1"], headers={"X-Tenant": "acme"})
    assert ws.ready_state == "CONNECTING"
    ws.send("queued before open")
    await rec.wait(WS.OPEN)
    assert ws.ready_state == "OPEN"
    assert bot.request is not None and bot.request.headers["X-Tenant"] == "acme"
    assert bot.ws is not None and bot.ws.ws_protocol == "bot.v1"
    assert await asyncio.wait_for(bot.received.get(), 5) == "queued before open"
    ws.send("hello")
    assert await asyncio.wait_for(bot.received.get(), 5) == "hello"
    await bot.send("from the bot")
    assert (await rec.wait(WS.MESSAGE)).text == "from the bot"
    ws.close(4000, "done")
    assert ws.ready_state == "CLOSING"
    closed = await rec.wait(WS.CLOSE)
    assert (closed.code, closed.reason, closed.was_clean) == (4000, "done", True)
    assert ws.ready_state == "CLOSED" and ws.done.is_set()
    assert rec.names() == ["WebSocket.Open", "WebSocket.Message", "WebSocket.Close"]
    ws.close()  # twice: nothing
    with pytest.raises(InvalidStateError):
        ws.send("late")


async def test_the_server_closes_mid_stream(bot: Bot) -> None:
    async def closes(b: Bot, ws: web.WebSocketResponse) -> None:
        await ws.close(code=4001, message=b"bye now")

    bot.behaviour = closes
    rec = Recorder()
    rec.connect(bot.url)
    closed = await rec.wait(WS.CLOSE)
    assert (closed.code, closed.reason, closed.was_clean) == (4001, "bye now", True)
    assert rec.of(WS.ERROR) == [] and rec.errors == []


async def test_a_refused_handshake_is_error_then_close(bot: Bot) -> None:
    bot.refuse = 403
    rec = Recorder()
    ws = rec.connect(bot.url)
    closed = await rec.wait(WS.CLOSE)
    error = rec.of(WS.ERROR)[0].error
    assert "refused the WebSocket handshake: 403" in error
    assert (closed.code, closed.was_clean, closed.reason) == (1006, False, error)
    assert rec.names() == ["WebSocket.Error", "WebSocket.Close"]
    assert ws.ready_state == "CLOSED"


async def test_nothing_listening_is_error_then_close() -> None:
    rec = Recorder()
    rec.connect("ws://127.0.0.1:1/nobody")  # port 1: nothing listens there
    closed = await rec.wait(WS.CLOSE)
    assert "cannot connect to ws://127.0.0.1:1/nobody" in rec.of(WS.ERROR)[0].error
    assert closed.code == 1006


async def test_tls_to_a_plain_server_is_error_then_close(bot: Bot) -> None:
    rec = Recorder()
    rec.connect(bot.url.replace("ws://", "wss://"))
    await rec.wait(WS.CLOSE)
    error = rec.of(WS.ERROR)[0].error
    assert "TLS" in error or "SSL" in error, error


async def test_a_binary_frame_is_an_error_and_the_socket_stays_open(bot: Bot) -> None:
    rec = Recorder()
    ws = rec.connect(bot.url)
    await rec.wait(WS.OPEN)
    assert bot.ws is not None
    await bot.ws.send_bytes(b"\x00\x01")
    assert "binary frame of 2 bytes" in (await rec.wait(WS.ERROR)).error
    await bot.send("still here")
    assert (await rec.wait(WS.MESSAGE)).text == "still here"
    assert ws.ready_state == "OPEN"


async def test_a_message_over_the_bound_closes_with_1009(bot: Bot) -> None:
    rec = Recorder()
    rec.connect(bot.url)
    await rec.wait(WS.OPEN)
    await bot.send("x" * (MAX_MESSAGE_BYTES + 1))
    closed = await rec.wait(WS.CLOSE)
    assert closed.code == 1009 and not closed.was_clean
    assert rec.of(WS.ERROR) and rec.of(WS.MESSAGE) == []


async def test_misuse_raises_and_changes_nothing(bot: Bot) -> None:
    rec = Recorder()
    with pytest.raises(InvalidArgumentError):
        rec.connect("http://127.0.0.1/")
    with pytest.raises(InvalidArgumentError):
        rec.connect(bot.url, dialect="jambonz")
    ws = rec.connect(bot.url)
    with pytest.raises(InvalidArgumentError):
        ws.send(b"bytes")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError):
        ws.send("x" * MAX_MESSAGE_BYTES)  # aiohttp peers refuse exactly the limit
    with pytest.raises(InvalidArgumentError):
        ws.close(1234)
    with pytest.raises(InvalidArgumentError):
        ws.close(1000, "r" * 124)
    assert len(ws.queue) == 0
    await rec.wait(WS.OPEN)
    ws.close()
    await rec.wait(WS.CLOSE)


async def test_closing_while_connecting_closes_without_open(bot: Bot) -> None:
    rec = Recorder()
    ws = rec.connect(bot.url)
    ws.close()
    closed = await rec.wait(WS.CLOSE)
    assert rec.of(WS.OPEN) == [] and not closed.was_clean


async def test_a_failing_handler_is_reported_and_the_socket_goes_on(bot: Bot) -> None:
    rec = Recorder()
    ws = rec.connect(bot.url)

    def boom(e: object) -> None:
        raise RuntimeError("handler bug")

    ws.add_event_listener(WS.MESSAGE, boom)
    await rec.wait(WS.OPEN)
    await bot.send("one")
    await rec.wait(WS.MESSAGE)
    ws.remove_event_listener(WS.MESSAGE, boom)
    await bot.send("two")
    await rec.wait(WS.MESSAGE, 2)
    assert [str(e) for e in rec.errors] == ["handler bug"]
    assert ws.ready_state == "OPEN"


async def test_texts_to_a_server_that_does_not_read_are_bounded_never_dropped(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ws_link, "CLOSE_TIMEOUT", 0.05)  # the close gives up on it sooner
    bot.behaviour = never_reads
    rec = Recorder()
    ws = rec.connect(bot.url)
    await rec.wait(WS.OPEN)
    big = "t" * (MAX_MESSAGE_BYTES // 2)
    with pytest.raises(InvalidStateError, match="not reading"):
        for _ in range(10_000):  # the kernel's buffers fill, then ours
            ws.send(big)
            await asyncio.sleep(0)
    assert len(ws.queue) == MAX_TEXT_BACKLOG
    assert ws.queue.dropped == 0
    await ws.shutdown("test over")
    assert rec.of(WS.CLOSE)[0].code in (1001, 1006)
