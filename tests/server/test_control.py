"""A worker's control API on its unix socket: the same guards as the public API (token first,
bounded JSON objects, 4xx JSON for anything malformed), on an engine over the memory backend."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from functools import partial
from pathlib import Path

import pytest

from tests.conftest import TEST_SCENARIOS, Harness
from tests.server.rawhttp import LogCapture, RawReply, assert_json_refusal, send
from voxpy.log import get_logger
from voxpy.server.control import CONTROL_MAX_BODY_BYTES, WorkerControl
from voxpy.server.guard import MAX_JSON_DEPTH

TOKEN = b"control-token"


@pytest.fixture
def logs() -> Iterator[LogCapture]:
    yield from LogCapture.installed()


@pytest.fixture
async def control(voxpy_harness: Harness, logs: LogCapture) -> AsyncIterator[WorkerControl]:
    harness = await voxpy_harness(TEST_SCENARIOS / "http_echo.py", raise_handler_errors=False)
    # Short: a unix socket path must fit in 108 bytes, pytest's tmp_path may not.
    directory = Path(tempfile.mkdtemp(prefix="vx-ctl-", dir="/tmp"))
    worker = WorkerControl(harness.engine, TOKEN.decode(), get_logger("voxpy.worker"))
    await worker.start(directory / "w0.sock")
    try:
        yield worker
    finally:
        await worker.stop()
        shutil.rmtree(directory, ignore_errors=True)


async def raw(
    control: WorkerControl,
    method: str,
    path: str,
    body: bytes = b"",
    *,
    token: bytes | None = TOKEN,
    headers: dict[str, bytes] | None = None,
) -> RawReply:
    sent = {"Content-Type": b"application/json", **(headers or {})}
    if token is not None:
        sent["Authorization"] = b"Bearer " + token
    connect = partial(asyncio.open_unix_connection, str(control.path))
    return await send(connect, method, path, headers=sent, body=body)


async def test_well_formed_requests_work(control: WorkerControl, logs: LogCapture) -> None:
    created = await raw(control, "POST", "/sessions", b'{"custom_data": "t-1"}')
    assert created.status == 201, created
    session_id = created.json()["session_id"]
    body = b'{"method": "GET", "path": "/x", "body": "", "headers": {"X-Tenant": "acme"}}'
    reply = await raw(control, "POST", f"/sessions/{session_id}/request", body)
    assert reply.status == 200, reply
    assert reply.json()["tenant"] == "acme" and reply.json()["session"] == "t-1"
    status = await raw(control, "GET", "/status")
    assert status.json()["sessions"] == 1
    assert logs.errors() == []


@pytest.mark.parametrize("token", [None, b"wrong", b"\xff\xfe", b"caf\xc3\xa9"])
async def test_without_the_token_401(
    control: WorkerControl, logs: LogCapture, token: bytes | None
) -> None:
    reply = await raw(control, "POST", "/sessions", b"[" * 100_000, token=token)
    assert_json_refusal(reply, 401, "control token")
    assert control.engine.sessions == {}
    assert logs.errors() == []


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (b"{custom_data", 400, "not valid JSON"),
        (b"[1]", 400, "must be a JSON object, not list"),
        (b'{"custom_data": 5}', 400, "custom_data must be a string"),
        (b"[" * 100_000, 400, f"deeper than {MAX_JSON_DEPTH}"),
        (b'{"custom_data": "\xff"}', 400, "not valid utf-8"),
        (b" " * (CONTROL_MAX_BODY_BYTES + 1), 413, "Maximum request body size"),
    ],
    ids=["syntax", "array", "custom-data-int", "deep", "bad-utf8", "too-large"],
)
async def test_bad_session_body(
    control: WorkerControl, logs: LogCapture, body: bytes, status: int, words: str
) -> None:
    assert_json_refusal(await raw(control, "POST", "/sessions", body), status, words)
    assert control.engine.sessions == {}
    assert logs.errors() == []


async def test_unknown_charset_415(control: WorkerControl, logs: LogCapture) -> None:
    ctype = b"application/json; charset=klingon"
    reply = await raw(control, "POST", "/sessions", b"{}", headers={"Content-Type": ctype})
    assert_json_refusal(reply, 415, "unknown charset")
    assert logs.errors() == []


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b'{"headers": ["X-A: 1"]}', "headers must be a JSON object of strings"),
        (b'{"headers": {"X-A": 1}}', "headers must be a JSON object of strings"),
        (b'{"method": 7}', "method must be a string"),
        (b'{"path": null, "body": {"a": 1}}', "body must be a string"),
        (b'"GET /"', "must be a JSON object, not str"),
    ],
)
async def test_bad_forwarded_request_400(
    control: WorkerControl, logs: LogCapture, body: bytes, words: str
) -> None:
    created = await raw(control, "POST", "/sessions", b"{}")
    session_id = created.json()["session_id"]
    reply = await raw(control, "POST", f"/sessions/{session_id}/request", body)
    assert_json_refusal(reply, 400, words)
    assert logs.errors() == []


async def test_post_without_http_request_handler_501(
    voxpy_harness: Harness, logs: LogCapture
) -> None:
    """A session whose scenario has no HttpRequest handler says so (501), not a silent 204."""
    harness = await voxpy_harness(TEST_SCENARIOS / "answer_and_wait.py")
    directory = Path(tempfile.mkdtemp(prefix="vx-ctl-", dir="/tmp"))
    worker = WorkerControl(harness.engine, TOKEN.decode(), get_logger("voxpy.worker"))
    await worker.start(directory / "w0.sock")
    try:
        created = await raw(worker, "POST", "/sessions", b"{}")
        session_id = created.json()["session_id"]
        reply = await raw(worker, "POST", f"/sessions/{session_id}/request", b'{"path": "/x"}')
        assert_json_refusal(reply, 501, "no AppEvents.HttpRequest handler")
        assert logs.errors() == []
    finally:
        await worker.stop()
        shutil.rmtree(directory, ignore_errors=True)


async def test_finished_session_stays_queryable(control: WorkerControl, logs: LogCapture) -> None:
    """After its end a session is listed and readable as finished; DELETE then is 409."""
    created = await raw(control, "POST", "/sessions", b'{"custom_data": "job-7"}')
    session_id = created.json()["session_id"]
    live = (await raw(control, "GET", f"/sessions/{session_id}")).json()
    assert live["state"] == "live" and live["custom_data"] == "job-7"
    assert (await raw(control, "DELETE", f"/sessions/{session_id}")).status == 202
    for _ in range(100):
        reply = await raw(control, "GET", f"/sessions/{session_id}")
        if reply.json().get("state") == "finished":
            break
        await asyncio.sleep(0.02)
    record = reply.json()
    assert reply.status == 200 and record["state"] == "finished", record
    assert record["outcome"] == "no_calls" and record["custom_data"] == "job-7"
    assert [e["name"] for e in record["events"]] == [
        "Application.Started",
        "Application.Terminating",
        "Application.Terminated",
    ]
    listing = (await raw(control, "GET", "/sessions")).json()["sessions"]
    assert [s["state"] for s in listing if s["session_id"] == session_id] == ["finished"]
    again = await raw(control, "DELETE", f"/sessions/{session_id}")
    assert_json_refusal(again, 409, "already finished")
    gone = await raw(control, "POST", f"/sessions/{session_id}/request", b"{}")
    assert_json_refusal(gone, 404, "no such session")
    assert logs.errors() == []
