"""The public API's ``GET /sessions/{id}/websocket``: the socket is relayed to the worker that
runs the session, whose scenario gets AppEvents.WebSocket. Real server: supervisor, Kamailio,
two workers (websocket_relay scenario)."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from tests.conftest import TEST_SCENARIOS
from tests.server.serve_process import TOKEN, ServeProcess
from voxpy.runtime.websocket import MAX_MESSAGE_BYTES

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.realtime]  # a real server

AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server() -> AsyncIterator[ServeProcess]:
    serve = ServeProcess(TEST_SCENARIOS / "websocket_relay.py", workers=2)
    try:
        yield await serve.start()
    finally:
        await serve.close()


@pytest_asyncio.fixture(loop_scope="module")
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def new_session(server: ServeProcess) -> dict[str, Any]:
    status, body = await server.api("POST", "/sessions", json_body={})
    assert status == 201, body
    return dict(body)


async def seen(server: ServeProcess, session_id: str) -> dict[str, Any]:
    """What the session's scenario saw (its HttpRequest answer)."""
    status, body = await server.api("GET", f"/sessions/{session_id}/request")
    assert status == 200, body
    return dict(body)


async def receive(ws: aiohttp.ClientWebSocketResponse) -> aiohttp.WSMessage:
    return await asyncio.wait_for(ws.receive(), 5)


async def test_text_round_trip_on_each_worker(
    server: ServeProcess, http: aiohttp.ClientSession
) -> None:
    sessions = [await new_session(server) for _ in range(2)]
    assert {s["worker"] for s in sessions} == {0, 1}  # idle sessions spread over both
    for created in sessions:
        sid = created["session_id"]
        ws = await http.ws_connect(
            f"{server.url}/sessions/{sid}/websocket", headers={**AUTH, "X-Bot": "b1"}
        )
        await ws.send_str("hi")
        reply = await receive(ws)
        assert (reply.type, reply.data) == (aiohttp.WSMsgType.TEXT, "echo:hi")
        await ws.send_str("é" * 1000)
        assert (await receive(ws)).data == "echo:" + "é" * 1000
        await ws.close(code=4002, message=b"client done")
        for _ in range(50):  # the close reaches the scenario through the worker
            state = await seen(server, sid)
            if state["closes"]:
                break
            await asyncio.sleep(0.1)
        assert state["sockets"] == 1
        assert state["headers"] == ["b1"]  # the client's headers, not its token
        assert state["messages"] == ["hi", "é" * 1000]
        assert state["closes"] == [[4002, "client done"]]


async def test_the_scenario_close_code_passes_through(
    server: ServeProcess, http: aiohttp.ClientSession
) -> None:
    sid = (await new_session(server))["session_id"]
    ws = await http.ws_connect(f"{server.url}/sessions/{sid}/websocket", headers=AUTH)
    await ws.send_str("close")
    closing = await receive(ws)
    assert closing.type is aiohttp.WSMsgType.CLOSE
    assert (closing.data, closing.extra) == (4001, "asked to close")
    await ws.close()


async def test_a_message_over_the_limit_closes_both_sides_1009(
    server: ServeProcess, http: aiohttp.ClientSession
) -> None:
    sid = (await new_session(server))["session_id"]
    ws = await http.ws_connect(
        f"{server.url}/sessions/{sid}/websocket", headers=AUTH, max_msg_size=0
    )
    # aiohttp refuses a message of exactly max_msg_size: the largest that passes is one less
    await ws.send_str("x" * (MAX_MESSAGE_BYTES - 6))  # its echo is that largest
    assert len((await receive(ws)).data) == MAX_MESSAGE_BYTES - 1
    await ws.send_str("x" * MAX_MESSAGE_BYTES)
    closing = await receive(ws)
    assert (closing.type, closing.data) == (aiohttp.WSMsgType.CLOSE, 1009)
    await ws.close()
    for _ in range(50):
        closes = (await seen(server, sid))["closes"]
        if closes:
            break
        await asyncio.sleep(0.1)
    assert [code for code, _ in closes] == [1009]


async def test_session_end_closes_the_client_1001(
    server: ServeProcess, http: aiohttp.ClientSession
) -> None:
    sid = (await new_session(server))["session_id"]
    ws = await http.ws_connect(f"{server.url}/sessions/{sid}/websocket", headers=AUTH)
    status, _ = await server.api("DELETE", f"/sessions/{sid}")
    assert status == 202
    closing = await receive(ws)
    assert (closing.type, closing.data) == (aiohttp.WSMsgType.CLOSE, 1001)
    await ws.close()


@pytest.mark.parametrize("token", [None, "wrong"])
async def test_without_the_token_401_and_no_event(
    server: ServeProcess, http: aiohttp.ClientSession, token: str | None
) -> None:
    sid = (await new_session(server))["session_id"]
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await http.ws_connect(f"{server.url}/sessions/{sid}/websocket", headers=headers)
    assert refused.value.status == 401
    assert (await seen(server, sid))["sockets"] == 0


async def test_a_plain_get_is_400_and_no_event(server: ServeProcess) -> None:
    sid = (await new_session(server))["session_id"]
    status, body = await server.api("GET", f"/sessions/{sid}/websocket")
    assert status == 400 and "WebSocket upgrade" in body["error"]
    assert (await seen(server, sid))["sockets"] == 0


async def test_an_unknown_session_is_404(server: ServeProcess, http: aiohttp.ClientSession) -> None:
    status, body = await server.api("GET", "/sessions/nope/websocket")
    assert status == 404 and "no such session" in body["error"]
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await http.ws_connect(f"{server.url}/sessions/nope/websocket", headers=AUTH)
    assert refused.value.status == 404


async def test_a_worker_that_dies_closes_the_client_1011(
    server: ServeProcess, http: aiohttp.ClientSession
) -> None:
    """Last in the module: it kills a worker (the supervisor starts it again)."""
    created = await new_session(server)
    ws = await http.ws_connect(
        f"{server.url}/sessions/{created['session_id']}/websocket", headers=AUTH
    )
    await ws.send_str("hi")
    assert (await receive(ws)).data == "echo:hi"
    pid = next(w["pid"] for w in await server.workers_info() if w["worker"] == created["worker"])
    os.kill(pid, signal.SIGKILL)
    closing = await receive(ws)
    assert (closing.type, closing.data) == (aiohttp.WSMsgType.CLOSE, 1011)
    assert closing.extra == f"worker {created['worker']} went away"
    await ws.close()
    await server.wait_healthy(2)
