"""The public HTTP API of ``voxpy serve``: auth, errors, sessions, HttpRequest round trips,
metrics, and the Kamailio front's scanner filter. One server (http_echo) serves the module.
Malformed requests: test_api_malformed.py."""

from __future__ import annotations

import asyncio
import re
import socket
import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tests.conftest import TEST_SCENARIOS
from tests.server.serve_process import ServeProcess

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.realtime]  # a real server


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server() -> AsyncIterator[ServeProcess]:
    serve = ServeProcess(TEST_SCENARIOS / "http_echo.py", workers=2)
    try:
        yield await serve.start()
    finally:
        await serve.close()


async def new_session(server: ServeProcess, custom_data: str = "tenant-a") -> dict[str, str]:
    status, body = await server.api(
        "POST", "/sessions", json_body={"scenario": "http_echo", "custom_data": custom_data}
    )
    assert status == 201, body
    return dict(body)


class TestAuth:
    """A bearer token on everything but /healthz."""

    @pytest.mark.parametrize("token", [None, "wrong"])
    @pytest.mark.parametrize("path", ["/sessions", "/metrics", "/workers", "/sessions/x"])
    async def test_without_the_token_401(
        self, server: ServeProcess, token: str | None, path: str
    ) -> None:
        status, ctype, body = await server.api_raw("GET", path, token=token)
        assert status == 401
        assert ctype.startswith("application/json")
        assert b"bearer token" in body

    async def test_post_without_token_starts_nothing(self, server: ServeProcess) -> None:
        status, _ = await server.api(
            "POST", "/sessions", json_body={"custom_data": "nope"}, token=None
        )
        assert status == 401
        status, body = await server.api("GET", "/sessions")
        assert status == 200 and all(s["custom_data"] != "nope" for s in body["sessions"])

    async def test_healthz_needs_no_token(self, server: ServeProcess) -> None:
        status, body = await server.api("GET", "/healthz", token=None)
        assert status == 200
        assert body == {
            "ok": True,
            "kamailio": True,
            "workers_up": 2,
            "workers": 2,
            "draining": False,
        }


class TestStartSession:
    """POST /sessions: validation, then a session on the least loaded worker."""

    async def test_bad_json_400(self, server: ServeProcess) -> None:
        status, body = await server.api(
            "POST",
            "/sessions",
            data="{custom_data: x",
            headers={"Content-Type": "application/json"},
        )
        assert status == 400
        assert body["error"].startswith("request body is not valid JSON")

    @pytest.mark.parametrize(
        ("payload", "message"),
        [
            ("[1, 2]", "must be a JSON object"),
            ('{"scenario": ["x"]}', "scenario must be a string"),
            ('{"customdata": "x"}', "unknown field customdata"),
        ],
    )
    async def test_bad_fields_400(self, server: ServeProcess, payload: str, message: str) -> None:
        status, body = await server.api("POST", "/sessions", data=payload)
        assert status == 400
        assert message in body["error"]

    async def test_unknown_scenario_404(self, server: ServeProcess) -> None:
        status, body = await server.api("POST", "/sessions", json_body={"scenario": "ivr"})
        assert status == 404
        assert body == {"error": "unknown scenario 'ivr': this server runs 'http_echo'"}

    async def test_created(self, server: ServeProcess) -> None:
        created = await new_session(server)
        session_id = created["session_id"]
        assert created["worker"] in (0, 1)
        assert created["media_session_access_url"] == (
            f"{server.url}/sessions/{session_id}/request"
        )
        status, body = await server.api("GET", f"/sessions/{session_id}")
        assert status == 200
        assert body["custom_data"] == "tenant-a" and body["calls"] == []
        assert body["worker"] == created["worker"]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", body["started_at"])
        status, listing = await server.api("GET", "/sessions")
        assert session_id in [s["session_id"] for s in listing["sessions"]]

    async def test_sessions_without_calls_spread_by_session_count(
        self, server: ServeProcess
    ) -> None:
        """No calls anywhere: the worker with fewer sessions gets the next one."""
        _, listing = await server.api("GET", "/sessions")
        counts = [0, 0]
        for session in listing["sessions"]:
            if session["state"] != "finished":  # placement counts running sessions only
                counts[session["worker"]] += 1
        expected = 0 if counts[0] <= counts[1] else 1
        assert (await new_session(server, "spread"))["worker"] == expected

    async def test_unknown_session_404(self, server: ServeProcess) -> None:
        for method, path in [
            ("GET", "/sessions/nope"),
            ("DELETE", "/sessions/nope"),
            ("POST", "/sessions/nope/request"),
        ]:
            status, body = await server.api(method, path)
            assert status == 404, (method, path)
            assert "no such session" in body["error"]

    @pytest.mark.parametrize(
        ("custom_data", "received"),
        [
            (
                {"to": "sip:alice@example.com", "tries": 2},
                '{"to":"sip:alice@example.com","tries":2}',
            ),
            (["a", "ü"], '["a","ü"]'),
            (5, "5"),
            (True, "true"),
            ("as is", "as is"),
            (None, None),
        ],
        ids=["object", "array", "number", "bool", "string", "null"],
    )
    async def test_custom_data_any_json_value(
        self, server: ServeProcess, custom_data: object, received: str | None
    ) -> None:
        """Non-string JSON reaches VoxEngine.custom_data() JSON-encoded; a string as it is."""
        status, created = await server.api(
            "POST", "/sessions", json_body={"custom_data": custom_data}
        )
        assert status == 201, created
        path = f"/sessions/{created['session_id']}"
        status, body = await server.api("POST", f"{path}/request")
        assert status == 200 and body["session"] == received  # what the scenario read
        status, body = await server.api("GET", path)
        assert status == 200 and body["custom_data"] == received

    async def test_delete_terminates_and_the_result_stays(self, server: ServeProcess) -> None:
        """A finished session is still readable (state, outcome, events) for the dialer."""
        session_id = (await new_session(server, "job-1"))["session_id"]
        status, body = await server.api("DELETE", f"/sessions/{session_id}")
        assert status == 202 and body["terminating"] is True
        for _ in range(50):
            status, body = await server.api("GET", f"/sessions/{session_id}")
            if body.get("state") == "finished":
                break
            await asyncio.sleep(0.05)
        assert status == 200 and body["state"] == "finished", body
        assert body["outcome"] == "no_calls" and body["custom_data"] == "job-1"
        assert body["calls"] == [] and body["worker"] in (0, 1)
        assert "Application.Terminated" in [e["name"] for e in body["events"]]
        status, listing = await server.api("GET", "/sessions")
        assert {"session_id": session_id, "state": "finished"}.items() <= next(
            s for s in listing["sessions"] if s["session_id"] == session_id
        ).items()
        status, body = await server.api("DELETE", f"/sessions/{session_id}")
        assert (status, body) == (409, {"error": "the session has already finished"})


