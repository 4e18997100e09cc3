"""``voxpy serve --role front`` on loopback, its Kamailio real, worker hosts played by the
test: what the front does with reports (good, hostile, stopped), and the role checks.

The multi-host behaviour with real worker hosts is in test_hosts_netns.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from tests.conftest import ROOT, TEST_SCENARIOS
from tests.server.netns import HostProcess
from tests.server.serve_process import TOKEN
from voxpy.config import load_settings
from voxpy.core.hostreg import EXPIRY_S
from voxpy.server.kamailio import check_config, write_config
from voxpy.server.rpc import RpcError

pytestmark = pytest.mark.realtime

SCENARIO = TEST_SCENARIOS / "answer_and_echo.py"
URI = "sip:127.0.0.7:5071"


def host_report(**change: Any) -> dict[str, Any]:
    worker = {"uri": URI, "duid": "h7-w0", "ready": True, "draining": False}
    return {
        "host": "h7",
        "api": "http://127.0.0.7:9",  # nothing listens: the host is unreachable
        "workers": [worker],
        "free": 4,
        "draining": False,
        **change,
    }


@pytest.fixture
async def front() -> AsyncIterator[HostProcess]:
    args = ["--role", "front", "--sip-host", "127.0.0.1", "--sip-port", "0", "--http-port", "0"]
    process = HostProcess(None, SCENARIO, ["--http-host", "127.0.0.1", *args])
    try:
        yield await process.start()
    finally:
        await process.close()


async def dispatcher(front: HostProcess) -> dict[str, dict[str, Any]]:
    return await front.rpc().destinations()


async def wait_dispatcher(front: HostProcess, check: Any, timeout: float = 5) -> float:
    """Poll Kamailio's list until ``check`` holds (a Kamailio being restarted is waited for)."""
    loop = asyncio.get_running_loop()
    start, seen = loop.time(), None
    while True:
        with contextlib.suppress(RpcError):
            seen = await dispatcher(front)
            if check(seen):
                return loop.time() - start
        assert loop.time() - start < timeout, seen
        await asyncio.sleep(0.05)


async def test_no_host_yet(front: HostProcess) -> None:
    status, health = await front.api("GET", "/healthz", token=None)
    assert status == 503
    assert health == {"ok": False, "role": "front", "kamailio": True, "hosts": 0,
                      "workers_up": 0, "free": 0}  # fmt: skip
    assert await dispatcher(front) == {}
    status, body = await front.api("POST", "/sessions", json_body={})
    assert status == 503 and "no worker host" in body["error"]
    status, body = await front.api("GET", "/sessions")
    assert (status, body) == (200, {"sessions": []})


async def test_reports_steer_the_dispatcher_and_silence_expires(front: HostProcess) -> None:
    assert (await front.api("POST", "/hosts", json_body=host_report(max_calls=7)))[0] == 200
    await wait_dispatcher(front, lambda d: d.get(URI, {}).get("duid") == "h7-w0")
    assert (await dispatcher(front))[URI]["flags"] == "AP"
    # The host's own sip.max_calls is its workers' maxload, not the front's (4).
    assert "maxload=7" in json.dumps(await front.rpc().call("dispatcher.list"))
    status, hosts = await front.api("GET", "/hosts")
    assert [h["host"] for h in hosts["hosts"]] == ["h7"]
    status, text = await front.api("GET", "/metrics")
    assert 'voxpy_front_host_free_slots{host="h7"} 4\n' in text
    assert "voxpy_front_kamailio_up 1\n" in text

    down = host_report(workers=[{"uri": URI, "duid": "h7-w0", "ready": False, "draining": False}])
    await front.api("POST", "/hosts", json_body=down)
    await wait_dispatcher(front, lambda d: str(d.get(URI, {}).get("flags")).startswith("I"))
    renewed = host_report(max_calls=7, workers=[{"uri": URI, "duid": "h7-w0.1", "ready": True,
                                                 "draining": False}])  # fmt: skip
    await front.api("POST", "/hosts", json_body=renewed)  # a restarted worker: a new duid
    await wait_dispatcher(front, lambda d: d.get(URI, {}).get("duid") == "h7-w0.1")
    assert "maxload=7" in json.dumps(await front.rpc().call("dispatcher.list"))

    # The host's API is not there: a session request is a 502, not a hang or a crash.
    status, body = await front.api("GET", "/sessions/h7.abc")
    assert status == 502, body
    status, body = await front.api("POST", "/sessions", json_body={})
    assert status == 503 and "h7 did not answer" in body["error"], body  # no other host
    status, body = await front.api("GET", "/sessions/h7.abc/websocket")
    assert status == 400 and "upgrade" in body["error"], body  # before its host is asked
    status, body = await front.api("GET", "/sessions/h9.abc/websocket")
    assert status == 404, body

    # No more reports: the host's workers leave the list (how soon is the registry's unit
    # test and bench/hosts.py's figure; a wall-clock bound here would flake on a busy CI).
    await wait_dispatcher(front, lambda d: d == {}, timeout=EXPIRY_S + 27)
    lost = await front.wait_log(lambda line: line.get("event") == "host_lost")
    assert lost["host"] == "h7"
    status, text = await front.api("GET", "/metrics")
    assert status == 200
    assert "voxpy_front_hosts 0\n" in text and "voxpy_front_hosts_lost_total 1\n" in text


