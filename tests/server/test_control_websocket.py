"""An incoming WebSocket at a worker's ``/sessions/{id}/websocket``: with the token the
scenario gets AppEvents.WebSocket and talks on it; without it, 401 and no event; the socket
is closed (1001) when the session ends."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import TEST_SCENARIOS, Harness
from voxpy.log import get_logger
from voxpy.server.control import WorkerControl

TOKEN = "control-token"
pytestmark = pytest.mark.voxpy_backend("memory")


@pytest.fixture
async def control(voxpy_harness: Harness) -> AsyncIterator[WorkerControl]:
    harness = await voxpy_harness(TEST_SCENARIOS / "websocket_echo.py", raise_handler_errors=False)
    directory = Path(tempfile.mkdtemp(prefix="vx-ws-", dir="/tmp"))
    worker = WorkerControl(harness.engine, TOKEN, get_logger("voxpy.worker"))
    await worker.start(directory / "w0.sock")
    try:
        yield worker
    finally:
        await worker.stop()
        shutil.rmtree(directory, ignore_errors=True)


def client(control: WorkerControl) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(connector=aiohttp.UnixConnector(path=str(control.path)))


async def test_with_the_token_the_scenario_gets_the_socket(control: WorkerControl) -> None:
    session = control.engine.start_session(None)
    seen: list[object] = []
    control.engine.observers.append(lambda s, e: seen.append(e))
    async with client(control) as http:
        ws = await http.ws_connect(
            f"http://worker/sessions/{session.id}/websocket",
            headers={"Authorization": f"Bearer {TOKEN}", "X-Bot": "b1"},
        )
        await ws.send_str("hi")
        reply = await asyncio.wait_for(ws.receive(), 5)
        assert reply.data == "echo:hi"
        incoming = [e for e in seen if str(getattr(e, "name", "")) == "Application.WebSocket"]
        assert len(incoming) == 1
        assert incoming[0].headers["X-Bot"] == "b1"  # type: ignore[attr-defined]
        assert "Authorization" not in incoming[0].headers  # type: ignore[attr-defined]
        session.terminate()
        closing = await asyncio.wait_for(ws.receive(), 5)
        assert closing.type is aiohttp.WSMsgType.CLOSE and closing.data == 1001
        await ws.close()
    await asyncio.wait_for(session.terminated.wait(), 5)


@pytest.mark.parametrize("token", [None, "wrong"])
async def test_without_the_token_401_and_no_event(
    control: WorkerControl, token: str | None
) -> None:
    session = control.engine.start_session(None)
    seen: list[object] = []
    control.engine.observers.append(lambda s, e: seen.append(e))
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with client(control) as http:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(f"http://worker/sessions/{session.id}/websocket", headers=headers)
    assert refused.value.status == 401
    assert not any(str(getattr(e, "name", "")) == "Application.WebSocket" for e in seen)


async def test_an_unknown_session_is_404(control: WorkerControl) -> None:
    async with client(control) as http:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(
                "http://worker/sessions/nope/websocket",
                headers={"Authorization": f"Bearer {TOKEN}"},
            )
    assert refused.value.status == 404
