"""Malformed requests to the public HTTP API: a 4xx JSON answer, never a 500.

The API runs alone in this process (no Kamailio, no workers: what these tests send is refused
before any is asked), so that its log is read synchronously."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from functools import partial
from pathlib import Path
from typing import Any, cast

import pytest
import pytest_asyncio

from tests.server.rawhttp import LogCapture, RawReply, assert_json_refusal, send
from voxpy.config import ServerSettings
from voxpy.server.api import PublicApi
from voxpy.server.guard import MAX_BODY_BYTES, MAX_JSON_DEPTH

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.realtime]  # a real server


class _NoWorkers:
    """What PublicApi asks of a Supervisor before it would reach a worker."""

    scenario_name = "http_echo"
    scenario = Path("http_echo.py")
    draining = False
    pool = None


@pytest.fixture
def logs() -> Iterator[LogCapture]:
    yield from LogCapture.installed()


@pytest_asyncio.fixture(loop_scope="module")
async def alone(logs: LogCapture) -> AsyncIterator[PublicApi]:
    settings = ServerSettings(token="s3cret", http_host="127.0.0.1", http_port=0)
    api = PublicApi(cast(Any, _NoWorkers()), settings)
    await api.start()  # port 0: the OS picks it and the API reads it back
    try:
        yield api
    finally:
        await api.stop()


async def raw(
    api: PublicApi,
    method: str,
    path: str,
    body: bytes = b"",
    *,
    token: bytes | None = b"s3cret",
    headers: dict[str, bytes] | None = None,
) -> RawReply:
    sent = {"Content-Type": b"application/json", **(headers or {})}
    if token is not None:
        sent["Authorization"] = b"Bearer " + token
    connect = partial(asyncio.open_connection, "127.0.0.1", api.port)
    return await send(connect, method, path, headers=sent, body=body)


class TestMalformed:
    """Every malformed request: a 4xx JSON answer, never a 500, no error line in the log."""

    @pytest.mark.parametrize("token", [b"caf\xc3\xa9", b"\xff\xfe", b"\xe2\x82"])
    async def test_non_ascii_token_401(
        self, alone: PublicApi, logs: LogCapture, token: bytes
    ) -> None:
        """Header bytes that are not ASCII (or not even UTF-8) are a wrong token, not a 500."""
        reply = await raw(alone, "POST", "/sessions", b"[" * 100_000, token=token)
        assert_json_refusal(reply, 401, "bearer token")
        assert reply.headers["www-authenticate"].startswith("Bearer")
        assert logs.errors() == []

    async def test_unauthenticated_body_is_never_read(
        self, alone: PublicApi, logs: LogCapture
    ) -> None:
        reply = await raw(alone, "POST", "/sessions", b"\xff" * 10, token=None)
        assert_json_refusal(reply, 401, "bearer token")
        assert logs.errors() == []

    @pytest.mark.parametrize(
        ("body", "status", "words"),
        [
            (b'{"custom_data": "\xff\xfe"}', 400, "not valid utf-8"),
            (b"[" * 100_000 + b"]" * 100_000, 400, f"deeper than {MAX_JSON_DEPTH}"),
            (b'{"a":' * 100_000, 400, f"deeper than {MAX_JSON_DEPTH}"),
            (b'{"custom_data": ' + b"1" * 5000 + b"}", 400, "not valid JSON"),
            (b"{custom_data: x", 400, "not valid JSON"),
            (b'{"custom_data": "' + b'x\\"' * 300_000, 400, "not valid JSON"),
            (b"[1, 2]", 400, "must be a JSON object, not list"),
            (b'"text"', 400, "must be a JSON object, not str"),
            (b'{"scenario": 7}', 400, "scenario must be a string"),
            (b" " * (MAX_BODY_BYTES + 1), 413, f"Maximum request body size {MAX_BODY_BYTES}"),
        ],
        ids=[
            "bad-utf8",
            "deep-array",
            "deep-object",
            "huge-int",
            "syntax",
            "unterminated-escapes",
            "array",
            "string",
            "scenario-int",
            "too-large",
        ],
    )
    async def test_bad_session_body(
        self, alone: PublicApi, logs: LogCapture, body: bytes, status: int, words: str
    ) -> None:
        reply = await raw(alone, "POST", "/sessions", body)
        assert_json_refusal(reply, status, words)
        assert logs.errors() == []

    async def test_deep_inside_a_string_is_not_nesting(
        self, alone: PublicApi, logs: LogCapture
    ) -> None:
        """Brackets inside strings do not count: the body is valid, the field is wrong."""
        body = b'{"scenario": "' + b"[{" * 1000 + b'\\"", "x": 1}'
        reply = await raw(alone, "POST", "/sessions", body)
        assert_json_refusal(reply, 400, "unknown field x")
        assert logs.errors() == []

    @pytest.mark.parametrize("charset", ["klingon", "utf-99", "x-\u00e9"])
    async def test_unknown_charset_415(
        self, alone: PublicApi, logs: LogCapture, charset: str
    ) -> None:
        ctype = b"application/json; charset=" + charset.encode("latin-1")
        reply = await raw(alone, "POST", "/sessions", b"{}", headers={"Content-Type": ctype})
        assert_json_refusal(reply, 415, "unknown charset")
        assert logs.errors() == []

    async def test_not_even_http_400_without_traceback(
        self, alone: PublicApi, logs: LogCapture
    ) -> None:
        """A NUL in a header: aiohttp refuses it before our middlewares (text/plain 400); the
        log says so in one warning line, without an error or a traceback."""
        reply = await raw(alone, "POST", "/sessions", b"{}", headers={"X-Odd": b"a\x00b"})
        assert reply.status == 400
        assert logs.errors() == []
        warned = [line for line in logs.lines() if line.get("logger") == "aiohttp.server"]
        assert [line["level"] for line in warned] == ["warning"]
        assert "exception" not in warned[0]

    async def test_forwarded_body_not_in_its_charset_400(
        self, alone: PublicApi, logs: LogCapture
    ) -> None:
        """/sessions/{id}/request refuses a body it cannot decode before asking any worker."""
        reply = await raw(
            alone,
            "POST",
            "/sessions/any/request/x",
            b"\xc3\x28",
            headers={"Content-Type": b"text/plain; charset=utf-8"},
        )
        assert_json_refusal(reply, 400, "not valid utf-8")
        assert logs.errors() == []

    async def test_unknown_route_and_method_json(self, alone: PublicApi, logs: LogCapture) -> None:
        assert_json_refusal(await raw(alone, "GET", "/nope"), 404, "Not Found")
        assert_json_refusal(await raw(alone, "PUT", "/sessions"), 405, "Not Allowed")
        assert logs.errors() == []