async def test_goodbye_removes_at_once(front: HostProcess) -> None:
    await front.api("POST", "/hosts", json_body=host_report())
    await wait_dispatcher(front, lambda d: URI in d)
    assert (await front.api("DELETE", "/hosts/h7"))[0] == 200
    await wait_dispatcher(front, lambda d: d == {})
    left = await front.wait_log(lambda line: line.get("event") == "host_left")
    assert left["host"] == "h7" and not front.find_all("host_lost")  # goodbye, not expiry
    assert (await front.api("DELETE", "/hosts/h7"))[0] == 404


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("not json", "not valid JSON"),
        ("[1]", "JSON object"),
        (json.dumps(host_report(host="../x")), "host"),
        (json.dumps(host_report(free="4")), "free"),
        (json.dumps(host_report(workers=[{"uri": "sip:h:1\r\nVia: x", "duid": "d",
                                          "ready": True, "draining": False}])), "uri"),
    ],
)  # fmt: skip
async def test_hostile_reports_are_refused_and_logged(
    front: HostProcess, body: str, says: str
) -> None:
    status, answer = await front.api("POST", "/hosts", data=body)
    assert status == 400 and says in answer["error"], answer
    assert await dispatcher(front) == {}
    status, _ = await front.api("GET", "/healthz", token=None)
    assert status == 503  # still up, still no host


async def test_reports_need_the_token(front: HostProcess) -> None:
    status, _ = await front.api("POST", "/hosts", json_body=host_report(), token="wrong")
    assert status == 401
    status, _ = await front.api("POST", "/hosts", json_body=host_report(), token=None)
    assert status == 401
    assert await dispatcher(front) == {}


async def test_a_claimed_uri_is_refused(front: HostProcess) -> None:
    await front.api("POST", "/hosts", json_body=host_report())
    thief = host_report(host="h8", api="http://127.0.0.8:9")
    status, body = await front.api("POST", "/hosts", json_body=thief)
    assert status == 400 and "belongs to host h7" in body["error"]
    await front.wait_log(lambda line: line.get("event") == "host_report_refused")


async def test_a_fronts_workers_are_the_dispatcher_list() -> None:
    """With workers on other hosts, joining at run time, a worker is any destination of the
    list (``ds_is_from_list``): they skip pike and may send X-Voxpy-* headers; the caller at
    any other address is stripped of them and counted by pike."""
    short = Path(tempfile.mkdtemp(prefix="voxpy-cfg-", dir="/tmp"))  # unix socket path limit
    try:
        front = load_settings(overrides={"server.role": "front"}, env={})
        cfg = write_config(front, short, 5060, [])
        await check_config("kamailio", cfg)
        text = cfg.read_text()
        assert 'route[FROMWORKER] {\n\tif (ds_is_from_list("1", "2")) {' in text
        assert '(ds_is_from_list("1", "2")) && status =~' in text  # fix_nated_contact
        assert (short / "dispatcher.list").read_text().splitlines()[1:] == []
        one_host = write_config(load_settings(env={}), short, 5060, []).read_text()
        assert "ds_is_from_list" not in one_host
    finally:
        shutil.rmtree(short, ignore_errors=True)


def serve(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "voxpy", "serve", str(SCENARIO), *args],
        capture_output=True, text=True, timeout=60, cwd=ROOT, check=False,
        env={**os.environ, "VOXPY_SERVER__TOKEN": TOKEN, **(env or {})},
    )  # fmt: skip


@pytest.mark.parametrize(
    ("args", "env", "says"),
    [
        (["--role", "front"], {"VOXPY_SERVER__TOKEN": ""}, "a front needs server.token"),
        (["--role", "workers"], {}, "needs its front's API as HOST:PORT"),
        (["--role", "workers", "--front", "h:1", "--worker-host", "0.0.0.0"], {}, "reaches"),
        (["--role", "workers", "--front", "http://h:1"], {}, "HOST:PORT"),
        (["--role", "workers", "--front", "h:1", "--worker-host", "10.0.0.1"],
         {"VOXPY_SERVER__TOKEN": ""}, "server.token"),
        (["--role", "elsewhere"], {}, "invalid choice"),
        (["--host-id", "a.b"], {}, "server.host_id"),
    ],
)  # fmt: skip
def test_role_misuse_exits_2_with_one_line(args: list[str], env: dict[str, str], says: str) -> None:
    result = serve(*args, env=env)
    assert result.returncode == 2, result.stderr
    assert says in result.stderr, result.stderr


