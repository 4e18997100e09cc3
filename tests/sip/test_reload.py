"""`voxpy run --reload`: edits reach new calls, live calls keep their version, and a broken
edit is logged while the last good version keeps serving. Real pjsua2 on both ends; every
wait is for a log line or a SIP signal."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from tests.sip.conftest import Peer
from tests.sip.engine_process import EngineProcess
from voxpy.core import commands as cmd
from voxpy.core.signals import Answered, SipInfoReceived

pytestmark = pytest.mark.realtime  # real SIP/processes: deselect with -m 'not realtime'

EngineFactory = Callable[..., Awaitable[EngineProcess]]

SCENARIO = '''\
from voxpy import AppEvents, CallEvents, VoxEngine

VERSION = "{version}"


def on_info(e):
    e.call.send_info("text/plain", VERSION)  # what this call's version says, asked any time


def on_alerting(e):
    e.call.add_event_listener(CallEvents.InfoReceived, on_info)
    e.call.answer(headers={{"X-Version": VERSION}})


VoxEngine.add_event_listener(AppEvents.CallAlerting, on_alerting)
'''


async def answered_version(peer: Peer, engine: EngineProcess) -> tuple[str, str]:
    call_id = peer.dial(engine.uri())
    answered = await peer.next(Answered, call_id)
    return call_id, answered.headers.get("X-Version", "")


async def info_version(peer: Peer, call_id: str) -> str:
    since = len(peer.signals)
    peer.send(cmd.SendInfo(call_id=call_id, mime_type="text/plain", body="which?"))
    return (await peer.next(SipInfoReceived, call_id, since=since)).body


async def reloads(engine: EngineProcess, event: str) -> dict:
    seen = len(engine.find_all(event))
    await engine.wait_log(lambda _line: len(engine.find_all(event)) > seen)
    return engine.find_all(event)[-1]


async def test_an_edit_serves_new_calls_and_live_calls_keep_theirs(
    tmp_path: Path, engine_factory: EngineFactory, peer: Peer
) -> None:
    scenario = tmp_path / "versioned.py"
    scenario.write_text(SCENARIO.format(version="one"))
    engine = await engine_factory(scenario, "--reload")
    await engine.wait_log(lambda line: line.get("event") == "scenario_watching")

    first, version = await answered_version(peer, engine)
    assert version == "one"

    scenario.write_text(SCENARIO.format(version="two"))
    await reloads(engine, "scenario_reloaded")
    second, version = await answered_version(peer, engine)
    assert version == "two"
    assert await info_version(peer, first) == "one"  # the live call kept its code
    assert await info_version(peer, second) == "two"

    # A syntax error, then a top level that raises: both logged, neither used.
    scenario.write_text(SCENARIO.format(version="three") + "\ndef broken(:\n")
    failed = await reloads(engine, "scenario_reload_failed")
    assert "syntax error" in failed["error"]
    assert failed["line"] == 17
    assert failed["keeps"] == "the previous version"
    scenario.write_text(SCENARIO.format(version="four") + "\nraise RuntimeError('no CRM')\n")
    failed = await reloads(engine, "scenario_reload_failed")
    assert "RuntimeError('no CRM')" in failed["error"]
    _, version = await answered_version(peer, engine)
    assert version == "two"
    assert await info_version(peer, first) == "one"

    # Fixed again: served again (an editor's save by rename counts too).
    staged = tmp_path / "staged.tmp"
    staged.write_text(SCENARIO.format(version="five"))
    staged.replace(scenario)
    await reloads(engine, "scenario_reloaded")
    _, version = await answered_version(peer, engine)
    assert version == "five"
    assert engine.find_all("scenario_failed") == []


async def test_without_the_flag_nothing_is_watched(
    tmp_path: Path, engine_factory: EngineFactory, peer: Peer
) -> None:
    scenario = tmp_path / "versioned.py"
    scenario.write_text(SCENARIO.format(version="one"))
    engine = await engine_factory(scenario)
    assert engine.find_all("scenario_watching") == []
    scenario.write_text(SCENARIO.format(version="two"))
    _, version = await answered_version(peer, engine)
    assert version == "one"
