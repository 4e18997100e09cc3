"""``voxpy run --journal-dir`` over real SIP writes each session's journal when the session
ends, and ``voxpy flow`` draws it (by session id or by file) as a valid SVG."""

from __future__ import annotations

import itertools
import signal
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from tests.conftest import SCENARIOS, voxpy
from tests.sip.conftest import Peer
from tests.sip.engine_process import EngineProcess
from voxpy.core.journal import parse_journal
from voxpy.core.signals import Answered, Ended

pytestmark = pytest.mark.realtime  # real SIP/processes: deselect with -m 'not realtime'

SVG = "{http://www.w3.org/2000/svg}"


async def test_run_writes_the_journal_and_flow_draws_it(
    engine_factory: Callable[..., Awaitable[EngineProcess]], peer: Peer, tmp_path: Path
) -> None:
    journal_dir = tmp_path / "journals"
    engine = await engine_factory(SCENARIOS / "hello_hangup.py", "--journal-dir", str(journal_dir))
    leg = peer.dial(engine.uri("100"), headers={"X-Tenant": "acme"})
    await peer.next(Answered, leg)
    assert (await peer.next(Ended, leg)).code == 200
    session_id = (await engine.wait_event("Call.Disconnected"))["session_id"]
    # SIGTERM ends the session (its journal is written) and the engine waits for the write.
    assert await engine.signal(signal.SIGTERM, timeout=10) == 0

    path = journal_dir / f"{session_id}.jsonl"
    entries = parse_journal(path.read_text())
    assert [e.label for e in entries if e.kind == "sip"] == [
        "INVITE", "200 OK", "ACK", "BYE", "200 OK"
    ]  # fmt: skip
    invite = next(e for e in entries if e.label == "INVITE")
    assert invite.field("X-Tenant") == "acme" and invite.src.startswith("far:")
    assert entries[0].kind == "session" and entries[0].field("what") == "hello_hangup.py"
    assert "Application.Terminated" in [e.label for e in entries]
    assert [e.seq for e in entries] == list(range(len(entries)))
    assert all(b.t >= a.t for a, b in itertools.pairwise(entries))

    out = tmp_path / "call.svg"
    done = voxpy("flow", session_id, "--journal-dir", str(journal_dir), "-o", str(out))
    assert done.returncode == 0, done.stderr
    root = ET.parse(out).getroot()
    assert root.tag == f"{SVG}svg"
    texts = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
    assert {"INVITE", "ACK", "BYE", "Call.Connected"} <= set(texts)
    assert any(t.startswith("caller ") for t in texts)

    done = voxpy("flow", str(path), "-o", "-", "--text")
    assert done.returncode == 0 and "INVITE" in done.stdout and "BYE" in done.stdout
