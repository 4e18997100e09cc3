"""``VoxEngine.create_websocket`` in a scenario: events reach the session's observers, and the
socket is closed (1001) when the session ends, before Terminated."""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import TEST_SCENARIOS, Harness
from tests.runtime.wsbot import Bot, bot_server
from voxpy.errors import InvalidArgumentError

pytestmark = pytest.mark.voxpy_backend("memory")


async def test_a_scenarios_socket_is_closed_when_the_session_ends(voxpy_harness: Harness) -> None:
    async with bot_server(Bot()) as bot:
        h = await voxpy_harness(TEST_SCENARIOS / "websocket_client.py")
        session = await h.start(custom_data=bot.url)
        assert await asyncio.wait_for(bot.received.get(), 5) == "hello bot"
        session.terminate()
        await asyncio.wait_for(session.terminated.wait(), 5)
        names = [str(e.name) for _, e in h.recorder.log]
        assert names.index("WebSocket.Open") < names.index("WebSocket.Close")
        assert names.index("WebSocket.Close") < names.index("Application.Terminated")
        closed = h.recorder.find("WebSocket.Close")
        assert (closed.code, closed.reason, closed.was_clean) == (1001, "session ended", True)
        assert bot.ws is not None and bot.ws.close_code == 1001


async def test_create_websocket_misuse_raises(voxpy_harness: Harness) -> None:
    h = await voxpy_harness(TEST_SCENARIOS / "http_echo.py")
    session = await h.start()
    with pytest.raises(InvalidArgumentError):
        session.create_websocket("http://example.com/")
    with pytest.raises(InvalidArgumentError):
        session.create_websocket("ws://127.0.0.1:1/", dialect="nope")
