"""The web console's routes over real HTTP (aiohttp's test server), without workers: auth by
header, ``?token=`` and cookie; escaping; the CSP; static caching; /recordings confinement.

The supervisor is a stand-in that answers what the console asks (pool, health, metrics), so
these run in a fraction of a second; tests/server/test_console_browser.py drives the real
``voxpy serve`` in Chromium.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from functools import partial
from pathlib import Path
from typing import Any, cast

import pytest
from aiohttp.test_utils import TestClient, TestServer

from tests.server.rawhttp import LogCapture, send
from voxpy.config import ServerSettings
from voxpy.server.api import PublicApi
from voxpy.server.console.auth import COOKIE, cookie_value
from voxpy.server.console.data import parse_metrics

pytestmark = pytest.mark.realtime  # a real HTTP server on loopback

TOKEN = "s3cret-token"
XSS = "<script>alert(1)</script>"
METRICS = """# HELP voxpy_live_calls Call legs up now, per worker.
# TYPE voxpy_live_calls gauge
voxpy_live_calls{worker="0"} 2
voxpy_sessions{worker="0"} 1
voxpy_worker_up{worker="0"} 1
voxpy_invites_refused_total{worker="0",reason="overload_cpu"} 3
voxpy_invites_refused_total{worker="0",reason="full"} 4
voxpy_kamailio_up 1
"""
LIVE = {
    "session_id": "abc123",
    "state": "live",
    "started_at": "2026-01-31T12:00:00Z",
    "custom_data": XSS,
    "calls": [{"call_id": "c1", "state": "CONNECTED", "incoming": True,
               "callerid": '"><img src=x onerror=alert(2)>', "number": "100"}],
}  # fmt: skip


class _Worker:
    index, pid, ready, draining, restarts, last_exit = 0, 4242, True, False, 1, None

    async def call_json(self, method: str, path: str, payload: Any = None) -> Any:
        if (method, path) == ("GET", "/sessions/abc123/journal"):
            return {"session_id": "abc123", "live": True, "entries": []}
        assert (method, path) == ("GET", "/sessions/abc123")
        return LIVE


class _Pool:
    def __init__(self) -> None:
        self.workers = [_Worker()]

    async def sessions(self) -> list[dict[str, Any]]:
        return [{**LIVE, "worker": 0}]

    async def find(self, session_id: str) -> _Worker | None:
        return self.workers[0] if session_id == "abc123" else None


class _Host:
    scenario_name, scenario, draining, pool = "lab", Path("lab.py"), False, _Pool()

    def health(self) -> dict[str, Any]:
        return {"ok": True, "kamailio": True, "workers_up": 1, "workers": 1, "draining": False}

    async def metrics(self) -> str:
        return METRICS


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[TestClient[Any, Any]]:
    recordings = tmp_path / "recordings"
    recordings.mkdir()
    (recordings / "abc123-c1-1.mp3").write_bytes(b"\xff\xfb" + bytes(998))
    (recordings / "abc123-c1-2.mp3.part").write_bytes(b"partial")
    (recordings / ".hidden.mp3").write_bytes(b"x")
    (tmp_path / "secret.mp3").write_bytes(b"secret")
    os.symlink(tmp_path / "secret.mp3", recordings / "link-out.mp3")
    settings = ServerSettings(token=TOKEN, http_host="127.0.0.1", http_port=0)
    api = PublicApi(cast(Any, _Host()), settings, recordings_dir=recordings)
    async with TestClient(TestServer(api.app)) as test_client:
        yield test_client


BEARER = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def logs() -> Iterator[LogCapture]:
    yield from LogCapture.installed()


class TestAuth:
    async def test_token_in_url_sets_cookie_and_leaves_the_url(self, client: TestClient) -> None:
        reply = await client.get(f"/console?token={TOKEN}&x=1", allow_redirects=False)
        assert reply.status == 303 and reply.headers["Location"] == "/console?x=1"
        cookie = reply.headers["Set-Cookie"]
        assert f"{COOKIE}={cookie_value(TOKEN)}" in cookie and TOKEN not in cookie
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
        page = await client.get("/console")  # the cookie jar sends it now
        assert page.status == 200 and TOKEN not in await page.text()

    async def test_wrong_or_no_token_401_page_without_echo(self, client: TestClient) -> None:
        for path in ("/console?token=wrong<b>", "/console", "/console/sessions/abc123"):
            reply = await client.get(path, allow_redirects=False)
            text = await reply.text()
            assert reply.status == 401 and "text/html" in reply.headers["Content-Type"], path
            assert "wrong" not in text and "<b>" not in text and "Set-Cookie" not in reply.headers
        reply = await client.get("/console/state.json")
        assert reply.status == 401 and (await reply.json())["error"]

    async def test_bearer_header_works(self, client: TestClient) -> None:
        reply = await client.get("/console/state.json", headers=BEARER)
        assert reply.status == 200 and (await reply.json())["live"][0]["session_id"] == "abc123"

    async def test_cookie_opens_only_the_console(self, client: TestClient) -> None:
        client.session.cookie_jar.update_cookies({COOKIE: cookie_value(TOKEN)})
        assert (await client.get("/console")).status == 200
        diagram = await client.get("/sessions/abc123/flow.svg")
        assert diagram.status == 200 and diagram.content_type == "image/svg+xml"
        assert (await client.get("/workers")).status == 401  # the API wants its header
        assert (await client.post("/sessions", json={})).status == 401
        assert (await client.delete("/sessions/abc123")).status == 401

    async def test_forged_cookie_refused(self, client: TestClient) -> None:
        client.session.cookie_jar.update_cookies({COOKIE: cookie_value("other")})
        assert (await client.get("/console")).status == 401


class TestHostile:
    """Bytes no browser sends: a refusal and a log line, never a 500 or an error line."""

    @pytest.mark.parametrize(
        ("path", "headers"),
        [
            (b"/console?token=%ff%fe", {}),
            (b"/console?token=" + b"x" * 4000, {}),
            (f"/console?token={TOKEN}&token={TOKEN}".encode(), {}),  # two: refused
            (b"/console", {"Cookie": b"voxpy_console=\xff\xfe\xe2\x82"}),
            (b"/console", {"Cookie": b"voxpy_console=" + b"a" * 64}),
            (b"/recordings/abc123-c1-1.mp3", {"Authorization": b"Bearer caf\xc3\xa9"}),
        ],
    )
    async def test_refused_and_logged(
        self, client: TestClient, logs: LogCapture, path: bytes, headers: dict[str, bytes]
    ) -> None:
        assert client.server.port is not None
        connect = partial(asyncio.open_connection, "127.0.0.1", client.server.port)
        reply = await send(connect, "GET", path.decode("latin-1"), headers=headers)
        assert reply.status == 401, reply
        assert TOKEN.encode() not in reply.body and b"\xff" not in reply.body
        assert [line["event"] for line in logs.lines()].count("console_refused") == 1
        assert logs.errors() == []

    async def test_traversal_is_logged(self, client: TestClient, logs: LogCapture) -> None:
        reply = await client.get("/recordings/..%2F..%2Fetc%2Fpasswd.mp3", headers=BEARER)
        assert reply.status == 404
        refused = [line for line in logs.lines() if line["event"] == "recording_refused"]
        assert len(refused) == 1 and logs.errors() == []


class TestPages:
    async def test_user_data_is_escaped_and_csp_set(self, client: TestClient) -> None:
        for path in ("/console", "/console/sessions/abc123"):
            reply = await client.get(path, headers=BEARER)
            text = await reply.text()
            assert reply.status == 200
            assert XSS not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
            assert "<img src=x" not in text
            csp = reply.headers["Content-Security-Policy"]
            assert "script-src 'self'" in csp and "unsafe-inline" not in csp

    async def test_overview_figures_from_metrics(self, client: TestClient) -> None:
        state = await (await client.get("/console/state.json", headers=BEARER)).json()
        assert state["figures"]["live_calls"] == 2 and state["figures"]["invites_refused"] == 7
        assert {"worker": 0, "up": True, "live_calls": 2}.items() <= state["workers"][0].items()

    async def test_session_page_lists_finished_recordings_only(self, client: TestClient) -> None:
        text = await (await client.get("/console/sessions/abc123", headers=BEARER)).text()
        assert 'src="/recordings/abc123-c1-1.mp3"' in text and ".part" not in text
        assert 'src="/sessions/abc123/flow.svg"' in text

    async def test_unknown_or_hostile_session_404(self, client: TestClient) -> None:
        for path in ("/console/sessions/nope", "/console/sessions/%3Cscript%3E"):
            reply = await client.get(path, headers=BEARER)
            assert reply.status == 404 and "<script>" not in await reply.text()

    async def test_static_cached_with_etag(self, client: TestClient) -> None:
        reply = await client.get("/console/static/console.js")  # no token: nothing secret
        assert reply.status == 200 and "javascript" in reply.headers["Content-Type"]
        assert "max-age" in reply.headers["Cache-Control"]
        again = await client.get(
            "/console/static/console.js", headers={"If-None-Match": reply.headers["ETag"]}
        )
        assert again.status == 304
        assert (await client.get("/console/static/nope.js")).status == 404


class TestRecordings:
    async def test_serves_a_recording_with_ranges(self, client: TestClient) -> None:
        reply = await client.get("/recordings/abc123-c1-1.mp3", headers=BEARER)
        assert reply.status == 200 and len(await reply.read()) == 1000
        part = await client.get(
            "/recordings/abc123-c1-1.mp3", headers={**BEARER, "Range": "bytes=0-9"}
        )
        assert part.status == 206 and len(await part.read()) == 10

    @pytest.mark.parametrize(
        "path",
        [
            "/recordings/..%2Fsecret.mp3",
            "/recordings/%2e%2e%2fsecret.mp3",
            "/recordings/..%5Csecret.mp3",
            "/recordings/link-out.mp3",  # a symlink leading out of the directory
            "/recordings/abc123-c1-2.mp3.part",  # still being written
            "/recordings/.hidden.mp3",
            "/recordings/abc123-c1-1.txt",
            "/recordings/%00.mp3",
        ],
    )
    async def test_refuses_paths_leaving_the_directory(self, client: TestClient, path: str) -> None:
        reply = await client.get(path, headers=BEARER)
        assert reply.status in (400, 404) and b"secret" not in await reply.read()

    async def test_needs_auth(self, client: TestClient) -> None:
        assert (await client.get("/recordings/abc123-c1-1.mp3")).status == 401


def test_parse_metrics_skips_what_is_not_a_sample() -> None:
    totals, per_worker = parse_metrics(METRICS + "garbage line\nvoxpy_x NaN\nvoxpy_y{} nope\n")
    assert totals["voxpy_invites_refused_total"] == 7 and "voxpy_x" not in totals
    assert per_worker[0]["voxpy_live_calls"] == 2


async def test_overview_lists_the_newest_finished_only(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The overview's JSON stays small however many records the workers keep."""
    from voxpy.server.console import data

    finished = [
        {"session_id": f"s{i}", "state": "finished", "ended_at": f"2026-01-31T12:00:0{i}Z"}
        for i in range(3)
    ]

    async def sessions() -> list[dict[str, Any]]:
        return [{**LIVE, "worker": 0}, *finished]

    monkeypatch.setattr(data, "FINISHED_SHOWN", 2)
    monkeypatch.setattr(_Pool, "sessions", lambda self: sessions())
    state = await (await client.get("/console/state.json", headers=BEARER)).json()
    assert [s["session_id"] for s in state["finished"]] == ["s2", "s1"]
    assert state["finished_total"] == 3 and len(state["live"]) == 1
    text = await (await client.get("/console", headers=BEARER)).text()
    assert "(newest 2 of 3)" in text


async def test_without_a_token_the_console_is_open(tmp_path: Path) -> None:
    """No server.token: the API listens on loopback only and asks no one (as the rest of it)."""
    settings = ServerSettings(token=None, http_host="127.0.0.1", http_port=0)
    api = PublicApi(cast(Any, _Host()), settings, recordings_dir=tmp_path)
    async with TestClient(TestServer(api.app)) as open_client:
        assert (await open_client.get("/console")).status == 200
        reply = await open_client.get("/console?token=x", allow_redirects=False)
        assert reply.status == 303 and reply.headers["Location"] == "/console"
        assert "Set-Cookie" not in reply.headers
