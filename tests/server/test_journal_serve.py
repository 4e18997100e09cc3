"""Journals through ``voxpy serve --journal-dir``: a call through Kamailio to a worker, then
``GET /sessions/{id}/journal`` (the worker's entries, relayed) and ``/flow.svg`` (drawn by
the API, under a CSP with no script), and the file in the journal directory."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from tests.conftest import SCENARIOS
from tests.server.serve_process import ServeProcess
from tests.sip.conftest import Peer
from voxpy.core.journal import parse_journal
from voxpy.core.signals import Answered, Ended

pytestmark = pytest.mark.realtime  # real Kamailio, workers and SIP

SVG = "{http://www.w3.org/2000/svg}"


async def finished_session(server: ServeProcess, timeout: float = 10) -> str:
    """The id of the first finished session (the call ended; grace 0 ends the session)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        status, body = await server.api("GET", "/sessions")
        done = [s for s in body["sessions"] if s["state"] == "finished"]
        if done:
            return str(done[0]["session_id"])
        await asyncio.sleep(0.05)
    raise AssertionError(f"no finished session in {timeout}s: {body}")


async def test_journal_and_flow_through_serve(
    peer_factory: Callable[[], Awaitable[Peer]], tmp_path: Path
) -> None:
    journal_dir = tmp_path / "journals"
    server = ServeProcess(
        SCENARIOS / "hello_hangup.py", workers=1, env={"VOXPY_TIMEOUTS__SESSION_GRACE": "0"}
    )
    server.argv += ["--journal-dir", str(journal_dir)]
    try:
        await server.start()
        peer = await peer_factory()
        leg = peer.dial(server.uri("100"), headers={"X-Tenant": "acme"})
        await peer.next(Answered, leg)
        assert (await peer.next(Ended, leg)).code == 200
        session_id = await finished_session(server)

        status, body = await server.api("GET", f"/sessions/{session_id}/journal")
        assert status == 200, body
        assert body["session_id"] == session_id and body["live"] is False
        assert body["worker"] == 0
        sip = [e["label"] for e in body["entries"] if e["kind"] == "sip"]
        assert sip == ["INVITE", "200 OK", "ACK", "BYE", "200 OK"]
        invite = next(e for e in body["entries"] if e["label"] == "INVITE")
        assert invite["fields"]["X-Tenant"] == "acme"

        status, content_type, svg = await server.api_raw("GET", f"/sessions/{session_id}/flow.svg")
        assert status == 200 and content_type.startswith("image/svg+xml")
        root = ET.fromstring(svg)
        assert root.tag == f"{SVG}svg" and "BYE" in "".join(root.itertext())
        _, headers = await headers_of(server, f"/sessions/{session_id}/flow.svg")
        assert "default-src 'none'" in headers["Content-Security-Policy"]

        for path in ("/sessions/nosuch/journal", "/sessions/nosuch/flow.svg",
                     "/sessions/..%2F..%2Fetc%2Fpasswd/journal"):  # fmt: skip
            status, body = await server.api("GET", path)
            assert status == 404, (path, body)
        status, _ = await server.api("GET", f"/sessions/{session_id}/journal", token=None)
        assert status == 401

        written = journal_dir / f"{session_id}.jsonl"
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while not written.exists():  # written off the loop right after the session ended
            assert loop.time() < deadline, f"no {written}"
            await asyncio.sleep(0.05)
        assert [e.label for e in parse_journal(written.read_text()) if e.kind == "sip"] == sip
    finally:
        await server.close()


async def headers_of(server: ServeProcess, path: str) -> tuple[int, dict[str, str]]:
    assert server._http is not None
    async with server._http.get(
        server.url + path, headers={"Authorization": "Bearer test-token"}
    ) as response:
        return response.status, dict(response.headers)
