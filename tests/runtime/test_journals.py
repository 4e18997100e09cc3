"""The runtime's journals: one per session, fed by the engine, kept in memory for a while,
written once off the loop, read back from the file; a failed write is logged, not raised."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from tests.conftest import TEST_SCENARIOS, Harness
from tests.runtime.wsbot import Bot, bot_server
from voxpy.core import commands as cmd
from voxpy.core import signals as sig
from voxpy.core.journal import JournalLimits, flow_svg
from voxpy.errors import InvalidArgumentError
from voxpy.runtime.journal import Journals, journal_path


def fill(journals: Journals, session_id: str) -> None:
    journals.open(session_id, 100.0, "lab.py")
    journals.signal(session_id, sig.IncomingCall(call_id="a", from_uri="sip:1@h",
                    to_uri="sip:2@h", callerid="1", destination="2"), 100.0)  # fmt: skip
    journals.command(session_id, cmd.Answer(call_id="a"), 100.5)
    journals.failure(session_id, "scenario failed: boom", 100.6)


async def test_kept_then_read_from_the_file(tmp_path: Path) -> None:
    journals = Journals(directory=tmp_path, keep=1)
    fill(journals, "s1")
    assert journals.is_live("s1") and journals.entries("s1") is not None
    journals.close("s1")
    fill(journals, "s2")
    journals.close("s2")  # s1 leaves memory (keep=1): its file remains
    await journals.drain()
    assert journals.entries("s1") is None and journals.session_ids() == ["s2"]
    from_file = await journals.read("s1")
    assert from_file is not None
    assert [e.label for e in from_file if e.kind in ("sip", "error")] == [
        "INVITE", "200 OK", "scenario failed: boom"
    ]  # fmt: skip
    assert [e.t for e in from_file if e.kind == "sip"] == [0.0, 0.5]
    assert not list(tmp_path.glob(".*.part"))  # renamed into place
    assert await journals.read("s3") is None
    with pytest.raises(InvalidArgumentError):
        await journals.read("../s1")
    with pytest.raises(InvalidArgumentError):
        journal_path(tmp_path, "s1.jsonl")


async def test_a_failed_write_is_logged(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    journals = Journals(directory=blocker / "sub", limits=JournalLimits(max_entries=10))
    fill(journals, "s1")
    with capture_logs() as logs:
        journals.close("s1")
        await journals.drain()  # no exception: the session's end must not fail for a disk
    assert journals.entries("s1") is not None
    [failed] = [line for line in logs if line["event"] == "journal_write_failed"]
    assert failed["log_level"] == "warning"


async def test_engine_journals_events_and_handler_errors(voxpy_harness: Harness) -> None:
    """A raising handler is a red note on the journal, where it happened."""
    h = await voxpy_harness(TEST_SCENARIOS / "raising_handler.py", raise_handler_errors=False)
    call = await h.dial()
    await h.wait_event("Application.HandlerError")
    assert await call.wait_hangup() == 200
    errors = [e for e in h.journal() if e.kind == "error"]
    assert errors and errors[0].label.startswith("Application.HandlerError")
    assert "ZeroDivisionError" in errors[0].field("error")


@pytest.mark.voxpy_backend("memory")
async def test_a_socket_gets_its_own_lane(voxpy_harness: Harness) -> None:
    """WebSocket events are notes on a socket lane (right of the calls), its URL its title."""
    async with bot_server(Bot()) as bot:
        h = await voxpy_harness(TEST_SCENARIOS / "websocket_client.py")
        session = await h.start(custom_data=bot.url)
        assert await asyncio.wait_for(bot.received.get(), 5) == "hello bot"
        session.terminate()
        await asyncio.wait_for(session.terminated.wait(), 5)
    entries = h.journal(session.id)
    party = next(e for e in entries if e.kind == "party")
    assert (party.src, party.label, party.field("uri")) == ("ws:1", "socket 1", bot.url)
    on_socket = [e.label for e in entries if e.src == "ws:1" and e.kind != "party"]
    assert on_socket[0] == "WebSocket.Open" and on_socket[-1].startswith("WebSocket.Close 1001")
    assert "socket 1" in flow_svg(entries)


async def test_finished_journals_kept_within_bytes(tmp_path: Path) -> None:
    """Kept as JSON lines, the oldest dropped past keep_bytes; a broken file is refused."""
    journals = Journals(keep=100, keep_bytes=1500)
    for n in range(5):
        fill(journals, f"s{n}")
        journals.close(f"s{n}")
    kept = journals.session_ids()
    assert kept and kept[-1] == "s4" and len(kept) < 5
    assert sum(len(line) + 1 for i in kept for line in journals.lines(i) or []) <= 1500
    assert (journals.entries("s4") or [])[1].kind == "party"
    broken = Journals(directory=tmp_path)
    (tmp_path / "s9.jsonl").write_text('{"kind": "sip", "label": "x"}\nnot json\n')
    with pytest.raises(InvalidArgumentError, match="line 2"):
        await broken.read("s9")
