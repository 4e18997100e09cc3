"""A front (``voxpy serve --role front``) passes a session's journal and diagram on from the
worker host that runs it; the diagram keeps its no-script CSP on the way."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from tests.server.netns import HostProcess
from tests.server.serve_process import TOKEN
from tests.server.test_front import front, host_report  # noqa: F401 - its fixture

pytestmark = pytest.mark.realtime

ENTRY = {"seq": 0, "kind": "session", "label": "session abc"}
JOURNAL = {"session_id": "abc", "live": False, "entries": [ENTRY]}


@pytest.fixture
async def host_api() -> AsyncIterator[str]:
    """A worker host's API, played by the test: it knows one session, abc."""

    async def journal(request: web.Request) -> web.Response:
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
        return web.json_response(JOURNAL)

    async def flow(request: web.Request) -> web.Response:
        return web.Response(text="<svg xmlns='http://www.w3.org/2000/svg'/>",
                            content_type="image/svg+xml")  # fmt: skip

    app = web.Application()
    app.router.add_get("/sessions/abc/journal", journal)
    app.router.add_get("/sessions/abc/flow.svg", flow)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def test_journal_and_flow_pass_through_the_front(
    front: HostProcess,  # noqa: F811
    host_api: str,
) -> None:
    assert (await front.api("POST", "/hosts", json_body=host_report(api=host_api)))[0] == 200
    status, body = await front.api("GET", "/sessions/h7.abc/journal")
    assert (status, body) == (200, JOURNAL)
    async with (
        aiohttp.ClientSession() as http,
        http.get(
            front.url + "/sessions/h7.abc/flow.svg", headers={"Authorization": f"Bearer {TOKEN}"}
        ) as reply,
    ):
        assert reply.status == 200 and reply.content_type == "image/svg+xml"
        assert "default-src 'none'" in reply.headers["Content-Security-Policy"]
    status, _ = await front.api("GET", "/sessions/h8.abc/journal")
    assert status == 404
