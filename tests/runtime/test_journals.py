"""The runtime's journals: one per session, fed by the engine, kept in memory for a while,
written once off the loop, read back from the file; a failed write is logged, not raised."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import TEST_SCENARIOS, Harness
from voxpy.core import commands as cmd
from voxpy.core import signals as sig
from voxpy.core.journal import JournalLimits
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
    journals.close("s1")
    await journals.drain()  # no exception: the session's end must not fail for a disk
    assert journals.entries("s1") is not None


async def test_engine_journals_events_and_handler_errors(voxpy_harness: Harness) -> None:
    """A raising handler is a red note on the journal, where it happened."""
    h = await voxpy_harness(TEST_SCENARIOS / "raising_handler.py", raise_handler_errors=False)
    call = await h.dial()
    await h.wait_event("Application.HandlerError")
    assert await call.wait_hangup() == 200
    errors = [e for e in h.journal() if e.kind == "error"]
    assert errors and errors[0].label.startswith("Application.HandlerError")
    assert "ZeroDivisionError" in errors[0].field("error")