class TestHttpRequest:
    """/sessions/{id}/request[/tail] is AppEvents.HttpRequest; the handler's value replies."""

    async def test_json_round_trip(self, server: ServeProcess) -> None:
        created = await new_session(server)
        status, body = await server.api(
            "POST",
            "/sessions/{}/request/orders?id=7".format(created["session_id"]),
            data="hello",
            headers={"X-Tenant": "acme"},
        )
        assert status == 200
        assert body == {
            "method": "POST",
            "path": "/orders?id=7",
            "body": "hello",
            "session": "tenant-a",
            "tenant": "acme",
        }

    async def test_get_on_the_access_url(self, server: ServeProcess) -> None:
        created = await new_session(server, "tenant-b")
        url = created["media_session_access_url"].removeprefix(server.url)
        status, ctype, raw = await server.api_raw("GET", url)
        assert status == 200 and ctype.startswith("application/json")
        assert b'"path": "/"' in raw and b'"method": "GET"' in raw

    async def test_handler_returning_none_204(self, server: ServeProcess) -> None:
        session_id = (await new_session(server))["session_id"]
        status, _, raw = await server.api_raw("POST", f"/sessions/{session_id}/request/ignore")
        assert (status, raw) == (204, b"")

    async def test_handler_raising_500_with_its_error(self, server: ServeProcess) -> None:
        before = _handler_errors(await server.metrics())
        session_id = (await new_session(server))["session_id"]
        status, body = await server.api("POST", f"/sessions/{session_id}/request/boom")
        assert status == 500
        assert body == {"error": "the HttpRequest handler raised RuntimeError: bad request handler"}
        assert _handler_errors(await server.metrics()) == before + 1
        status, _ = await server.api("POST", f"/sessions/{session_id}/request/again")
        assert status == 200  # the session lives on


def _handler_errors(metrics: str) -> int:
    return sum(
        int(v) for v in re.findall(r"^voxpy_handler_errors_total\{.*\} (\d+)$", metrics, re.M)
    )


class TestMetrics:
    """Prometheus text with every documented metric."""

    async def test_exposition(self, server: ServeProcess) -> None:
        status, ctype, raw = await server.api_raw("GET", "/metrics")
        assert status == 200 and ctype.startswith("text/plain; version=0.0.4")
        text = raw.decode()
        for name in (
            "voxpy_live_calls",
            "voxpy_sessions",
            "voxpy_calls_started_total",
            "voxpy_calls_failed_total",
            "voxpy_worker_restarts_total",
            "voxpy_handler_errors_total",
            "voxpy_worker_up",
        ):
            assert f"# TYPE {name} " in text
        assert 'voxpy_worker_restarts_total{worker="0"} 0' in text
        assert "voxpy_kamailio_up 1" in text


class TestFront:
    """The Kamailio front itself: OPTIONS keepalives answered, scanners dropped silently."""

    @staticmethod
    def send_options(server: ServeProcess, user_agent: str) -> socket.socket:
        """An OPTIONS to the front from a new socket, which is returned (the caller closes it)."""
        branch = uuid.uuid4().hex
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
            message = (
                f"OPTIONS sip:127.0.0.1:{server.sip_port} SIP/2.0\r\n"
                f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK{branch};rport\r\n"
                f"From: <sip:probe@127.0.0.1>;tag={branch[:8]}\r\n"
                f"To: <sip:127.0.0.1:{server.sip_port}>\r\n"
                f"Call-ID: {branch}@127.0.0.1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
                f"User-Agent: {user_agent}\r\nContent-Length: 0\r\n\r\n"
            )
            sock.sendto(message.encode(), ("127.0.0.1", server.sip_port))
        except BaseException:
            sock.close()
            raise
        return sock

    async def test_keepalive_answered_scanner_dropped(self, server: ServeProcess) -> None:
        with self.send_options(server, "Linphone/5.0") as sock:
            sock.settimeout(5.0)
            ok = await asyncio.to_thread(sock.recv, 65535)
        assert ok.startswith(b"SIP/2.0 200")
        with self.send_options(server, "friendly-scanner") as sock:
            # Kamailio logs the drop and exits the route: no answer can follow that line,
            # and one sent before it would already be in the socket (loopback).
            port = sock.getsockname()[1]
            await server.wait_log(
                lambda line: f":{port}: scanner user agent, dropped" in str(line.get("line"))
            )
            sock.setblocking(False)
            with pytest.raises(BlockingIOError):
                sock.recv(65535)
