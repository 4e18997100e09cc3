"""A worker's ``GET /sessions/{id}/journal``: a live session's entries, then the finished
one's; 404 for an unknown or malformed id, and when journals are off."""

from __future__ import annotations

import json

from tests.server.test_control import control, logs, raw  # noqa: F401 - its fixtures
from voxpy.server.control import WorkerControl


async def test_live_then_finished(control: WorkerControl) -> None:  # noqa: F811
    created = await raw(control, "POST", "/sessions", b'{"custom_data": "t-1"}')
    session_id = created.json()["session_id"]
    reply = await raw(control, "GET", f"/sessions/{session_id}/journal")
    assert reply.status == 200, reply
    body = reply.json()
    assert body["session_id"] == session_id and body["live"] is True
    assert body["entries"][0]["kind"] == "session"
    assert "Application.Started" in [e["label"] for e in body["entries"]]
    session = control.engine.sessions[session_id]
    session.terminate()
    await session.terminated.wait()
    body = (await raw(control, "GET", f"/sessions/{session_id}/journal")).json()
    assert body["live"] is False and body["entries"][-1]["label"] == "Application.Terminated"


async def test_unknown_and_malformed_ids_404(control: WorkerControl) -> None:  # noqa: F811
    for path in ("/sessions/nosuch/journal", "/sessions/%2E%2E/journal",
                 "/sessions/" + "x" * 500 + "/journal"):  # fmt: skip
        reply = await raw(control, "GET", path)
        assert reply.status == 404, (path, reply)
        assert "error" in json.loads(reply.body)


async def test_journals_off(control: WorkerControl) -> None:  # noqa: F811
    control.engine.journals = None
    reply = await raw(control, "GET", "/sessions/any/journal")
    assert reply.status == 404 and "journals are off" in reply.json()["error"]