async def test_a_restarted_kamailio_is_told_every_host(front: HostProcess) -> None:
    """A new Kamailio starts from the empty list file: the front adds the live hosts again."""
    await front.api("POST", "/hosts", json_body=host_report())
    await wait_dispatcher(front, lambda d: URI in d)
    first = front.find_all("kamailio_started")[0]
    os.killpg(int(first["pid"]), signal.SIGKILL)
    await front.wait_log(lambda line: line.get("event") == "kamailio_exited")
    await front.wait_log(
        lambda line: line.get("event") == "kamailio_started" and line["pid"] != first["pid"]
    )
    await front.api("POST", "/hosts", json_body=host_report())  # the host's next heartbeat
    await wait_dispatcher(front, lambda d: d.get(URI, {}).get("flags") == "AP")
    status, health = await front.api("GET", "/healthz", token=None)
    assert (status, health["kamailio"], health["hosts"]) == (200, True, 1)


class _StubHost:
    """A worker host's API played by the test (``start_answer``: what POST /sessions gets)."""

    def __init__(self) -> None:
        self.start_answer: dict[str, Any] = {"session_id": "s1"}
        app = web.Application()
        app.router.add_post("/sessions", self._start)
        app.router.add_get("/sessions", self._list)
        app.router.add_route("*", "/sessions/{id}/request", self._echo)
        self.runner = web.AppRunner(app)
        self.api = ""

    async def __aenter__(self) -> _StubHost:
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.api = f"http://127.0.0.1:{self.runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.runner.cleanup()

    async def _start(self, request: web.Request) -> web.Response:
        return web.json_response(self.start_answer, status=201)

    async def _list(self, request: web.Request) -> web.Response:
        return web.json_response({"sessions": [{"session_id": "s1"}, 7, "not a session"]})

    async def _echo(self, request: web.Request) -> web.Response:
        body = await request.read()
        return web.json_response(
            {"content_type": request.headers.get("Content-Type"), "body": body.hex()}
        )


@contextlib.asynccontextmanager
async def _stalled_api() -> AsyncIterator[str]:
    """An API that accepts connections and never answers."""
    held: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        for writer in held:
            writer.close()
        server.close()


async def test_a_stalled_or_odd_host_never_holds_or_breaks_the_front() -> None:
    """A host that accepts and never answers is left out of GET /sessions and skipped by
    POST /sessions (after a short bound, here request_timeout 2 s); a host's odd answers are
    a 502 or skipped entries; a session request's body reaches the host byte for byte."""
    args = ["--role", "front", "--sip-host", "127.0.0.1", "--sip-port", "0", "--http-port", "0"]
    process = HostProcess(None, SCENARIO, ["--http-host", "127.0.0.1", *args])
    process.env = {**process.env, "VOXPY_SERVER__REQUEST_TIMEOUT": "2"}
    async with contextlib.AsyncExitStack() as stack:
        front = await process.start()
        stack.push_async_callback(process.close)
        good = await stack.enter_async_context(_StubHost())
        stalled = await stack.enter_async_context(_stalled_api())
        reports = {
            "hs": host_report(host="hs", api=stalled, free=9),  # placed first: most free
            "hg": host_report(host="hg", api=good.api, free=5, workers=[
                {"uri": "sip:127.0.0.8:5071", "duid": "hg-w0", "ready": True,
                 "draining": False}]),
        }  # fmt: skip

        async def beat() -> None:  # the hosts' heartbeats, until the test ends
            while True:
                for report in list(reports.values()):
                    await front.api("POST", "/hosts", json_body=report)
                await asyncio.sleep(0.5)

        beating = asyncio.create_task(beat())
        stack.callback(beating.cancel)
        await wait_dispatcher(front, lambda d: len(d) == 2)

        started, listed = await asyncio.gather(
            front.api("POST", "/sessions", json_body={}), front.api("GET", "/sessions")
        )
        assert started[0] == 201 and started[1]["session_id"] == "hg.s1", started
        assert listed == (200, {"sessions": [{"session_id": "hg.s1", "host": "hg"}]}), listed
        unreachable = front.find_all("host_unreachable")
        assert [line["host"] for line in unreachable] == ["hs"], unreachable
        assert front.find_all("host_list_failed")[0]["host"] == "hs"
        assert len(front.find_all("host_list_entry_skipped")) == 2

        # A latin-1 body arrives as sent, labelled as sent.
        async with aiohttp.ClientSession() as http:
            sent = {"Authorization": f"Bearer {TOKEN}",
                    "Content-Type": "text/plain; charset=latin-1"}  # fmt: skip
            url = f"{front.url}/sessions/hg.s1/request"
            async with http.post(url, data="é".encode("latin-1"), headers=sent) as response:
                echo = await response.json()
        assert echo == {"content_type": "text/plain; charset=latin-1", "body": "e9"}, echo

        del reports["hs"]
        assert (await front.api("DELETE", "/hosts/hs"))[0] == 200
        good.start_answer = {"no": "id"}
        status, body = await front.api("POST", "/sessions", json_body={})
        assert status == 502 and "without a session_id" in body["error"], body
